//! Reader of the public-housing inventory in abitare's canonical CSV (FORMATS.md §4).

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::AlloggioPubblico;

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
    let _ = (path, opts);
    todo!("inventory reader")
}
