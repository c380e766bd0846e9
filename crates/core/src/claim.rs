//! The mark a start in flight leaves on its pending session: which start (a token),
//! which process (pid and start time, so a start whose process died can be told), and
//! the state to go back to. The rules that make and settle claims on a workspace are
//! [`crate::claims`]'.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::SessionState;

/// The mark of one start in flight, stored with its pending session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Unique per start: only the start that made the claim may settle it.
    pub token: Uuid,
    /// The process that made it, so that a reader can tell a start whose process died.
    pub pid: u32,
    /// That process's start time (clock ticks after boot, Linux), so that another
    /// process given the same pid later is not taken for the owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
    /// The session's state before this start: what it goes back to if the owner dies.
    #[serde(default)]
    pub before: SessionState,
}

impl Claim {
    /// A fresh claim by this process.
    pub fn new() -> Self {
        Self {
            token: Uuid::new_v4(),
            pid: std::process::id(),
            process_start: owner::this_process_start(),
            before: SessionState::Inactive,
        }
    }

    /// Whether this very process made the claim.
    pub fn is_mine(&self) -> bool {
        self.pid == std::process::id() && self.process_start == owner::this_process_start()
    }

    /// Whether the process that made this claim is gone (so nobody will settle it).
    pub fn owner_gone(&self) -> bool {
        owner::gone(self.pid, self.process_start)
    }
}

/// Telling whether a claim's owner still runs: `/proc/<pid>/stat` on Linux. Elsewhere
/// an owner is assumed alive (its claim is still taken by the next start or stop).
mod owner {
    /// The start time of a running process; `None` if there is none, or only a zombie
    /// (it has exited and waits for its parent to reap it: it will settle nothing).
    #[cfg(target_os = "linux")]
    fn start_of(pid: &str) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields 3 (state) and 22, counted after the command name, which may itself
        // hold spaces.
        let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
        if matches!(fields.next(), Some("Z" | "X")) {
            return None;
        }
        fields.nth(18)?.parse().ok()
    }

    #[cfg(target_os = "linux")]
    pub fn this_process_start() -> Option<u64> {
        static START: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
        *START.get_or_init(|| start_of("self"))
    }

    #[cfg(target_os = "linux")]
    pub fn gone(pid: u32, recorded_start: Option<u64>) -> bool {
        match start_of(&pid.to_string()) {
            None => true,
            Some(start) => recorded_start.is_some_and(|r| r != start),
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn this_process_start() -> Option<u64> {
        None
    }

    #[cfg(not(target_os = "linux"))]
    pub fn gone(_pid: u32, _recorded_start: Option<u64>) -> bool {
        false
    }
}

impl Default for Claim {
    fn default() -> Self {
        Self::new()
    }
}
