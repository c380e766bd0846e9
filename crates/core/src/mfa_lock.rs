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
//! in the CLI, the engine's timeout) stops waiting at once, and leaves no thread
//! behind (it tries the lock again and again rather than block a thread in `flock`).

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
    // Tries again until the holder lets go or `wait` runs out. No thread ever blocks in
    // flock(2): one that did could not be told to stop, so every waiter that gave up
    // (or was dropped: Ctrl-C, the engine's timeout) would leave it blocked until the
    // holder let go. A try is an open and a non-blocking flock on the blocking pool.
    let waiting = async {
        let mut pause = FIRST_PAUSE;
        loop {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
            let again = path.clone();
            match tokio::task::spawn_blocking(move || LockFile::try_acquire(&again)).await {
                Ok(Ok(Some(lock))) => return Taken::Held(lock),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => return Taken::Unusable(e),
                Err(_) => return Taken::Unusable(io::Error::other("the lock task ended")),
            }
        }
    };
    tokio::time::timeout(wait, waiting)
        .await
        .map_err(|_| WaitedTooLong(wait))
}

/// The first pause before a waiter tries the lock again; each pause doubles, up to
/// [`LONGEST_PAUSE`] (how late a waiter may notice that the holder let go).
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

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

    /// Finding 5 of issue 23: waiters that give up leave no thread behind. On main each
    /// left a thread blocked in flock(2) until the holder let go.
    ///
    /// The count is of this process's threads (`/proc/self/task`), so the test runs
    /// alone: it re-runs this test binary with only itself, and the child counts.
    #[cfg(target_os = "linux")]
    #[test]
    fn waiters_that_give_up_leave_no_thread_behind() {
        const CHILD: &str = "ROLEHOP_TEST_COUNT_THREADS";
        const NAME: &str = "mfa_lock::tests::waiters_that_give_up_leave_no_thread_behind";
        if std::env::var_os(CHILD).is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
                .env(CHILD, "1")
                .output()
                .unwrap();
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(out.status.success(), "{said}");
            assert!(
                said.contains("threads before"),
                "the child did not count: {said}"
            );
            return;
        }
        let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            // The blocking pool's idle threads end soon, so only a stuck one is counted.
            .thread_keep_alive(Duration::from_millis(20))
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), SessionId::new());
        let held = LockFile::acquire(&path).unwrap();
        let before = threads();
        const WAITERS: usize = 12;
        let gave_up = runtime.block_on(async {
            let waits =
                (0..WAITERS).map(|_| take(path.clone(), Duration::from_millis(150), "alice"));
            futures_util::future::join_all(waits).await
        });
        assert!(
            gave_up.iter().all(Result::is_err),
            "a waiter got a held lock"
        );
        // Time for the pool's idle threads to end.
        let mut after = threads();
        for _ in 0..50 {
            if after <= before {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            after = threads();
        }
        println!("threads before {before}, after {WAITERS} waiters gave up {after}");
        assert!(
            after <= before,
            "{WAITERS} waiters gave up and the process has {} more threads",
            after - before
        );
        drop(held);
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
