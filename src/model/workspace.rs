//! The workspace: the built model of an Ambito on disk.
//!
//! Layout of a workspace directory:
//! - `manifest.json` — format version, build time, inputs (path, size, SHA-256), counts, warnings;
//! - `model.json` — the whole model (internal format, read back by `serve` and `report`);
//! - `layers/<layer>.geojson` — each layer as RFC 7946 GeoJSON, for QGIS and analysts;
//! - `report/` — the Piano Annuale as JSON, CSV and HTML.
//!
//! Invariant: a build either replaces the workspace whole or leaves it untouched. Files are
//! written into a sibling staging directory, which is renamed into place only when complete.

use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Model;
use crate::atomic::{Access, StageError, StagedDir, Swap};

pub const FORMAT: &str = "abitare-workspace";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{target}: un'altra build dello stesso workspace è in corso; riprovare quando è terminata"
    )]
    Busy { target: PathBuf },
    #[error("{path}: workspace non valido: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: non è un workspace di abitare (manca manifest.json): eseguire prima `abitare build`")]
    NotAWorkspace { path: PathBuf },
}

impl From<StageError> for WorkspaceError {
    fn from(e: StageError) -> Self {
        match e {
            StageError::Io(e) => e.into(),
            StageError::Busy { target } => WorkspaceError::Busy { target },
        }
    }
}

impl From<crate::atomic::IoError> for WorkspaceError {
    fn from(e: crate::atomic::IoError) -> Self {
        WorkspaceError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One input file recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub formato: String,
    pub versione_formato: u32,
    pub versione_abitare: String,
    /// Build time, RFC 3339.
    pub creato: String,
    pub ambito: String,
    pub dimostrativo: bool,
    pub input: Vec<InputRecord>,
    /// Feature count per layer.
    pub conteggi: std::collections::BTreeMap<String, usize>,
    pub avvisi: Vec<String>,
    pub durata_ms: u128,
}

/// A workspace being written (a [`StagedDir`] beside the target). Dropped without
/// [`Staging::commit`], it removes itself.
#[derive(Debug)]
pub struct Staging {
    dir: StagedDir,
}

impl Staging {
    /// Creates an empty staging directory beside `target`.
    pub fn new(target: &Path) -> Result<Staging, WorkspaceError> {
        let dir = StagedDir::new(target, "build", Access::Owner, Swap::Link)?;
        for sub in ["layers", "report"] {
            dir.create_dir(sub)?;
        }
        Ok(Staging { dir })
    }

    /// The directory to write into.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file inside the staging directory through a buffered writer.
    pub fn write_file(
        &self,
        relative: &str,
        f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), WorkspaceError> {
        let path = self.path().join(relative);
        let file = self.dir.create_file(relative)?;
        let mut w = BufWriter::new(file);
        f(&mut w).map_err(io(&path))?;
        w.flush().map_err(io(&path))?;
        Ok(())
    }

    pub fn write_model(&self, model: &Model) -> Result<(), WorkspaceError> {
        self.write_file("model.json", |w| {
            serde_json::to_writer(w, model).map_err(std::io::Error::other)
        })
    }

    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), WorkspaceError> {
        self.write_file("manifest.json", |w| {
            serde_json::to_writer_pretty(w, manifest).map_err(std::io::Error::other)
        })
    }

    /// Moves the finished workspace into place, replacing the old one
    /// ([`StagedDir::commit`]).
    pub fn commit(self) -> Result<PathBuf, WorkspaceError> {
        Ok(self.dir.commit()?)
    }
}

/// Reads a workspace's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, WorkspaceError> {
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Err(WorkspaceError::NotAWorkspace {
            path: dir.to_path_buf(),
        });
    }
    let file = fs::File::open(&path).map_err(io(&path))?;
    let m: Manifest =
        serde_json::from_reader(BufReader::new(file)).map_err(|e| WorkspaceError::Invalid {
            path: path.clone(),
            message: e.to_string(),
        })?;
    if m.formato != FORMAT || m.versione_formato != FORMAT_VERSION {
        return Err(WorkspaceError::Invalid {
            path,
            message: format!(
                "formato {} versione {} (atteso {FORMAT} versione {FORMAT_VERSION}): ricostruire con `abitare build`",
                m.formato, m.versione_formato
            ),
        });
    }
    Ok(m)
}

/// Loads the model of a workspace.
pub fn load_model(dir: &Path) -> Result<Model, WorkspaceError> {
    read_manifest(dir)?;
    let path = dir.join("model.json");
    let file = fs::File::open(&path).map_err(io(&path))?;
    serde_json::from_reader(BufReader::new(file)).map_err(|e| WorkspaceError::Invalid {
        path,
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AmbitoInfo;

    fn model() -> Model {
        Model::empty(AmbitoInfo {
            numero: Some(9),
            nome: "Prova".into(),
            capofila: None,
            anno: 2026,
            data_riferimento: chrono::NaiveDate::from_ymd_opt(2025, 10, 27).expect("date"),
            dimostrativo: true,
        })
    }

    fn manifest() -> Manifest {
        Manifest {
            formato: FORMAT.into(),
            versione_formato: FORMAT_VERSION,
            versione_abitare: "test".into(),
            creato: "2026-01-01T00:00:00Z".into(),
            ambito: "Prova".into(),
            dimostrativo: true,
            input: vec![],
            conteggi: Default::default(),
            avvisi: vec![],
            durata_ms: 0,
        }
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("ws");
        let s = Staging::new(&target).expect("staging");
        s.write_model(&model()).expect("model");
        s.write_manifest(&manifest()).expect("manifest");
        s.commit().expect("commit");
        assert_eq!(load_model(&target).expect("load").ambito.nome, "Prova");

        // A second build that fails (dropped before commit) leaves the first intact.
        let s = Staging::new(&target).expect("staging");
        let staging_dir = s.path().to_path_buf();
        s.write_file("model.json", |w| w.write_all(b"{broken"))
            .expect("write");
        drop(s);
        assert!(!staging_dir.exists());
        assert_eq!(load_model(&target).expect("load").ambito.nome, "Prova");

        // Beside the workspace: its live generation and the lock file, nothing else.
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names[0].starts_with(".ws.gen-"), "{names:?}");
        assert_eq!(names[1..], [".ws.lock".to_string(), "ws".to_string()]);
    }

    #[test]
    fn missing_manifest_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = load_model(dir.path()).expect_err("not a workspace");
        assert!(e.to_string().contains("abitare build"), "{e}");
    }
}
