//! Reader of PGT layers (Shapefile, Regione Lombardia schema) with the built-in regional mapping.
//!
//! A PGT folder holds the layers of one or more comuni: either directly, or one subfolder per
//! comune named after its ISTAT code (`016077_Clusone`). Each layer is a Shapefile (`.shp`,
//! `.shx`, `.dbf`, with the CRS declared in a `.prj` and, optionally, the DBF code page in a
//! `.cpg`; Windows-1252 when absent). The layer's file stem tells what it holds, following the
//! regional "Schema fisico della Tavola delle previsioni di piano":
//!
//! | stem (case-insensitive) | becomes |
//! |---|---|
//! | `AMBITI_TRASFORMAZIONE` | [`ClasseZona::AmbitoTrasformazione`] (`NOME_AMB`, `FUN_PREV1`) |
//! | `TESSUTO_URBANO_CONSOLIDATO` | [`ClasseZona::TessutoUrbanoConsolidato`] (`LEGENDA`, `COD_DEST1`); a `LEGENDA` naming "antica formazione" or "centro storico" gives [`ClasseZona::NucleoAnticaFormazione`] |
//! | `NUCLEI_ANTICA_FORMAZIONE` | [`ClasseZona::NucleoAnticaFormazione`] |
//! | `AREE_AGRICOLE` | [`ClasseZona::Agricolo`] |
//! | `AREE_NON_TRASFORMAZIONE` | [`ClasseZona::NonSoggettoTrasformazione`] |
//! | `SERVIZI` | [`ClasseZona::ServiziEsistenti`] / [`ClasseZona::ServiziPrevisti`] by `STATO` (`TIPO_SERV`, `DESCR`) |
//! | `AMBITI_RIGENERAZIONE` | [`ClasseZona::Rigenerazione`] |
//! | `VINCOLI`, or a stem containing `VINCOL` or `RISPETTO` | [`Vincolo`] (`COD_VINC`, `NOME_VINC_PRINC`) |
//!
//! Any other layer is reported in [`PgtRead::avvisi`] and ignored. Every vertex is reprojected
//! to lon/lat and must fall in Lombardy.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use shapefile::dbase::{self, FieldValue};
use shapefile::{Shape, ShapeReader};
use thiserror::Error;

use crate::crs::{self, CrsError, ToLonLat};
use crate::model::{ClasseZona, Vincolo, ZonaPgt};

/// What the PGT folders held.
#[derive(Debug, Default)]
pub struct PgtRead {
    pub zone: Vec<ZonaPgt>,
    pub vincoli: Vec<Vincolo>,
    /// Non-fatal remarks (unmapped layers or values), in Italian.
    pub avvisi: Vec<String>,
}

#[derive(Debug, Error)]
pub enum PgtError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    /// One of the mandatory files of a layer (`.shp`, `.shx`, `.dbf`) is missing.
    #[error("{path}: file mancante; il layer {layer} richiede i file .shp, .shx e .dbf")]
    MissingFile { path: PathBuf, layer: String },
    /// The layer has no `.prj`.
    #[error(
        "{path}: file .prj mancante; il sistema di riferimento del layer {layer} deve essere dichiarato \
         (aggiungere il .prj, ad esempio quello di EPSG:32632)"
    )]
    MissingPrj { path: PathBuf, layer: String },
    /// The `.prj` names a CRS abitare does not know.
    #[error("{path}: sistema di riferimento non riconosciuto: {source}")]
    Crs {
        path: PathBuf,
        #[source]
        source: CrsError,
    },
    /// The `.dbf` cannot be read (header, or one record when `record` is given).
    #[error("{path}: {} file DBF illeggibile: {message}", record_label(*record))]
    Dbf {
        path: PathBuf,
        /// 1-based record number, when the error is in a record.
        record: Option<usize>,
        message: String,
    },
    /// The geometry of a record cannot be read, reprojected, or falls outside Lombardy.
    #[error("{path}: record n. {record}, campo geometria: {message}")]
    Geometry {
        path: PathBuf,
        /// 1-based record number.
        record: usize,
        message: String,
    },
}

