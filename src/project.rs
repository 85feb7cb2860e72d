//! The project file (`abitare.toml`): which Ambito, which comuni, which input files.
//!
//! Relative paths are resolved against the directory of the project file.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::AmbitoInfo;

#[derive(Debug, Error)]
pub enum ProjectError {
    #[error("{path}: impossibile leggere il file di progetto: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: file di progetto non valido: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{project}: il file di input {field} = {file} non esiste")]
    MissingInput {
        project: PathBuf,
        field: String,
        file: PathBuf,
    },
}

/// `[ambito]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmbitoSection {
    pub numero: Option<u32>,
    pub nome: String,
    pub capofila: Option<String>,
    /// Year of the annual plan.
    pub anno: i32,
    /// Date at which months-empty are measured (TOML date or ISO string). Defaults to
    /// 1 January of `anno`.
    #[serde(default, deserialize_with = "de_date")]
    pub data_riferimento: Option<NaiveDate>,
    /// Marks generated demonstration data (shown in the UI and reports).
    #[serde(default)]
    pub dimostrativo: bool,
}

/// Accepts a TOML local date (`2025-10-27`) or a string holding one.
fn de_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Toml(dt) => dt.to_string(),
        Raw::Text(s) => s,
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            serde::de::Error::custom(format!("data non valida {text:?} (attesa AAAA-MM-GG)"))
        })
}

/// One `[[comuni]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComuneEntry {
    pub istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sub_ambito: Option<String>,
    pub popolazione: u32,
}

/// `[input]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSection {
    /// Comune boundaries: GeoJSON with ISTAT/openpolis properties (`com_istat_code`, `name`).
    pub confini: Option<PathBuf>,
    /// Cadastral GML as downloaded: `*_ple.gml` / `*_map.gml` files, a WFS answer, a ZIP of
    /// them, the Agenzia's province ZIP of per-comune ZIPs, or folders holding any of these.
    #[serde(default)]
    pub catasto: Vec<PathBuf>,
    /// PGT layers: Shapefile, GeoPackage or GeoJSON files, or folders of them (one subfolder
    /// per comune is usual), read through the mapping of `pgt_mappatura`.
    #[serde(default)]
    pub pgt: Vec<PathBuf>,
    /// The public-housing inventory (canonical CSV, FORMATS.md §4).
    pub inventario: Option<PathBuf>,
    /// CXF sheets (files or folders) with the CRS their coordinates are in.
    #[serde(default)]
    pub cxf: Vec<CxfInput>,
    /// Mapping of PGT source layers/fields/values to abitare zone classes (TOML); the
    /// regional schema is the default.
    pub pgt_mappatura: Option<PathBuf>,
    /// Any GDAL/OGR source (needs the `gdal` feature).
    #[serde(default)]
    pub gdal: Vec<GdalInput>,
    /// Private units offered to the housing desk (CSV/XLSX, FORMATS.md §5).
    pub alloggi_privati: Option<PathBuf>,
    /// Area estimates of non-occupied private dwellings (polygons with counts, e.g. census tracts).
    pub stime_non_occupate: Option<PathBuf>,
    /// Rules for the candidate social-housing standard areas (TOML); they extend the built-in
    /// `data/regole_aree_candidate.toml`, or replace it with `modo = "sostituisci"`.
    pub regole_candidate: Option<PathBuf>,
    /// Public property other than housing (offices, schools, depots) by cadastral reference,
    /// with its state of use (CSV/XLSX): a source of candidate areas when dismissed or underused.
    pub altra_proprieta_pubblica: Option<PathBuf>,
    /// Existing services as points (GeoJSON points with `tipo`, or CSV/XLSX with `tipo`, `lon`,
    /// `lat`): schools, health, shops, stops, scored by distance in the candidate screening.
    pub servizi_puntuali: Option<PathBuf>,
}

/// A CXF input: `{ percorso = "cxf/", crs = "EPSG:3003" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CxfInput {
    pub percorso: PathBuf,
    /// CRS of the coordinates (CXF files do not declare it).
    pub crs: String,
}

/// A GDAL/OGR input: `{ sorgente = "tavola.dxf", layer = "ZONE", crs = "EPSG:3003" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GdalInput {
    /// A file path or a GDAL connection string (`PG:dbname=…`).
    pub sorgente: String,
    /// Layer name; all layers when omitted.
    pub layer: Option<String>,
    /// CRS to assume when the source declares none.
    pub crs: Option<String>,
}

