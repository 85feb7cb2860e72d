//! Reader of the cadastral CXF sheet (FORMATS.md §2): the text export of one foglio that
//! comuni receive from the Agenzia's SISTER portal.
//!
//! The file holds one value per line (CRLF or LF, values padded with spaces):
//!
//! ```text
//! MAPPA                 header: MAPPA, MAPPA FONDIARIO or QUADRO D'UNIONE
//! H501D076700           sheet code (11 characters, same as the file name)
//!     4000.000          original scale
//! BORDO                 a polygon: code, size, angle, label x, label y, interior point x,
//!                       interior point y, number of islands, number of vertices, the vertex
//!                       count of each island, then x/y pairs (outer ring first, then islands)
//! TESTO                 text, size, angle, x, y
//! SIMBOLO               symbol code, angle, x, y
//! FIDUCIALE             number, symbol code, x, y, drawing x, drawing y
//! LINEA                 line type, number of vertices, x/y pairs
//! EOF
//! ```
//!
//! Object keywords may end with a backslash (`LINEA\`, `TESTO\`), read as the same object.
//! "Islands" are the rings beyond the outer one (holes); their vertex counts are part of the
//! total. BORDO codes are classified as [`Classe`]: 11 characters is the sheet boundary,
//! `STRADA…`/`ACQUA…` roads and water, a code ending in `+` a building on the particella the
//! code names, anything else a particella.
//!
//! Coordinates are projected metres in a system the file does not declare: the caller says
//! which ([`read_cxf`] with `Some(epsg)`), or passes `None` to keep the raw coordinates.
//! Files that cannot be trusted (truncated, non-numeric values, vertex counts that do not add
//! up, unknown objects) are rejected with one Italian message naming the file and the line;
//! degenerate polygons are skipped with an avviso.

use std::fmt;
use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use thiserror::Error;

use crate::crs::{CrsError, ToLonLat};
use crate::model::cadref::SheetRef;
use crate::model::{Fabbricato, Foglio, Particella};

/// The header lines (first line of the file) a CXF may start with.
pub const HEADERS: [&str; 3] = ["MAPPA", "MAPPA FONDIARIO", "QUADRO D'UNIONE"];

/// The object keywords of a CXF.
const KEYWORDS: [&str; 6] = ["BORDO", "TESTO", "SIMBOLO", "FIDUCIALE", "LINEA", "EOF"];

#[derive(Debug, Error)]
pub enum CxfError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file breaks the format; `riga` is 1-based.
    #[error("{source_name}, riga {riga}: {message}")]
    Invalid {
        source_name: String,
        riga: usize,
        message: String,
    },
    /// A coordinate could not be converted from the declared CRS.
    #[error("{source_name}, riga {riga}: {source}")]
    Crs {
        source_name: String,
        riga: usize,
        #[source]
        source: CrsError,
    },
    #[error("{path}: nessun file CXF trovato (attesi file *.cxf / *.CXF)")]
    NoFiles { path: PathBuf },
}

impl CxfError {
    /// The message without the file name (for callers that name the file themselves).
    pub fn detail(&self) -> String {
        match self {
            CxfError::Io { source, .. } => source.to_string(),
            CxfError::Invalid { riga, message, .. } => format!("riga {riga}: {message}"),
            CxfError::Crs { riga, source, .. } => format!("riga {riga}: {source}"),
            CxfError::NoFiles { .. } => {
                "nessun file CXF trovato (attesi file *.cxf / *.CXF)".to_string()
            }
        }
    }
}

/// What a BORDO stands for, from its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Classe {
    /// The sheet boundary (code of 11 characters).
    Foglio,
    /// A land parcel.
    Particella,
    /// Roads and water (`STRADA…`, `ACQUA…`): parcels without a number.
    StradaAcqua,
    /// A building (code ending in `+`) on the particella the code names.
    Fabbricato,
}

impl Classe {
    pub fn of(codice: &str) -> Classe {
        let c = codice.trim();
        if c.chars().count() == 11 {
            Classe::Foglio
        } else if c.ends_with('+') {
            Classe::Fabbricato
        } else {
            let upper = c.to_ascii_uppercase();
            if upper.starts_with("STRADA") || upper.starts_with("ACQUA") {
                Classe::StradaAcqua
            } else {
                Classe::Particella
            }
        }
    }
}