fn record_label(record: Option<usize>) -> String {
    match record {
        Some(n) => format!("record n. {n}:"),
        None => String::new(),
    }
}

/// What a layer holds, decided by its file stem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LayerKind {
    AmbitiTrasformazione,
    TessutoUrbanoConsolidato,
    NucleiAnticaFormazione,
    AreeAgricole,
    AreeNonTrasformazione,
    Servizi,
    AmbitiRigenerazione,
    Vincoli,
}

impl LayerKind {
    fn from_stem(stem: &str) -> Option<LayerKind> {
        let upper = stem.trim().to_ascii_uppercase();
        let kind = match upper.as_str() {
            "AMBITI_TRASFORMAZIONE" => LayerKind::AmbitiTrasformazione,
            "TESSUTO_URBANO_CONSOLIDATO" => LayerKind::TessutoUrbanoConsolidato,
            "NUCLEI_ANTICA_FORMAZIONE" => LayerKind::NucleiAnticaFormazione,
            "AREE_AGRICOLE" => LayerKind::AreeAgricole,
            "AREE_NON_TRASFORMAZIONE" => LayerKind::AreeNonTrasformazione,
            "SERVIZI" => LayerKind::Servizi,
            "AMBITI_RIGENERAZIONE" => LayerKind::AmbitiRigenerazione,
            _ if upper.contains("VINCOL") || upper.contains("RISPETTO") => LayerKind::Vincoli,
            _ => return None,
        };
        Some(kind)
    }

    /// Fields holding the legend, in order of preference.
    fn legenda_fields(self) -> &'static [&'static str] {
        match self {
            LayerKind::AmbitiTrasformazione => &["NOME_AMB"],
            LayerKind::TessutoUrbanoConsolidato => &["LEGENDA"],
            LayerKind::AmbitiRigenerazione => &["NOME_AMB", "LEGENDA", "NOME"],
            LayerKind::NucleiAnticaFormazione
            | LayerKind::AreeAgricole
            | LayerKind::AreeNonTrasformazione => &["LEGENDA", "NOME"],
            LayerKind::Servizi | LayerKind::Vincoli => &[],
        }
    }

    /// Fields holding the destination code, in order of preference.
    fn destinazione_fields(self) -> &'static [&'static str] {
        match self {
            LayerKind::AmbitiTrasformazione => &["FUN_PREV1"],
            LayerKind::TessutoUrbanoConsolidato => &["COD_DEST1"],
            LayerKind::AmbitiRigenerazione
            | LayerKind::NucleiAnticaFormazione
            | LayerKind::AreeAgricole
            | LayerKind::AreeNonTrasformazione => &["COD_DEST1", "FUN_PREV1"],
            LayerKind::Servizi | LayerKind::Vincoli => &[],
        }
    }
}

/// A shapefile found in the PGT folders.
#[derive(Debug)]
struct LayerFile {
    shp: PathBuf,
    stem: String,
    /// ISTAT code from the name of the comune folder, when it has one.
    comune_istat: Option<String>,
    /// The other files of the folder, to find the companions whatever the case of their extension.
    siblings: Vec<PathBuf>,
}

impl LayerFile {
    /// The companion file with extension `ext` (any case), if it exists.
    fn companion(&self, ext: &str) -> Option<PathBuf> {
        self.siblings
            .iter()
            .find(|p| {
                p.file_stem().and_then(|s| s.to_str()) == Some(self.stem.as_str())
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            })
            .cloned()
    }

    fn required(&self, ext: &str) -> Result<PathBuf, PgtError> {
        self.companion(ext).ok_or_else(|| PgtError::MissingFile {
            path: self.shp.with_extension(ext),
            layer: self.stem.clone(),
        })
    }
}

