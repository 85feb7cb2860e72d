//! Files and folders replaced whole: a reader sees the old version or the new one, never half
//! of either, and a failed or interrupted write leaves the old one in place.
//!
//! A file is written to a hidden sibling, flushed to disk and renamed over the target. A folder
//! is filled in a hidden sibling ([`StagedDir`]) while an exclusive lock on the target is held
//! (a second writer is refused, not interleaved). With [`Swap::Link`] the finished folder
//! becomes a generation `.name.gen-…`, and the target is a symbolic link to the live
//! generation, replaced by one `rename`: a process killed at any point leaves the old
//! generation or the new one in place, never neither. [`Swap::Rename`] keeps a plain folder
//! (for exports people copy) at the price of a window between two renames. Leftovers of killed writers (staging folders, unused generations, temporary
//! links) are removed by the next writer, under the lock. All of it relies on `rename` being
//! atomic within one file system, which is why the siblings sit beside the target.
//!
//! A target that is still a plain folder (written before generations existed) is moved aside
//! and replaced by the link once; only that one-time step has a window, between two renames,
//! in which a kill leaves the old folder beside the target instead of at it.

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

/// Why a folder could not be staged or swapped in.
#[derive(Debug, Error)]
pub enum StageError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{target}: un'altra scrittura è in corso (un'altra build o esportazione sulla stessa cartella); riprovare quando è terminata")]
    Busy { target: PathBuf },
}

/// The environment variable that names a fault point at which the process aborts, to test
/// that a kill at that point loses nothing (see [`fault_point`]).
pub const FAULT_ENV: &str = "ABITARE_FAULT_AT";

/// Aborts the process, as a kill would, when [`FAULT_ENV`] names `point`. The points are
/// `atomic:staged` (folder written, not yet swapped), `atomic:renamed` (generation named,
/// link not yet replaced), `atomic:swapped` (new generation live, old one not yet removed)
/// and the pipeline's own (`pipeline:locked`, `pipeline:written`).
pub fn fault_point(point: &str) {
    if std::env::var_os(FAULT_ENV).is_some_and(|v| v == point) {
        std::process::abort();
    }
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
    let name = file_name_of(path);
    parent_of(path).join(format!(".{name}.{tag}-{}", std::process::id()))
}

/// Tags of the siblings a writer leaves behind when it is killed.
const LEFTOVER_TAGS: [&str; 6] = ["build", "staging", "tmp", "old", "link", "gen"];

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "abitare".into())
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

/// How a finished [`StagedDir`] replaces its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// The target is a symbolic link to the live generation, replaced by one `rename`: safe
    /// under a kill at any point (the workspace).
    Link,
    /// The target is a plain folder: the old one is renamed aside, the new one into place, the
    /// old one removed. A kill between the two renames leaves the old folder beside the target
    /// (put back by the next writer). For folders people copy and share (exports), where a
    /// link would be copied as a link.
    Rename,
}

/// An exclusive lock on writing `target`, held as long as the value lives (an advisory lock
/// on the file `.name.lock` beside it; the file itself stays, the lock goes with the process).
#[derive(Debug)]
pub struct Lock {
    _file: fs::File,
}

impl Lock {
    /// Takes the lock, or answers [`StageError::Busy`] at once if another process holds it.
    pub fn exclusive(target: &Path) -> Result<Lock, StageError> {
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(at(&parent))?;
        let path = parent.join(format!(".{}.lock", file_name_of(target)));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(at(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(StageError::Busy {
                target: target.to_path_buf(),
            }),
            Err(fs::TryLockError::Error(e)) => Err(at(&path)(e).into()),
        }
    }
}

/// Who may read what a [`StagedDir`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The umask decides (files for anyone, such as public exports).
    Default,
    /// The owner only (`0700` folders, `0600` files on Unix): unit-level and private data.
    Owner,
}

/// A folder being filled beside its target, under the target's [`Lock`]. Dropped without
/// [`StagedDir::commit`] (an error, a panic), it removes itself and the target is untouched.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    dir: PathBuf,
    access: Access,
    swap: Swap,
    committed: bool,
    _lock: Lock,
}