/// One BORDO object as written in the file (raw coordinates).
#[derive(Debug, Clone, PartialEq)]
pub struct Bordo {
    pub codice: String,
    /// Line of the `BORDO` keyword (1-based).
    pub riga: usize,
    pub dimensione: f64,
    pub angolo: f64,
    /// Where the label is drawn.
    pub etichetta: (f64, f64),
    /// The interior point the file declares. Not always inside the polygon: in the Rome
    /// sample sheet it never is, so readers should not rely on it.
    pub punto_interno: (f64, f64),
    /// Outer ring first, then the islands (holes), each as written (usually closed).
    pub anelli: Vec<Vec<(f64, f64)>>,
}

impl Bordo {
    pub fn classe(&self) -> Classe {
        Classe::of(&self.codice)
    }
}

/// A CXF file as written: header, BORDO objects, and how many other objects it held.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CxfRaw {
    pub source: String,
    /// First line (`MAPPA`, `MAPPA FONDIARIO`, `QUADRO D'UNIONE`).
    pub intestazione: String,
    /// Second line, the 11-character sheet code.
    pub codice_foglio: String,
    /// Third line, the original scale denominator.
    pub scala: f64,
    pub bordi: Vec<Bordo>,
    pub testi: usize,
    pub simboli: usize,
    pub fiduciali: usize,
    pub linee: usize,
    /// Non-fatal remarks, in Italian.
    pub avvisi: Vec<String>,
}

/// The features of one CXF sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct CxfSheet {
    pub source: String,
    pub foglio_ref: SheetRef,
    pub scala: Option<u32>,
    /// EPSG code the coordinates were converted from; `None` when they were kept raw
    /// (then the geometries are in the file's projected metres, not lon/lat).
    pub crs: Option<u16>,
    /// The sheet boundary (normally one).
    pub fogli: Vec<Foglio>,
    /// Numbered (or lettered) parcels.
    pub particelle: Vec<Particella>,
    /// Roads and water, as parcels labelled `STRADA…`/`ACQUA…` (as the GML has them).
    pub strade_acque: Vec<Particella>,
    pub fabbricati: Vec<Fabbricato>,
    /// Islands (holes) kept in the geometries.
    pub isole: usize,
    /// Non-fatal remarks (objects skipped and why), in Italian.
    pub avvisi: Vec<String>,
}

/// Every `.cxf` file under `path` (or `path` itself), sorted.
pub fn cxf_files(path: &Path) -> Result<Vec<PathBuf>, CxfError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| CxfError::Io { path: p, source }
    };
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let p = entry.map_err(io(&dir))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cxf")) {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(CxfError::NoFiles {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Reads a CXF sheet. With `crs = Some(epsg)` coordinates are converted to lon/lat (the
/// model's invariant); with `None` they are kept as written (projected metres).
pub fn read_cxf(path: &Path, crs: Option<u16>) -> Result<CxfSheet, CxfError> {
    let bytes = std::fs::read(path).map_err(|source| CxfError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = decode(&bytes);
    let source = path.display().to_string();
    let stem = path.file_stem().and_then(|s| s.to_str());
    let raw = parse_cxf(&text, &source)?;
    build_sheet(raw, stem, crs)
}

/// UTF-8 when valid, else Windows-1252 (the Agenzia's files are ASCII in practice).
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// The object being read, for messages.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    keyword: &'a str,
    codice: Option<&'a str>,
    riga: usize,
}

impl fmt::Display for Ctx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.codice {
            Some(c) => write!(
                f,
                "oggetto {} \"{}\" (iniziato alla riga {})",
                self.keyword, c, self.riga
            ),
            None => write!(
                f,
                "oggetto {} (iniziato alla riga {})",
                self.keyword, self.riga
            ),
        }
    }
}

struct Lines<'a> {
    source: &'a str,
    lines: Vec<&'a str>,
    /// Index of the next line to read (0-based); its line number is `pos + 1`.
    pos: usize,
}

