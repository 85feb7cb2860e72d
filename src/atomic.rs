//! Files and folders replaced whole: a reader sees the old version or the new one, never half
//! of either, and a failed or interrupted write leaves the old one in place.
//!
//! A file is written to a hidden sibling, flushed to disk and renamed over the target; a folder
//! is filled in a hidden sibling ([`StagedDir`]) and swapped in by two renames. Both rely on
//! `rename` being atomic within one file system, which is why the siblings sit beside the
//! target and never in a temporary directory elsewhere.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file-system operation that failed, with the path it was about.
#[derive(Debug, Error)]
#[error("{path}: {source}")]
pub struct IoError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Maps an `io::Error` to an [`IoError`] about `path`.
pub fn at(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError {
        path: path.to_path_buf(),
        source,
    }
}

/// `dir/.name.<tag>-<pid>`: a hidden sibling of `path`, private to this process.
pub fn sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "abitare".into());
    parent_of(path).join(format!(".{name}.{tag}-{}", std::process::id()))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it, then renames it into place.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let parent = parent_of(path);
    fs::create_dir_all(&parent).map_err(at(&parent))?;
    let tmp = sibling(path, "tmp");
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(at(path))
}

/// A folder being filled beside its target. Dropped without [`StagedDir::commit`] (an error,
/// a panic), it removes itself and the target is untouched.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Creates an empty hidden sibling of `target` named after `tag` (a leftover of an earlier
    /// run of this same process id is removed first).
    pub fn new(target: &Path, tag: &str) -> Result<StagedDir, IoError> {
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(at(&parent))?;
        let dir = sibling(target, tag);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(at(&dir))?;
        }
        fs::create_dir_all(&dir).map_err(at(&dir))?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            dir,
            committed: false,
        })
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The folder this one will replace.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the finished folder into place, replacing the old one.
    ///
    /// The old folder is first renamed aside, then the new one renamed into place, then the
    /// old one removed; if the second rename fails the old one is put back.
    pub fn commit(mut self) -> Result<PathBuf, IoError> {
        let old = sibling(&self.target, "old");
        let had_old = self.target.exists();
        if had_old {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(at(&old))?;
            }
            fs::rename(&self.target, &old).map_err(at(&self.target))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(at(&self.target)(e));
        }
        self.committed = true;
        if had_old {
            fs::remove_dir_all(&old).map_err(at(&old))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_staging_leaves_the_target_alone() -> Result<(), IoError> {
        let tmp = tempfile::tempdir().map_err(at(Path::new(".")))?;
        let target = tmp.path().join("out");
        fs::create_dir_all(&target).map_err(at(&target))?;
        fs::write(target.join("a"), "old").map_err(at(&target))?;
        {
            let s = StagedDir::new(&target, "staging")?;
            fs::write(s.path().join("a"), "new").map_err(at(&target))?;
        }
        assert_eq!(
            fs::read_to_string(target.join("a")).ok().as_deref(),
            Some("old")
        );
        let left: Vec<_> = fs::read_dir(tmp.path())
            .map_err(at(tmp.path()))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out")]);
        Ok(())
    }

    #[test]
    fn a_committed_staging_replaces_the_target_whole() -> Result<(), IoError> {
        let tmp = tempfile::tempdir().map_err(at(Path::new(".")))?;
        let target = tmp.path().join("out");
        fs::create_dir_all(&target).map_err(at(&target))?;
        fs::write(target.join("stale"), "old").map_err(at(&target))?;
        let s = StagedDir::new(&target, "staging")?;
        fs::write(s.path().join("a"), "new").map_err(at(&target))?;
        s.commit()?;
        assert!(!target.join("stale").exists());
        assert_eq!(
            fs::read_to_string(target.join("a")).ok().as_deref(),
            Some("new")
        );
        assert_eq!(fs::read_dir(tmp.path()).map_err(at(tmp.path()))?.count(), 1);
        Ok(())
    }

    #[test]
    fn a_file_write_leaves_no_temporary_behind() -> Result<(), IoError> {
        let tmp = tempfile::tempdir().map_err(at(Path::new(".")))?;
        let p = tmp.path().join("sub").join("f.txt");
        write_file(&p, b"uno")?;
        write_file(&p, b"due")?;
        assert_eq!(fs::read_to_string(&p).ok().as_deref(), Some("due"));
        assert_eq!(
            fs::read_dir(tmp.path().join("sub"))
                .map_err(at(tmp.path()))?
                .count(),
            1
        );
        Ok(())
    }
}
