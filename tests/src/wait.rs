//! Polling until a peer answers, with a deadline.

use std::thread;
use std::time::{Duration, Instant};

/// What one probe of a starting peer found.
pub(crate) enum Probe<T> {
    Ready(T),
    /// Not yet; the string says what was seen, for the timeout message.
    NotYet(String),
    /// It can never become ready (e.g. the process exited).
    Failed(String),
}

/// Calls `probe` every `interval` until it is ready, fails, or `timeout` passes.
/// On failure or timeout returns the last thing the probe said.
pub(crate) fn until<T>(
    timeout: Duration,
    interval: Duration,
    mut probe: impl FnMut() -> Probe<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Probe::Ready(value) => return Ok(value),
            Probe::Failed(why) => return Err(why),
            Probe::NotYet(why) if Instant::now() >= deadline => return Err(why),
            Probe::NotYet(_) => thread::sleep(interval),
        }
    }
}