fn keyword_of(line: &str) -> Option<&'static str> {
    let k = line.trim().trim_end_matches('\\').trim_end();
    KEYWORDS.iter().copied().find(|w| w.eq_ignore_ascii_case(k))
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, source: &'a str) -> Lines<'a> {
        let mut lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        Lines {
            source,
            lines,
            pos: 0,
        }
    }

    fn error(&self, riga: usize, message: String) -> CxfError {
        CxfError::Invalid {
            source_name: self.source.to_string(),
            riga,
            message,
        }
    }

    fn remaining(&self) -> usize {
        self.lines.len() - self.pos
    }

    /// The next line of an object; the end of the file here means a truncated file.
    fn value(&mut self, field: &str, ctx: Ctx<'_>) -> Result<(usize, &'a str), CxfError> {
        match self.lines.get(self.pos) {
            Some(l) => {
                self.pos += 1;
                Ok((self.pos, l))
            }
            None => Err(self.error(
                self.lines.len().max(1),
                format!(
                    "file troncato: finisce dentro l'{ctx} (manca il campo {field}); \
                     scaricamento o copia incompleta?"
                ),
            )),
        }
    }

    /// A number; a keyword found here means the counts declared before are wrong.
    fn number(&mut self, field: &str, ctx: Ctx<'_>) -> Result<f64, CxfError> {
        let (riga, line) = self.value(field, ctx)?;
        let t = line.trim();
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => {
                let message = if let Some(k) = keyword_of(t) {
                    format!(
                        "atteso il campo numerico {field} dell'{ctx}, trovato l'inizio di un \
                         nuovo oggetto {k}: il numero di vertici o di isole dichiarato è \
                         maggiore di quelli presenti"
                    )
                } else {
                    format!("valore non numerico \"{t}\" nel campo {field} dell'{ctx}")
                };
                Err(self.error(riga, message))
            }
        }
    }

    fn count(&mut self, field: &str, ctx: Ctx<'_>) -> Result<usize, CxfError> {
        let riga = self.pos + 1;
        let v = self.number(field, ctx)?;
        if v < 0.0 || v.fract() != 0.0 || v > u32::MAX as f64 {
            return Err(self.error(
                riga,
                format!(
                    "il campo {field} dell'{ctx} deve essere un intero non negativo, trovato {v}"
                ),
            ));
        }
        Ok(v as usize)
    }

    fn points(&mut self, n: usize, ctx: Ctx<'_>) -> Result<Vec<(f64, f64)>, CxfError> {
        let mut out = Vec::with_capacity(n.min(self.remaining() / 2 + 1));
        for i in 1..=n {
            let x = self.number(&format!("x del vertice {i} di {n}"), ctx)?;
            let y = self.number(&format!("y del vertice {i} di {n}"), ctx)?;
            out.push((x, y));
        }
        Ok(out)
    }
}

