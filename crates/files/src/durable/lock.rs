//! Advisory locks: one writer at a time among Rolehop's processes (the desktop app, the
//! CLI, the rotation of either), released by the kernel when the holder dies, so a killed
//! writer never wedges the others.
//!
//! A lock file lives in Rolehop's state directory, which is checked (see
//! [`super::private_dir`]) on every acquisition, and is opened with `O_NOFOLLOW`: a link
//! planted where the lock should be is refused instead of being followed to whatever
//! file it names.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use super::trust::private_dir;

/// A lock, held until dropped.
#[derive(Debug)]
pub struct LockFile {
    _file: File,
}

impl LockFile {
    /// Blocks until the exclusive lock on `path` (created 0600 if missing) is ours.
    pub fn acquire(path: &Path) -> io::Result<LockFile> {
        let file = open(path)?;
        file.lock()?;
        Ok(LockFile { _file: file })
    }

    /// The exclusive lock on `path` if no one holds it now; `None` if someone does.
    pub fn try_acquire(path: &Path) -> io::Result<Option<LockFile>> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LockFile { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Writes `bytes` at the start of the lock file (a stamp other processes read; see
    /// [``mfa_lock::mark_stored` (rolehop-core)`]). Every stamp has the same length.
    #[cfg(unix)]
    pub fn write_stamp(&self, bytes: &[u8]) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self._file.write_all_at(bytes, 0)
    }

    /// Blocks until a shared lock on `path` is ours (readers among themselves).
    pub fn acquire_shared(path: &Path) -> io::Result<LockFile> {
        let file = open(path)?;
        file.lock_shared()?;
        Ok(LockFile { _file: file })
    }
}

fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(super::NEW_FILE_MODE)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path).map_err(|e| {
        if super::is_symlink_refusal(&e) {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symbolic link; a lock file must be a plain file (remove the link)",
                    path.display()
                ),
            )
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn a_lock_file_planted_as_a_symlink_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let elsewhere = dir.path().join("victim");
        std::os::unix::fs::symlink(&elsewhere, state.join("awsfiles.lock")).unwrap();
        let err = LockFile::acquire(&state.join("awsfiles.lock")).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert!(!elsewhere.exists(), "the link's target was created");
        let err = LockFile::acquire_shared(&state.join("awsfiles.lock")).unwrap_err();
        assert!(err.to_string().contains("awsfiles.lock"), "{err}");
    }
}
