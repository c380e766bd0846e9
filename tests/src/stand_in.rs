//! What the Python stand-ins (`sso_portal.py`, `signin_stand_in.py`) share: each binds
//! port 0 and prints the port it got (no race for a port), is ready once it answers
//! `/_stand_in/health`, and takes its test controls as JSON POSTs to
//! `/_stand_in/<name>`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::http;
use crate::wait::{self, Probe};

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits until `peer` (logging to `log`) says where it listens and answers there.
pub(crate) fn wait_ready(
    daemon: &mut Daemon,
    log: &Path,
    peer: &'static str,
) -> Result<SocketAddr> {
    wait::until(START_TIMEOUT, Duration::from_millis(50), || {
        if let Some(exited) = daemon.exited() {
            return Probe::Failed(exited);
        }
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let Some(addr) = text
            .lines()
            .find_map(|line| line.strip_prefix("listening on "))
            .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        else {
            return Probe::NotYet("no 'listening on' line yet".into());
        };
        match http::request(addr, "POST", "/_stand_in/health", None) {
            Ok(response) if response.status == 200 => Probe::Ready(addr),
            Ok(response) => Probe::NotYet(format!("health answered {}", response.status)),
            Err(e) => Probe::NotYet(format!("health: {e}")),
        }
    })
    .map_err(|why| PeerError::NotReady {
        peer,
        waited: START_TIMEOUT,
        detail: format!("{why}; log:\n{}", daemon.log_text()),
    })
}

/// Control `name` of the stand-in `peer` ("the SSO stand-in") at `addr`, with `body`;
/// its JSON answer.
pub(crate) fn control(
    addr: SocketAddr,
    daemon: &Daemon,
    peer: &str,
    name: &str,
    body: Value,
) -> Result<Value> {
    let what = format!("{peer}'s {name} control");
    let response = http::request(
        addr,
        "POST",
        &format!("/_stand_in/{name}"),
        Some(("application/json", &body.to_string())),
    )
    .map_err(PeerError::io(what.clone()))?;
    if response.status != 200 {
        return Err(PeerError::Output {
            what,
            detail: format!(
                "{} {}; log:\n{}",
                response.status,
                response.body,
                daemon.log_text()
            ),
        });
    }
    serde_json::from_str(&response.body).map_err(|e| PeerError::Output {
        what,
        detail: format!("{e}: {}", response.body),
    })
}
