//! Reader of comune boundaries (GeoJSON with ISTAT/openpolis properties).

use std::path::{Path, PathBuf};

use geo::MultiPolygon;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryFeature {
    pub istat: String,
    pub belfiore: Option<String>,
    pub nome: String,
    pub geometry: MultiPolygon<f64>,
}

#[derive(Debug, Error)]
pub enum BoundaryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Reads the boundaries of the comuni whose ISTAT code is in `wanted` (all when empty).
pub fn read_boundaries(
    path: &Path,
    wanted: &[String],
) -> Result<Vec<BoundaryFeature>, BoundaryError> {
    let _ = (path, wanted);
    todo!("boundaries reader")
}