/// `[server]` table: limits of `abitare serve` (times in seconds). An absent key keeps the
/// built-in default; a command-line flag or environment variable overrides the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Time to receive a request's headers, from the connection or the previous response.
    pub timeout_intestazioni_s: Option<u64>,
    /// Time a connection may stay idle between requests.
    pub keep_alive_s: Option<u64>,
    /// Time to answer a request once its headers are in.
    pub timeout_richiesta_s: Option<u64>,
    /// Time a request body may stall between two chunks.
    pub timeout_corpo_s: Option<u64>,
    /// Largest request body, in bytes.
    pub corpo_max_byte: Option<usize>,
    /// Connections served at once.
    pub connessioni_max: Option<usize>,
    /// Time given to requests in flight at shutdown.
    pub chiusura_s: Option<u64>,
}

/// `[mappa]` table: how the web map looks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappaSection {
    /// A background under the layers. Absent by default: the map then needs no network.
    pub sfondo: Option<Sfondo>,
}

/// A raster background: `{ tipo = "xyz", url = "https://…/{z}/{x}/{y}.png", attribuzione =
/// "…" }`, or a WMS GetMap URL with `{bbox-epsg-3857}` where the box goes (`tipo = "wms"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sfondo {
    pub tipo: TipoSfondo,
    /// URL template of the images, `http://` or `https://`.
    pub url: String,
    /// Who the images belong to, shown in the map's attribution.
    pub attribuzione: String,
    /// Side of the images in pixels (default 256).
    pub dimensione: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TipoSfondo {
    /// Tiles addressed by `{z}/{x}/{y}`.
    Xyz,
    /// WMS GetMap in EPSG:3857, the box written where the URL has `{bbox-epsg-3857}`.
    Wms,
}

impl Sfondo {
    /// The scheme, host and port of the images (what the page's security policy allows).
    pub fn origin(&self) -> &str {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .unwrap_or("");
        let host_len = rest.find('/').unwrap_or(rest.len());
        &self.url[..self.url.len() - rest.len() + host_len]
    }

    /// Side of the images in pixels.
    pub fn dimensione(&self) -> u16 {
        self.dimensione.unwrap_or(256)
    }

    /// Checks the URL and attribution; the message names the key and says what is expected.
    pub fn check(&self) -> Result<(), String> {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .ok_or_else(|| {
                format!(
                    "mappa.sfondo.url = {:?}: serve un indirizzo http:// o https://",
                    self.url
                )
            })?;
        let host = rest.split('/').next().unwrap_or("");
        let host_ok = !host.is_empty()
            && host.len() <= 255
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(format!(
                "mappa.sfondo.url = {:?}: nome dell'host {host:?} non valido",
                self.url
            ));
        }
        if !self.url.bytes().all(|b| b.is_ascii_graphic()) || self.url.contains(['"', '\\', '#']) {
            return Err(format!(
                "mappa.sfondo.url = {:?}: l'indirizzo contiene spazi, virgolette o caratteri non ASCII",
                self.url
            ));
        }
        let needed: &[&str] = match self.tipo {
            TipoSfondo::Xyz => &["{z}", "{x}", "{y}"],
            TipoSfondo::Wms => &["{bbox-epsg-3857}"],
        };
        if let Some(missing) = needed.iter().find(|p| !self.url.contains(**p)) {
            return Err(format!(
                "mappa.sfondo.url = {:?}: manca {missing} (per tipo = \"{}\" servono {})",
                self.url,
                match self.tipo {
                    TipoSfondo::Xyz => "xyz",
                    TipoSfondo::Wms => "wms",
                },
                needed.join(", ")
            ));
        }
        if self.attribuzione.trim().is_empty() {
            return Err(
                "mappa.sfondo.attribuzione: indicare a chi appartengono le immagini (es. \"© OpenStreetMap\")"
                    .into(),
            );
        }
        if !(64..=1024).contains(&self.dimensione()) {
            return Err(format!(
                "mappa.sfondo.dimensione = {}: atteso un lato tra 64 e 1024 pixel",
                self.dimensione()
            ));
        }
        Ok(())
    }
}

/// The whole project file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub ambito: AmbitoSection,
    #[serde(default)]
    pub comuni: Vec<ComuneEntry>,
    #[serde(default)]
    pub input: InputSection,
    /// Where `abitare build` writes the workspace (default `workspace`).
    pub workspace: Option<PathBuf>,
    /// Limits of `abitare serve`.
    #[serde(default)]
    pub server: ServerSection,
    /// The web map's background.
    #[serde(default)]
    pub mappa: MappaSection,
    /// Directory of the project file; not part of the TOML.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

