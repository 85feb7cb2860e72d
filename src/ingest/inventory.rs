//! Reader of the public-housing inventory in abitare's canonical CSV (FORMATS.md §4).
//!
//! Accepts `,` or `;` as delimiter (detected from the header line) and UTF-8 with or without
//! BOM or Windows-1252 (a file that is not valid UTF-8 is decoded as Windows-1252). Header
//! names are normalised (lower case, no accents, spaces/dashes/dots as `_`) and a few aliases
//! are accepted. Every value is checked; a row that breaks a rule rejects the whole file,
//! unless the caller asks to skip bad rows, in which case each skipped row is listed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use geo::Point;
use thiserror::Error;

use crate::model::{AlloggioPubblico, FlagPiano, Localizzazione, Servizio, Stato};

#[derive(Debug, Clone, Default)]
pub struct InventoryOptions {
    /// Skip rows that break a rule (each is listed) instead of rejecting the file.
    pub skip_bad_rows: bool,
}

/// A row that breaks a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub path: PathBuf,
    /// 1-based line in the file (the header is line 1).
    pub line: usize,
    pub column: String,
    pub value: String,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: riga {}, colonna {:?}, valore {:?}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.value,
            self.message
        )
    }
}

#[derive(Debug)]
pub struct InventoryRead {
    pub units: Vec<AlloggioPubblico>,
    pub skipped: Vec<RowError>,
    /// `UTF-8` or `windows-1252`.
    pub encoding: &'static str,
    pub delimiter: u8,
}

#[derive(Debug, Error)]
pub enum InventoryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Row(RowError),
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Reads an inventory file (CSV, `,` or `;`, UTF-8 with or without BOM, or Windows-1252).
pub fn read_inventory(
    path: &Path,
    opts: &InventoryOptions,
) -> Result<InventoryRead, InventoryError> {
    let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_inventory_bytes(&bytes, path, opts)
}

/// Same as [`read_inventory`] over the bytes of a file; `path` names it in messages.
pub fn read_inventory_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &InventoryOptions,
) -> Result<InventoryRead, InventoryError> {
    let invalid = |message: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let (text, encoding) = decode(bytes);
    let Some(header_line) = text.lines().find(|l| !l.trim().is_empty()) else {
        return Err(invalid(
            "il file è vuoto: attesa una riga di intestazione con le colonne dell'inventario"
                .to_string(),
        ));
    };
    let delimiter = detect_delimiter(header_line);

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // The header: the first record that is not blank.
    let header = loop {
        match records.next() {
            None => {
                return Err(invalid(
                    "il file è vuoto: attesa una riga di intestazione".to_string(),
                ))
            }
            Some(Err(e)) => return Err(invalid(format!("CSV non leggibile: {e}"))),
            Some(Ok(r)) if r.iter().all(|c| c.trim().is_empty()) => continue,
            Some(Ok(r)) => break r,
        }
    };
    let columns = Columns::from_header(&header).map_err(invalid)?;

    let mut lines = LineTracker::new(text.as_bytes());
    let mut units = Vec::new();
    let mut skipped = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut data_rows = 0usize;
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                return Err(invalid(format!("CSV non leggibile alla riga {line}: {e}")));
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        data_rows += 1;
        let line = record
            .position()
            .map_or(0, |p| lines.line_at(p.byte() as usize));
        let row = Row {
            record: &record,
            columns: &columns,
            path,
            line,
        };
        let result = row.parse().and_then(|unit| {
            let key = (unit.ente_proprietario.clone(), unit.codice_unita.clone());
            match seen.get(&key) {
                Some(first) => Err(row.error(
                    Field::CodiceUnita,
                    format!(
                        "codice unità duplicato: già usato alla riga {first} per l'ente \"{}\"",
                        unit.ente_proprietario
                    ),
                )),
                None => {
                    seen.insert(key, line);
                    Ok(unit)
                }
            }
        });
        match result {
            Ok(unit) => units.push(unit),
            Err(e) if opts.skip_bad_rows => skipped.push(e),
            Err(e) => return Err(InventoryError::Row(e)),
        }
    }
    if data_rows == 0 {
        return Err(invalid(
            "il file contiene solo l'intestazione: nessun alloggio".to_string(),
        ));
    }
    Ok(InventoryRead {
        units,
        skipped,
        encoding,
        delimiter,
    })
}