/// Parses CXF text; `source` names the file in messages. Coordinates stay as written.
pub fn parse_cxf(text: &str, source: &str) -> Result<CxfRaw, CxfError> {
    let mut lines = Lines::new(text, source);
    let header = Ctx {
        keyword: "intestazione",
        codice: None,
        riga: 1,
    };
    let (_, first) = lines
        .value("MAPPA", header)
        .map_err(|_| lines.error(1, "file vuoto: atteso un foglio CXF (MAPPA)".to_string()))?;
    let intestazione = first.trim().to_string();
    if !HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&intestazione))
    {
        return Err(lines.error(
            1,
            format!(
                "intestazione \"{}\" non riconosciuta: un file CXF inizia con MAPPA, \
                 MAPPA FONDIARIO o QUADRO D'UNIONE",
                intestazione.chars().take(40).collect::<String>()
            ),
        ));
    }
    let (_, code) = lines.value("codice del foglio", header)?;
    let scala = lines.number("scala", header)?;
    let mut raw = CxfRaw {
        source: source.to_string(),
        intestazione,
        codice_foglio: code.trim().to_string(),
        scala,
        ..CxfRaw::default()
    };
    let mut previous: Option<(String, usize)> = None;
    loop {
        let Some(line) = lines.lines.get(lines.pos).copied() else {
            return Err(lines.error(
                lines.lines.len(),
                "file troncato: manca il record EOF finale (scaricamento o copia incompleta?)"
                    .to_string(),
            ));
        };
        lines.pos += 1;
        let riga = lines.pos;
        if line.trim().is_empty() {
            continue;
        }
        let Some(keyword) = keyword_of(line) else {
            let t = line.trim();
            let message = if t.parse::<f64>().is_ok() {
                match &previous {
                    Some((what, start)) => format!(
                        "atteso un oggetto (BORDO, TESTO, SIMBOLO, FIDUCIALE, LINEA, EOF), \
                         trovato il valore numerico \"{t}\": il numero di vertici o di isole \
                         dichiarato dall'{what} (riga {start}) è minore di quelli presenti"
                    ),
                    None => format!(
                        "atteso un oggetto (BORDO, TESTO, SIMBOLO, FIDUCIALE, LINEA, EOF), \
                         trovato il valore numerico \"{t}\""
                    ),
                }
            } else {
                format!(
                    "oggetto sconosciuto \"{}\" (attesi BORDO, TESTO, SIMBOLO, FIDUCIALE, \
                     LINEA, EOF)",
                    t.chars().take(40).collect::<String>()
                )
            };
            return Err(lines.error(riga, message));
        };
        let ctx = Ctx {
            keyword,
            codice: None,
            riga,
        };
        match keyword {
            "EOF" => {
                if let Some(extra) = lines.lines[lines.pos..]
                    .iter()
                    .position(|l| !l.trim().is_empty())
                {
                    raw.avvisi.push(format!(
                        "{source}, riga {}: contenuto dopo il record EOF ignorato",
                        lines.pos + extra + 1
                    ));
                }
                return Ok(raw);
            }
            "BORDO" => {
                let b = read_bordo(&mut lines, riga)?;
                previous = Some((format!("oggetto BORDO \"{}\"", b.codice), riga));
                raw.bordi.push(b);
            }
            "TESTO" => {
                lines.value("testo", ctx)?;
                lines.number("dimensione", ctx)?;
                lines.number("angolo", ctx)?;
                lines.number("posizione x", ctx)?;
                lines.number("posizione y", ctx)?;
                raw.testi += 1;
                previous = Some(("oggetto TESTO".into(), riga));
            }
            "SIMBOLO" => {
                lines.number("codice simbolo", ctx)?;
                lines.number("angolo", ctx)?;
                lines.number("posizione x", ctx)?;
                lines.number("posizione y", ctx)?;
                raw.simboli += 1;
                previous = Some(("oggetto SIMBOLO".into(), riga));
            }
            "FIDUCIALE" => {
                lines.number("numero", ctx)?;
                lines.number("codice simbolo", ctx)?;
                lines.number("posizione x", ctx)?;
                lines.number("posizione y", ctx)?;
                lines.number("x di rappresentazione", ctx)?;
                lines.number("y di rappresentazione", ctx)?;
                raw.fiduciali += 1;
                previous = Some(("oggetto FIDUCIALE".into(), riga));
            }
            // LINEA, the last of KEYWORDS.
            _ => {
                lines.number("tipo di tratto", ctx)?;
                let n = lines.count("numero di vertici", ctx)?;
                lines.points(n, ctx)?;
                raw.linee += 1;
                previous = Some(("oggetto LINEA".into(), riga));
            }
        }
    }
}

fn read_bordo(lines: &mut Lines<'_>, riga: usize) -> Result<Bordo, CxfError> {
    let ctx = Ctx {
        keyword: "BORDO",
        codice: None,
        riga,
    };
    let (_, code) = lines.value("codice", ctx)?;
    let codice = code.trim().to_string();
    if codice.is_empty() {
        return Err(lines.error(riga + 1, format!("codice mancante nell'{ctx}")));
    }
    let ctx = Ctx {
        codice: Some(&codice),
        ..ctx
    };
    let dimensione = lines.number("dimensione", ctx)?;
    let angolo = lines.number("angolo", ctx)?;
    let ex = lines.number("posizione x dell'etichetta", ctx)?;
    let ey = lines.number("posizione y dell'etichetta", ctx)?;
    let px = lines.number("x del punto interno", ctx)?;
    let py = lines.number("y del punto interno", ctx)?;
    let n_isole = lines.count("numero di isole", ctx)?;
    let riga_vertici = lines.pos + 1;
    let n_vertici = lines.count("numero di vertici", ctx)?;
    let mut isole = Vec::with_capacity(n_isole.min(lines.remaining()));
    for i in 1..=n_isole {
        isole.push(lines.count(&format!("vertici dell'isola {i} di {n_isole}"), ctx)?);
    }
    let in_isole: usize = isole.iter().sum();
    if in_isole >= n_vertici {
        return Err(lines.error(
            riga_vertici,
            format!(
                "i conti dei vertici non tornano nell'{ctx}: {n_vertici} vertici in tutto, \
                 ma le {n_isole} isole ne dichiarano {in_isole} (il contorno esterno resterebbe \
                 senza vertici)"
            ),
        ));
    }
    let mut anelli = Vec::with_capacity(n_isole + 1);
    anelli.push(lines.points(n_vertici - in_isole, ctx)?);
    for n in isole {
        anelli.push(lines.points(n, ctx)?);
    }
    Ok(Bordo {
        codice,
        riga,
        dimensione,
        angolo,
        etichetta: (ex, ey),
        punto_interno: (px, py),
        anelli,
    })
}

