//! The manifest's record of the inputs: path, size and SHA-256 of every file read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{io, PipelineError};
use crate::model::workspace::InputRecord;

/// The records of `files`, in order.
pub fn record_inputs(files: &[PathBuf]) -> Result<Vec<InputRecord>, PipelineError> {
    let mut records = Vec::with_capacity(files.len());
    for f in files {
        record_input(f, &mut records)?;
    }
    Ok(records)
}

/// Appends the record of `path` (size and SHA-256, read in 64 KiB blocks).
pub fn record_input(path: &Path, records: &mut Vec<InputRecord>) -> Result<(), PipelineError> {
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    records.push(InputRecord {
        path: path.display().to_string(),
        bytes,
        sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
    });
    Ok(())
}
