//! Generation of the demonstration Ambito 9 as real-format input files (cadastral GML, PGT
//! shapefiles, inventory CSV, comune boundaries) plus its `abitare.toml`. The files then go
//! through exactly the same readers and pipeline as real data.

use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DemoError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct GeneratedDemo {
    /// The project file, ready for `abitare build`.
    pub project: PathBuf,
    /// Every file written, relative to the output directory, in a stable order.
    pub files: Vec<PathBuf>,
}

/// Writes the demo Ambito's input files and project file into `out_dir` (created if needed).
/// Deterministic: the same bytes on every run.
pub fn generate(out_dir: &Path) -> Result<GeneratedDemo, DemoError> {
    let _ = out_dir;
    todo!("demo generator")
}