/// Distinct vertices of a ring (ignoring the closing repetition and repeated points).
fn distinct_vertices(ring: &[(f64, f64)]) -> usize {
    let mut seen: Vec<(f64, f64)> = Vec::new();
    for p in ring {
        if !seen.contains(p) {
            seen.push(*p);
            if seen.len() >= 3 {
                break;
            }
        }
    }
    seen.len()
}

/// Turns a parsed file into model features: classification, sheet identity, CRS conversion.
/// `file_stem` (the file name without extension) is checked against the header's sheet code.
pub fn build_sheet(
    raw: CxfRaw,
    file_stem: Option<&str>,
    crs: Option<u16>,
) -> Result<CxfSheet, CxfError> {
    let source = raw.source.clone();
    let mut avvisi = raw.avvisi;
    let from_header = SheetRef::parse(&raw.codice_foglio);
    let from_name = file_stem.and_then(SheetRef::parse);
    let foglio_ref = match (from_header, from_name) {
        (Some(h), Some(n)) => {
            if h != n {
                avvisi.push(format!(
                    "{source}: il codice del foglio nell'intestazione ({h}) è diverso dal nome \
                     del file ({n}); vale quello dell'intestazione"
                ));
            }
            h
        }
        (Some(h), None) => h,
        (None, Some(n)) => {
            avvisi.push(format!(
                "{source}, riga 2: codice del foglio \"{}\" non valido; uso il nome del file ({n})",
                raw.codice_foglio
            ));
            n
        }
        (None, None) => {
            return Err(CxfError::Invalid {
                source_name: source,
                riga: 2,
                message: format!(
                    "codice del foglio \"{}\" non valido (servono 11 caratteri come \
                     H501D076700: comune, sezione, foglio, allegato, sviluppo) e il nome del \
                     file non ne contiene uno",
                    raw.codice_foglio
                ),
            })
        }
    };
    let scala =
        (raw.scala >= 1.0 && raw.scala <= f64::from(u32::MAX)).then(|| raw.scala.round() as u32);
    let transform = match crs {
        Some(epsg) => Some(ToLonLat::new(epsg).map_err(|e| CxfError::Crs {
            source_name: source.clone(),
            riga: 1,
            source: e,
        })?),
        None => None,
    };

    let mut sheet = CxfSheet {
        source: source.clone(),
        scala,
        crs,
        fogli: Vec::new(),
        particelle: Vec::new(),
        strade_acque: Vec::new(),
        fabbricati: Vec::new(),
        isole: 0,
        avvisi: Vec::new(),
        foglio_ref: foglio_ref.clone(),
    };
    let sheet_code = foglio_ref.to_string();
    for b in raw.bordi {
        let classe = b.classe();
        let particella = match classe {
            Classe::Fabbricato => b.codice.trim_end_matches('+').trim().to_string(),
            _ => b.codice.clone(),
        };
        if classe == Classe::Fabbricato && particella.is_empty() {
            avvisi.push(format!(
                "{source}, riga {}: oggetto BORDO \"{}\" ignorato: fabbricato senza numero di \
                 particella",
                b.riga, b.codice
            ));
            continue;
        }
        let Some((geometry, isole)) = polygon_of(&b, transform.as_ref(), &source, &mut avvisi)?
        else {
            continue;
        };
        sheet.isole += isole;
        match classe {
            Classe::Foglio => {
                let own = SheetRef::parse(&b.codice);
                if own.as_ref() != Some(&foglio_ref) {
                    avvisi.push(format!(
                        "{source}, riga {}: il bordo del foglio \"{}\" non corrisponde al foglio \
                         {sheet_code} del file",
                        b.riga, b.codice
                    ));
                }
                sheet.fogli.push(Foglio {
                    riferimento: sheet_code.clone(),
                    belfiore: foglio_ref.belfiore.clone(),
                    sezione: foglio_ref.sezione.clone(),
                    foglio: foglio_ref.foglio_key(),
                    scala,
                    geometry,
                });
            }
            Classe::Particella | Classe::StradaAcqua => {
                let p = Particella {
                    riferimento: format!("{sheet_code}.{particella}"),
                    belfiore: foglio_ref.belfiore.clone(),
                    sezione: foglio_ref.sezione.clone(),
                    foglio: foglio_ref.foglio_key(),
                    particella,
                    geometry,
                };
                if classe == Classe::Particella {
                    sheet.particelle.push(p);
                } else {
                    sheet.strade_acque.push(p);
                }
            }
            Classe::Fabbricato => sheet.fabbricati.push(Fabbricato {
                riferimento: format!("{sheet_code}.{particella}"),
                belfiore: foglio_ref.belfiore.clone(),
                sezione: foglio_ref.sezione.clone(),
                foglio: foglio_ref.foglio_key(),
                particella,
                geometry,
            }),
        }
    }
    sheet.avvisi = avvisi;
    Ok(sheet)
}