impl Project {
    /// Reads and checks a project file. Every input it names must exist.
    pub fn load(path: &Path) -> Result<Project, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProjectError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut p = Project::parse(&text, path)?;
        p.check_inputs()?;
        Ok(p)
    }

    /// Parses project text; `path` is used for messages and to resolve relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Project, ProjectError> {
        let mut p: Project = toml::from_str(text).map_err(|e| ProjectError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        p.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        p.path = path.to_path_buf();
        if let Some(sfondo) = &p.mappa.sfondo {
            sfondo.check().map_err(|message| ProjectError::Invalid {
                path: path.to_path_buf(),
                message,
            })?;
        }
        for c in &p.comuni {
            if c.istat.len() != 6 || !c.istat.chars().all(|ch| ch.is_ascii_digit()) {
                return Err(ProjectError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "comune {:?}: codice ISTAT {:?} non valido (servono 6 cifre)",
                        c.nome, c.istat
                    ),
                });
            }
            if c.belfiore.len() != 4 {
                return Err(ProjectError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "comune {:?}: codice catastale {:?} non valido (servono 4 caratteri)",
                        c.nome, c.belfiore
                    ),
                });
            }
        }
        Ok(p)
    }

    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The workspace directory, resolved.
    pub fn workspace_dir(&self) -> PathBuf {
        self.resolve(
            self.workspace
                .as_deref()
                .unwrap_or_else(|| Path::new("workspace")),
        )
    }

    fn check_inputs(&mut self) -> Result<(), ProjectError> {
        let mut named: Vec<(String, PathBuf)> = Vec::new();
        if let Some(c) = &self.input.confini {
            named.push(("input.confini".into(), c.clone()));
        }
        for c in &self.input.catasto {
            named.push(("input.catasto".into(), c.clone()));
        }
        for c in &self.input.pgt {
            named.push(("input.pgt".into(), c.clone()));
        }
        if let Some(c) = &self.input.inventario {
            named.push(("input.inventario".into(), c.clone()));
        }
        for c in &self.input.cxf {
            named.push(("input.cxf".into(), c.percorso.clone()));
        }
        if let Some(c) = &self.input.alloggi_privati {
            named.push(("input.alloggi_privati".into(), c.clone()));
        }
        if let Some(c) = &self.input.stime_non_occupate {
            named.push(("input.stime_non_occupate".into(), c.clone()));
        }
        if let Some(c) = &self.input.pgt_mappatura {
            named.push(("input.pgt_mappatura".into(), c.clone()));
        }
        if let Some(c) = &self.input.regole_candidate {
            named.push(("input.regole_candidate".into(), c.clone()));
        }
        for (field, file) in named {
            let resolved = self.resolve(&file);
            if !resolved.exists() {
                return Err(ProjectError::MissingInput {
                    project: self.path.clone(),
                    field,
                    file: resolved,
                });
            }
        }
        Ok(())
    }

    pub fn ambito_info(&self) -> AmbitoInfo {
        AmbitoInfo {
            numero: self.ambito.numero,
            nome: self.ambito.nome.clone(),
            capofila: self.ambito.capofila.clone(),
            anno: self.ambito.anno,
            data_riferimento: self.ambito.data_riferimento.unwrap_or_else(|| {
                NaiveDate::from_ymd_opt(self.ambito.anno, 1, 1).unwrap_or_default()
            }),
            dimostrativo: self.ambito.dimostrativo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[ambito]
nome = "Prova"
anno = 2026
data_riferimento = 2025-10-27

[[comuni]]
istat = "016077"
belfiore = "C800"
nome = "Clusone"
popolazione = 8600
"#;

    #[test]
    fn server_table_is_optional_and_checked() {
        let p = Project::parse(MINIMAL, Path::new("p.toml")).expect("valid");
        assert_eq!(p.server, ServerSection::default());
        let with =
            format!("{MINIMAL}\n[server]\ntimeout_intestazioni_s = 5\nconnessioni_max = 64\n");
        let p = Project::parse(&with, Path::new("p.toml")).expect("with [server]");
        assert_eq!(p.server.timeout_intestazioni_s, Some(5));
        assert_eq!(p.server.connessioni_max, Some(64));
        assert_eq!(p.server.keep_alive_s, None);
        let typo = format!("{MINIMAL}\n[server]\nconnessioni = 64\n");
        assert!(Project::parse(&typo, Path::new("p.toml")).is_err());
    }

    #[test]
    fn map_background_is_optional_and_checked() {
        let p = Project::parse(MINIMAL, Path::new("p.toml")).expect("valid");
        assert_eq!(p.mappa.sfondo, None);
        let xyz = format!(
            "{MINIMAL}\n[mappa.sfondo]\ntipo = \"xyz\"\nurl = \"https://tiles.example.org:8443/osm/{{z}}/{{x}}/{{y}}.png\"\nattribuzione = \"© OpenStreetMap\"\n"
        );
        let p = Project::parse(&xyz, Path::new("p.toml")).expect("xyz background");
        let s = p.mappa.sfondo.expect("sfondo");
        assert_eq!(s.tipo, TipoSfondo::Xyz);
        assert_eq!(s.origin(), "https://tiles.example.org:8443");
        assert_eq!(s.dimensione(), 256);
        let wms = xyz.replace("\"xyz\"", "\"wms\"").replace(
            "/osm/{z}/{x}/{y}.png",
            "/wms?SERVICE=WMS&REQUEST=GetMap&BBOX={bbox-epsg-3857}",
        );
        let p = Project::parse(&wms, Path::new("p.toml")).expect("wms background");
        assert_eq!(p.mappa.sfondo.map(|s| s.tipo), Some(TipoSfondo::Wms));
        for (bad, names) in [
            (xyz.replace("{y}", "y"), "manca {y}"),
            (xyz.replace("https://", "ftp://"), "http://"),
            (
                xyz.replace("tiles.example.org", "evil' 'unsafe-inline"),
                "host",
            ),
            (
                xyz.replace("© OpenStreetMap", " "),
                "mappa.sfondo.attribuzione",
            ),
            (
                wms.replace("{bbox-epsg-3857}", "0,0,1,1"),
                "{bbox-epsg-3857}",
            ),
        ] {
            let e = Project::parse(&bad, Path::new("p.toml")).expect_err(names);
            assert!(e.to_string().contains(names), "{e}");
        }
    }

    #[test]
    fn parses_minimal_project() {
        let p = Project::parse(MINIMAL, Path::new("/tmp/x/abitare.toml")).expect("valid");
        assert_eq!(p.comuni.len(), 1);
        assert_eq!(p.workspace_dir(), PathBuf::from("/tmp/x/workspace"));
        assert_eq!(
            p.ambito_info().data_riferimento,
            NaiveDate::from_ymd_opt(2025, 10, 27).expect("date")
        );
        let quoted = MINIMAL.replace("2025-10-27", "\"2025-10-27\"");
        let p = Project::parse(&quoted, Path::new("p.toml")).expect("quoted date");
        assert_eq!(
            p.ambito.data_riferimento,
            NaiveDate::from_ymd_opt(2025, 10, 27)
        );
        let none = MINIMAL.replace("data_riferimento = 2025-10-27\n", "");
        let p = Project::parse(&none, Path::new("p.toml")).expect("no date");
        assert_eq!(
            p.ambito_info().data_riferimento,
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
        );
        let bad = MINIMAL.replace("2025-10-27", "\"27/10/2025\"");
        let e = Project::parse(&bad, Path::new("p.toml")).expect_err("bad date");
        assert!(e.to_string().contains("27/10/2025"), "{e}");
    }

    #[test]
    fn unknown_field_and_bad_code_are_errors() {
        let bad = MINIMAL.replace("anno = 2026", "anno = 2026\nanni = 3");
        let e = Project::parse(&bad, Path::new("p.toml")).expect_err("unknown field");
        assert!(e.to_string().contains("anni"), "{e}");
        let bad = MINIMAL.replace("016077", "16077");
        let e = Project::parse(&bad, Path::new("p.toml")).expect_err("bad istat");
        assert!(e.to_string().contains("16077"), "{e}");
    }

    #[test]
    fn missing_input_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("abitare.toml");
        let text = format!("{MINIMAL}\n[input]\ninventario = \"manca.csv\"\n");
        std::fs::write(&path, text).expect("write");
        let e = Project::load(&path).expect_err("missing");
        let msg = e.to_string();
        assert!(
            msg.contains("manca.csv") && msg.contains("input.inventario"),
            "{msg}"
        );
    }
}
