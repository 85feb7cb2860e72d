//! The generic table reader shared by the table inputs (inventory, private offers, other
//! public property, service points as a table).
//!
//! A table is a CSV file (`,`, `;` or tab as delimiter, detected from the header line; UTF-16
//! LE/BE with or without BOM as Excel's "Testo Unicode" saves it, UTF-8 with or without BOM, or
//! Windows-1252 when the bytes are not valid UTF-8) or the first sheet of a
//! spreadsheet (XLSX, XLS, ODS through `calamine`: numbers written as the CSV reader expects
//! them, date cells as ISO dates, line = sheet row). Header names are normalised (lower case,
//! no accents, spaces/dashes/dots as `_`) and recognised through each schema's aliases (a
//! [`TableField`] enum). Rows are handed to the schema's conversion one by one as a [`Row`],
//! whose accessors turn cells into typed values and errors into a [`ReadError`] naming file,
//! line, column and value. A row that breaks a rule rejects the whole file, unless the caller
//! asks to skip bad rows, in which case each skipped row is listed.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use geo::Point;

use super::error::{ReadError, ReadErrorKind, Record};
use crate::model::normalize::normalize_key;

/// How a table is read.
#[derive(Debug, Clone, Default)]
pub struct TableOptions {
    /// Skip rows that break a rule (each is listed) instead of rejecting the file.
    pub skip_bad_rows: bool,
}

/// The columns a schema understands: recognised from normalised header names.
pub(crate) trait TableField: Copy + Eq + Hash {
    fn from_normalized(name: &str) -> Option<Self>;
    /// The canonical column name, for messages.
    fn canonical(self) -> &'static str;
}

/// The columns a schema needs: every one of `required`, and one at least of each `one_of`.
pub(crate) struct Schema<F: 'static> {
    pub required: &'static [F],
    pub one_of: &'static [&'static [F]],
}