/// Physical line numbers of records. The `csv` crate reports as a record's position the end
/// of the previous record (before its line terminator and any blank lines), so the record
/// starts at the first byte after that which is not a line break.
struct LineTracker<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineTracker<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineTracker {
            text,
            pos: 0,
            line: 1,
        }
    }

    /// The 1-based line of the record whose reported position is `byte` (non-decreasing).
    fn line_at(&mut self, byte: usize) -> usize {
        let mut start = byte.max(self.pos).min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let between = self.text.get(self.pos..start).unwrap_or_default();
        self.line += between.iter().filter(|&&b| b == b'\n').count();
        self.pos = start;
        self.line
    }
}

/// UTF-8 (BOM removed) when valid, else Windows-1252.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, &'static str) {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(without_bom) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), "UTF-8"),
        Err(_) => {
            let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (s, "windows-1252")
        }
    }
}

/// `;` when the header has more semicolons than commas (outside quotes), else `,`.
fn detect_delimiter(header: &str) -> u8 {
    let mut in_quotes = false;
    let (mut semicolons, mut commas) = (0usize, 0usize);
    for c in header.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => semicolons += 1,
            ',' if !in_quotes => commas += 1,
            _ => {}
        }
    }
    if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// Lower case, accents removed, every run of other characters turned into one `_`.
pub fn normalize_header(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let c = strip_accent(c);
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        other => other,
    }
}

/// The columns abitare understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    EnteProprietario,
    CodiceUnita,
    ComuneIstat,
    Belfiore,
    ComuneNome,
    Indirizzo,
    Sezione,
    Foglio,
    Particella,
    Subalterno,
    CategoriaCatastale,
    SuperficieMq,
    Servizio,
    Stato,
    SfittoDal,
    AssegnabileStatoDiFatto,
    InProgrammaRistrutturazione,
    NuovaEdificazione,
    TurnOver,
    ConferitaDaPrivati,
    DisponibileAnno,
    AssegnataAnnoPrecedente,
    Lon,
    Lat,
}

impl Field {
    fn from_normalized(name: &str) -> Option<Field> {
        Some(match name {
            "ente_proprietario" | "ente" | "proprietario" => Field::EnteProprietario,
            "codice_unita" | "codice" | "id_unita" | "codice_alloggio" => Field::CodiceUnita,
            "comune_istat" | "codice_istat" | "istat" => Field::ComuneIstat,
            "belfiore" | "codice_catastale" | "codice_belfiore" => Field::Belfiore,
            "comune" | "nome_comune" => Field::ComuneNome,
            "indirizzo" => Field::Indirizzo,
            "sezione" => Field::Sezione,
            "foglio" => Field::Foglio,
            "particella" | "mappale" => Field::Particella,
            "subalterno" | "sub" => Field::Subalterno,
            "categoria_catastale" | "categoria" => Field::CategoriaCatastale,
            "superficie_mq" | "superficie" | "superficie_utile" => Field::SuperficieMq,
            "servizio" | "tipo_servizio" => Field::Servizio,
            "stato" | "stato_alloggio" => Field::Stato,
            "sfitto_dal" => Field::SfittoDal,
            "assegnabile_stato_di_fatto" => Field::AssegnabileStatoDiFatto,
            "in_programma_ristrutturazione" => Field::InProgrammaRistrutturazione,
            "nuova_edificazione" => Field::NuovaEdificazione,
            "turn_over" | "turnover" => Field::TurnOver,
            "conferita_da_privati" => Field::ConferitaDaPrivati,
            "disponibile_anno" => Field::DisponibileAnno,
            "assegnata_anno_precedente" => Field::AssegnataAnnoPrecedente,
            "lon" | "longitudine" => Field::Lon,
            "lat" | "latitudine" => Field::Lat,
            _ => return None,
        })
    }