/// Reads every shapefile in `dir` and in its immediate subfolders (one per comune).
pub fn read_pgt_dir(dir: &Path) -> Result<PgtRead, PgtError> {
    let mut out = PgtRead::default();
    let layers = find_layers(dir)?;
    if layers.is_empty() {
        out.avvisi.push(format!(
            "{}: nessun layer PGT (.shp) trovato",
            dir.display()
        ));
    }
    for layer in &layers {
        read_layer(layer, &mut out)?;
    }
    Ok(out)
}

fn list_dir(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), PgtError> {
    let io = |source| PgtError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io)?;
        if file_type.is_dir() || (file_type.is_symlink() && path.is_dir()) {
            dirs.push(path);
        } else {
            files.push(path);
        }
    }
    files.sort();
    dirs.sort();
    Ok((files, dirs))
}

fn is_shp(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"))
}

/// The 6-digit ISTAT prefix of a comune folder name (`016077_Clusone` → `016077`).
fn istat_prefix(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    if bytes.len() >= 6
        && bytes[..6].iter().all(u8::is_ascii_digit)
        && bytes.get(6).is_none_or(|b| !b.is_ascii_digit())
    {
        Some(name[..6].to_string())
    } else {
        None
    }
}

fn layers_in(files: &[PathBuf], comune_istat: Option<String>) -> Result<Vec<LayerFile>, PgtError> {
    let mut layers = Vec::new();
    for shp in files.iter().filter(|p| is_shp(p)) {
        let stem = shp
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| PgtError::Invalid {
                path: shp.clone(),
                message: "nome del file non valido (non UTF-8)".to_string(),
            })?
            .to_string();
        layers.push(LayerFile {
            shp: shp.clone(),
            stem,
            comune_istat: comune_istat.clone(),
            siblings: files.to_vec(),
        });
    }
    Ok(layers)
}

fn find_layers(dir: &Path) -> Result<Vec<LayerFile>, PgtError> {
    let (files, dirs) = list_dir(dir)?;
    let mut layers = layers_in(&files, None)?;
    for sub in dirs {
        let istat = sub
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(istat_prefix);
        let (sub_files, _) = list_dir(&sub)?;
        layers.extend(layers_in(&sub_files, istat)?);
    }
    Ok(layers)
}

/// The encoding named by a `.cpg` (`1252`, `UTF-8`, `CP1252`, `ANSI 1252`, `ISO-8859-1`…).
fn encoding_from_cpg(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let trimmed = label.trim().trim_start_matches('\u{feff}').trim();
    let upper = trimmed.to_ascii_uppercase();
    let code = upper
        .strip_prefix("ANSI")
        .or_else(|| upper.strip_prefix("CP"))
        .or_else(|| upper.strip_prefix("WINDOWS-"))
        .or_else(|| upper.strip_prefix("WINDOWS"))
        .unwrap_or(&upper)
        .trim()
        .trim_start_matches(['-', '_', ' ']);
    if !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()) {
        return match code {
            "65001" => Some(encoding_rs::UTF_8),
            // OEM code pages of old DOS-era DBFs.
            "437" | "850" => Some(encoding_rs::WINDOWS_1252),
            "866" => Some(encoding_rs::IBM866),
            _ => encoding_rs::Encoding::for_label(format!("windows-{code}").as_bytes()),
        };
    }
    match upper.as_str() {
        "UTF8" | "UTF-8" => Some(encoding_rs::UTF_8),
        "LATIN1" | "LATIN-1" | "8859-1" | "88591" => Some(encoding_rs::WINDOWS_1252),
        _ => encoding_rs::Encoding::for_label(trimmed.as_bytes()),
    }
}

fn open(path: &Path) -> Result<BufReader<File>, PgtError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| PgtError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn read_text(path: &Path) -> Result<String, PgtError> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|source| PgtError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    // `.prj` and `.cpg` are ASCII in practice; decode leniently.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The attributes of one record, by upper-case field name.
struct Attributes(HashMap<String, FieldValue>);

