//! Reader of PGT layers (Shapefile, Regione Lombardia schema) with the built-in regional mapping.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::{Vincolo, ZonaPgt};

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
}

/// Reads every shapefile in `dir` and in its immediate subfolders (one per comune).
pub fn read_pgt_dir(dir: &Path) -> Result<PgtRead, PgtError> {
    let _ = dir;
    todo!("PGT reader")
}