    /// The canonical column name, for messages about missing columns.
    fn canonical(self) -> &'static str {
        match self {
            Field::EnteProprietario => "ente_proprietario",
            Field::CodiceUnita => "codice_unita",
            Field::ComuneIstat => "comune_istat",
            Field::Belfiore => "belfiore",
            Field::ComuneNome => "comune",
            Field::Indirizzo => "indirizzo",
            Field::Sezione => "sezione",
            Field::Foglio => "foglio",
            Field::Particella => "particella",
            Field::Subalterno => "subalterno",
            Field::CategoriaCatastale => "categoria_catastale",
            Field::SuperficieMq => "superficie_mq",
            Field::Servizio => "servizio",
            Field::Stato => "stato",
            Field::SfittoDal => "sfitto_dal",
            Field::AssegnabileStatoDiFatto => "assegnabile_stato_di_fatto",
            Field::InProgrammaRistrutturazione => "in_programma_ristrutturazione",
            Field::NuovaEdificazione => "nuova_edificazione",
            Field::TurnOver => "turn_over",
            Field::ConferitaDaPrivati => "conferita_da_privati",
            Field::DisponibileAnno => "disponibile_anno",
            Field::AssegnataAnnoPrecedente => "assegnata_anno_precedente",
            Field::Lon => "lon",
            Field::Lat => "lat",
        }
    }
}

/// Where each known field is in the file, and its header as written.
struct Columns {
    index: HashMap<Field, (usize, String)>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns, String> {
        let mut index: HashMap<Field, (usize, String)> = HashMap::new();
        let written: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        for (i, name) in written.iter().enumerate() {
            let Some(field) = Field::from_normalized(&normalize_header(name)) else {
                continue;
            };
            if let Some((_, first)) = index.get(&field) {
                return Err(format!(
                    "le colonne \"{first}\" e \"{name}\" indicano entrambe \"{}\": tenerne una sola",
                    field.canonical()
                ));
            }
            index.insert(field, (i, name.clone()));
        }
        let columns = Columns { index };
        let shown = written.join(", ");
        for required in [
            Field::EnteProprietario,
            Field::CodiceUnita,
            Field::Servizio,
            Field::Stato,
        ] {
            if !columns.index.contains_key(&required) {
                return Err(format!(
                    "colonna obbligatoria \"{}\" mancante (colonne trovate: {shown})",
                    required.canonical()
                ));
            }
        }
        if ![Field::ComuneIstat, Field::Belfiore, Field::ComuneNome]
            .iter()
            .any(|f| columns.index.contains_key(f))
        {
            return Err(format!(
                "colonna obbligatoria \"comune_istat\" (o \"belfiore\" o \"comune\") mancante \
                 (colonne trovate: {shown})"
            ));
        }
        Ok(columns)
    }

    fn has(&self, field: Field) -> bool {
        self.index.contains_key(&field)
    }
}

/// One data row being parsed.
struct Row<'a> {
    record: &'a csv::StringRecord,
    columns: &'a Columns,
    path: &'a Path,
    line: usize,
}

