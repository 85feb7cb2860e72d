//! Exports of the public layers as files: GeoJSON, GeoPackage (with QGIS styles), GeoParquet,
//! CSV and XLSX.
//!
//! Every format carries the same fields: the feature properties of [`crate::output::geojson`],
//! turned once into a [`Table`] (typed columns, one row per feature, geometry in lon/lat).
//! Only the layers that module serves publicly can be exported. Files are written atomically
//! (a temporary file renamed into place; a staging folder for a folder of files).

pub mod csv;
pub mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod xlsx;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use geo::Centroid;
use serde_json::Value;

use crate::output::geojson::{layer_features, PublicLayer, SERVED_LAYERS};
use crate::pipeline::Loaded;

/// What can go wrong while exporting. Messages are for the user (Italian).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("layer sconosciuto o non esportabile: {0:?} (disponibili: {list})", list = public_layers().join(", "))]
    UnknownLayer(String),
    #[error("formato di esportazione sconosciuto: {0:?} (geojson, gpkg, geoparquet, csv, xlsx)")]
    UnknownFormat(String),
    #[error("geometria CSV sconosciuta: {0:?} (wkt, lonlat)")]
    UnknownGeometryMode(String),
    #[error(
        "il formato {0} scrive un file per layer: con più layer --out deve essere una cartella"
    )]
    NeedsDirectory(&'static str),
    #[error("{}: la cartella esiste e contiene file che non sono esportazioni di abitare ({entry}); scegliere una cartella nuova o vuota", path.display())]
    DirectoryNotEmpty { path: PathBuf, entry: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("GeoPackage: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("GeoParquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("CSV: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The layers anyone may download: exactly those `output::geojson` serves publicly.
pub fn public_layers() -> &'static [&'static str] {
    &SERVED_LAYERS
}

/// The public layer called `name`, as a static name, or an error.
pub fn public_layer(name: &str) -> Result<&'static str, ExportError> {
    PublicLayer::parse(name)
        .map(PublicLayer::name)
        .map_err(|_| ExportError::UnknownLayer(name.to_string()))
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Gpkg,
    GeoParquet,
    Csv,
    Xlsx,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::GeoJson,
        Format::Gpkg,
        Format::GeoParquet,
        Format::Csv,
        Format::Xlsx,
    ];

    /// Parses a format name or a file extension (`geoparquet` or `parquet`).
    pub fn parse(s: &str) -> Result<Format, ExportError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "geojson" | "json" => Format::GeoJson,
            "gpkg" | "geopackage" => Format::Gpkg,
            "geoparquet" | "parquet" => Format::GeoParquet,
            "csv" => Format::Csv,
            "xlsx" | "excel" => Format::Xlsx,
            _ => return Err(ExportError::UnknownFormat(s.to_string())),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Gpkg => "gpkg",
            Format::GeoParquet => "geoparquet",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Gpkg => "gpkg",
            Format::GeoParquet => "parquet",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::GeoJson => "application/geo+json",
            Format::Gpkg => "application/geopackage+sqlite3",
            Format::GeoParquet => "application/vnd.apache.parquet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// Whether one file holds several layers (GeoPackage tables, XLSX sheets).
    pub fn multi_layer(self) -> bool {
        matches!(self, Format::Gpkg | Format::Xlsx)
    }
}

/// How CSV carries geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvGeometry {
    /// A `wkt` column with the whole geometry.
    #[default]
    Wkt,
    /// `lon` and `lat` columns: the point, or the centroid of a polygon.
    LonLat,
}

impl CsvGeometry {
    pub fn parse(s: &str) -> Result<CsvGeometry, ExportError> {
        match s.to_ascii_lowercase().as_str() {
            "wkt" => Ok(CsvGeometry::Wkt),
            "lonlat" | "lon_lat" | "xy" => Ok(CsvGeometry::LonLat),
            _ => Err(ExportError::UnknownGeometryMode(s.to_string())),
        }
    }
}

/// Options that some formats read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub csv_geometry: CsvGeometry,
}

/// Type of a column, inferred from the property values of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Real,
    Boolean,
    /// ISO `YYYY-MM-DD` strings.
    Date,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One feature: geometry (GeoJSON value, lon/lat) and one value per column.
#[derive(Debug, Clone)]
pub struct Row {
    pub geometry: Option<::geojson::Value>,
    pub values: Vec<Value>,
}

