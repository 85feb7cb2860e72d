//! Exports of the public layers as files: GeoJSON, GeoPackage (with QGIS styles), GeoParquet,
//! CSV and XLSX.
//!
//! Every format carries the same fields: the feature properties of [`crate::output::geojson`],
//! turned once into a [`Table`] (typed columns, one row per feature, geometry in lon/lat).
//! Only the layers that module serves publicly can be exported. Files are written atomically
//! (a temporary file renamed into place; a staging folder for a folder of files).
//!
//! Two choices apply to every format: the CRS ([`Options::crs`], one of [`crate::crs::OUTPUT`],
//! default EPSG:4326; the tables are projected once and each writer declares the CRS its way)
//! and the comune ([`Request::comune`]: only the rows of one comune, by
//! [`table::comune_rule`]).

pub mod csv;
pub mod geojson;
pub mod geoparquet;
pub mod gpkg;
pub mod xlsx;

mod geometry;
mod table;

pub use geometry::{bbox, lonlat, type_name, wkb, wkt};
pub use table::{
    comune_rows, comune_rule, table, table_of, table_until, value_fits, Column, ComuneRule, Kind,
    Row, Table,
};

use std::path::{Path, PathBuf};

use crate::analysis::Analisi;
use crate::atomic::{self, Access, StageError, StagedDir, Swap};
use crate::crs::{self, CrsError, FromLonLat};
use crate::model::Comune;
use crate::output::layers::{self as registry, Audience, Layer};

/// What can go wrong while exporting. Messages are for the user (Italian).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("layer sconosciuto o non esportabile: {name:?} (disponibili: {available})")]
    UnknownLayer { name: String, available: String },
    #[error("formato di esportazione sconosciuto: {0:?} (geojson, gpkg, geoparquet, csv, xlsx)")]
    UnknownFormat(String),
    #[error("geometria CSV sconosciuta: {0:?} (wkt, lonlat)")]
    UnknownGeometryMode(String),
    #[error("variante CSV sconosciuta: {0:?} (standard, excel)")]
    UnknownCsvDialect(String),
    #[error(
        "sistema di riferimento non offerto per le esportazioni: {0:?} (disponibili: {list})",
        list = output_crs_list()
    )]
    UnknownCrs(String),
    #[error(
        "la geometria lonlat (colonne di longitudine e latitudine) richiede un sistema \
         geografico (EPSG:4326 o EPSG:6706), non EPSG:{0}: usare la geometria wkt"
    )]
    LonLatNeedsDegrees(u16),
    #[error(
        "comune sconosciuto: {istat:?} non è un codice ISTAT dei comuni dell'Ambito ({available})"
    )]
    UnknownComune { istat: String, available: String },
    #[error("coordinate: {0}")]
    Crs(#[from] CrsError),
    #[error(
        "il formato {0} scrive un file per layer: con più layer --out deve essere una cartella"
    )]
    NeedsDirectory(&'static str),
    #[error("{}: la cartella esiste e contiene file che non sono esportazioni di abitare ({entry}); scegliere una cartella nuova o vuota", path.display())]
    DirectoryNotEmpty { path: PathBuf, entry: String },
    #[error("{}: un'altra esportazione nella stessa cartella è in corso; riprovare quando è terminata", path.display())]
    Busy { path: PathBuf },
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
    /// The [`Interrupt`] asked to stop (the file was not finished).
    #[error("esportazione interrotta")]
    Interrupted,
}