impl Row<'_> {
    /// The trimmed cell of a field, empty when the column or the cell is missing.
    fn cell(&self, field: Field) -> &str {
        self.columns
            .index
            .get(&field)
            .and_then(|(i, _)| self.record.get(*i))
            .map_or("", str::trim)
    }

    fn opt(&self, field: Field) -> Option<String> {
        let v = self.cell(field);
        (!v.is_empty()).then(|| v.to_string())
    }

    fn error(&self, field: Field, message: String) -> RowError {
        let column = self
            .columns
            .index
            .get(&field)
            .map_or_else(|| field.canonical().to_string(), |(_, h)| h.clone());
        RowError {
            path: self.path.to_path_buf(),
            line: self.line,
            column,
            value: self.cell(field).to_string(),
            message,
        }
    }

    fn required(&self, field: Field) -> Result<String, RowError> {
        self.opt(field)
            .ok_or_else(|| self.error(field, "valore obbligatorio mancante".to_string()))
    }

    fn parse_with<T>(
        &self,
        field: Field,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, RowError> {
        let v = self.cell(field);
        if v.is_empty() {
            return Ok(None);
        }
        parse(v).map(Some).map_err(|m| self.error(field, m))
    }

    fn flag(&self, field: Field) -> Result<bool, RowError> {
        Ok(self.parse_with(field, parse_bool)?.unwrap_or(false))
    }

    fn parse(&self) -> Result<AlloggioPubblico, RowError> {
        let ente_proprietario = self.required(Field::EnteProprietario)?;
        let codice_unita = self.required(Field::CodiceUnita)?;
        let comune_istat = self.parse_with(Field::ComuneIstat, parse_istat)?;
        let belfiore = self.parse_with(Field::Belfiore, parse_belfiore)?;
        let comune_nome = self.opt(Field::ComuneNome);
        if comune_istat.is_none() && belfiore.is_none() && comune_nome.is_none() {
            let field = [Field::ComuneIstat, Field::Belfiore, Field::ComuneNome]
                .into_iter()
                .find(|f| self.columns.has(*f))
                .unwrap_or(Field::ComuneNome);
            return Err(self.error(
                field,
                "comune mancante: indicare il codice ISTAT, il codice catastale o il nome"
                    .to_string(),
            ));
        }
        let servizio = self
            .parse_with(Field::Servizio, parse_servizio)?
            .ok_or_else(|| {
                self.error(
                    Field::Servizio,
                    "valore obbligatorio mancante (SAP, SAS, SAT o altro)".to_string(),
                )
            })?;
        let stato = self.parse_with(Field::Stato, parse_stato)?.ok_or_else(|| {
            self.error(
                Field::Stato,
                "valore obbligatorio mancante (occupato, libero, sfitto_carenze_manutentive, \
                 sfitto_ristrutturazione)"
                    .to_string(),
            )
        })?;
        let lon = self.parse_with(Field::Lon, |v| parse_degrees(v, 180.0, "longitudine"))?;
        let lat = self.parse_with(Field::Lat, |v| parse_degrees(v, 90.0, "latitudine"))?;
        let lonlat = match (lon, lat) {
            (Some(x), Some(y)) => Some(Point::new(x, y)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(self.error(
                    Field::Lon,
                    "longitudine senza latitudine: indicare entrambe o nessuna".to_string(),
                ))
            }
            (None, Some(_)) => {
                return Err(self.error(
                    Field::Lat,
                    "latitudine senza longitudine: indicare entrambe o nessuna".to_string(),
                ))
            }
        };
        Ok(AlloggioPubblico {
            ente_proprietario,
            codice_unita,
            comune_istat,
            belfiore,
            comune_nome,
            indirizzo: self.opt(Field::Indirizzo),
            sezione: self.opt(Field::Sezione),
            foglio: self.opt(Field::Foglio),
            particella: self.opt(Field::Particella),
            subalterno: self.opt(Field::Subalterno),
            categoria_catastale: self.parse_with(Field::CategoriaCatastale, parse_categoria)?,
            superficie_mq: self.parse_with(Field::SuperficieMq, parse_superficie)?,
            servizio,
            stato,
            sfitto_dal: self.parse_with(Field::SfittoDal, parse_date)?,
            flag: FlagPiano {
                assegnabile_stato_di_fatto: self.flag(Field::AssegnabileStatoDiFatto)?,
                in_programma_ristrutturazione: self.flag(Field::InProgrammaRistrutturazione)?,
                nuova_edificazione: self.flag(Field::NuovaEdificazione)?,
                turn_over: self.flag(Field::TurnOver)?,
                conferita_da_privati: self.flag(Field::ConferitaDaPrivati)?,
                disponibile_anno: self.flag(Field::DisponibileAnno)?,
                assegnata_anno_precedente: self.flag(Field::AssegnataAnnoPrecedente)?,
            },
            lonlat,
            riga: self.line,
            posizione: None,
            localizzazione: Localizzazione::NonLocalizzato,
        })
    }
}