/// A layer ready for any format.
#[derive(Debug, Clone)]
pub struct Table {
    pub layer: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Table {
    /// Geometry types present (`Point`, `MultiPolygon`, …), sorted.
    pub fn geometry_types(&self) -> Vec<&'static str> {
        let set: BTreeSet<&'static str> = self
            .rows
            .iter()
            .filter_map(|r| r.geometry.as_ref().map(type_name))
            .collect();
        set.into_iter().collect()
    }

    /// The one geometry type of the layer, or `GEOMETRY` when mixed or empty.
    pub fn geometry_type(&self) -> &'static str {
        match self.geometry_types().as_slice() {
            [one] => one,
            _ => "Geometry",
        }
    }

    /// Whether every geometry is a point (lon/lat columns make sense).
    pub fn is_point_layer(&self) -> bool {
        self.geometry_types() == ["Point"]
    }

    /// Bounding box `[minx, miny, maxx, maxy]` of all geometries.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.rows
            .iter()
            .filter_map(|r| r.geometry.as_ref().and_then(bbox))
            .reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
    }
}

/// Preferred column order of each layer; properties not listed follow in name order.
fn preferred_order(layer: &str) -> &'static [&'static str] {
    match layer {
        "comuni" => &[
            "istat",
            "belfiore",
            "nome",
            "sub_ambito",
            "popolazione",
            "area_km2",
            "alloggi",
            "alloggi_sap",
            "occupati",
            "liberi",
            "sfitto_carenze_manutentive",
            "sfitto_ristrutturazione",
            "inutilizzati",
            "tasso_inutilizzo",
            "alloggi_per_1000_ab",
            "inutilizzati_per_1000_ab",
            "quota_inutilizzati_ambito",
            "inutilizzati_con_data",
            "mesi_sfitto_medi",
            "sfitti_oltre_24_mesi",
        ],
        "alloggi_pubblici" => &[
            "id",
            "ente_proprietario",
            "codice_unita",
            "comune",
            "comune_istat",
            "indirizzo",
            "servizio",
            "servizio_label",
            "stato",
            "stato_label",
            "inutilizzato",
            "sfitto_dal",
            "mesi_sfitto",
            "riferimento_catastale",
            "categoria_catastale",
            "superficie_mq",
            "localizzazione",
        ],
        "pgt_zone" => &[
            "comune",
            "comune_istat",
            "classe",
            "classe_label",
            "legenda",
            "codice_destinazione",
            "fonte",
        ],
        "vincoli" => &["comune", "comune_istat", "codice", "nome", "fonte"],
        "aree_candidate" => &[
            "id",
            "comune",
            "comune_istat",
            "fonte",
            "fonte_label",
            "denominazione",
            "punteggio",
            "area_ha",
            "alloggi_stimati",
            "motivi",
            "punteggio_dettaglio",
            "esclusioni",
        ],
        "aree_escluse" => &[
            "id",
            "comune",
            "comune_istat",
            "fonte",
            "fonte_label",
            "denominazione",
            "area_ha",
            "motivo",
            "esclusioni",
        ],
        _ => &[
            "riferimento",
            "belfiore",
            "sezione",
            "foglio",
            "particella",
            "scala",
            "area_m2",
        ],
    }
}

fn is_iso_date(s: &str) -> bool {
    s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn infer_kind<'a>(values: impl Iterator<Item = &'a Value>) -> Kind {
    let mut kind: Option<Kind> = None;
    for v in values {
        let k = match v {
            Value::Null => continue,
            Value::Bool(_) => Kind::Boolean,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Integer,
            Value::Number(_) => Kind::Real,
            Value::String(s) if is_iso_date(s) => Kind::Date,
            _ => Kind::Text,
        };
        kind = Some(match (kind, k) {
            (None, k) => k,
            (Some(a), b) if a == b => a,
            (Some(Kind::Integer), Kind::Real) | (Some(Kind::Real), Kind::Integer) => Kind::Real,
            _ => Kind::Text,
        });
    }
    kind.unwrap_or(Kind::Text)
}

/// Normalises a value to its column's kind (numbers in a text column become text, and so on).
fn coerce(v: Value, kind: Kind) -> Value {
    match (kind, v) {
        (_, Value::Null) => Value::Null,
        (Kind::Text, Value::String(s)) => Value::String(s),
        (Kind::Text, other) => Value::String(other.to_string()),
        (_, v) => v,
    }
}

