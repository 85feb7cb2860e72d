//! Reader of PGT layers (Shapefile, GeoPackage, GeoJSON) through a field mapping.
//!
//! An `input.pgt` entry is a single file or a folder holding the layers of one or more comuni:
//! either directly, or one subfolder per comune named after its ISTAT code
//! (`016077_Clusone`), which gives the ISTAT code of its layers. Sources:
//!
//! - Shapefile (`.shp` with `.shx`, `.dbf`, the CRS in a `.prj` and, optionally, the DBF code
//!   page in a `.cpg`); the layer name is the file stem.
//! - GeoPackage (`.gpkg`): every feature table, named by its table name (or, failing a rule
//!   for it, by the file stem); the CRS from `gpkg_spatial_ref_sys`.
//! - GeoJSON (`.geojson`, `.json`): lon/lat as RFC 7946, or the CRS its `crs` member names;
//!   the layer name is the file stem (or its `name` member).
//!
//! The [`Mappatura`] says what each layer holds: its rules are matched against the layer name
//! and give the class of every feature (wholesale, or by the value of one field). The
//! regional schema is built in ([`Mappatura::regionale`]). Unknown layers, values no rule
//! maps, empty layers and fields a rule expects but the layer lacks are reported in
//! [`PgtRead::avvisi`]. Every vertex is reprojected to lon/lat and must fall in Lombardy.

mod geometry;
mod gpkg;
mod json;
pub mod mapping;
mod shp;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use thiserror::Error;

use crate::crs::CrsError;
use crate::model::{Vincolo, ZonaPgt};

pub use mapping::{Destinazione, Mappatura, MappaturaError, RegolaLayer};

/// What the PGT inputs held.
#[derive(Debug, Default)]
pub struct PgtRead {
    pub zone: Vec<ZonaPgt>,
    pub vincoli: Vec<Vincolo>,
    /// Non-fatal remarks (unmapped layers or values, empty layers, missing fields), in Italian.
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
    /// The declared CRS is not one abitare knows.
    #[error("{path}: sistema di riferimento non riconosciuto: {source}")]
    Crs {
        path: PathBuf,
        #[source]
        source: CrsError,
    },
    /// The `.dbf` cannot be read (header, or one record when `record` is given).
    #[error("{path}: {}file DBF illeggibile: {message}", record_label(*record))]
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
    /// A GeoPackage layer or one of its features cannot be read.
    #[error("{path}, layer {layer}: {message}")]
    Gpkg {
        path: PathBuf,
        layer: String,
        message: String,
    },
    #[error(transparent)]
    Mappatura(#[from] MappaturaError),
}

fn record_label(record: Option<usize>) -> String {
    match record {
        Some(n) => format!("record n. {n}: "),
        None => String::new(),
    }
}

/// Reads a PGT file or folder with the built-in regional mapping.
pub fn read_pgt_dir(path: &Path) -> Result<PgtRead, PgtError> {
    read_pgt(path, &Mappatura::regionale()?)
}

/// Reads a PGT file, or every layer in a folder and its immediate subfolders (one per comune),
/// with `mappatura`.
pub fn read_pgt(path: &Path, mappatura: &Mappatura) -> Result<PgtRead, PgtError> {
    let mut out = PgtRead::default();
    let sources = find_sources(path)?;
    if sources.is_empty() {
        out.avvisi.push(format!(
            "PGT {}: nessun layer PGT trovato (attesi file .shp, .gpkg, .geojson)",
            path.display()
        ));
    }
    for source in &sources {
        match source.format {
            Formato::Shapefile => shp::read(source, mappatura, &mut out)?,
            Formato::GeoPackage => gpkg::read(source, mappatura, &mut out)?,
            Formato::GeoJson => json::read(source, mappatura, &mut out)?,
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formato {
    Shapefile,
    GeoPackage,
    GeoJson,
}

impl Formato {
    fn of(path: &Path) -> Option<Formato> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "shp" => Some(Formato::Shapefile),
            "gpkg" => Some(Formato::GeoPackage),
            "geojson" | "json" => Some(Formato::GeoJson),
            _ => None,
        }
    }
}

/// A file found in the PGT inputs.
#[derive(Debug)]
struct Source {
    path: PathBuf,
    format: Formato,
    /// The file stem.
    stem: String,
    /// How avvisi name the file: its path below the input folder.
    label: String,
    /// ISTAT code from the name of the comune folder, when it has one.
    comune_istat: Option<String>,
    /// The other files of the folder, to find the companions whatever the case of their extension.
    siblings: Vec<PathBuf>,
}

impl Source {
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
            path: self.path.with_extension(ext),
            layer: self.stem.clone(),
        })
    }
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

