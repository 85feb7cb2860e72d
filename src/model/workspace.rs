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
    #[error("{path}: workspace non valido: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: non è un workspace di abitare (manca manifest.json): eseguire prima `abitare build`")]
    NotAWorkspace { path: PathBuf },
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

/// A workspace being written. Dropped without [`Staging::commit`], it removes itself.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates an empty staging directory beside `target`.
    pub fn new(target: &Path) -> Result<Staging, WorkspaceError> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| Path::new("."));
        fs::create_dir_all(parent).map_err(io(parent))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "workspace".into());
        let dir = parent.join(format!(".{name}.build-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io(&dir))?;
        }
        fs::create_dir_all(dir.join("layers")).map_err(io(&dir))?;
        fs::create_dir_all(dir.join("report")).map_err(io(&dir))?;
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// The directory to write into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a file inside the staging directory through a buffered writer.
    pub fn write_file(
        &self,
        relative: &str,
        f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), WorkspaceError> {
        let path = self.dir.join(relative);
        let file = fs::File::create(&path).map_err(io(&path))?;
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

    /// Moves the finished workspace into place, replacing the old one.
    ///
    /// The old workspace is first renamed aside, then the new one renamed into place, then the
    /// old one removed; if the second rename fails the old one is put back.
    pub fn commit(mut self) -> Result<PathBuf, WorkspaceError> {
        let old = self.dir.with_extension("old");
        let had_old = self.target.exists();
        if had_old {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(io(&old))?;
            }
            fs::rename(&self.target, &old).map_err(io(&self.target))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(WorkspaceError::Io {
                path: self.target.clone(),
                source: e,
            });
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
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

        // No leftovers beside the workspace.
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["ws".to_string()]);
    }

    #[test]
    fn missing_manifest_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = load_model(dir.path()).expect_err("not a workspace");
        assert!(e.to_string().contains("abitare build"), "{e}");
    }
}