/// The table of one public layer.
pub fn table(loaded: &Loaded, layer: &str) -> Result<Table, ExportError> {
    let public =
        PublicLayer::parse(layer).map_err(|_| ExportError::UnknownLayer(layer.to_string()))?;
    let layer = public.name();
    let features = layer_features(
        &loaded.model,
        &loaded.vacancy,
        &loaded.privato,
        public,
        None,
    );
    let mut names: BTreeSet<String> = BTreeSet::new();
    for f in &features {
        if let Some(p) = &f.properties {
            names.extend(p.keys().cloned());
        }
    }
    let preferred = preferred_order(layer);
    let mut ordered: Vec<String> = preferred
        .iter()
        .filter(|n| names.contains(**n))
        .map(|n| n.to_string())
        .collect();
    ordered.extend(
        names
            .iter()
            .filter(|n| !preferred.contains(&n.as_str()))
            .cloned(),
    );
    let columns: Vec<Column> = ordered
        .into_iter()
        .map(|name| {
            let kind = infer_kind(
                features
                    .iter()
                    .filter_map(|f| f.properties.as_ref().and_then(|p| p.get(&name))),
            );
            Column { name, kind }
        })
        .collect();
    let rows = features
        .into_iter()
        .map(|f| {
            let mut props = f.properties.unwrap_or_default();
            let values = columns
                .iter()
                .map(|c| coerce(props.remove(&c.name).unwrap_or(Value::Null), c.kind))
                .collect();
            Row {
                geometry: f.geometry.map(|g| g.value),
                values,
            }
        })
        .collect();
    Ok(Table {
        layer,
        columns,
        rows,
    })
}

/// The layers of the drafters' package (`pacchetto_pgt`): the candidate areas with what was
/// excluded, beside the PGT zones, the constraints and the comuni, to overlay in QGIS.
pub const PACCHETTO_PGT: [&str; 5] = [
    "aree_candidate",
    "aree_escluse",
    "pgt_zone",
    "vincoli",
    "comuni",
];

/// Tables of the given layers (all public layers when `layers` is empty; `tutto` means all;
/// `pacchetto_pgt` the drafters' package [`PACCHETTO_PGT`]).
pub fn tables(loaded: &Loaded, layers: &[String]) -> Result<Vec<Table>, ExportError> {
    resolve_layers(layers)?
        .into_iter()
        .map(|l| table(loaded, l))
        .collect()
}

/// Layer names checked against the public list, in the order given, without repeats.
pub fn resolve_layers(layers: &[String]) -> Result<Vec<&'static str>, ExportError> {
    if layers.is_empty() || layers.iter().any(|l| l == "tutto") {
        return Ok(public_layers().to_vec());
    }
    let mut out: Vec<&'static str> = Vec::new();
    for l in layers {
        let names: Vec<&'static str> = if l == "pacchetto_pgt" {
            PACCHETTO_PGT.to_vec()
        } else {
            vec![public_layer(l)?]
        };
        for l in names {
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    Ok(out)
}

/// Encodes one file: a single layer for every format, or several for GeoPackage and XLSX.
pub fn encode(
    loaded: &Loaded,
    tables: &[Table],
    format: Format,
    options: Options,
) -> Result<Vec<u8>, ExportError> {
    match (format, tables) {
        (Format::Gpkg, _) => gpkg::to_bytes(tables),
        (Format::Xlsx, _) => xlsx::to_bytes(loaded, tables),
        (_, [t]) => match format {
            Format::GeoJson => geojson::to_bytes(t),
            Format::GeoParquet => geoparquet::to_bytes(t),
            _ => csv::to_bytes(t, options.csv_geometry),
        },
        _ => Err(ExportError::NeedsDirectory(format.name())),
    }
}

/// What `abitare export` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub format: Format,
    /// Layer names; empty (or `tutto`) means every public layer.
    pub layers: Vec<String>,
    /// A file; for GeoJSON, GeoParquet and CSV with several layers, a folder.
    pub out: PathBuf,
    pub options: Options,
}

