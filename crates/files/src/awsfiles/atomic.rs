//! Reading an AWS file before an edit: where its bytes live, what they are, which mode to
//! keep. Writing it back is [`crate::durable`]'s atomic replacement, under the AWS files'
//! [`LockFile`]; the AWS CLI and editors take no lock, which is why each write is atomic.
//!
//! A symlinked file (dotfiles setups) is written through: Rolehop follows the links
//! itself, refusing links, files and directories someone else controls
//! ([`durable::resolve_trusted`]), so that the rename lands on the link's final target
//! and the link stays a link. The file must be a regular file of at most
//! [`MAX_FILE_BYTES`]: a FIFO or a device would hang the read while the lock is held.

use std::io;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::durable;
pub use crate::durable::{LockFile, NEW_FILE_MODE, replace};

/// The largest AWS file Rolehop reads: far above any real one (a 2,000-profile file is
/// about 200 KiB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A file as read before an edit.
pub struct Snapshot {
    /// Where the bytes live (symlinks resolved).
    pub target: PathBuf,
    pub bytes: Zeroizing<Vec<u8>>,
    /// Permission bits to keep; `None` when the file does not exist yet.
    pub mode: Option<u32>,
}

/// Reads `path` (through the user's symlinks); a missing file reads as empty.
pub fn read(path: &Path) -> io::Result<Snapshot> {
    let target = durable::resolve_trusted(path)?;
    Ok(match durable::read_regular(&target, MAX_FILE_BYTES)? {
        Some((bytes, meta)) => Snapshot {
            target,
            bytes,
            mode: Some(mode_of(&meta)),
        },
        None => Snapshot {
            target,
            bytes: Zeroizing::new(Vec::new()),
            mode: None,
        },
    })
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> u32 {
    NEW_FILE_MODE
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    #[cfg(unix)]
    fn replace_keeps_the_mode_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let snap = read(&path).unwrap();
        replace(&snap.target, b"new", snap.mode.unwrap()).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(mode_of(&fs::metadata(&path).unwrap()), 0o640);
    }

    #[test]
    fn a_missing_file_reads_as_empty_with_no_mode() {
        let dir = tempfile::tempdir().unwrap();
        let snap = read(&dir.path().join("home/.aws/credentials")).unwrap();
        assert!(snap.mode.is_none() && snap.bytes.is_empty());
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
}
