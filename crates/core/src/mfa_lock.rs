//! One MFA prompt across processes: before asking for an MFA user's code, a process
//! takes that user's lock file (one per MFA user, in the workspace's runtime directory)
//! and holds it while it prompts and until the new session token is in the keychain.
//! Another process that needs the same user's token waits on the lock, then finds the
//! token in the keychain instead of prompting again (see [`crate::chain`]).
//!
//! The lock is an advisory `flock` ([`LockFile`]): released when its holder drops it on
//! any path (an answer, a cancel, an error, Ctrl-C dropping the future) and by the
//! kernel when the holder dies, so a killed prompt never wedges the others. A waiter
//! waits at most the MFA prompt timeout, and its wait is a future: dropping it (Ctrl-C
//! in the CLI, the engine's timeout) stops waiting at once.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::durable::LockFile;
use crate::model::SessionId;

/// The lock file of MFA user `user` in runtime directory `dir`.
pub fn lock_path(dir: &Path, user: SessionId) -> PathBuf {
    dir.join(format!("mfa-{user}.lock"))
}

/// The lock file's stamp: changed by every holder that stored a token (see
/// [`mark_stored`]); `None` while no token was ever stored through it (or the file is
/// missing or unreadable). A process reads it before its first look in the keychain and
/// again once it holds the lock: only when it changed can a token have been stored
/// meanwhile, so only then does it look in the keychain again before prompting.
pub fn stamp(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut bytes = Vec::new();
    options
        .open(path)
        .and_then(|f| f.take(64).read_to_end(&mut bytes))
        .ok()?;
    (!bytes.is_empty()).then_some(bytes)
}

/// Stamps the held lock after its holder stored the MFA user's token, before it lets
/// go: a fresh random value, so that every process that read the stamp before looks in
/// the keychain again. A failed stamp only costs waiters their prompt-free path.
pub fn mark_stored(lock: &LockFile) {
    #[cfg(unix)]
    if let Err(e) = lock.write_stamp(uuid::Uuid::new_v4().to_string().as_bytes()) {
        tracing::warn!("cannot stamp the MFA lock file: {e}");
    }
    #[cfg(not(unix))]
    let _ = lock;
}

/// How taking an MFA user's lock ended.
#[derive(Debug)]
pub enum Taken {
    /// Ours, at once or after another process let go (which may just have stored the
    /// token: look again before prompting).
    Held(LockFile),
    /// The lock file could not be used (its directory refused, a link planted): the
    /// caller goes on without it, as a single process would.
    Unusable(io::Error),
}

/// Why a waiter gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("another Rolehop process kept asking for this MFA code longer than {0:?}")]
pub struct WaitedTooLong(pub Duration);

/// Takes the lock at `path`, waiting at most `wait` for another process to release it.
/// `user_name` only names the user in the log line a waiter writes.
pub async fn take(path: PathBuf, wait: Duration, user_name: &str) -> Result<Taken, WaitedTooLong> {
    let first = path.clone();
    let tried = tokio::task::spawn_blocking(move || LockFile::try_acquire(&first))
        .await
        .expect("lock task");
    match tried {
        Ok(Some(lock)) => return Ok(Taken::Held(lock)),
        Ok(None) => {}
        Err(e) => return Ok(Taken::Unusable(e)),
    }
    tracing::info!(
        user = user_name,
        "another Rolehop process is asking for this MFA code; waiting for its answer"
    );
    // A thread of its own blocks in flock(2): no polling, and unlike the blocking pool a
    // plain thread never holds up the runtime's shutdown. If this future is dropped the
    // thread still gets the lock eventually, finds nobody to hand it to, and drops it.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("mfa-lock".into())
        .spawn(move || {
            let _ = tx.send(LockFile::acquire(&path));
        })
        .map_err(|_| WaitedTooLong(Duration::ZERO))?;
    match tokio::time::timeout(wait, rx).await {
        Ok(Ok(Ok(lock))) => Ok(Taken::Held(lock)),
        Ok(Ok(Err(e))) => Ok(Taken::Unusable(e)),
        Ok(Err(_)) => Ok(Taken::Unusable(io::Error::other("the lock thread ended"))),
        Err(_) => Err(WaitedTooLong(wait)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_taker_gets_the_lock_once_the_first_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), SessionId::new());
        let first = take(path.clone(), Duration::from_secs(5), "alice")
            .await
            .unwrap();
        assert!(matches!(first, Taken::Held(_)), "{first:?}");
        let waiter = tokio::spawn(take(path.clone(), Duration::from_secs(30), "alice"));
        drop(first);
        // Whether the waiter tried before or after the drop (the cross-process suite
        // pins the waiting itself), it ends up holding the lock.
        let second = waiter.await.unwrap().unwrap();
        assert!(matches!(second, Taken::Held(_)), "{second:?}");
        let third = take(path, Duration::from_millis(50), "alice").await;
        assert!(third.is_err(), "the lock was given twice");
    }

    #[tokio::test]
    async fn a_waiter_gives_up_after_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), SessionId::new());
        let _held = take(path.clone(), Duration::from_secs(5), "alice")
            .await
            .unwrap();
        let late = take(path, Duration::from_millis(50), "alice").await;
        assert_eq!(late.unwrap_err(), WaitedTooLong(Duration::from_millis(50)));
    }

    #[tokio::test]
    async fn the_stamp_changes_only_when_a_holder_stored_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), SessionId::new());
        assert_eq!(stamp(&path), None, "no lock file yet");
        // A holder that stores nothing (a cancelled prompt) leaves the stamp as it was.
        let Taken::Held(quiet) = take(path.clone(), Duration::from_secs(5), "alice")
            .await
            .unwrap()
        else {
            panic!("lock unusable")
        };
        drop(quiet);
        assert_eq!(stamp(&path), None, "an empty lock file has no stamp");
        // Read before a first look in the keychain, as a resolution does.
        let seen = stamp(&path);
        let Taken::Held(storer) = take(path.clone(), Duration::from_secs(5), "alice")
            .await
            .unwrap()
        else {
            panic!("lock unusable")
        };
        mark_stored(&storer);
        let first = stamp(&path);
        assert!(
            first.is_some() && first != seen,
            "a store since the look shows"
        );
        drop(storer);
        let Taken::Held(again) = take(path.clone(), Duration::from_secs(5), "alice")
            .await
            .unwrap()
        else {
            panic!("lock unusable")
        };
        assert_eq!(
            stamp(&path),
            first,
            "taking the lock does not change the stamp"
        );
        mark_stored(&again);
        assert_ne!(stamp(&path), first, "every store gives a new stamp");
    }

    #[test]
    fn the_stamp_is_not_read_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "a stamp").unwrap();
        let path = lock_path(dir.path(), SessionId::new());
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert_eq!(stamp(&path), None);
    }

    #[test]
    fn the_lock_file_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let path = lock_path(&run, SessionId::new());
        let _lock = LockFile::acquire(&path).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&run), 0o700);
    }
}