/// Writes an export and returns the files written.
///
/// GeoPackage and XLSX always write one file. The other formats write one file when one layer
/// is asked for and `out` has an extension, otherwise a folder of `<layer>.<ext>` files,
/// built in a staging folder and renamed into place (an existing folder is replaced only if it
/// holds nothing but files of a previous export).
pub fn export(loaded: &Loaded, req: &Request) -> Result<Vec<PathBuf>, ExportError> {
    let layers = resolve_layers(&req.layers)?;
    let single_file =
        req.format.multi_layer() || (layers.len() == 1 && req.out.extension().is_some());
    if single_file {
        let tables = layers
            .iter()
            .map(|l| table(loaded, l))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes = encode(loaded, &tables, req.format, req.options)?;
        write_file_atomic(&req.out, &bytes)?;
        return Ok(vec![req.out.clone()]);
    }
    check_replaceable_dir(&req.out, req.format)?;
    let staging = sibling(&req.out, "staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    std::fs::create_dir_all(&staging).map_err(io_err(&staging))?;
    let written = (|| {
        let mut names = Vec::new();
        for l in &layers {
            let t = table(loaded, l)?;
            let bytes = encode(loaded, std::slice::from_ref(&t), req.format, req.options)?;
            let name = format!("{l}.{}", req.format.extension());
            let p = staging.join(&name);
            std::fs::write(&p, &bytes).map_err(io_err(&p))?;
            names.push(name);
        }
        Ok::<_, ExportError>(names)
    })();
    let names = match written {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    swap_dir(&staging, &req.out)?;
    Ok(names.into_iter().map(|n| req.out.join(n)).collect())
}

/// `dir/.name.<tag>-<pid>`: a hidden sibling of `path`.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export".into());
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    parent.join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it into place.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let tmp = sibling(path, "tmp");
    let result = (|| {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

/// An existing `out` may be replaced only if it is a folder of export files of this format.
fn check_replaceable_dir(out: &Path, format: Format) -> Result<(), ExportError> {
    if !out.exists() {
        return Ok(());
    }
    let entries = std::fs::read_dir(out).map_err(io_err(out))?;
    for e in entries {
        let e = e.map_err(io_err(out))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_suffix(&format!(".{}", format.extension()))
            .is_some_and(|stem| public_layers().contains(&stem))
            && e.file_type().map(|t| t.is_file()).unwrap_or(false);
        if !ours {
            return Err(ExportError::DirectoryNotEmpty {
                path: out.to_path_buf(),
                entry: name,
            });
        }
    }
    Ok(())
}

/// Renames `staging` to `out`, moving an existing `out` aside first and deleting it after.
fn swap_dir(staging: &Path, out: &Path) -> Result<(), ExportError> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let old = sibling(out, "old");
    let had_old = out.exists();
    if had_old {
        std::fs::rename(out, &old).map_err(io_err(out))?;
    }
    if let Err(e) = std::fs::rename(staging, out) {
        if had_old {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(staging);
        return Err(io_err(out)(e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}

/// Italian label of a column, for the people who read the files (XLSX headers, QGIS aliases).
pub fn label_it(column: &str) -> String {
    let known = match column {
        "istat" => "Codice ISTAT",
        "belfiore" => "Codice catastale (Belfiore)",
        "nome" => "Nome",
        "sub_ambito" => "Sub-ambito",
        "popolazione" => "Popolazione",
        "area_km2" => "Superficie (km²)",
        "alloggi" => "Alloggi pubblici",
        "alloggi_sap" => "Alloggi SAP",
        "occupati" => "Occupati",
        "liberi" => "Liberi",
        "sfitto_carenze_manutentive" => "Sfitti per carenze manutentive",
        "sfitto_ristrutturazione" => "Sfitti per ristrutturazione",
        "inutilizzati" => "Inutilizzati",
        "inutilizzati_con_data" => "Inutilizzati con data di sfitto",
        "mesi_sfitto_medi" => "Mesi di sfitto (media)",
        "sfitti_oltre_24_mesi" => "Sfitti da oltre 24 mesi",
        "tasso_inutilizzo" => "Quota inutilizzati",
        "alloggi_per_1000_ab" => "Alloggi ogni 1.000 abitanti",
        "inutilizzati_per_1000_ab" => "Inutilizzati ogni 1.000 abitanti",
        "quota_inutilizzati_ambito" => "Quota degli inutilizzati dell'Ambito",
        "id" => "Identificativo",
        "ente_proprietario" => "Ente proprietario",
        "codice_unita" => "Codice unità",
        "comune" => "Comune",
        "comune_istat" => "Codice ISTAT del comune",
        "indirizzo" => "Indirizzo",
        "servizio" => "Servizio (codice)",
        "servizio_label" => "Servizio",
        "stato" => "Stato (codice)",
        "stato_label" => "Stato",
        "inutilizzato" => "Inutilizzato",
        "sfitto_dal" => "Sfitto dal",
        "mesi_sfitto" => "Mesi di sfitto",
        "riferimento_catastale" => "Riferimento catastale",
        "categoria_catastale" => "Categoria catastale",
        "superficie_mq" => "Superficie (m²)",
        "localizzazione" => "Localizzazione",
        "riferimento" => "Riferimento",
        "sezione" => "Sezione",
        "foglio" => "Foglio",
        "particella" => "Particella",
        "scala" => "Scala",
        "area_m2" => "Superficie (m²)",
        "classe" => "Classe (codice)",
        "classe_label" => "Classe",
        "legenda" => "Legenda",
        "codice_destinazione" => "Codice di destinazione",
        "codice" => "Codice",
        "fonte" => "Fonte",
        "lon" => "Longitudine",
        "lat" => "Latitudine",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let text = column.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Italian title of a layer (sheet names, layer descriptions).
pub fn title_it(layer: &str) -> String {
    match layer {
        "comuni" => "Comuni".into(),
        "fogli" => "Fogli catastali".into(),
        "particelle" => "Particelle catastali".into(),
        "fabbricati" => "Fabbricati".into(),
        "alloggi_pubblici" => "Alloggi pubblici".into(),
        "pgt_zone" => "Zone PGT".into(),
        "vincoli" => "Vincoli".into(),
        other => label_it(other),
    }
}

// --- geometry helpers shared by the writers -------------------------------------------------

/// OGC name of a GeoJSON geometry's type.
pub fn type_name(v: &::geojson::Value) -> &'static str {
    use ::geojson::Value as G;
    match v {
        G::Point(_) => "Point",
        G::MultiPoint(_) => "MultiPoint",
        G::LineString(_) => "LineString",
        G::MultiLineString(_) => "MultiLineString",
        G::Polygon(_) => "Polygon",
        G::MultiPolygon(_) => "MultiPolygon",
        G::GeometryCollection(_) => "GeometryCollection",
    }
}

fn for_each_position(v: &::geojson::Value, f: &mut impl FnMut(&[f64])) {
    use ::geojson::Value as G;
    match v {
        G::Point(p) => f(p),
        G::MultiPoint(ps) | G::LineString(ps) => ps.iter().for_each(|p| f(p)),
        G::MultiLineString(ls) | G::Polygon(ls) => ls.iter().flatten().for_each(|p| f(p)),
        G::MultiPolygon(polys) => polys.iter().flatten().flatten().for_each(|p| f(p)),
        G::GeometryCollection(gs) => gs.iter().for_each(|g| for_each_position(&g.value, f)),
    }
}

/// `[minx, miny, maxx, maxy]`, `None` for an empty geometry.
pub fn bbox(v: &::geojson::Value) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for_each_position(v, &mut |p| {
        if let [x, y, ..] = *p {
            b = Some(match b {
                None => [x, y, x, y],
                Some(b) => [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
            });
        }
    });
    b
}

/// The point itself, or the centroid of any other geometry, rounded to 7 decimals.
pub fn lonlat(v: &::geojson::Value) -> Option<(f64, f64)> {
    if let ::geojson::Value::Point(p) = v {
        return match p.as_slice() {
            [x, y, ..] => Some((*x, *y)),
            _ => None,
        };
    }
    let g: geo::Geometry<f64> = v.clone().try_into().ok()?;
    let c = g.centroid()?;
    let r = |v: f64| (v * 1e7).round() / 1e7;
    Some((r(c.x()), r(c.y())))
}

/// ISO WKB (little endian, 2D).
pub fn wkb(v: &::geojson::Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_wkb(v, &mut out);
    out
}

fn write_wkb(v: &::geojson::Value, out: &mut Vec<u8>) {
    use ::geojson::Value as G;
    fn header(out: &mut Vec<u8>, code: u32) {
        out.push(1);
        out.extend_from_slice(&code.to_le_bytes());
    }
    fn count(out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    fn pos(out: &mut Vec<u8>, p: &[f64]) {
        let x = p.first().copied().unwrap_or(f64::NAN);
        let y = p.get(1).copied().unwrap_or(f64::NAN);
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
    fn line(out: &mut Vec<u8>, ps: &[Vec<f64>]) {
        count(out, ps.len());
        ps.iter().for_each(|p| pos(out, p));
    }
    fn polygon(out: &mut Vec<u8>, rings: &[Vec<Vec<f64>>]) {
        header(out, 3);
        count(out, rings.len());
        rings.iter().for_each(|r| line(out, r));
    }
    match v {
        G::Point(p) => {
            header(out, 1);
            pos(out, p);
        }
        G::LineString(ps) => {
            header(out, 2);
            line(out, ps);
        }
        G::Polygon(rings) => polygon(out, rings),
        G::MultiPoint(ps) => {
            header(out, 4);
            count(out, ps.len());
            for p in ps {
                header(out, 1);
                pos(out, p);
            }
        }
        G::MultiLineString(ls) => {
            header(out, 5);
            count(out, ls.len());
            for l in ls {
                header(out, 2);
                line(out, l);
            }
        }
        G::MultiPolygon(polys) => {
            header(out, 6);
            count(out, polys.len());
            polys.iter().for_each(|p| polygon(out, p));
        }
        G::GeometryCollection(gs) => {
            header(out, 7);
            count(out, gs.len());
            gs.iter().for_each(|g| write_wkb(&g.value, out));
        }
    }
}

/// WKT (`POINT (9.9 45.9)`, `MULTIPOLYGON (((…)))`).
pub fn wkt(v: &::geojson::Value) -> String {
    use ::geojson::Value as G;
    use std::fmt::Write;
    fn pos(p: &[f64]) -> String {
        match p {
            [x, y, ..] => format!("{x} {y}"),
            _ => String::new(),
        }
    }
    fn line(ps: &[Vec<f64>]) -> String {
        let inner: Vec<String> = ps.iter().map(|p| pos(p)).collect();
        format!("({})", inner.join(", "))
    }
    fn polygon(rings: &[Vec<Vec<f64>>]) -> String {
        let inner: Vec<String> = rings.iter().map(|r| line(r)).collect();
        format!("({})", inner.join(", "))
    }
    let mut s = String::new();
    let _ = match v {
        G::Point(p) => write!(s, "POINT ({})", pos(p)),
        G::MultiPoint(ps) => write!(s, "MULTIPOINT {}", line(ps)),
        G::LineString(ps) => write!(s, "LINESTRING {}", line(ps)),
        G::MultiLineString(ls) => write!(s, "MULTILINESTRING {}", polygon(ls)),
        G::Polygon(rings) => write!(s, "POLYGON {}", polygon(rings)),
        G::MultiPolygon(polys) => {
            let inner: Vec<String> = polys.iter().map(|p| polygon(p)).collect();
            write!(s, "MULTIPOLYGON ({})", inner.join(", "))
        }
        G::GeometryCollection(gs) => {
            let inner: Vec<String> = gs.iter().map(|g| wkt(&g.value)).collect();
            write!(s, "GEOMETRYCOLLECTION ({})", inner.join(", "))
        }
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_and_wkb_of_a_point() {
        let p = ::geojson::Value::Point(vec![9.5, 45.25]);
        assert_eq!(wkt(&p), "POINT (9.5 45.25)");
        let b = wkb(&p);
        assert_eq!(b.len(), 21);
        assert_eq!(&b[..5], &[1, 1, 0, 0, 0]);
        assert_eq!(lonlat(&p), Some((9.5, 45.25)));
    }

    #[test]
    fn kinds_are_inferred() {
        let v = [Value::from(1), Value::from(2.5), Value::Null];
        assert_eq!(infer_kind(v.iter()), Kind::Real);
        let d = [Value::from("2024-01-31"), Value::Null];
        assert_eq!(infer_kind(d.iter()), Kind::Date);
        let t = [Value::from("016077"), Value::from(3)];
        assert_eq!(infer_kind(t.iter()), Kind::Text);
        assert_eq!(infer_kind([Value::Null].iter()), Kind::Text);
    }

    #[test]
    fn formats_and_layers_parse() {
        assert_eq!(Format::parse("parquet").ok(), Some(Format::GeoParquet));
        assert!(Format::parse("shp").is_err());
        assert!(public_layer("alloggi_privati").is_err());
        assert_eq!(
            resolve_layers(&["comuni".into(), "comuni".into()]).ok(),
            Some(vec!["comuni"])
        );
    }
}