/// Lower case, accents removed, runs of spaces/punctuation as one `_`.
fn normalize_value(v: &str) -> String {
    normalize_header(v)
}

fn parse_servizio(v: &str) -> Result<Servizio, String> {
    match normalize_value(v).as_str() {
        "sap" => Ok(Servizio::Sap),
        "sas" => Ok(Servizio::Sas),
        "sat" => Ok(Servizio::Sat),
        "altro" | "altro_uso_residenziale" | "altri_usi_residenziali" => Ok(Servizio::Altro),
        _ => Err("servizio non riconosciuto (attesi SAP, SAS, SAT o altro)".to_string()),
    }
}

fn parse_stato(v: &str) -> Result<Stato, String> {
    match normalize_value(v).as_str() {
        "occupato" | "stato_occupato" => Ok(Stato::Occupato),
        "libero" | "stato_libero" => Ok(Stato::Libero),
        "sfitto_carenze_manutentive" | "sfitto_per_carenze_manutentive" => {
            Ok(Stato::SfittoCarenzeManutentive)
        }
        "sfitto_ristrutturazione" | "sfitto_per_ristrutturazione" => {
            Ok(Stato::SfittoRistrutturazione)
        }
        _ => Err(
            "stato non riconosciuto (attesi occupato, libero, sfitto_carenze_manutentive, \
             sfitto_ristrutturazione o le etichette della piattaforma regionale)"
                .to_string(),
        ),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_lowercase().as_str() {
        "sì" | "si" | "s" | "x" | "true" | "vero" | "1" => Ok(true),
        "no" | "n" | "false" | "falso" | "0" | "" => Ok(false),
        _ => Err(
            "valore sì/no non riconosciuto (attesi sì, no, s, n, x, true, false, 1, 0)".to_string(),
        ),
    }
}

/// `A/3`, `A03`, `A3`, `a 3` → `A/3`.
fn parse_categoria(v: &str) -> Result<String, String> {
    let compact: String = v
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '/' && *c != '-' && *c != '.')
        .collect::<String>()
        .to_ascii_uppercase();
    let mut chars = compact.chars();
    let invalid = || {
        "categoria catastale non valida (attese ad esempio A/3, A03 o A3; gruppi A–F)".to_string()
    };
    let letter = chars.next().ok_or_else(invalid)?;
    let digits = chars.as_str();
    if digits.is_empty() || digits.len() > 2 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let number: u32 = digits.parse().map_err(|_| invalid())?;
    let max = match letter {
        'A' => 11,
        'B' => 8,
        'C' => 7,
        'D' => 10,
        'E' => 9,
        'F' => 5,
        _ => return Err(invalid()),
    };
    if !(1..=max).contains(&number) {
        return Err(format!(
            "categoria catastale non valida: il gruppo {letter} va da {letter}/1 a {letter}/{max}"
        ));
    }
    Ok(format!("{letter}/{number}"))
}

