//! Streaming reader of the Agenzia delle Entrate cadastral GML (MapServer form, FORMATS.md §1).

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::{Foglio, Particella};

/// One feature of a cadastral GML file.
#[derive(Debug, Clone, PartialEq)]
pub enum CadastralFeature {
    Particella(Particella),
    Foglio(Foglio),
}

/// What a GML file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GmlSummary {
    /// File name (or the name given for a stream), for messages.
    pub source: String,
    /// EPSG code of the `srsName` found.
    pub crs: Option<u16>,
    pub particelle: usize,
    pub fogli: usize,
    /// Non-fatal remarks (features skipped and why), in Italian.
    pub avvisi: Vec<String>,
}

#[derive(Debug, Error)]
pub enum GmlError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
}

/// Reads a `_ple.gml` / `_map.gml` file (or a WFS answer), streaming every feature to `sink`.
pub fn read_gml_file(
    path: &Path,
    sink: &mut dyn FnMut(CadastralFeature),
) -> Result<GmlSummary, GmlError> {
    let _ = (path, sink);
    todo!("GML reader")
}

/// Same as [`read_gml_file`] over any buffered reader; `source` names it in messages.
pub fn read_gml<R: std::io::BufRead>(
    reader: R,
    source: &str,
    sink: &mut dyn FnMut(CadastralFeature),
) -> Result<GmlSummary, GmlError> {
    let _ = (reader, source, sink);
    todo!("GML reader")
}