/// Asked between layers and between chunks of rows while an export is built; `true` stops
/// it with [`ExportError::Interrupted`] (a server stops the work of a client that left).
pub type Interrupt<'a> = &'a (dyn Fn() -> bool + 'a);

/// Rows built between two questions to the [`Interrupt`].
pub const ROW_CHUNK: usize = 2_000;

fn check(stop: Interrupt<'_>) -> Result<(), ExportError> {
    if stop() {
        Err(ExportError::Interrupted)
    } else {
        Ok(())
    }
}

impl From<StageError> for ExportError {
    fn from(e: StageError) -> Self {
        match e {
            StageError::Io(e) => e.into(),
            StageError::Busy { target } => ExportError::Busy { path: target },
        }
    }
}

impl From<atomic::IoError> for ExportError {
    fn from(e: atomic::IoError) -> Self {
        ExportError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The layer called `name` if the caller may download it, or an error naming what it may.
pub fn export_layer(name: &str, caller: Audience) -> Result<Layer, ExportError> {
    registry::layer(name, caller).map_err(|_| ExportError::UnknownLayer {
        name: name.to_string(),
        available: registry::visible_names(caller),
    })
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

impl CsvGeometry {
    pub fn name(self) -> &'static str {
        match self {
            CsvGeometry::Wkt => "wkt",
            CsvGeometry::LonLat => "lonlat",
        }
    }
}

/// Which CSV: the standard one, or the one Italian Excel opens as a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvDialect {
    /// UTF-8 without BOM, `,` between fields, `.` in decimal numbers (RFC 4180, GDAL, pandas).
    #[default]
    Standard,
    /// Italian Excel: a UTF-8 BOM (so accents read right), `;` between fields and `,` in the
    /// decimal numbers of number columns (WKT keeps its own syntax).
    Excel,
}

impl CsvDialect {
    pub fn parse(s: &str) -> Result<CsvDialect, ExportError> {
        match s.to_ascii_lowercase().as_str() {
            "standard" | "rfc4180" => Ok(CsvDialect::Standard),
            "excel" => Ok(CsvDialect::Excel),
            _ => Err(ExportError::UnknownCsvDialect(s.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CsvDialect::Standard => "standard",
            CsvDialect::Excel => "excel",
        }
    }
}

/// Options that some formats read.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub csv_geometry: CsvGeometry,
    pub csv_dialect: CsvDialect,
    /// EPSG code of the coordinates written, one of [`crs::OUTPUT`] (see [`parse_crs`]).
    pub crs: u16,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            csv_geometry: CsvGeometry::default(),
            csv_dialect: CsvDialect::default(),
            crs: 4326,
        }
    }
}

impl Options {
    /// Refuses combinations that cannot be written: `lon`/`lat` columns in metres.
    pub fn check(&self, format: Format) -> Result<(), ExportError> {
        if !crs::OUTPUT.contains(&self.crs) {
            return Err(ExportError::UnknownCrs(self.crs.to_string()));
        }
        if format == Format::Csv
            && self.csv_geometry == CsvGeometry::LonLat
            && !crs::is_geographic(self.crs)
        {
            return Err(ExportError::LonLatNeedsDegrees(self.crs));
        }
        Ok(())
    }
}

/// The CRSs exports can be written in, for messages (`4326, 32632, …`).
pub fn output_crs_list() -> String {
    crs::OUTPUT
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A CRS named by a user or client (`32632`, `EPSG:32632`, the OGC URN or URI, CRS84), if
/// exports can be written in it. Whatever the axis order of the name, x is written first.
pub fn parse_crs(s: &str) -> Result<u16, ExportError> {
    crs::parse_output(s)
        .map(|d| d.epsg)
        .map_err(|_| ExportError::UnknownCrs(s.to_string()))
}

/// The comune of the Ambito whose ISTAT code is `istat`.
pub fn comune<'a>(a: &'a Analisi, istat: &str) -> Result<&'a Comune, ExportError> {
    let wanted = istat.trim();
    a.model
        .comuni
        .iter()
        .find(|c| c.istat == wanted)
        .ok_or_else(|| ExportError::UnknownComune {
            istat: istat.to_string(),
            available: a
                .model
                .comuni
                .iter()
                .map(|c| format!("{} {}", c.istat, c.nome))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The layers of the drafters' package (`pacchetto_pgt`, with `comune` the package of one
/// comune): the candidate areas with what was excluded, beside the PGT zones, the
/// constraints, the comuni, the cadastre and the public units, to overlay in QGIS. Layers the
/// caller may not see (the units, for the public) are left out of its package.
pub const PACCHETTO_PGT: [&str; 8] = [
    "aree_candidate",
    "aree_escluse",
    "pgt_zone",
    "vincoli",
    "comuni",
    "fogli",
    "particelle",
    "alloggi_pubblici",
];

/// Tables of the given layers (every layer the caller may see when `layers` is empty; `tutto`
/// means all; `pacchetto_pgt` the drafters' package [`PACCHETTO_PGT`]).
pub fn tables(a: &Analisi, layers: &[String], caller: Audience) -> Result<Vec<Table>, ExportError> {
    Ok(resolve_layers(layers, caller)?
        .into_iter()
        .map(|l| table(a, l))
        .collect())
}

/// [`tables`], asking `stop` between layers and chunks of rows.
pub fn tables_until(
    a: &Analisi,
    layers: &[Layer],
    stop: Interrupt<'_>,
) -> Result<Vec<Table>, ExportError> {
    tables_in(a, layers, None, stop)
}

/// The tables of `layers`, only the rows of `comune` when given ([`comune_rows`]), asking
/// `stop` between layers and chunks of rows.
pub fn tables_in(
    a: &Analisi,
    layers: &[Layer],
    comune: Option<&Comune>,
    stop: Interrupt<'_>,
) -> Result<Vec<Table>, ExportError> {
    layers
        .iter()
        .map(|l| table_of(a, *l, comune, stop))
        .collect()
}

/// Layer names checked against what the caller may see, in the order given, without repeats.
pub fn resolve_layers(layers: &[String], caller: Audience) -> Result<Vec<Layer>, ExportError> {
    if layers.is_empty() || layers.iter().any(|l| l == "tutto") {
        return Ok(registry::visible(caller).collect());
    }
    let mut out: Vec<Layer> = Vec::new();
    for l in layers {
        let package = l == "pacchetto_pgt";
        let names: Vec<&str> = if package {
            PACCHETTO_PGT
                .into_iter()
                .filter(|n| registry::info(n).is_some_and(|i| i.visible_to(caller)))
                .collect()
        } else {
            vec![l.as_str()]
        };
        for name in names {
            let layer = export_layer(name, caller)?;
            if !out.iter().any(|o| o.id() == layer.id()) {
                out.push(layer);
            }
        }
    }
    Ok(out)
}

/// Encodes one file: a single layer for every format, or several for GeoPackage and XLSX.
pub fn encode(
    a: &Analisi,
    tables: &[Table],
    format: Format,
    options: Options,
) -> Result<Vec<u8>, ExportError> {
    encode_until(a, tables, format, options, &|| false)
}

/// [`encode`], asking `stop` between the layers of a GeoPackage or an XLSX workbook (a single
/// layer is encoded in one go).
pub fn encode_until(
    a: &Analisi,
    tables: &[Table],
    format: Format,
    options: Options,
    stop: Interrupt<'_>,
) -> Result<Vec<u8>, ExportError> {
    check(stop)?;
    options.check(format)?;
    let projected: Vec<Table>;
    let tables = if options.crs == 4326 {
        tables
    } else {
        let to = FromLonLat::new(options.crs)?;
        projected = tables
            .iter()
            .map(|t| {
                check(stop)?;
                t.in_crs(&to)
            })
            .collect::<Result<_, _>>()?;
        &projected
    };
    match (format, tables) {
        (Format::Gpkg, _) => gpkg::to_bytes_until(tables, stop),
        (Format::Xlsx, _) => xlsx::to_bytes_until(a, tables, stop),
        (_, [t]) => match format {
            Format::GeoJson => geojson::to_bytes(t),
            Format::GeoParquet => geoparquet::to_bytes(t),
            _ => csv::to_bytes_as(t, options.csv_geometry, options.csv_dialect),
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
    /// Who asks: only the layers this audience may see are written.
    pub caller: Audience,
    /// ISTAT code of a comune: only its rows of each layer ([`comune_rows`]).
    pub comune: Option<String>,
}

/// Writes an export and returns the files written.
///
/// GeoPackage and XLSX always write one file. The other formats write one file when one layer
/// is asked for and `out` has an extension, otherwise a folder of `<layer>.<ext>` files,
/// built in a staging folder and renamed into place (an existing folder is replaced only if it
/// holds nothing but files of a previous export).
pub fn export(a: &Analisi, req: &Request) -> Result<Vec<PathBuf>, ExportError> {
    let layers = resolve_layers(&req.layers, req.caller)?;
    req.options.check(req.format)?;
    let comune = req.comune.as_deref().map(|c| comune(a, c)).transpose()?;
    let table = |l: Layer| table_of(a, l, comune, &|| false);
    let single_file =
        req.format.multi_layer() || (layers.len() == 1 && req.out.extension().is_some());
    if single_file {
        let tables = layers
            .iter()
            .map(|l| table(*l))
            .collect::<Result<Vec<_>, _>>()?;
        let bytes = encode(a, &tables, req.format, req.options)?;
        write_file_atomic(&req.out, &bytes)?;
        return Ok(vec![req.out.clone()]);
    }
    check_replaceable_dir(&req.out, req.format)?;
    let staging = StagedDir::new(&req.out, "staging", Access::Default, Swap::Rename)?;
    let mut names = Vec::new();
    for l in &layers {
        let t = table(*l)?;
        let bytes = encode(a, std::slice::from_ref(&t), req.format, req.options)?;
        let name = format!("{}.{}", l.name(), req.format.extension());
        let p = staging.path().join(&name);
        std::fs::write(&p, &bytes).map_err(io_err(&p))?;
        names.push(name);
    }
    staging.commit()?;
    Ok(names.into_iter().map(|n| req.out.join(n)).collect())
}

/// Writes `bytes` to a temporary sibling of `path`, then renames it into place.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    Ok(atomic::write_file(path, bytes)?)
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
            .is_some_and(|stem| registry::info(stem).is_some())
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
    fn values_are_checked_against_their_kind() {
        assert!(value_fits(&Value::from(2), Kind::Integer));
        assert!(!value_fits(&Value::from(2.5), Kind::Integer));
        assert!(value_fits(&Value::from(2), Kind::Real));
        assert!(value_fits(&Value::from("2024-01-31"), Kind::Date));
        assert!(!value_fits(&Value::from("31/01/2024"), Kind::Date));
        assert!(!value_fits(&Value::from(3), Kind::Text));
        assert!(value_fits(&Value::Null, Kind::Boolean));
    }

    #[test]
    fn formats_and_layers_parse() {
        assert_eq!(Format::parse("parquet").ok(), Some(Format::GeoParquet));
        assert!(Format::parse("shp").is_err());
        assert!(export_layer("alloggi_privati", Audience::Pubblico).is_err());
        assert!(export_layer("alloggi_privati", Audience::Ufficio).is_ok());
        let names = |v: Vec<Layer>| v.into_iter().map(Layer::name).collect::<Vec<_>>();
        assert_eq!(
            resolve_layers(&["comuni".into(), "comuni".into()], Audience::Pubblico)
                .map(names)
                .ok(),
            Some(vec!["comuni"])
        );
    }
}