/// A table converted row by row.
#[derive(Debug)]
pub(crate) struct Parsed<T, F> {
    pub items: Vec<T>,
    pub skipped: Vec<ReadError>,
    pub columns: Columns<F>,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE`, `windows-1252` or `XLSX`.
    pub encoding: &'static str,
    /// The CSV delimiter; `0` for a spreadsheet.
    pub delimiter: u8,
}

/// The bytes of a table file, or an error naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, ReadError> {
    std::fs::read(path).map_err(|source| ReadError::io(path, source))
}

/// Reads a table (`path` names it in messages), checks its header against `schema` and
/// converts every row with `convert`. A failing row rejects the table unless `opts` says to
/// skip it (then it is listed). A table with no data row is an error.
pub(crate) fn read_rows<F: TableField, T>(
    bytes: &[u8],
    path: &Path,
    schema: &Schema<F>,
    opts: &TableOptions,
    mut convert: impl FnMut(&Row<'_, F>) -> Result<T, ReadError>,
) -> Result<Parsed<T, F>, ReadError> {
    let table = read_table(bytes, path)?;
    let columns = Columns::<F>::from_header(&table.header).map_err(|e| table.error(e))?;
    columns
        .require(schema.required)
        .map_err(|e| table.error(e))?;
    for group in schema.one_of {
        columns.require_one_of(group).map_err(|e| table.error(e))?;
    }
    if table.rows.is_empty() {
        return Err(table.error((
            None,
            ReadErrorKind::Empty(
                "il file contiene solo l'intestazione: nessuna riga di dati".to_string(),
            ),
        )));
    }
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for r in &table.rows {
        let row = Row {
            cells: &r.cells,
            columns: &columns,
            path: &table.path,
            line: r.line,
        };
        match convert(&row) {
            Ok(v) => items.push(v),
            Err(e) if opts.skip_bad_rows => skipped.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok(Parsed {
        items,
        skipped,
        columns,
        encoding: table.encoding,
        delimiter: table.delimiter,
    })
}

/// A table read from a CSV file or from the first sheet of a spreadsheet: the header and the
/// non-blank data rows with their line (CSV) or row (spreadsheet) numbers, 1-based.
#[derive(Debug)]
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<TableRow>,
    encoding: &'static str,
    delimiter: u8,
}

#[derive(Debug)]
struct TableRow {
    line: usize,
    cells: Vec<String>,
}

impl Table {
    /// An error about the table as a whole, with the field it is about.
    fn error(&self, (field, kind): (Option<String>, ReadErrorKind)) -> ReadError {
        ReadError {
            field,
            ..ReadError::file(&self.path, kind)
        }
    }
}

/// Reads a table: a spreadsheet (XLSX, XLS, ODS: first sheet) when the bytes are one, else CSV.
fn read_table(bytes: &[u8], path: &Path) -> Result<Table, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        read_spreadsheet(bytes, path)
    } else {
        read_csv_table(bytes, path)
    }
}

fn read_csv_table(bytes: &[u8], path: &Path) -> Result<Table, ReadError> {
    let invalid = |message: String| ReadError::file(path, ReadErrorKind::Format(message));
    let empty = |message: &str| ReadError::file(path, ReadErrorKind::Empty(message.to_string()));
    let (text, encoding) = decode(bytes).map_err(invalid)?;
    let Some(header_line) = text.lines().find(|l| !l.trim().is_empty()) else {
        return Err(empty(
            "il file è vuoto: attesa una riga di intestazione con i nomi delle colonne",
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
            None => return Err(empty("il file è vuoto: attesa una riga di intestazione")),
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
fn read_spreadsheet(bytes: &[u8], path: &Path) -> Result<Table, ReadError> {
    use calamine::{Data, Reader};
    let invalid = |message: String| ReadError::file(path, ReadErrorKind::Format(message));
    let empty = |message: &str| ReadError::file(path, ReadErrorKind::Empty(message.to_string()));
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| invalid(format!("foglio di calcolo non leggibile: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| empty("il foglio di calcolo non contiene fogli"))?
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
    let header =
        header.ok_or_else(|| empty("il primo foglio è vuoto: attesa una riga di intestazione"))?;
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

/// UTF-16 byte order of a text, from its BOM or, without one, from the NUL bytes that every
/// ASCII character (all of a CSV header, most of its rows) leaves in the other half of its
/// code unit, as Excel's "Testo Unicode" writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Utf16 {
    Le,
    Be,
}

/// How many bytes the NUL pattern is looked for in.
const UTF16_SNIFF_BYTES: usize = 4096;

fn detect_utf16(bytes: &[u8]) -> Option<(Utf16, usize)> {
    if bytes.starts_with(b"\xFF\xFE") && !bytes.starts_with(b"\xFF\xFE\x00\x00") {
        return Some((Utf16::Le, 2));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some((Utf16::Be, 2));
    }
    let sample = &bytes[..bytes.len().min(UTF16_SNIFF_BYTES) & !1];
    let units = sample.len() / 2;
    if units < 2 {
        return None;
    }
    let zeros = |offset: usize| {
        sample
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    // At least 70% of one half NUL, and almost none of the other.
    let mostly = |n: usize| n * 10 >= units * 7;
    let hardly = |n: usize| n * 10 < units;
    if mostly(odd) && hardly(even) {
        Some((Utf16::Le, 0))
    } else if mostly(even) && hardly(odd) {
        Some((Utf16::Be, 0))
    } else {
        None
    }
}

/// UTF-16 (LE or BE, BOM or not) decoded; else UTF-8 (BOM removed) when valid; else
/// Windows-1252. A text that still holds NUL characters is not a text table (UTF-32, a binary
/// file): it is refused here, so that no message shows its bytes.
fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, &'static str), String> {
    let (text, encoding) = if let Some((order, bom)) = detect_utf16(bytes) {
        let (encoding, label) = match order {
            Utf16::Le => (encoding_rs::UTF_16LE, "UTF-16LE"),
            Utf16::Be => (encoding_rs::UTF_16BE, "UTF-16BE"),
        };
        let text = encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[bom..])
            .ok_or_else(|| {
                format!(
                    "il file sembra in {label} (Unicode) ma contiene sequenze non valide in quella \
                     codifica: salvarlo come \"CSV UTF-8 (delimitato da virgole)\" o \"CSV (delimitato \
                     dal separatore di elenco)\""
                )
            })?;
        (text, label)
    } else {
        let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match std::str::from_utf8(without_bom) {
            Ok(s) => (std::borrow::Cow::Borrowed(s), "UTF-8"),
            Err(_) => {
                let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                (s, "windows-1252")
            }
        }
    };
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        return Err(format!(
            "il file contiene byte nulli (riga {line}): non è un CSV di testo (forse è in UTF-32 o \
             è un file binario); salvarlo come \"CSV UTF-8 (delimitato da virgole)\""
        ));
    }
    Ok((text, encoding))
}

/// The delimiter the header uses most outside quotes: `;`, a tab (Excel's "Testo Unicode" and
/// "Testo delimitato da tabulazione") or, by default, `,`.
fn detect_delimiter(header: &str) -> u8 {
    let mut in_quotes = false;
    let (mut semicolons, mut commas, mut tabs) = (0usize, 0usize, 0usize);
    for c in header.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => semicolons += 1,
            ',' if !in_quotes => commas += 1,
            '\t' if !in_quotes => tabs += 1,
            _ => {}
        }
    }
    if tabs > semicolons && tabs > commas {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

/// Lower case, accents removed, every run of other characters turned into one `_`.
pub fn normalize_header(name: &str) -> String {
    normalize_key(name)
}

/// Lower case, accents removed, runs of spaces/punctuation as one `_`.
pub(crate) fn normalize_value(v: &str) -> String {
    normalize_header(v)
}

/// A header-level problem: the field it is about (canonical name) and the kind.
type HeaderError = (Option<String>, ReadErrorKind);

/// Where each known field is in the file, and its header as written.
#[derive(Debug)]
pub(crate) struct Columns<F> {
    index: HashMap<F, (usize, String)>,
    written: Vec<String>,
}

impl<F: TableField> Columns<F> {
    /// Recognises the header; two columns naming the same field are an error.
    fn from_header(header: &[String]) -> Result<Columns<F>, HeaderError> {
        let mut index: HashMap<F, (usize, String)> = HashMap::new();
        let written: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        for (i, name) in written.iter().enumerate() {
            let Some(field) = F::from_normalized(&normalize_header(name)) else {
                continue;
            };
            if let Some((_, first)) = index.get(&field) {
                return Err((
                    Some(field.canonical().to_string()),
                    ReadErrorKind::DuplicateColumn {
                        canonical: field.canonical().to_string(),
                        columns: Box::new([first.clone(), name.clone()]),
                    },
                ));
            }
            index.insert(field, (i, name.clone()));
        }
        Ok(Columns { index, written })
    }

    /// Every one of `fields` must be present.
    fn require(&self, fields: &[F]) -> Result<(), HeaderError> {
        match fields.iter().find(|f| !self.has(**f)) {
            Some(f) => Err(self.missing(&[*f])),
            None => Ok(()),
        }
    }

    /// At least one of `fields` must be present.
    fn require_one_of(&self, fields: &[F]) -> Result<(), HeaderError> {
        if fields.iter().any(|f| self.has(*f)) {
            Ok(())
        } else {
            Err(self.missing(fields))
        }
    }

    fn missing(&self, fields: &[F]) -> HeaderError {
        (
            fields.first().map(|f| f.canonical().to_string()),
            ReadErrorKind::MissingColumn {
                expected: fields.iter().map(|f| f.canonical().to_string()).collect(),
                found: self.written.clone().into(),
            },
        )
    }

    pub fn has(&self, field: F) -> bool {
        self.index.contains_key(&field)
    }
}

/// A row's comune: ISTAT code, Belfiore code, name (at least one is given).
pub(crate) type ComuneCells = (Option<String>, Option<String>, Option<String>);

/// One data row being converted: typed cells, and errors naming file, line, column and value.
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

    /// An error about a field of this row: the column as written and the cell are named.
    pub fn error(&self, field: F, kind: ReadErrorKind) -> ReadError {
        let column = self
            .columns
            .index
            .get(&field)
            .map_or_else(|| field.canonical().to_string(), |(_, h)| h.clone());
        ReadError {
            file: self.path.to_path_buf(),
            record: Some(Record::Row(self.line)),
            field: Some(column),
            value: Some(self.cell(field).into()),
            kind,
        }
    }

    pub fn required(&self, field: F) -> Result<String, ReadError> {
        self.opt(field).ok_or_else(|| {
            self.error(
                field,
                ReadErrorKind::MissingValue("valore obbligatorio mancante".to_string()),
            )
        })
    }

    /// The cell parsed with `parse`; `None` when empty.
    pub fn parse_with<T>(
        &self,
        field: F,
        parse: impl Fn(&str) -> Result<T, ReadErrorKind>,
    ) -> Result<Option<T>, ReadError> {
        let v = self.cell(field);
        if v.is_empty() {
            return Ok(None);
        }
        parse(v).map(Some).map_err(|k| self.error(field, k))
    }

    /// The cell parsed with `parse`; when empty, a missing value explained by `hint`.
    pub fn required_with<T>(
        &self,
        field: F,
        parse: impl Fn(&str) -> Result<T, ReadErrorKind>,
        hint: &str,
    ) -> Result<T, ReadError> {
        self.parse_with(field, parse)?.ok_or_else(|| {
            self.error(
                field,
                ReadErrorKind::MissingValue(format!("valore obbligatorio mancante{hint}")),
            )
        })
    }

    pub fn flag(&self, field: F) -> Result<bool, ReadError> {
        Ok(self.parse_with(field, parse_bool)?.unwrap_or(false))
    }

    /// `lon`/`lat` as a point: both or neither.
    pub fn lonlat(&self, lon: F, lat: F) -> Result<Option<Point<f64>>, ReadError> {
        let x = self.parse_with(lon, |v| parse_degrees(v, 180.0, "longitudine"))?;
        let y = self.parse_with(lat, |v| parse_degrees(v, 90.0, "latitudine"))?;
        let inconsistent = |m: &str| ReadErrorKind::Inconsistent(m.to_string());
        match (x, y) {
            (Some(x), Some(y)) => Ok(Some(Point::new(x, y))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(self.error(
                lon,
                inconsistent("longitudine senza latitudine: indicare entrambe o nessuna"),
            )),
            (None, Some(_)) => Err(self.error(
                lat,
                inconsistent("latitudine senza longitudine: indicare entrambe o nessuna"),
            )),
        }
    }

    /// The comune as ISTAT code, Belfiore code and name; at least one must be given.
    pub fn comune(&self, istat: F, belfiore: F, nome: F) -> Result<ComuneCells, ReadError> {
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
                ReadErrorKind::MissingValue(
                    "comune mancante: indicare il codice ISTAT, il codice catastale o il nome"
                        .to_string(),
                ),
            ));
        }
        Ok((comune_istat, codice, comune_nome))
    }

    /// Records `key` as seen at this row; a key seen before is a [`ReadErrorKind::Duplicate`]
    /// on `field`, explained by `message(first line)`.
    pub fn unique<K: Eq + Hash>(
        &self,
        seen: &mut HashMap<K, usize>,
        key: K,
        field: F,
        message: impl FnOnce(usize) -> String,
    ) -> Result<(), ReadError> {
        match seen.get(&key) {
            Some(first) => Err(self.error(field, ReadErrorKind::Duplicate(message(*first)))),
            None => {
                seen.insert(key, self.line);
                Ok(())
            }
        }
    }
}

pub(crate) fn parse_bool(v: &str) -> Result<bool, ReadErrorKind> {
    match v.trim().to_lowercase().as_str() {
        "sì" | "si" | "s" | "x" | "true" | "vero" | "1" => Ok(true),
        "no" | "n" | "false" | "falso" | "0" | "" => Ok(false),
        _ => Err(ReadErrorKind::InvalidValue(
            "valore sì/no non riconosciuto (attesi sì, no, s, n, x, true, false, 1, 0)".to_string(),
        )),
    }
}

/// `A/3`, `A03`, `A3`, `a 3` → `A/3`.
pub(crate) fn parse_categoria(v: &str) -> Result<String, ReadErrorKind> {
    let compact: String = v
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '/' && *c != '-' && *c != '.')
        .collect::<String>()
        .to_ascii_uppercase();
    let mut chars = compact.chars();
    let invalid = || {
        ReadErrorKind::UnknownCode(
            "categoria catastale non valida (attese ad esempio A/3, A03 o A3; gruppi A–F)"
                .to_string(),
        )
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
        return Err(ReadErrorKind::UnknownCode(format!(
            "categoria catastale non valida: il gruppo {letter} va da {letter}/1 a {letter}/{max}"
        )));
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

pub(crate) fn parse_superficie(v: &str) -> Result<f64, ReadErrorKind> {
    match parse_decimal(v) {
        Some(x) if x > 0.0 => Ok(x),
        Some(_) => Err(ReadErrorKind::InvalidValue(
            "la superficie deve essere maggiore di zero".to_string(),
        )),
        None => Err(ReadErrorKind::InvalidValue(
            "superficie non numerica (ad esempio 72,5)".to_string(),
        )),
    }
}

pub(crate) fn parse_degrees(v: &str, limit: f64, what: &str) -> Result<f64, ReadErrorKind> {
    match parse_decimal(v) {
        Some(x) if x.abs() <= limit => Ok(x),
        Some(_) => Err(ReadErrorKind::InvalidValue(format!(
            "{what} fuori intervallo (±{limit}): attese coordinate in gradi EPSG:4326"
        ))),
        None => Err(ReadErrorKind::InvalidValue(format!("{what} non numerica"))),
    }
}

pub(crate) fn parse_date(v: &str) -> Result<NaiveDate, ReadErrorKind> {
    let t = v.trim();
    NaiveDate::parse_from_str(t, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
        .ok()
        .filter(|d| {
            use chrono::Datelike;
            (1900..=2100).contains(&d.year())
        })
        .ok_or_else(|| {
            ReadErrorKind::InvalidDate("data non valida (attese gg/mm/aaaa o aaaa-mm-gg)".into())
        })
}

/// Six digits; five-digit values (a spreadsheet dropped the leading zero) are padded.
pub(crate) fn parse_istat(v: &str) -> Result<String, ReadErrorKind> {
    let t = v.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        match t.len() {
            6 => return Ok(t.to_string()),
            5 => return Ok(format!("0{t}")),
            _ => {}
        }
    }
    Err(ReadErrorKind::InvalidValue(
        "codice ISTAT del comune non valido (attese 6 cifre, ad esempio 016077)".to_string(),
    ))
}

/// A letter and three digits (`C800`), upper-cased.
pub(crate) fn parse_belfiore(v: &str) -> Result<String, ReadErrorKind> {
    let t = v.trim().to_ascii_uppercase();
    let mut chars = t.chars();
    let ok = t.len() == 4
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_digit());
    if ok {
        Ok(t)
    } else {
        Err(ReadErrorKind::InvalidValue(
            "codice catastale (Belfiore) non valido (attesi una lettera e tre cifre, ad esempio C800)"
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn utf16_is_detected_by_bom_or_nul_pattern() {
        assert_eq!(detect_utf16(b"\xFF\xFEa\0"), Some((Utf16::Le, 2)));
        assert_eq!(detect_utf16(b"\xFE\xFF\0a"), Some((Utf16::Be, 2)));
        assert_eq!(detect_utf16(&utf16le("ente;codice")), Some((Utf16::Le, 0)));
        let be: Vec<u8> = "ente;codice"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(detect_utf16(&be), Some((Utf16::Be, 0)));
        // UTF-32LE BOM, plain text, one stray NUL: not UTF-16.
        assert_eq!(detect_utf16(b"\xFF\xFE\0\0a\0\0\0"), None);
        assert_eq!(detect_utf16(b"ente;codice"), None);
        assert_eq!(detect_utf16(b"ente;\0codice"), None);
        let bytes = utf16le("città;sì");
        let (text, label) = decode(&bytes).expect("decoded");
        assert_eq!((text.as_ref(), label), ("città;sì", "UTF-16LE"));
        assert_eq!(detect_delimiter("a\tb\tc;d"), b'\t');
    }

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
            assert_eq!(parse_categoria(v).ok().as_deref(), Some("A/3"), "{v}");
        }
        assert_eq!(parse_categoria("A/10").ok().as_deref(), Some("A/10"));
        assert_eq!(parse_categoria("c6").ok().as_deref(), Some("C/6"));
        for v in ["A/12", "A/0", "G1", "A", "3", "AB3", "A/123"] {
            assert!(
                matches!(parse_categoria(v), Err(ReadErrorKind::UnknownCode(_))),
                "{v}"
            );
        }
    }

    #[test]
    fn values_are_recognised() {
        assert_eq!(parse_bool("Sì").ok(), Some(true));
        assert_eq!(parse_bool("X").ok(), Some(true));
        assert_eq!(parse_bool("N").ok(), Some(false));
        assert!(matches!(
            parse_bool("forse"),
            Err(ReadErrorKind::InvalidValue(_))
        ));
        assert_eq!(parse_decimal("1.234,5"), Some(1234.5));
        assert_eq!(parse_decimal("72,5"), Some(72.5));
        assert_eq!(parse_decimal("1,234.5"), Some(1234.5));
        assert_eq!(parse_istat("16077").ok().as_deref(), Some("016077"));
        assert!(matches!(
            parse_istat("1607"),
            Err(ReadErrorKind::InvalidValue(_))
        ));
        assert!(matches!(
            parse_date("31/02/2024"),
            Err(ReadErrorKind::InvalidDate(_))
        ));
        assert_eq!(detect_delimiter("a;b;\"c,d\""), b';');
        assert_eq!(detect_delimiter("a,b,c"), b',');
    }
}