/// A decimal number with `.` or `,` as decimal separator (`1.234,5` and `1,234.5` too).
fn parse_decimal(v: &str) -> Option<f64> {
    let t = v.trim();
    let normalized = match (t.rfind(','), t.rfind('.')) {
        (Some(c), Some(d)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (Some(_), None) => t.replace(',', "."),
        _ => t.to_string(),
    };
    normalized.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn parse_superficie(v: &str) -> Result<f64, String> {
    match parse_decimal(v) {
        Some(x) if x > 0.0 => Ok(x),
        Some(_) => Err("la superficie deve essere maggiore di zero".to_string()),
        None => Err("superficie non numerica (ad esempio 72,5)".to_string()),
    }
}

fn parse_degrees(v: &str, limit: f64, what: &str) -> Result<f64, String> {
    match parse_decimal(v) {
        Some(x) if x.abs() <= limit => Ok(x),
        Some(_) => Err(format!(
            "{what} fuori intervallo (±{limit}): attese coordinate in gradi EPSG:4326"
        )),
        None => Err(format!("{what} non numerica")),
    }
}

fn parse_date(v: &str) -> Result<NaiveDate, String> {
    let t = v.trim();
    NaiveDate::parse_from_str(t, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .ok()
        .filter(|d| {
            use chrono::Datelike;
            (1900..=2100).contains(&d.year())
        })
        .ok_or_else(|| "data non valida (attese gg/mm/aaaa o aaaa-mm-gg)".to_string())
}

/// Six digits; five-digit values (a spreadsheet dropped the leading zero) are padded.
fn parse_istat(v: &str) -> Result<String, String> {
    let t = v.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        match t.len() {
            6 => return Ok(t.to_string()),
            5 => return Ok(format!("0{t}")),
            _ => {}
        }
    }
    Err("codice ISTAT del comune non valido (attese 6 cifre, ad esempio 016077)".to_string())
}

/// A letter and three digits (`C800`), upper-cased.
fn parse_belfiore(v: &str) -> Result<String, String> {
    let t = v.trim().to_ascii_uppercase();
    let mut chars = t.chars();
    let ok = t.len() == 4
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_digit());
    if ok {
        Ok(t)
    } else {
        Err("codice catastale (Belfiore) non valido (attesi una lettera e tre cifre, ad esempio C800)"
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_normalised() {
        assert_eq!(normalize_header(" Codice unità "), "codice_unita");
        assert_eq!(normalize_header("Superficie mq"), "superficie_mq");
        assert_eq!(normalize_header("Codice ISTAT"), "codice_istat");
        assert_eq!(normalize_header("Superficie (mq.)"), "superficie_mq");
        assert_eq!(normalize_header("ente - proprietario"), "ente_proprietario");
        assert_eq!(normalize_header("stato.alloggio"), "stato_alloggio");
    }

    #[test]
    fn categories_are_normalised() {
        for v in ["A/3", "A03", "A3", "a 3", "a/03"] {
            assert_eq!(parse_categoria(v).as_deref(), Ok("A/3"), "{v}");
        }
        assert_eq!(parse_categoria("A/10").as_deref(), Ok("A/10"));
        assert_eq!(parse_categoria("c6").as_deref(), Ok("C/6"));
        for v in ["A/12", "A/0", "G1", "A", "3", "AB3", "A/123"] {
            assert!(parse_categoria(v).is_err(), "{v}");
        }
    }

    #[test]
    fn values_are_recognised() {
        assert_eq!(parse_bool("Sì"), Ok(true));
        assert_eq!(parse_bool("X"), Ok(true));
        assert_eq!(parse_bool("N"), Ok(false));
        assert!(parse_bool("forse").is_err());
        assert_eq!(
            parse_stato("  Sfitto per   carenze manutentive"),
            Ok(Stato::SfittoCarenzeManutentive)
        );
        assert_eq!(parse_stato("STATO OCCUPATO"), Ok(Stato::Occupato));
        assert_eq!(
            parse_servizio("Altro uso residenziale"),
            Ok(Servizio::Altro)
        );
        assert_eq!(parse_decimal("1.234,5"), Some(1234.5));
        assert_eq!(parse_decimal("72,5"), Some(72.5));
        assert_eq!(parse_decimal("1,234.5"), Some(1234.5));
        assert_eq!(parse_istat("16077").as_deref(), Ok("016077"));
        assert!(parse_istat("1607").is_err());
        assert_eq!(detect_delimiter("a;b;\"c,d\""), b';');
        assert_eq!(detect_delimiter("a,b,c"), b',');
    }
}