impl Attributes {
    fn from_record(record: dbase::Record) -> Attributes {
        let map: HashMap<String, FieldValue> = record.into();
        Attributes(
            map.into_iter()
                .map(|(k, v)| (k.trim().to_ascii_uppercase(), v))
                .collect(),
        )
    }

    /// The value of a field as trimmed text; `None` when the field is absent or empty.
    fn text(&self, field: &str) -> Option<String> {
        let value = self.0.get(field)?;
        let text = match value {
            FieldValue::Character(s) => s.clone()?,
            FieldValue::Memo(s) => s.clone(),
            FieldValue::Numeric(n) => number_text((*n)?),
            FieldValue::Float(n) => number_text(f64::from((*n)?)),
            FieldValue::Double(n) | FieldValue::Currency(n) => number_text(*n),
            FieldValue::Integer(n) => n.to_string(),
            FieldValue::Logical(b) => b.map(|b| if b { "T" } else { "F" })?.to_string(),
            FieldValue::Date(d) => {
                let d = (*d)?;
                format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
            }
            FieldValue::DateTime(dt) => {
                let d = dt.date();
                format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
            }
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(trimmed.to_string())
        }
    }

    fn first_text(&self, fields: &[&str]) -> Option<String> {
        fields.iter().find_map(|f| self.text(f))
    }
}

/// Integral numbers without decimals (`100`, not `100.0`): destination codes are stored as numbers.
fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Where a layer comes from, for messages and the model.
struct LayerContext<'a> {
    layer: &'a LayerFile,
    kind: LayerKind,
    dbf: PathBuf,
}

