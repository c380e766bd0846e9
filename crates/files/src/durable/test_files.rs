//! Files the durability tests set up (a FIFO, modes, another user's file) and a bounded
//! wait for calls that would hang before a fix.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

pub fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

pub fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Makes a named pipe at `path`.
pub fn make_fifo(path: &Path) {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(CWD, path, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
}

/// Gives `path` (not following a link) to a uid that is neither ours nor root's. Only
/// root can (CI runs the tests as root); `false` when the case cannot be set up here.
pub fn give_away(path: &Path) -> bool {
    let me = rustix::process::geteuid().as_raw();
    let other = if me == 4242 { 4343 } else { 4242 };
    std::os::unix::fs::lchown(path, Some(other), Some(other)).is_ok()
}

/// Runs `f` on a thread and waits for it with a generous bound, so that a call that
/// blocks fails its test instead of hanging the suite.
pub fn without_hanging<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the call blocked (still waiting after 60 s)")
}
