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

/// The bytes of a table file, or an error naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, InventoryError> {
    std::fs::read(path).map_err(|source| InventoryError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads an inventory file: CSV (`,` or `;`, UTF-8 with or without BOM, or Windows-1252) or a
/// spreadsheet (XLSX, first sheet).
pub fn read_inventory(
    path: &Path,
    opts: &InventoryOptions,
) -> Result<InventoryRead, InventoryError> {
    let bytes = read_file(path)?;
    read_inventory_bytes(&bytes, path, opts)
}

/// Same as [`read_inventory`] over the bytes of a file; `path` names it in messages.
pub fn read_inventory_bytes(
    bytes: &[u8],
    path: &Path,
    opts: &InventoryOptions,
) -> Result<InventoryRead, InventoryError> {
    let table = read_table(bytes, path)?;
    let columns = Columns::<Field>::from_header(&table.header)
        .and_then(|c| {
            c.require(&[
                Field::EnteProprietario,
                Field::CodiceUnita,
                Field::Servizio,
                Field::Stato,
            ])?;
            c.require_one_of(&[Field::ComuneIstat, Field::Belfiore, Field::ComuneNome])?;
            Ok(c)
        })
        .map_err(|message| table.invalid(message))?;
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let (units, skipped) = table.parse_rows(&columns, opts, |row| {
        let unit = parse_public(row)?;
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
                seen.insert(key, row.line);
                Ok(unit)
            }
        }
    })?;
    Ok(InventoryRead {
        units,
        skipped,
        encoding: table.encoding,
        delimiter: table.delimiter,
    })
}

/// A table read from a CSV file or from the first sheet of a spreadsheet: the header and the
/// non-blank data rows with their line (CSV) or row (spreadsheet) numbers, 1-based.
#[derive(Debug)]
pub(crate) struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<TableRow>,
    /// `UTF-8`, `windows-1252` or `XLSX`.
    pub encoding: &'static str,
    /// The CSV delimiter; `0` for a spreadsheet.
    pub delimiter: u8,
}

#[derive(Debug)]
pub(crate) struct TableRow {
    pub line: usize,
    pub cells: Vec<String>,
}

impl Table {
    pub fn invalid(&self, message: String) -> InventoryError {
        InventoryError::Invalid {
            path: self.path.clone(),
            message,
        }
    }

    /// Parses every row with `parse`; a failing row rejects the table unless `opts` says to
    /// skip it (then it is listed). A table with no data row is an error.
    pub fn parse_rows<F: TableField, T>(
        &self,
        columns: &Columns<F>,
        opts: &InventoryOptions,
        mut parse: impl FnMut(&Row<'_, F>) -> Result<T, RowError>,
    ) -> Result<(Vec<T>, Vec<RowError>), InventoryError> {
        if self.rows.is_empty() {
            return Err(self.invalid(
                "il file contiene solo l'intestazione: nessuna riga di dati".to_string(),
            ));
        }
        let mut out = Vec::new();
        let mut skipped = Vec::new();
        for r in &self.rows {
            let row = Row {
                cells: &r.cells,
                columns,
                path: &self.path,
                line: r.line,
            };
            match parse(&row) {
                Ok(v) => out.push(v),
                Err(e) if opts.skip_bad_rows => skipped.push(e),
                Err(e) => return Err(InventoryError::Row(e)),
            }
        }
        Ok((out, skipped))
    }
}

/// Reads a table: a spreadsheet (XLSX, XLS, ODS: first sheet) when the bytes are one, else CSV.
pub(crate) fn read_table(bytes: &[u8], path: &Path) -> Result<Table, InventoryError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        read_spreadsheet(bytes, path)
    } else {
        read_csv_table(bytes, path)
    }
}