fn read_layer(layer: &LayerFile, out: &mut PgtRead) -> Result<(), PgtError> {
    let Some(kind) = LayerKind::from_stem(&layer.stem) else {
        out.avvisi.push(format!(
            "{}: layer {} non riconosciuto: ignorato",
            layer.shp.display(),
            layer.stem
        ));
        return Ok(());
    };
    let shx = layer.required("shx")?;
    let dbf = layer.required("dbf")?;
    let prj = layer.companion("prj").ok_or_else(|| PgtError::MissingPrj {
        path: layer.shp.with_extension("prj"),
        layer: layer.stem.clone(),
    })?;
    let wkt = read_text(&prj)?;
    let epsg = crs::epsg_from_prj(&wkt).map_err(|source| PgtError::Crs {
        path: prj.clone(),
        source,
    })?;
    let to_lonlat = ToLonLat::new(epsg).map_err(|source| PgtError::Crs {
        path: prj.clone(),
        source,
    })?;

    let encoding = match layer.companion("cpg") {
        Some(cpg) => {
            let label = read_text(&cpg)?;
            match encoding_from_cpg(&label) {
                Some(e) => e,
                None => {
                    out.avvisi.push(format!(
                        "{}: codifica {:?} non riconosciuta: il DBF è letto come Windows-1252",
                        cpg.display(),
                        label.trim()
                    ));
                    encoding_rs::WINDOWS_1252
                }
            }
        }
        None => encoding_rs::WINDOWS_1252,
    };

    let mut shapes =
        ShapeReader::with_shx(open(&layer.shp)?, open(&shx)?).map_err(|e| PgtError::Invalid {
            path: layer.shp.clone(),
            message: format!("shapefile illeggibile: {e}"),
        })?;
    let mut records = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(encoding))
        .build(open(&dbf)?)
        .map_err(|e| PgtError::Dbf {
            path: dbf.clone(),
            record: None,
            message: e.to_string(),
        })?;

    let shape_count = shapes.shape_count().map_err(|e| PgtError::Invalid {
        path: shx.clone(),
        message: format!("indice .shx illeggibile: {e}"),
    })?;
    let record_count = records.header().num_records as usize;
    if shape_count != record_count {
        return Err(PgtError::Invalid {
            path: dbf.clone(),
            message: format!(
                "il DBF ha {record_count} record ma il layer {} ha {shape_count} geometrie",
                layer.stem
            ),
        });
    }
    if shape_count == 0 {
        out.avvisi.push(format!(
            "{}: il layer {} è vuoto (0 record)",
            layer.shp.display(),
            layer.stem
        ));
        return Ok(());
    }

    let ctx = LayerContext {
        layer,
        kind,
        dbf: dbf.clone(),
    };
    let mut missing_fields_checked = false;
    let mut null_records = Vec::new();
    let mut shape_iter = shapes.iter_shapes();
    let mut record_iter = records.iter_records();
    for index in 0..shape_count {
        let n = index + 1;
        let shape = match shape_iter.next() {
            Some(Ok(shape)) => shape,
            Some(Err(e)) => {
                return Err(PgtError::Geometry {
                    path: layer.shp.clone(),
                    record: n,
                    message: format!("geometria illeggibile: {e}"),
                })
            }
            None => {
                return Err(PgtError::Geometry {
                    path: layer.shp.clone(),
                    record: n,
                    message: "geometria mancante (file .shp troncato?)".to_string(),
                })
            }
        };
        let record = match record_iter.next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => {
                return Err(PgtError::Dbf {
                    path: dbf.clone(),
                    record: Some(n),
                    message: e.to_string(),
                })
            }
            None => {
                return Err(PgtError::Dbf {
                    path: dbf.clone(),
                    record: Some(n),
                    message: "record mancante (file .dbf troncato?)".to_string(),
                })
            }
        };
        let attrs = Attributes::from_record(record);
        if !missing_fields_checked {
            missing_fields_checked = true;
            if let Some(stop) = check_fields(&ctx, &attrs, out) {
                if stop {
                    return Ok(());
                }
            }
        }
        let rings = match polygon_rings(&shape) {
            RingsOf::Polygon(rings) => rings,
            RingsOf::Null => {
                null_records.push(n);
                continue;
            }
            RingsOf::Other(kind) => {
                out.avvisi.push(format!(
                    "{}: il layer {} contiene geometrie di tipo {kind}, non poligoni: ignorato",
                    layer.shp.display(),
                    layer.stem
                ));
                return Ok(());
            }
        };
        let geometry =
            to_multipolygon(rings, &to_lonlat).map_err(|message| PgtError::Geometry {
                path: layer.shp.clone(),
                record: n,
                message,
            })?;
        if geometry.0.is_empty() {
            null_records.push(n);
            continue;
        }
        add_feature(&ctx, n, &attrs, geometry, out);
    }
    if !null_records.is_empty() {
        let shown: Vec<String> = null_records
            .iter()
            .take(10)
            .map(|n| n.to_string())
            .collect();
        let more = if null_records.len() > 10 { ", …" } else { "" };
        out.avvisi.push(format!(
            "{}: {} geometrie nulle o vuote ignorate (record n. {}{more})",
            layer.shp.display(),
            null_records.len(),
            shown.join(", ")
        ));
    }
    Ok(())
}

