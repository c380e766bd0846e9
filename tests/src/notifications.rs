//! A real notification server: Debian's `dunst` on a test's private session bus and X
//! display, where the desktop app's notifications appear as windows a person clicks.
//!
//! dunst owns `org.freedesktop.Notifications` on the bus and draws each notification
//! as a small X window; a left click invokes its default action
//! (`mouse_left_click = do_action, close_current`), which dunst reports to the app as
//! the `ActionInvoked` signal, exactly as on a desktop. The test clicks that window
//! with xdotool, through the X server. A `dbus-monitor` beside it records every
//! `Notify` call the bus carried (the app's notifications, with their actions), for
//! the test to count.

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::keyring::name_has_owner;
use crate::wait::{self, Probe};

const START_TIMEOUT: Duration = Duration::from_secs(20);

/// dunst 1.9's configuration: a click acts, nothing expires by itself (the app's own
/// timeout applies), and the window sits where it does not cover the app's list.
const DUNSTRC: &str = "[global]
    mouse_left_click = do_action, close_current
    mouse_middle_click = close_current
    mouse_right_click = close_all
    origin = top-right
    offset = 10x10
    width = 420
    font = Monospace 10
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
";

/// dunst and the monitor of its bus; both killed and reaped on drop (or [`Self::stop`]).
pub struct NotificationServer {
    // Field order is drop order: the server, then the monitor, then their files.
    dunst: Daemon,
    monitor: Daemon,
    display: String,
    dir: TempDir,
}

impl NotificationServer {
    /// Starts dunst on X display `display` and the session bus at `bus_address` (a
    /// test's `DBUS_SESSION_BUS_ADDRESS`), once the monitor listens, and waits until
    /// dunst owns the notifications name.
    pub fn start(bus_address: &str, display: &str) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rolehop-notify-")
            .tempdir()
            .map_err(PeerError::io(
                "creating the notification server's directory",
            ))?;
        let config = dir.path().join("dunstrc");
        fs::write(&config, DUNSTRC).map_err(PeerError::io("writing dunstrc"))?;

        let mut monitor = Daemon::spawn(
            "dbus-monitor",
            Command::new("dbus-monitor")
                .args(["--address", bus_address])
                .arg("type='method_call',interface='org.freedesktop.Notifications',member='Notify'")
                .stdin(Stdio::null()),
            &dir.path().join("monitor.log"),
        )
        .map_err(|e| with_package(e, "dbus-monitor (Debian: dbus-bin)"))?;
        // It prints its own NameAcquired once it is connected and monitoring.
        let log = dir.path().join("monitor.log");
        wait::until(START_TIMEOUT, Duration::from_millis(20), || {
            if let Some(exited) = monitor.exited() {
                return Probe::Failed(exited);
            }
            match fs::read_to_string(&log) {
                Ok(text) if text.contains("NameAcquired") => Probe::Ready(()),
                _ => Probe::NotYet("dbus-monitor has printed nothing yet".into()),
            }
        })
        .map_err(|detail| PeerError::NotReady {
            peer: "dbus-monitor",
            waited: START_TIMEOUT,
            detail,
        })?;

        let mut dunst = Daemon::spawn(
            "dunst",
            Command::new("dunst")
                .arg("-config")
                .arg(&config)
                .env("DISPLAY", display)
                .env("DBUS_SESSION_BUS_ADDRESS", bus_address)
                .env_remove("WAYLAND_DISPLAY")
                .stdin(Stdio::null()),
            &dir.path().join("dunst.log"),
        )
        .map_err(|e| with_package(e, "dunst (Debian: dunst)"))?;
        let address = bus_address.to_owned();
        wait::until(START_TIMEOUT, Duration::from_millis(50), || {
            if let Some(exited) = dunst.exited() {
                return Probe::Failed(exited);
            }
            match name_has_owner(&address, "org.freedesktop.Notifications") {
                Ok(true) => Probe::Ready(()),
                Ok(false) => Probe::NotYet("org.freedesktop.Notifications has no owner".into()),
                Err(e) => Probe::Failed(e.to_string()),
            }
        })
        .map_err(|detail| PeerError::NotReady {
            peer: "dunst",
            waited: START_TIMEOUT,
            detail,
        })?;
        Ok(Self {
            dunst,
            monitor,
            display: display.to_owned(),
            dir,
        })
    }

    /// Every `Notify` call the bus carried so far, each as dbus-monitor printed it (the
    /// app's name, summary, body, then the actions as `string "key"` `string "label"`
    /// pairs).
    pub fn notify_calls(&self) -> Vec<String> {
        let text = fs::read_to_string(self.dir.path().join("monitor.log")).unwrap_or_default();
        let mut calls = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if !line.starts_with(' ') {
                calls.extend(current.take());
                if line.starts_with("method call") && line.contains("member=Notify") {
                    current = Some(String::new());
                }
            }
            if let Some(call) = current.as_mut() {
                call.push_str(line);
                call.push('\n');
            }
        }
        calls.extend(current);
        calls
    }

    /// The X ids of the notifications on screen now (dunst's mapped windows).
    pub fn shown(&self) -> Result<Vec<String>> {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--class", "Dunst"])
            .env("DISPLAY", &self.display)
            .output()
            .map_err(PeerError::spawn("xdotool (Debian: xdotool)"))?;
        // xdotool exits 1 when nothing matches.
        Ok(String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }

    /// Waits up to `timeout` for a notification on screen; its X window id.
    pub fn wait_shown(&self, timeout: Duration) -> Result<String> {
        wait::until(timeout, Duration::from_millis(100), || match self.shown() {
            Ok(ids) => ids.into_iter().next().map_or_else(
                || Probe::NotYet("no notification on screen".into()),
                Probe::Ready,
            ),
            Err(e) => Probe::Failed(e.to_string()),
        })
        .map_err(|detail| PeerError::NotReady {
            peer: "a notification on screen",
            waited: timeout,
            detail,
        })
    }

    /// Clicks notification window `id` with the left button, as a person does.
    pub fn click(&self, id: &str) -> Result<()> {
        let out = Command::new("xdotool")
            .args([
                "mousemove",
                "--sync",
                "--window",
                id,
                "40",
                "20",
                "click",
                "1",
            ])
            .env("DISPLAY", &self.display)
            .output()
            .map_err(PeerError::spawn("xdotool (Debian: xdotool)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(PeerError::Failed {
                what: "xdotool click".into(),
                status: out.status,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
    }

    /// dunst's own output so far (for a failing test's message).
    pub fn log(&self) -> String {
        self.dunst.log_text()
    }

    /// Stops dunst and the monitor.
    pub fn stop(self) {
        let Self {
            mut dunst,
            mut monitor,
            ..
        } = self;
        dunst.kill();
        monitor.kill();
    }
}

fn with_package(e: PeerError, program: &str) -> PeerError {
    match e {
        PeerError::Spawn { source, .. } => PeerError::Spawn {
            program: program.into(),
            source,
        },
        other => other,
    }
}