impl StagedDir {
    /// Locks `target`, removes what killed writers left beside it, and creates an empty
    /// hidden sibling named after `tag`.
    pub fn new(
        target: &Path,
        tag: &str,
        access: Access,
        swap: Swap,
    ) -> Result<StagedDir, StageError> {
        let lock = Lock::exclusive(target)?;
        remove_leftovers(target)?;
        let dir = sibling(target, tag);
        create_dir(&dir, access)?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            dir,
            access,
            swap,
            committed: false,
            _lock: lock,
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

    /// Creates a sub-folder (with the staging's access).
    pub fn create_dir(&self, relative: &str) -> Result<PathBuf, IoError> {
        let p = self.dir.join(relative);
        create_dir(&p, self.access)?;
        Ok(p)
    }

    /// Creates (truncates) a file inside the folder, with the staging's access.
    pub fn create_file(&self, relative: &str) -> Result<fs::File, IoError> {
        let p = self.dir.join(relative);
        let mut o = fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if self.access == Access::Owner {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o.open(&p).map_err(at(&p))
    }

    /// Makes the finished folder the target's content, replacing the old one in one step.
    pub fn commit(mut self) -> Result<PathBuf, IoError> {
        fault_point("atomic:staged");
        match self.swap {
            Swap::Link => swap_in(&self.dir, &self.target)?,
            Swap::Rename => rename_in(&self.dir, &self.target)?,
        }
        self.committed = true;
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

fn create_dir(dir: &Path, access: Access) -> Result<(), IoError> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(at(dir))?;
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    if access == Access::Owner {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    #[cfg(not(unix))]
    let _ = access;
    b.create(dir).map_err(at(dir))
}

/// The generation `target` links to, as a sibling's file name (`None`: not a link of ours).
fn live_generation(target: &Path) -> Option<String> {
    let link = fs::read_link(target).ok()?;
    let name = link.to_str()?;
    let ours = name.starts_with(&format!(".{}.gen-", file_name_of(target)))
        && !name.contains(std::path::MAIN_SEPARATOR);
    ours.then(|| name.to_string())
}

/// Removes the siblings of `target` that killed writers left (call it under the lock). A
/// folder moved aside by a writer killed before it could put the new one in place is first
/// put back, if nothing took its place.
fn remove_leftovers(target: &Path) -> Result<(), IoError> {
    let parent = parent_of(target);
    if fs::symlink_metadata(target).is_err() {
        let prefix = format!(".{}.old-", file_name_of(target));
        let moved_aside = fs::read_dir(&parent)
            .map_err(at(&parent))?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with(&prefix));
        if let Some(e) = moved_aside {
            fs::rename(e.path(), target).map_err(at(target))?;
        }
    }
    let live = live_generation(target);
    let prefix = format!(".{}.", file_name_of(target));
    let entries = fs::read_dir(&parent).map_err(at(&parent))?;
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let leftover = LEFTOVER_TAGS
            .iter()
            .any(|t| rest.strip_prefix(t).is_some_and(|r| r.starts_with('-')));
        if !leftover || live.as_deref() == Some(name.as_str()) {
            continue;
        }
        let p = e.path();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let removed = if is_dir {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        removed.map_err(at(&p))?;
    }
    Ok(())
}

/// Makes `staged` the content of `target`: renames it to a new generation, points a fresh
/// link at it and renames the link over `target`, then removes the previous generation.
#[cfg(unix)]
fn swap_in(staged: &Path, target: &Path) -> Result<(), IoError> {
    let parent = parent_of(target);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let gen_name = format!(
        ".{}.gen-{stamp}-{}",
        file_name_of(target),
        std::process::id()
    );
    let generation = parent.join(&gen_name);
    fs::rename(staged, &generation).map_err(at(&generation))?;
    fault_point("atomic:renamed");
    let link = sibling(target, "link");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(&gen_name, &link).map_err(at(&link))?;
    let previous = live_generation(target);
    let plain = fs::symlink_metadata(target)
        .map(|m| !m.file_type().is_symlink())
        .unwrap_or(false);
    if plain {
        // A folder written before generations: moved aside once, removed once replaced.
        let old = sibling(target, "old");
        fs::rename(target, &old).map_err(at(target))?;
        if let Err(e) = fs::rename(&link, target) {
            let _ = fs::rename(&old, target);
            return Err(at(target)(e));
        }
        let removed = if old.is_dir() {
            fs::remove_dir_all(&old)
        } else {
            fs::remove_file(&old)
        };
        removed.map_err(at(&old))?;
    } else {
        fs::rename(&link, target).map_err(at(target))?;
    }
    fault_point("atomic:swapped");
    if let Some(prev) = previous.filter(|p| *p != gen_name) {
        let p = parent.join(prev);
        fs::remove_dir_all(&p).map_err(at(&p))?;
    }
    Ok(())
}

/// The old folder is renamed aside, the new one into place, the old one removed; if the second
/// rename fails the old one is put back.
fn rename_in(staged: &Path, target: &Path) -> Result<(), IoError> {
    let old = sibling(target, "old");
    let had_old = fs::symlink_metadata(target).is_ok();
    if had_old {
        fs::rename(target, &old).map_err(at(target))?;
    }
    fault_point("atomic:renamed");
    if let Err(e) = fs::rename(staged, target) {
        if had_old {
            let _ = fs::rename(&old, target);
        }
        return Err(at(target)(e));
    }
    fault_point("atomic:swapped");
    if had_old {
        let removed = if old.is_dir() && !old.is_symlink() {
            fs::remove_dir_all(&old)
        } else {
            fs::remove_file(&old)
        };
        removed.map_err(at(&old))?;
    }
    Ok(())
}

/// Without symbolic links, generations cannot be swapped in one step.
#[cfg(not(unix))]
fn swap_in(staged: &Path, target: &Path) -> Result<(), IoError> {
    rename_in(staged, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("read_dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn stage(target: &Path, content: &str) -> StagedDir {
        let s = StagedDir::new(target, "staging", Access::Owner, Swap::Link).expect("stage");
        fs::write(s.path().join("a"), content).expect("write");
        s
    }

    #[test]
    fn a_dropped_staging_leaves_the_target_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out");
        stage(&target, "old").commit().expect("commit");
        drop(stage(&target, "new"));
        assert_eq!(fs::read_to_string(target.join("a")).expect("read"), "old");
        assert_eq!(names(tmp.path()).len(), 3, "{:?}", names(tmp.path()));
    }

    #[test]
    fn a_commit_replaces_the_target_whole_through_one_link() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out");
        // A plain folder from before generations is replaced too.
        fs::create_dir_all(&target).expect("mkdir");
        fs::write(target.join("stale"), "old").expect("write");
        stage(&target, "uno").commit().expect("commit");
        assert!(!target.join("stale").exists());
        stage(&target, "due").commit().expect("commit");
        assert_eq!(fs::read_to_string(target.join("a")).expect("read"), "due");
        #[cfg(unix)]
        {
            assert!(fs::symlink_metadata(&target)
                .expect("meta")
                .file_type()
                .is_symlink());
            let gens: Vec<String> = names(tmp.path())
                .into_iter()
                .filter(|n| n.starts_with(".out.gen-"))
                .collect();
            assert_eq!(gens.len(), 1, "only the live generation stays: {gens:?}");
        }
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out");
        let first = stage(&target, "uno");
        let second = StagedDir::new(&target, "staging", Access::Owner, Swap::Link);
        assert!(matches!(second, Err(StageError::Busy { .. })), "{second:?}");
        first.commit().expect("commit");
        assert!(StagedDir::new(&target, "staging", Access::Owner, Swap::Link).is_ok());
    }

    #[test]
    fn leftovers_of_killed_writers_are_removed_and_a_folder_moved_aside_is_put_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out");
        stage(&target, "uno").commit().expect("commit");
        for junk in [".out.build-1", ".out.staging-2", ".out.gen-3-3"] {
            fs::create_dir_all(tmp.path().join(junk)).expect("mkdir");
        }
        fs::write(tmp.path().join(".out.tmp-4"), "x").expect("write");
        fs::write(tmp.path().join(".out.keep"), "not ours").expect("write");
        drop(StagedDir::new(&target, "staging", Access::Owner, Swap::Link).expect("stage"));
        let left = names(tmp.path());
        for junk in [
            ".out.build-1",
            ".out.staging-2",
            ".out.gen-3-3",
            ".out.tmp-4",
        ] {
            assert!(!left.iter().any(|n| n == junk), "{junk} left: {left:?}");
        }
        assert!(left.contains(&".out.keep".to_string()));
        assert_eq!(fs::read_to_string(target.join("a")).expect("read"), "uno");

        // Killed between moving a plain folder aside and linking the new one.
        let plain = tmp.path().join("p");
        fs::create_dir_all(tmp.path().join(".p.old-9")).expect("mkdir");
        fs::write(tmp.path().join(".p.old-9").join("a"), "vecchio").expect("write");
        drop(StagedDir::new(&plain, "staging", Access::Owner, Swap::Rename).expect("stage"));
        assert_eq!(
            fs::read_to_string(plain.join("a")).expect("read"),
            "vecchio"
        );
    }

    #[cfg(unix)]
    #[test]
    fn owner_only_staging_is_unreadable_by_others() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("out");
        let s = StagedDir::new(&target, "staging", Access::Owner, Swap::Link).expect("stage");
        s.create_dir("sub").expect("mkdir");
        drop(s.create_file("sub/f").expect("create"));
        s.commit().expect("commit");
        let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&target), 0o700);
        assert_eq!(mode(&target.join("sub")), 0o700);
        assert_eq!(mode(&target.join("sub/f")), 0o600);
    }

    #[test]
    fn a_file_write_leaves_no_temporary_behind() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("sub").join("f.txt");
        write_file(&p, b"uno").expect("write");
        write_file(&p, b"due").expect("write");
        assert_eq!(fs::read_to_string(&p).expect("read"), "due");
        assert_eq!(names(&tmp.path().join("sub")), vec!["f.txt".to_string()]);
    }
}