/// Warns once per layer about missing mapped fields. Returns `Some(true)` when the layer
/// cannot be mapped at all and must be skipped.
fn check_fields(ctx: &LayerContext<'_>, attrs: &Attributes, out: &mut PgtRead) -> Option<bool> {
    let has = |f: &str| attrs.0.contains_key(f);
    let path = ctx.dbf.display();
    let stem = &ctx.layer.stem;
    match ctx.kind {
        LayerKind::Servizi => {
            if !has("STATO") {
                out.avvisi.push(format!(
                    "{path}: il layer {stem} non ha il campo STATO (esistente/previsto): ignorato"
                ));
                return Some(true);
            }
        }
        LayerKind::Vincoli => {
            if !has("COD_VINC") && !has("NOME_VINC_PRINC") {
                out.avvisi.push(format!(
                    "{path}: il layer {stem} non ha i campi COD_VINC e NOME_VINC_PRINC: \
                     i vincoli prendono il nome del layer"
                ));
            }
        }
        kind => {
            let legenda = kind.legenda_fields();
            if !legenda.is_empty() && !legenda.iter().any(|f| has(f)) {
                out.avvisi.push(format!(
                    "{path}: il layer {stem} non ha il campo {}: zone senza legenda",
                    legenda.join(" / ")
                ));
            }
        }
    }
    if !has("NOME_COM") && ctx.layer.comune_istat.is_none() {
        out.avvisi.push(format!(
            "{path}: il layer {stem} non ha il campo NOME_COM e non sta nella cartella di un comune \
             (NNNNNN_Nome): comune non indicato"
        ));
    }
    None
}