fn folder_istat(dir: &Path) -> Option<String> {
    dir.file_name()
        .and_then(|n| n.to_str())
        .and_then(istat_prefix)
}

fn sources_in(
    files: &[PathBuf],
    comune_istat: Option<String>,
    label_prefix: &str,
) -> Result<Vec<Source>, PgtError> {
    let mut sources = Vec::new();
    for path in files {
        let Some(format) = Formato::of(path) else {
            continue;
        };
        let name_err = || PgtError::Invalid {
            path: path.clone(),
            message: "nome del file non valido (non UTF-8)".to_string(),
        };
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(name_err)?
            .to_string();
        let file_name = path
            .file_name()
            .and_then(|s| s.to_str())
            .ok_or_else(name_err)?;
        sources.push(Source {
            path: path.clone(),
            format,
            stem,
            label: format!("{label_prefix}{file_name}"),
            comune_istat: comune_istat.clone(),
            siblings: files.to_vec(),
        });
    }
    Ok(sources)
}

fn find_sources(path: &Path) -> Result<Vec<Source>, PgtError> {
    if !path.is_dir() {
        let parent = path.parent().unwrap_or(Path::new(""));
        let folder = parent
            .file_name()
            .and_then(|n| n.to_str())
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        if Formato::of(path).is_none() {
            return Err(PgtError::Invalid {
                path: path.to_path_buf(),
                message: "formato PGT non riconosciuto (attesi .shp, .gpkg, .geojson o .json)"
                    .to_string(),
            });
        }
        let siblings = if parent.as_os_str().is_empty() {
            list_dir(Path::new("."))?.0
        } else {
            list_dir(parent)?.0
        };
        let mut sources = sources_in(&[path.to_path_buf()], folder_istat(parent), &folder)?;
        for s in &mut sources {
            s.siblings = siblings.clone();
        }
        return Ok(sources);
    }
    let (files, dirs) = list_dir(path)?;
    let mut sources = sources_in(&files, folder_istat(path), "")?;
    for sub in dirs {
        let name = sub
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let (sub_files, _) = list_dir(&sub)?;
        sources.extend(sources_in(
            &sub_files,
            istat_prefix(&name),
            &format!("{name}/"),
        )?);
    }
    Ok(sources)
}

/// The encoding named by a `.cpg` or a mapping (`1252`, `UTF-8`, `CP1252`, `ANSI 1252`,
/// `ISO-8859-1`…).
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

fn read_bytes(path: &Path) -> Result<Vec<u8>, PgtError> {
    let mut bytes = Vec::new();
    open(path)?
        .read_to_end(&mut bytes)
        .map_err(|source| PgtError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes)
}

fn read_text(path: &Path) -> Result<String, PgtError> {
    // `.prj` and `.cpg` are ASCII in practice; decode leniently.
    Ok(String::from_utf8_lossy(&read_bytes(path)?).into_owned())
}

/// Longest field name a DBF can hold.
const DBF_NAME_LEN: usize = 10;

/// Integral numbers without decimals (`100`, not `100.0`): destination codes are stored as numbers.
fn number_text(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The attribute values of one feature, by upper-case field name, trimmed; empty values absent.
#[derive(Debug, Default)]
pub(crate) struct Attributes(HashMap<String, String>);

impl Attributes {
    pub(crate) fn insert(&mut self, field: &str, value: Option<String>) {
        if let Some(v) = value {
            let v = v.trim();
            if !v.is_empty() {
                self.0.insert(field.trim().to_uppercase(), v.to_string());
            }
        }
    }

    /// The value of a field. DBF field names hold at most 10 characters, so a longer schema
    /// name (`NOME_VINC_PRINC`) is also looked up truncated (`NOME_VINC_`).
    pub(crate) fn text(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .or_else(|| {
                field
                    .get(..DBF_NAME_LEN)
                    .and_then(|short| self.0.get(short))
            })
            .map(String::as_str)
    }

    fn first_text(&self, fields: &[String]) -> Option<String> {
        fields.iter().find_map(|f| self.text(f)).map(str::to_string)
    }

    /// The distinct non-empty values of `fields`, joined with " - ".
    fn joined(&self, fields: &[String]) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        for f in fields {
            if let Some(v) = self.text(f) {
                if !parts.contains(&v) {
                    parts.push(v);
                }
            }
        }
        (!parts.is_empty()).then(|| parts.join(" - "))
    }
}

