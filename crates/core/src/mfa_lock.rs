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