fn read_csv_table(bytes: &[u8], path: &Path) -> Result<Table, InventoryError> {
    let invalid = |message: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let (text, encoding) = decode(bytes);
    let Some(header_line) = text.lines().find(|l| !l.trim().is_empty()) else {
        return Err(invalid(
            "il file è vuoto: attesa una riga di intestazione con i nomi delle colonne".to_string(),
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

    let mut lines = LineTracker::new(text.as_bytes());
    let mut rows = Vec::new();
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
        let line = record
            .position()
            .map_or(0, |p| lines.line_at(p.byte() as usize));
        rows.push(TableRow {
            line,
            cells: record.iter().map(str::to_string).collect(),
        });
    }
    Ok(Table {
        path: path.to_path_buf(),
        header: header.iter().map(str::to_string).collect(),
        rows,
        encoding,
        delimiter,
    })
}

/// The first sheet of a spreadsheet. Numbers are written as text the way the CSV readers
/// expect them (`16077`, `72.5`), date cells as `aaaa-mm-gg`; line numbers are sheet rows.
fn read_spreadsheet(bytes: &[u8], path: &Path) -> Result<Table, InventoryError> {
    use calamine::{Data, Reader};
    let invalid = |message: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| invalid(format!("foglio di calcolo non leggibile: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| invalid("il foglio di calcolo non contiene fogli".to_string()))?
        .map_err(|e| invalid(format!("primo foglio non leggibile: {e}")))?;
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    let text = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => if *b { "sì" } else { "no" }.to_string(),
            Data::DateTime(dt) => {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                format!("{y:04}-{m:02}-{d:02}")
            }
            Data::Error(e) => format!("#{e}"),
        }
    };
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    for (i, r) in range.rows().enumerate() {
        // Cells left of the used range are empty: keep columns where they are.
        let cells: Vec<String> = std::iter::repeat_n(String::new(), first_col)
            .chain(r.iter().map(text))
            .collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if header.is_none() {
            header = Some(cells);
        } else {
            rows.push(TableRow {
                line: first_row + i + 1,
                cells,
            });
        }
    }
    let header = header.ok_or_else(|| {
        invalid("il primo foglio è vuoto: attesa una riga di intestazione".into())
    })?;
    Ok(Table {
        path: path.to_path_buf(),
        header,
        rows,
        encoding: "XLSX",
        delimiter: 0,
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

impl TableField for Field {
    fn from_normalized(name: &str) -> Option<Field> {
        Field::from_normalized(name)
    }
    fn canonical(self) -> &'static str {
        Field::canonical(self)
    }
}

/// The columns a table reader understands: recognised from normalised header names.
pub(crate) trait TableField: Copy + Eq + std::hash::Hash {
    fn from_normalized(name: &str) -> Option<Self>;
    /// The canonical column name, for messages.
    fn canonical(self) -> &'static str;
}

/// Where each known field is in the file, and its header as written.
pub(crate) struct Columns<F> {
    index: HashMap<F, (usize, String)>,
    written: Vec<String>,
}

impl<F: TableField> Columns<F> {
    /// Recognises the header; two columns naming the same field are an error.
    pub fn from_header(header: &[String]) -> Result<Columns<F>, String> {
        let mut index: HashMap<F, (usize, String)> = HashMap::new();
        let written: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        for (i, name) in written.iter().enumerate() {
            let Some(field) = F::from_normalized(&normalize_header(name)) else {
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
        Ok(Columns { index, written })
    }

    /// Every one of `fields` must be present.
    pub fn require(&self, fields: &[F]) -> Result<(), String> {
        match fields.iter().find(|f| !self.has(**f)) {
            Some(f) => Err(format!(
                "colonna obbligatoria \"{}\" mancante (colonne trovate: {})",
                f.canonical(),
                self.written.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// At least one of `fields` must be present.
    pub fn require_one_of(&self, fields: &[F]) -> Result<(), String> {
        if fields.iter().any(|f| self.has(*f)) {
            return Ok(());
        }
        let names: Vec<String> = fields
            .iter()
            .map(|f| format!("\"{}\"", f.canonical()))
            .collect();
        Err(format!(
            "colonna obbligatoria {} mancante (colonne trovate: {})",
            names.join(" o "),
            self.written.join(", ")
        ))
    }

    pub fn has(&self, field: F) -> bool {
        self.index.contains_key(&field)
    }
}

/// A row's comune: ISTAT code, Belfiore code, name (at least one is given).
pub(crate) type ComuneCells = (Option<String>, Option<String>, Option<String>);

/// One data row being parsed.
pub(crate) struct Row<'a, F> {
    cells: &'a [String],
    columns: &'a Columns<F>,
    path: &'a Path,
    pub line: usize,
}

impl<F: TableField> Row<'_, F> {
    /// The trimmed cell of a field, empty when the column or the cell is missing.
    pub fn cell(&self, field: F) -> &str {
        self.columns
            .index
            .get(&field)
            .and_then(|(i, _)| self.cells.get(*i))
            .map_or("", |s| s.trim())
    }

    pub fn opt(&self, field: F) -> Option<String> {
        let v = self.cell(field);
        (!v.is_empty()).then(|| v.to_string())
    }

    pub fn has(&self, field: F) -> bool {
        self.columns.has(field)
    }

    pub fn error(&self, field: F, message: String) -> RowError {
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

    pub fn required(&self, field: F) -> Result<String, RowError> {
        self.opt(field)
            .ok_or_else(|| self.error(field, "valore obbligatorio mancante".to_string()))
    }

    pub fn parse_with<T>(
        &self,
        field: F,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, RowError> {
        let v = self.cell(field);
        if v.is_empty() {
            return Ok(None);
        }
        parse(v).map(Some).map_err(|m| self.error(field, m))
    }

    pub fn flag(&self, field: F) -> Result<bool, RowError> {
        Ok(self.parse_with(field, parse_bool)?.unwrap_or(false))
    }

    /// `lon`/`lat` as a point: both or neither.
    pub fn lonlat(&self, lon: F, lat: F) -> Result<Option<Point<f64>>, RowError> {
        let x = self.parse_with(lon, |v| parse_degrees(v, 180.0, "longitudine"))?;
        let y = self.parse_with(lat, |v| parse_degrees(v, 90.0, "latitudine"))?;
        match (x, y) {
            (Some(x), Some(y)) => Ok(Some(Point::new(x, y))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(self.error(
                lon,
                "longitudine senza latitudine: indicare entrambe o nessuna".to_string(),
            )),
            (None, Some(_)) => Err(self.error(
                lat,
                "latitudine senza longitudine: indicare entrambe o nessuna".to_string(),
            )),
        }
    }

    /// The comune as ISTAT code, Belfiore code and name; at least one must be given.
    pub fn comune(&self, istat: F, belfiore: F, nome: F) -> Result<ComuneCells, RowError> {
        let comune_istat = self.parse_with(istat, parse_istat)?;
        let codice = self.parse_with(belfiore, parse_belfiore)?;
        let comune_nome = self.opt(nome);
        if comune_istat.is_none() && codice.is_none() && comune_nome.is_none() {
            let field = [istat, belfiore, nome]
                .into_iter()
                .find(|f| self.has(*f))
                .unwrap_or(nome);
            return Err(self.error(
                field,
                "comune mancante: indicare il codice ISTAT, il codice catastale o il nome"
                    .to_string(),
            ));
        }
        Ok((comune_istat, codice, comune_nome))
    }
}

fn parse_public(row: &Row<'_, Field>) -> Result<AlloggioPubblico, RowError> {
    row.parse()
}

impl Row<'_, Field> {
    fn parse(&self) -> Result<AlloggioPubblico, RowError> {
        let ente_proprietario = self.required(Field::EnteProprietario)?;
        let codice_unita = self.required(Field::CodiceUnita)?;
        let (comune_istat, belfiore, comune_nome) =
            self.comune(Field::ComuneIstat, Field::Belfiore, Field::ComuneNome)?;
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
        let lonlat = self.lonlat(Field::Lon, Field::Lat)?;
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
pub(crate) fn normalize_value(v: &str) -> String {
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

pub(crate) fn parse_bool(v: &str) -> Result<bool, String> {
    match v.trim().to_lowercase().as_str() {
        "sì" | "si" | "s" | "x" | "true" | "vero" | "1" => Ok(true),
        "no" | "n" | "false" | "falso" | "0" | "" => Ok(false),
        _ => Err(
            "valore sì/no non riconosciuto (attesi sì, no, s, n, x, true, false, 1, 0)".to_string(),
        ),
    }
}

/// `A/3`, `A03`, `A3`, `a 3` → `A/3`.
pub(crate) fn parse_categoria(v: &str) -> Result<String, String> {
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
pub(crate) fn parse_decimal(v: &str) -> Option<f64> {
    let t = v.trim();
    let normalized = match (t.rfind(','), t.rfind('.')) {
        (Some(c), Some(d)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (Some(_), None) => t.replace(',', "."),
        _ => t.to_string(),
    };
    normalized.parse::<f64>().ok().filter(|x| x.is_finite())
}

pub(crate) fn parse_superficie(v: &str) -> Result<f64, String> {
    match parse_decimal(v) {
        Some(x) if x > 0.0 => Ok(x),
        Some(_) => Err("la superficie deve essere maggiore di zero".to_string()),
        None => Err("superficie non numerica (ad esempio 72,5)".to_string()),
    }
}

pub(crate) fn parse_degrees(v: &str, limit: f64, what: &str) -> Result<f64, String> {
    match parse_decimal(v) {
        Some(x) if x.abs() <= limit => Ok(x),
        Some(_) => Err(format!(
            "{what} fuori intervallo (±{limit}): attese coordinate in gradi EPSG:4326"
        )),
        None => Err(format!("{what} non numerica")),
    }
}

pub(crate) fn parse_date(v: &str) -> Result<NaiveDate, String> {
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
pub(crate) fn parse_istat(v: &str) -> Result<String, String> {
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
pub(crate) fn parse_belfiore(v: &str) -> Result<String, String> {
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
