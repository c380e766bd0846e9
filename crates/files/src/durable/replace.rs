//! Atomic replacement of a file, under the policy of [`super`]: stage the new version in
//! a temp file next to the target (same directory, so the rename cannot cross file
//! systems), fsync it, rename it over the target, fsync the directory.
//!
//! A process killed at any instant leaves either the old file or the new one; a temp file
//! it leaves behind is swept by the next writer ([`sweep_temp_files`], under the lock).
//! Temp files are created 0600 whatever the final mode, so a secret is never readable by
//! others, even for the instant before the mode is set.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::trust::create_missing_dir;

const TEMP_SUFFIX: &str = ".tmp";

/// `.NAME.rolehop-` for a target named NAME: a hidden file no other tool uses.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.rolehop-")
}

fn directory_of(target: &Path) -> &Path {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new version of a file, written and given its mode, not yet in place. Dropping it
/// deletes it.
pub struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// Writes `bytes` to a temp file next to `target` (creating a missing directory 0700)
/// with permission bits `mode`. The caller holds the lock that guards `target`.
pub fn stage(target: &Path, bytes: &[u8], mode: u32) -> io::Result<Staged> {
    let dir = directory_of(target);
    create_missing_dir(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(target))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    set_mode(temp.as_file(), mode)?;
    Ok(Staged {
        temp,
        target: target.to_owned(),
    })
}

/// Flushes staged files to disk, all at once: concurrent fsyncs share one journal
/// commit on ext4, XFS and APFS, so three files cost about one flush, not three.
pub fn sync_all(staged: &[&Staged]) -> io::Result<()> {
    in_parallel(staged, |s| s.temp.as_file().sync_all())
}

impl Staged {
    /// Where this file goes.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the (synced) file over its target: readers see the old file or the new
    /// one, never a mix. The rename is durable once its directory is synced
    /// ([`sync_dirs`]).
    pub fn persist(self) -> io::Result<()> {
        self.temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Fsyncs the directories holding `targets` (each once, all at once), which makes the
/// renames into them durable.
pub fn sync_dirs<'a>(targets: impl IntoIterator<Item = &'a Path>) -> io::Result<()> {
    let dirs: BTreeSet<&Path> = targets.into_iter().map(directory_of).collect();
    let dirs: Vec<&Path> = dirs.into_iter().collect();
    in_parallel(&dirs, |dir| sync_dir(dir))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

// Windows has no directory fsync; a rename there is made durable by the file system.
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Replaces `target` with `bytes` atomically and durably (temp file, fsync, rename,
/// directory fsync), with permission bits `mode`. The caller holds the lock that guards
/// `target`.
pub fn replace(target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let staged = stage(target, bytes, mode)?;
    sync_all(&[&staged])?;
    staged.persist()?;
    sync_dirs([target])
}

/// Runs `f` on each item, on its own thread when there are several.
fn in_parallel<T: Sync>(items: &[T], f: impl Fn(&T) -> io::Result<()> + Sync) -> io::Result<()> {
    match items {
        [] => Ok(()),
        [one] => f(one),
        many => std::thread::scope(|scope| {
            let f = &f;
            let runs: Vec<_> = many
                .iter()
                .map(|item| scope.spawn(move || f(item)))
                .collect();
            runs.into_iter().try_for_each(|run| {
                run.join()
                    .unwrap_or_else(|_| Err(io::Error::other("fsync panicked")))
            })
        }),
    }
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: u32) -> io::Result<()> {
    Ok(())
}

/// Deletes temp files a killed writer left next to `target`. Only call under the lock
/// that guards `target`: then no live writer owns one.
pub fn sweep_temp_files(target: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(directory_of(target)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(TEMP_SUFFIX) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    #[cfg(unix)]
    fn replace_gives_the_mode_asked_and_creates_a_missing_directory_0700() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/.aws/config");
        replace(&path, b"[p]\n", 0o640).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"[p]\n");
        assert_eq!(mode(&path), 0o640);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        replace(&path, b"[q]\n", 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"[q]\n");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn a_staged_file_dropped_before_persist_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, b"old").unwrap();
        drop(stage(&path, b"new", 0o600).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn left_over_temp_files_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("credentials");
        let stale = dir.path().join(".credentials.rolehop-abc123.tmp");
        fs::write(&stale, b"half").unwrap();
        let other = dir.path().join(".config.rolehop-abc123.tmp");
        fs::write(&other, b"not ours to sweep now").unwrap();
        sweep_temp_files(&target);
        assert!(!stale.exists());
        assert!(other.exists());
    }
}
