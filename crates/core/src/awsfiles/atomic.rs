//! Reading and replacing the AWS files so that no reader ever sees half a file and no
//! writer loses another's update.
//!
//! Replacement is the classic temp-file dance: write a new file next to the target (same
//! directory, so the rename cannot cross file systems), give it the target's mode, fsync
//! it, rename it over the target. A process killed at any instant
//! leaves either the old file or the new one; a left-over temp file is swept by the next
//! writer. A symlinked file (dotfiles setups) is written through: the rename lands on the
//! link's final target, and the link stays a link. Writers take an advisory lock first
//! ([`LockFile`]); the AWS CLI and editors do not, which is why each write is atomic.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Mode of a credentials or config file Rolehop creates; the directory gets 0700.
pub const NEW_FILE_MODE: u32 = 0o600;
const NEW_DIR_MODE: u32 = 0o700;

/// An exclusive advisory lock, held until dropped (or the process dies: the kernel
/// releases it, so a killed writer never wedges the others).
pub struct LockFile {
    _file: File,
}

impl LockFile {
    /// Blocks until the lock on `path` (created if missing) is ours.
    pub fn acquire(path: &Path) -> io::Result<LockFile> {
        if let Some(dir) = path.parent() {
            create_dir_private(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        file.lock()?;
        Ok(LockFile { _file: file })
    }
}

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_dir_private(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, NEW_DIR_MODE);
    builder.create(dir)
}

/// Follows `path` through symlinks (relative ones against their own directory) to the
/// file that holds the bytes, which need not exist yet.
pub fn resolve_symlinks(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(_) => return Ok(current),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// A file as read before an edit.
pub struct Snapshot {
    /// Where the bytes live (symlinks resolved).
    pub target: PathBuf,
    pub bytes: Zeroizing<Vec<u8>>,
    /// Permission bits to keep; `None` when the file does not exist yet.
    pub mode: Option<u32>,
}

/// Reads `path` (through symlinks); a missing file reads as empty.
pub fn read(path: &Path) -> io::Result<Snapshot> {
    let target = resolve_symlinks(path)?;
    match fs::read(&target) {
        Ok(bytes) => {
            let mode = mode_of(&fs::metadata(&target)?);
            Ok(Snapshot {
                target,
                bytes: Zeroizing::new(bytes),
                mode: Some(mode),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Snapshot {
            target,
            bytes: Zeroizing::new(Vec::new()),
            mode: None,
        }),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &fs::Metadata) -> u32 {
    NEW_FILE_MODE
}

fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.rolehop-")
}

const TEMP_SUFFIX: &str = ".tmp";

/// A new version of a file, written and given its mode, not yet in place. Dropping it
/// deletes it.
pub struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

/// Writes `bytes` to a temp file next to `target` (creating the directory 0700 if
/// needed) with permission bits `mode`. The caller holds the [`LockFile`].
pub fn stage(target: &Path, bytes: &[u8], mode: u32) -> io::Result<Staged> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    create_dir_private(dir)?;
    // tempfile creates the file 0600, so a secret is never readable by others, even
    // for the instant before the mode is set.
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
    match staged {
        [] => Ok(()),
        [one] => one.temp.as_file().sync_all(),
        many => std::thread::scope(|scope| {
            let syncs: Vec<_> = many
                .iter()
                .map(|s| scope.spawn(move || s.temp.as_file().sync_all()))
                .collect();
            syncs.into_iter().try_for_each(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("fsync panicked")))
            })
        }),
    }
}

impl Staged {
    /// Renames the (synced) file over its target: readers see the old file or the new
    /// one, never a mix.
    ///
    /// The directory is not fsynced: the rename is atomic either way, and after a power
    /// cut the file system's journal shows either the old file or the new one, renames
    /// in the order they were made. A directory fsync per write would double the cost
    /// of every start for no state a reader could tell apart.
    pub fn persist(self) -> io::Result<()> {
        self.temp.persist(&self.target).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Replaces `target` with `bytes` atomically (temp file, fsync, rename), with permission
/// bits `mode`. The caller holds the [`LockFile`].
pub fn replace(target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let staged = stage(target, bytes, mode)?;
    sync_all(&[&staged])?;
    staged.persist()
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

/// Deletes temp files a killed writer left next to `target`. Only call under the lock:
/// then no live writer owns one.
pub fn sweep_temp_files(target: &Path) {
    let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return;
    };
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
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
        mode_of(&fs::metadata(path).unwrap())
    }

    #[test]
    #[cfg(unix)]
    fn replace_keeps_the_mode_of_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, b"old").unwrap();
        set_mode(&File::open(&path).unwrap(), 0o640).unwrap();
        let snap = read(&path).unwrap();
        replace(&snap.target, b"new", snap.mode.unwrap()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    #[cfg(unix)]
    fn missing_directory_is_created_0700_and_file_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/.aws/credentials");
        let snap = read(&path).unwrap();
        assert!(snap.mode.is_none() && snap.bytes.is_empty());
        replace(&snap.target, b"[p]\n", NEW_FILE_MODE).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }

    #[test]
    #[cfg(unix)]
    fn a_symlinked_file_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let real = dir.path().join("dotfiles/aws-credentials");
        fs::write(&real, b"[a]\n").unwrap();
        let link = dir.path().join("credentials");
        std::os::unix::fs::symlink("dotfiles/aws-credentials", &link).unwrap();
        let snap = read(&link).unwrap();
        assert_eq!(snap.target, dir.path().join("dotfiles/aws-credentials"));
        replace(&snap.target, b"[a]\n[b]\n", snap.mode.unwrap()).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&real).unwrap(), b"[a]\n[b]\n");
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