/// The polygon of a BORDO (converted when a transform is given) and the number of islands
/// kept; `None` (with an avviso) when the outer ring is degenerate.
fn polygon_of(
    b: &Bordo,
    transform: Option<&ToLonLat>,
    source: &str,
    avvisi: &mut Vec<String>,
) -> Result<Option<(MultiPolygon<f64>, usize)>, CxfError> {
    let Some(outer) = b.anelli.first() else {
        return Ok(None);
    };
    let distinct = distinct_vertices(outer);
    if distinct < 3 {
        avvisi.push(format!(
            "{source}, riga {}: oggetto BORDO \"{}\" ignorato: contorno degenere \
             ({distinct} vertici distinti, ne servono almeno 3)",
            b.riga, b.codice
        ));
        return Ok(None);
    }
    let convert = |ring: &[(f64, f64)]| -> Result<LineString<f64>, CxfError> {
        let mut coords = Vec::with_capacity(ring.len() + 1);
        for &(x, y) in ring {
            let (x, y) = match transform {
                Some(t) => t.convert(x, y).map_err(|e| CxfError::Crs {
                    source_name: source.to_string(),
                    riga: b.riga,
                    source: e,
                })?,
                None => (x, y),
            };
            coords.push(Coord { x, y });
        }
        Ok(LineString(coords))
    };
    let exterior = convert(outer)?;
    let mut interiors = Vec::new();
    for (i, ring) in b.anelli.iter().enumerate().skip(1) {
        let distinct = distinct_vertices(ring);
        if distinct < 3 {
            avvisi.push(format!(
                "{source}, riga {}: oggetto BORDO \"{}\": isola {i} ignorata, degenere \
                 ({distinct} vertici distinti)",
                b.riga, b.codice
            ));
            continue;
        }
        interiors.push(convert(ring)?);
    }
    let n = interiors.len();
    // `Polygon::new` closes open rings.
    Ok(Some((
        MultiPolygon(vec![Polygon::new(exterior, interiors)]),
        n,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_codes() {
        assert_eq!(Classe::of("H501D076700"), Classe::Foglio);
        assert_eq!(Classe::of("STRADA"), Classe::StradaAcqua);
        assert_eq!(Classe::of("ACQUA"), Classe::StradaAcqua);
        assert_eq!(Classe::of("STRADA001"), Classe::StradaAcqua);
        assert_eq!(Classe::of("37+"), Classe::Fabbricato);
        assert_eq!(Classe::of("37"), Classe::Particella);
        assert_eq!(Classe::of("A"), Classe::Particella);
    }

    #[test]
    fn keywords_accept_trailing_backslash() {
        assert_eq!(keyword_of("LINEA\\"), Some("LINEA"));
        assert_eq!(keyword_of(" BORDO  "), Some("BORDO"));
        assert_eq!(keyword_of("PIPPO"), None);
    }

    #[test]
    fn degenerate_ring_is_detected() {
        assert_eq!(distinct_vertices(&[(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)]), 2);
        assert_eq!(
            distinct_vertices(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            3
        );
    }
}
