//! A child process that lives exactly as long as its handle.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::{PeerError, Result};
use crate::wait::{self, Probe};

/// A spawned peer process, killed and reaped on drop so that no test leaves a daemon
/// behind. Its stdout and stderr go to a log file that error messages quote.
pub(crate) struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Spawns `command` with stdout and stderr appended to `log`. Stdin is as the
    /// caller set it (default: null).
    pub(crate) fn spawn(name: &'static str, command: &mut Command, log: &Path) -> Result<Self> {
        let out =
            fs::File::create(log).map_err(PeerError::io(format!("creating {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(PeerError::io("duplicating a log handle"))?;
        let child = command
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(PeerError::spawn(format!("{:?}", command.get_program())))?;
        Ok(Self {
            name,
            child,
            log: log.to_owned(),
        })
    }

    /// Adopts a child spawned by the caller (e.g. with piped stdout).
    pub(crate) fn adopt(name: &'static str, child: Child, log: &Path) -> Self {
        Self {
            name,
            child,
            log: log.to_owned(),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// `Some(description)` if the process has exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "{} exited ({status}); log:\n{}",
                self.name,
                self.log_text()
            )),
            Ok(None) => None,
            Err(e) => Some(format!("{} could not be waited for: {e}", self.name)),
        }
    }

    /// The last few KiB of the process's output.
    pub(crate) fn log_text(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4096);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text[start..].to_owned()
    }
}

impl Daemon {
    /// For a peer that binds port 0 and prints `listening on HOST:PORT` to its log: the
    /// address it got (no race for a port), once `health` (`METHOD /path`) answers 200.
    pub(crate) fn wait_listening(
        &mut self,
        timeout: Duration,
        health: (&str, &str),
    ) -> Result<SocketAddr> {
        let (method, path) = health;
        wait::until(timeout, Duration::from_millis(50), || {
            if let Some(exited) = self.exited() {
                return Probe::Failed(exited);
            }
            let text = fs::read_to_string(&self.log).unwrap_or_default();
            let Some(addr) = text
                .lines()
                .find_map(|line| line.strip_prefix("listening on "))
                .and_then(|a| a.trim().parse::<SocketAddr>().ok())
            else {
                return Probe::NotYet("no 'listening on' line yet".into());
            };
            match crate::http::request(addr, method, path, None) {
                Ok(response) if response.status == 200 => Probe::Ready(addr),
                Ok(response) => Probe::NotYet(format!("health answered {}", response.status)),
                Err(e) => Probe::NotYet(format!("health: {e}")),
            }
        })
        .map_err(|why| PeerError::NotReady {
            peer: self.name,
            waited: timeout,
            detail: format!("{why}; log:\n{}", self.log_text()),
        })
    }

    /// Kills (SIGKILL) and reaps the process now; dropping it later does nothing more.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SIGKILL: the peers hold nothing worth flushing, and a graceful stop would
        // only make every test slower.
        self.kill();
    }
}
