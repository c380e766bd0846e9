//! How Rolehop keeps files on disk: the one place for locks, atomic replacement, safe
//! reads and the places it trusts, used by the workspace store (rolehop-core's `store`) and
//! the AWS files ([`crate::awsfiles`]).
//!
//! - [`lock`]: advisory locks ([`LockFile`]), in a private state directory, never
//!   through a symbolic link.
//! - [`replace`]: atomic replacement of a file: stage next to the target, fsync, rename,
//!   fsync the directory.
//! - [`read`]: reading a whole file that must be a regular file of bounded size.
//! - [`trust`]: which directories, links and files Rolehop agrees to work in.
//! - [`group_commit`]: one writer at a time for calls that arrive together.
//!
//! # Durability policy
//!
//! **A change is durable when the call that made it returns.** Each new version is
//! written to a temp file in the target's directory, the temp file is fsynced, renamed
//! over the target, and then the directory is fsynced. A batch (the AWS files' group
//! commit: ledger, credentials, config) fsyncs its temp files together and each
//! directory it renamed into once, after the last rename, so concurrent fsyncs share
//! one journal commit.
//!
//! Why the directory too: after a rename, the file system may keep the new directory
//! entry in memory for seconds. Rolehop acts outside the files right after writing them
//! (it deletes the keychain copy of a section it just put back, or a removed session's
//! keys), and those acts cannot be undone: a power cut that brought back the old file
//! after the keychain copy was gone would lose the user's own section. So the rename must
//! be on disk before the call returns and anything follows it.
//!
//! Why not one directory fsync per rename: inside one batch, the order of the renames
//! (ledger grown, files, ledger shrunk) is kept by the journal of the file systems
//! Rolehop runs on (ext4, XFS, btrfs, APFS commit metadata in order, so a crash leaves a
//! prefix of the renames), and the ledger is checked against the files on every read
//! anyway; a flush after each rename would add two more to every start for no state a
//! reader could tell apart. The directory fsync costs one more journal commit per batch
//! (on the development VM's ext4: 12 ms for a bare replace, 20 ms with it), shared by
//! every call in the batch.

pub mod group_commit;
pub mod lock;
pub mod read;
pub mod replace;
#[cfg(all(any(test, feature = "test-support"), unix))]
#[doc(hidden)]
pub mod test_files;
pub mod trust;

pub use group_commit::GroupCommit;
pub use lock::LockFile;
pub use read::read_regular;
pub use replace::{Staged, replace, stage, sweep_temp_files, sync_all, sync_dirs};
pub use trust::{private_dir, resolve_trusted};

/// Mode of a file Rolehop creates; directories it creates get 0700.
pub const NEW_FILE_MODE: u32 = 0o600;
pub(crate) const NEW_DIR_MODE: u32 = 0o700;

/// Whether `open` refused a symbolic link (`O_NOFOLLOW` gives `ELOOP`).
pub(crate) fn is_symlink_refusal(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}