fn comune_istat(ctx: &LayerContext<'_>, attrs: &Attributes) -> Option<String> {
    ctx.layer.comune_istat.clone().or_else(|| {
        let code = attrs.first_text(&["COD_ISTAT", "ISTAT", "ISTAT_COM", "COD_COM"])?;
        (code.len() <= 6 && !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{code:0>6}"))
    })
}

fn add_feature(
    ctx: &LayerContext<'_>,
    n: usize,
    attrs: &Attributes,
    geometry: MultiPolygon<f64>,
    out: &mut PgtRead,
) {
    let comune_istat = comune_istat(ctx, attrs);
    let comune_nome = attrs.text("NOME_COM");
    let fonte = ctx.layer.stem.clone();
    if ctx.kind == LayerKind::Vincoli {
        let codice = attrs.text("COD_VINC");
        let nome = attrs
            .text("NOME_VINC_PRINC")
            .or_else(|| codice.clone())
            .unwrap_or_else(|| fonte.clone());
        out.vincoli.push(Vincolo {
            comune_istat,
            comune_nome,
            codice,
            nome,
            fonte,
            geometry,
        });
        return;
    }
    let (classe, legenda) = match ctx.kind {
        LayerKind::Servizi => {
            let stato = attrs.text("STATO");
            let classe = match stato.as_deref().map(str::to_lowercase).as_deref() {
                Some("esistente" | "esistenti" | "e" | "es") => ClasseZona::ServiziEsistenti,
                Some("previsto" | "previsti" | "p" | "pr" | "progetto" | "di progetto") => {
                    ClasseZona::ServiziPrevisti
                }
                _ => {
                    out.avvisi.push(format!(
                        "{}: record n. {n}, campo STATO: valore {:?} non riconosciuto \
                         (attesi esistente/E o previsto/P): zona ignorata",
                        ctx.dbf.display(),
                        stato.unwrap_or_default()
                    ));
                    return;
                }
            };
            let legenda = match (attrs.text("TIPO_SERV"), attrs.text("DESCR")) {
                (Some(t), Some(d)) if t != d => Some(format!("{t} - {d}")),
                (Some(t), _) => Some(t),
                (None, d) => d,
            };
            (classe, legenda)
        }
        kind => {
            let legenda = attrs.first_text(kind.legenda_fields());
            let classe = match kind {
                LayerKind::AmbitiTrasformazione => ClasseZona::AmbitoTrasformazione,
                LayerKind::TessutoUrbanoConsolidato => {
                    let storico = legenda.as_deref().is_some_and(|l| {
                        let l = l.to_lowercase();
                        l.contains("antica formazione") || l.contains("centro storico")
                    });
                    if storico {
                        ClasseZona::NucleoAnticaFormazione
                    } else {
                        ClasseZona::TessutoUrbanoConsolidato
                    }
                }
                LayerKind::NucleiAnticaFormazione => ClasseZona::NucleoAnticaFormazione,
                LayerKind::AreeAgricole => ClasseZona::Agricolo,
                LayerKind::AreeNonTrasformazione => ClasseZona::NonSoggettoTrasformazione,
                LayerKind::AmbitiRigenerazione => ClasseZona::Rigenerazione,
                // Handled above.
                LayerKind::Servizi | LayerKind::Vincoli => return,
            };
            (classe, legenda)
        }
    };
    out.zone.push(ZonaPgt {
        comune_istat,
        comune_nome,
        classe,
        legenda,
        codice_destinazione: attrs.first_text(ctx.kind.destinazione_fields()),
        fonte,
        geometry,
    });
}

enum RingsOf {
    Polygon(Vec<Vec<Coord<f64>>>),
    Null,
    Other(&'static str),
}

fn polygon_rings(shape: &Shape) -> RingsOf {
    fn rings<P: shapefile::record::traits::HasXY>(
        rings: &[shapefile::PolygonRing<P>],
    ) -> Vec<Vec<Coord<f64>>> {
        rings
            .iter()
            .map(|r| {
                r.points()
                    .iter()
                    .map(|p| Coord { x: p.x(), y: p.y() })
                    .collect()
            })
            .collect()
    }
    match shape {
        Shape::Polygon(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::PolygonM(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::PolygonZ(p) => RingsOf::Polygon(rings(p.rings())),
        Shape::NullShape => RingsOf::Null,
        Shape::Point(_) | Shape::PointM(_) | Shape::PointZ(_) => RingsOf::Other("punto"),
        Shape::Polyline(_) | Shape::PolylineM(_) | Shape::PolylineZ(_) => RingsOf::Other("linea"),
        Shape::Multipoint(_) | Shape::MultipointM(_) | Shape::MultipointZ(_) => {
            RingsOf::Other("multipunto")
        }
        Shape::Multipatch(_) => RingsOf::Other("multipatch"),
    }
}

/// Twice the signed area of a ring (positive when counter-clockwise, y up).
fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            a.x * b.y - b.x * a.y
        })
        .sum()
}

/// Even-odd point-in-ring test.
fn ring_contains(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n.wrapping_sub(1);
    for i in 0..n {
        let (a, b) = (ring[i], ring[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Groups the rings of an ESRI polygon (outer rings clockwise, holes counter-clockwise, in any
/// order) into polygons, each hole going to the smallest outer ring that contains it, then
/// reprojects every vertex to lon/lat and checks it falls in Lombardy.
fn to_multipolygon(
    rings: Vec<Vec<Coord<f64>>>,
    to_lonlat: &ToLonLat,
) -> Result<MultiPolygon<f64>, String> {
    let rings: Vec<(Vec<Coord<f64>>, f64)> = rings
        .into_iter()
        .filter(|r| r.len() >= 3)
        .map(|r| {
            let a = signed_area2(&r);
            (r, a)
        })
        .filter(|(_, a)| *a != 0.0 && a.is_finite())
        .collect();
    let mut outers: Vec<(Vec<Coord<f64>>, f64, Vec<Vec<Coord<f64>>>)> = Vec::new();
    let mut holes = Vec::new();
    for (ring, area) in rings {
        if area < 0.0 {
            outers.push((ring, -area, Vec::new()));
        } else {
            holes.push((ring, area));
        }
    }
    if outers.is_empty() {
        // Wrongly oriented rings: take them all as outer rings.
        outers = holes
            .drain(..)
            .map(|(ring, area)| (ring, area, Vec::new()))
            .collect();
    }
    for (hole, area) in holes {
        let probe = hole[0];
        let container = outers
            .iter()
            .enumerate()
            .filter(|(_, (outer, outer_area, _))| {
                *outer_area >= area && ring_contains(outer, probe)
            })
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map(|(i, _)| i);
        match container {
            Some(i) => outers[i].2.push(hole),
            // A hole outside every outer ring: keep it as a polygon of its own.
            None => outers.push((hole, area, Vec::new())),
        }
    }
    let project = |ring: Vec<Coord<f64>>| -> Result<LineString<f64>, String> {
        ring.into_iter()
            .map(|c| {
                let (lon, lat) = to_lonlat
                    .convert(c.x, c.y)
                    .map_err(|e| format!("riproiezione in lon/lat impossibile: {e}"))?;
                if !lon.is_finite() || !lat.is_finite() {
                    return Err(format!(
                        "riproiezione in lon/lat impossibile per il punto ({}, {})",
                        c.x, c.y
                    ));
                }
                if let Some(hint) = crs::diagnose_outside_lombardy(lon, lat) {
                    return Err(format!(
                        "il vertice ({}, {}) in EPSG:{} diventa {hint}",
                        c.x,
                        c.y,
                        to_lonlat.epsg()
                    ));
                }
                Ok(Coord { x: lon, y: lat })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(LineString::new)
    };
    let mut polygons = Vec::with_capacity(outers.len());
    for (outer, _, inners) in outers {
        let exterior = project(outer)?;
        let interiors = inners
            .into_iter()
            .map(project)
            .collect::<Result<Vec<_>, String>>()?;
        // Model orientation (exterior counter-clockwise), not the ESRI one: geodesic areas
        // depend on it.
        polygons.push(Polygon::new(exterior, interiors).orient(Direction::Default));
    }
    Ok(MultiPolygon::new(polygons))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpg_labels() {
        for label in [
            "1252",
            "CP1252",
            "ANSI 1252",
            "ISO-8859-1",
            "windows-1252",
            "latin1",
        ] {
            assert_eq!(
                encoding_from_cpg(label),
                Some(encoding_rs::WINDOWS_1252),
                "{label}"
            );
        }
        for label in ["UTF-8", "utf8", "65001", "\u{feff}UTF-8\r\n"] {
            assert_eq!(
                encoding_from_cpg(label),
                Some(encoding_rs::UTF_8),
                "{label}"
            );
        }
        assert_eq!(encoding_from_cpg("1250"), Some(encoding_rs::WINDOWS_1250));
        assert_eq!(encoding_from_cpg("pippo"), None);
    }

    #[test]
    fn folder_prefix() {
        assert_eq!(istat_prefix("016077_Clusone").as_deref(), Some("016077"));
        assert_eq!(istat_prefix("016077").as_deref(), Some("016077"));
        assert_eq!(istat_prefix("0160770_X"), None);
        assert_eq!(istat_prefix("Clusone"), None);
    }

    #[test]
    fn holes_go_to_their_outer_ring_whatever_the_order() {
        let square = |x0: f64, y0: f64, s: f64, clockwise: bool| {
            let mut r = vec![
                Coord { x: x0, y: y0 },
                Coord { x: x0 + s, y: y0 },
                Coord {
                    x: x0 + s,
                    y: y0 + s,
                },
                Coord { x: x0, y: y0 + s },
                Coord { x: x0, y: y0 },
            ];
            if clockwise {
                r.reverse();
            }
            r
        };
        let to = ToLonLat::new(32632).expect("supported");
        // Hole of the second outer ring written first.
        let rings = vec![
            square(571_020.0, 5_080_020.0, 10.0, false),
            square(570_000.0, 5_080_000.0, 100.0, true),
            square(571_000.0, 5_080_000.0, 100.0, true),
        ];
        let mp = to_multipolygon(rings, &to).expect("valid");
        assert_eq!(mp.0.len(), 2);
        let with_hole: Vec<usize> = mp.0.iter().map(|p| p.interiors().len()).collect();
        assert_eq!(with_hole.iter().sum::<usize>(), 1);
        let owner =
            mp.0.iter()
                .find(|p| !p.interiors().is_empty())
                .expect("one polygon has the hole");
        let (lon, _) = to.convert(571_000.0, 5_080_000.0).expect("transform");
        assert!(owner.exterior().0.iter().any(|c| (c.x - lon).abs() < 1e-9));
    }
}
