//! The one error of the table and feature readers (inventory, private stock, other public
//! property, service points, area estimates, comune boundaries).
//!
//! A [`ReadError`] names the file, the record (table row or GeoJSON feature), the field and the
//! value where the reader stopped, and says what is wrong with a [`ReadErrorKind`]. Its
//! `Display` is the message shown to the user, in Italian:
//!
//! * `inventario.csv: riga 4, colonna "stato", valore "affittato": stato non riconosciuto (…)`
//! * `confini.geojson: feature n. 2, campo name: proprietà mancante o vuota`
//! * `inventario.csv: colonna obbligatoria "stato" mancante (colonne trovate: …)`

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Where in the file a [`ReadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// 1-based line of a CSV file (the header is line 1) or row of a spreadsheet.
    Row(usize),
    /// 1-based position of a feature in a GeoJSON FeatureCollection.
    Feature(usize),
}

/// What is wrong. Each variant carries the Italian explanation shown after the place.
#[derive(Debug, Error)]
pub enum ReadErrorKind {
    /// The file cannot be read.
    #[error("{0}")]
    Io(std::io::Error),
    /// The file is not in the expected format (not CSV, spreadsheet or GeoJSON as expected,
    /// unreadable record, unsupported reference system).
    #[error("{0}")]
    Format(String),
    /// The file, the sheet or the collection holds no data.
    #[error("{0}")]
    Empty(String),
    /// A required column is missing; `expected` lists the accepted names (one is enough).
    #[error(
        "colonna obbligatoria {} mancante (colonne trovate: {})",
        quoted(expected).join(" o "),
        found.join(", ")
    )]
    MissingColumn {
        expected: Box<[String]>,
        found: Box<[String]>,
    },
    /// Two columns of the header name the same field.
    #[error(
        "le colonne \"{}\" e \"{}\" indicano entrambe \"{canonical}\": tenerne una sola",
        columns[0],
        columns[1]
    )]
    DuplicateColumn {
        canonical: String,
        /// The two headers, as written.
        columns: Box<[String; 2]>,
    },
    /// A required value (cell, property, geometry) is missing.
    #[error("{0}")]
    MissingValue(String),
    /// A value is not valid (not a number, out of range, malformed code).
    #[error("{0}")]
    InvalidValue(String),
    /// A date is not valid.
    #[error("{0}")]
    InvalidDate(String),
    /// A value is not one of the codes the field accepts (state, service…).
    #[error("{0}")]
    UnknownCode(String),
    /// Values of one record contradict each other (longitude without latitude, a date before
    /// the offer, more non-occupied dwellings than dwellings).
    #[error("{0}")]
    Inconsistent(String),
    /// A key already used by another record.
    #[error("{0}")]
    Duplicate(String),
    /// A geometry is missing parts, is of the wrong type or has coordinates out of range.
    #[error("{0}")]
    Geometry(String),
    /// Requested comuni whose boundaries are not in the file (ISTAT codes).
    #[error(
        "confini non trovati per {} comun{} (codici ISTAT): {}",
        missing.len(),
        if missing.len() == 1 { "e" } else { "i" },
        missing.join(", ")
    )]
    NotFound { missing: Vec<String> },
}

fn quoted(names: &[String]) -> Vec<String> {
    names.iter().map(|n| format!("\"{n}\"")).collect()
}

/// An error of a table or feature reader: file, record, field, value and kind.
#[derive(Debug)]
pub struct ReadError {
    pub file: PathBuf,
    pub record: Option<Record>,
    /// The column as written in the header (tables) or the property name (features).
    pub field: Option<String>,
    /// The value as read (tables: the trimmed cell, possibly empty). Boxed to keep the error
    /// small on the happy path's `Result`s.
    pub value: Option<Box<str>>,
    pub kind: ReadErrorKind,
}

impl ReadError {
    /// An error about the whole file.
    pub fn file(path: &Path, kind: ReadErrorKind) -> ReadError {
        ReadError {
            file: path.to_path_buf(),
            record: None,
            field: None,
            value: None,
            kind,
        }
    }

    /// An error about one field of a GeoJSON feature (1-based).
    pub fn feature(path: &Path, feature: usize, field: &str, kind: ReadErrorKind) -> ReadError {
        ReadError {
            file: path.to_path_buf(),
            record: Some(Record::Feature(feature)),
            field: Some(field.to_string()),
            value: None,
            kind,
        }
    }

    /// An I/O error reading `path`.
    pub fn io(path: &Path, source: std::io::Error) -> ReadError {
        ReadError::file(path, ReadErrorKind::Io(source))
    }

    /// The 1-based row of a table error.
    pub fn row(&self) -> Option<usize> {
        match self.record {
            Some(Record::Row(r)) => Some(r),
            _ => None,
        }
    }

    /// The 1-based feature of a GeoJSON error.
    pub fn feature_number(&self) -> Option<usize> {
        match self.record {
            Some(Record::Feature(f)) => Some(f),
            _ => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match self.record {
            None => {}
            Some(Record::Row(line)) => {
                write!(f, ": riga {line}")?;
                if let Some(column) = &self.field {
                    write!(f, ", colonna {column:?}")?;
                }
                if let Some(value) = &self.value {
                    write!(f, ", valore {value:?}")?;
                }
            }
            Some(Record::Feature(n)) => {
                write!(f, ": feature n. {n}")?;
                if let Some(field) = &self.field {
                    write!(f, ", campo {field}")?;
                }
                if let Some(value) = &self.value {
                    write!(f, ", valore {value}")?;
                }
            }
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for ReadError {}