/// The field names of a layer, upper case.
pub(crate) struct Schema(HashSet<String>);

impl Schema {
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Schema {
        Schema(names.into_iter().map(|n| n.trim().to_uppercase()).collect())
    }

    fn has(&self, field: &str) -> bool {
        self.0.contains(field)
            || field
                .get(..DBF_NAME_LEN)
                .is_some_and(|short| self.0.contains(short))
    }
}

/// Turns the features of one layer into zones and constraints, following its rule, and
/// collects what could not be mapped.
pub(crate) struct LayerSink<'a> {
    rule: &'a RegolaLayer,
    mappatura: &'a Mappatura,
    /// How avvisi name the layer (`016077_Clusone/AZZONAMENTO.shp`).
    label: String,
    /// The layer name stored in the model.
    fonte: String,
    comune_istat: Option<String>,
    /// The class field is missing: every feature takes the fallback class.
    no_class_field: bool,
    /// Normalised value → (value as first seen, record numbers).
    unmapped: BTreeMap<String, (String, Vec<usize>)>,
    null_records: Vec<usize>,
}

impl<'a> LayerSink<'a> {
    pub(crate) fn new(
        rule: &'a RegolaLayer,
        mappatura: &'a Mappatura,
        label: String,
        fonte: String,
        comune_istat: Option<String>,
    ) -> LayerSink<'a> {
        LayerSink {
            rule,
            mappatura,
            label,
            fonte,
            comune_istat,
            no_class_field: false,
            unmapped: BTreeMap::new(),
            null_records: Vec::new(),
        }
    }

    fn comune_fields(&self) -> &[String] {
        self.rule
            .comune
            .as_deref()
            .unwrap_or(&self.mappatura.comune)
    }

    fn istat_fields(&self) -> &[String] {
        self.rule.istat.as_deref().unwrap_or(&self.mappatura.istat)
    }

    /// Warns about fields the rule expects and the layer lacks. Returns `false` when the layer
    /// cannot be mapped at all and must be skipped.
    pub(crate) fn check_fields(&mut self, schema: &Schema, out: &mut PgtRead) -> bool {
        let rule = self.rule;
        let (label, fonte) = (&self.label, &self.fonte);
        if let Some(campo) = &rule.campo {
            if !schema.has(campo) {
                match &rule.classe {
                    None => {
                        out.avvisi.push(format!(
                            "PGT {label}: il layer {fonte} non ha il campo {campo} che indica la \
                             classe (mappatura {}): ignorato",
                            rule.origine
                        ));
                        return false;
                    }
                    Some(_) => {
                        self.no_class_field = true;
                        if !rule.legenda.contains(campo) {
                            out.avvisi.push(format!(
                                "PGT {label}: il layer {fonte} non ha il campo {campo}: \
                                 tutti gli elementi prendono la classe predefinita del layer"
                            ));
                        }
                    }
                }
            }
        }
        let vincolo = matches!(rule.classe, Some(Destinazione::Vincolo(_)));
        let vinc_fields: Vec<&String> = rule
            .codice_vincolo
            .iter()
            .chain(rule.nome_vincolo.iter().take(1))
            .collect();
        if vincolo && !vinc_fields.is_empty() && !vinc_fields.iter().any(|f| schema.has(f)) {
            let names: Vec<&str> = vinc_fields.iter().map(|s| s.as_str()).collect();
            out.avvisi.push(format!(
                "PGT {label}: il layer {fonte} non ha i campi {}: i vincoli prendono il nome del layer",
                names.join(" e ")
            ));
        }
        if !vincolo && !rule.legenda.is_empty() && !rule.legenda.iter().any(|f| schema.has(f)) {
            out.avvisi.push(format!(
                "PGT {label}: il layer {fonte} non ha il campo {}: zone senza legenda",
                rule.legenda.join(" / ")
            ));
        }
        let comune = self.comune_fields();
        if self.comune_istat.is_none()
            && !comune.iter().any(|f| schema.has(f))
            && !self.istat_fields().iter().any(|f| schema.has(f))
        {
            let campo = if comune.is_empty() {
                "del comune".to_string()
            } else {
                comune.join(" / ")
            };
            out.avvisi.push(format!(
                "PGT {label}: il layer {fonte} non ha il campo {campo} e non sta nella cartella di \
                 un comune (NNNNNN_Nome): comune non indicato"
            ));
        }
        true
    }

    pub(crate) fn null(&mut self, n: usize) {
        self.null_records.push(n);
    }

    pub(crate) fn add(
        &mut self,
        n: usize,
        attrs: &Attributes,
        geometry: MultiPolygon<f64>,
        out: &mut PgtRead,
    ) {
        let rule = self.rule;
        let destinazione = match (&rule.campo, self.no_class_field) {
            (Some(campo), false) => {
                let value = attrs.text(campo);
                match rule.classify(value) {
                    Some(d) => d,
                    None => {
                        let original = value.unwrap_or("").to_string();
                        self.unmapped
                            .entry(mapping::normalize(&original))
                            .or_insert_with(|| (original, Vec::new()))
                            .1
                            .push(n);
                        return;
                    }
                }
            }
            _ => match &rule.classe {
                Some(d) => d.clone(),
                None => return,
            },
        };
        let comune_istat = self.comune_istat.clone().or_else(|| {
            let code = attrs.first_text(self.istat_fields())?;
            (code.len() <= 6 && !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
                .then(|| format!("{code:0>6}"))
        });
        let comune_nome = attrs.first_text(self.comune_fields());
        let fonte = self.fonte.clone();
        match destinazione {
            Destinazione::Vincolo(kind) => {
                let codice = kind.or_else(|| attrs.first_text(&rule.codice_vincolo));
                let nome = attrs
                    .first_text(&rule.nome_vincolo)
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
            }
            Destinazione::Zona(classe) => {
                let legenda = if rule.legenda_unisci {
                    attrs.joined(&rule.legenda)
                } else {
                    attrs.first_text(&rule.legenda)
                };
                out.zone.push(ZonaPgt {
                    comune_istat,
                    comune_nome,
                    classe,
                    legenda,
                    codice_destinazione: attrs.first_text(&rule.destinazione),
                    fonte,
                    geometry,
                });
            }
        }
    }

    pub(crate) fn finish(self, out: &mut PgtRead) {
        let label = &self.label;
        if let Some(campo) = &self.rule.campo {
            for (value, records) in self.unmapped.values() {
                let what = if value.is_empty() {
                    format!("valore vuoto del campo {campo}")
                } else {
                    format!("valore «{value}» del campo {campo}")
                };
                out.avvisi.push(format!(
                    "PGT {label}: {what} non mappato ({}): {}; elementi ignorati",
                    elementi(records.len()),
                    record_list(records)
                ));
            }
        }
        if !self.null_records.is_empty() {
            out.avvisi.push(format!(
                "PGT {label}: {} geometrie nulle o vuote ignorate ({})",
                self.null_records.len(),
                record_list(&self.null_records)
            ));
        }
    }
}

fn elementi(n: usize) -> String {
    if n == 1 {
        "1 elemento".to_string()
    } else {
        format!("{n} elementi")
    }
}

/// `record n. 1, 4, 9, …` (the first ten).
fn record_list(records: &[usize]) -> String {
    let shown: Vec<String> = records.iter().take(10).map(|n| n.to_string()).collect();
    let more = if records.len() > 10 { ", …" } else { "" };
    format!("record n. {}{more}", shown.join(", "))
}

/// The avviso for a layer no rule maps.
pub(crate) fn unknown_layer(label: &str, name: &str, mappatura: &Mappatura) -> String {
    format!(
        "PGT {label}: layer {name} non riconosciuto dalla {}: ignorato",
        if mappatura.origine.starts_with("mappatura") {
            mappatura.origine.clone()
        } else {
            format!("mappatura {}", mappatura.origine)
        }
    )
}

fn empty_layer(label: &str, name: &str) -> String {
    format!("PGT {label}: il layer {name} è vuoto (0 record)")
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
}
