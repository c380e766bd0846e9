//! Part 3 of issue 27: `cargo xtask sandbox` stops everything it started. The real
//! sandbox binary (`cargo xtask sandbox` execs into it) runs the real app under Xvfb on
//! real peers; it is then stopped as a person stops it (Ctrl-C in its terminal, a
//! SIGTERM, the window's close button), and `/proc` must show none of its processes.
//!
//! This test process makes itself a child subreaper (prctl(2)), so that a process the
//! sandbox started stays a descendant of the test even if its parent dies first: a
//! survivor cannot hide by being reparented to init.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::desktop::{TestResult, Xvfb, app_binary, artifacts_dir};

/// How the sandbox is told to stop.
enum Stop {
    /// Ctrl-C in its terminal: SIGINT to its whole (foreground) process group.
    CtrlC,
    Sigterm,
    /// The window's close button (the sandbox's workspace makes a close quit).
    CloseWindow,
}

/// `(pid, name)` of every live (not zombie) process below `root`.
fn descendants(root: i32) -> Vec<(i32, String)> {
    let mut table = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let mut rest = stat[close + 1..].split_whitespace();
        let state = rest.next().unwrap_or("");
        let ppid: i32 = rest.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        table.push((pid, ppid, name, state == "Z"));
    }
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for (pid, ppid, name, zombie) in &table {
            if *ppid == parent {
                parents.push(*pid);
                if !zombie {
                    found.push((*pid, name.clone()));
                }
            }
        }
    }
    found
}

/// Reaps whatever exited among this process's children (orphans adopted as subreaper).
fn reap(pids: &[i32]) {
    for pid in pids {
        // SAFETY: waitpid(2) without blocking on a pid of this test's tree.
        unsafe {
            libc::waitpid(*pid, std::ptr::null_mut(), libc::WNOHANG);
        }
    }
}

fn window_id(display: &str) -> Option<String> {
    let out = Command::new("xwininfo")
        .args(["-display", display, "-name", "Rolehop"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    info.split_whitespace()
        .skip_while(|w| *w != "id:")
        .nth(1)
        .map(str::to_owned)
}

fn stops_everything(label: &str, stop: Stop) -> TestResult {
    // SAFETY: prctl(2) marking this (single-test) process as a child subreaper.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
    let me = i32::try_from(std::process::id())?;
    let artifacts = artifacts_dir();
    let xvfb = Xvfb::start(&artifacts);
    let before: Vec<i32> = descendants(me).into_iter().map(|(pid, _)| pid).collect();

    let log_path = artifacts.join(format!("sandbox-{label}.log"));
    let log = fs::File::create(&log_path)?;
    use std::os::unix::process::CommandExt;
    let mut sandbox = Command::new(env!("CARGO_BIN_EXE_sandbox"))
        .arg(app_binary())
        .env("DISPLAY", xvfb.display())
        // No GPU under Xvfb (as the desktop suites run the app).
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("NO_AT_BRIDGE", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // As a terminal runs it: a process group of its own, which Ctrl-C signals whole.
        .process_group(0)
        .spawn()?;
    let sandbox_pid = i32::try_from(sandbox.id())?;
    let log_text = || fs::read_to_string(&log_path).unwrap_or_default();

    // Up: the window is on screen, so the app and WebKit's processes all run.
    let deadline = Instant::now() + Duration::from_secs(120);
    let window = loop {
        if let Some(status) = sandbox.try_wait()? {
            return Err(format!("the sandbox exited ({status}):\n{}", log_text()).into());
        }
        if let Some(id) = window_id(xvfb.display()) {
            break id;
        }
        if Instant::now() > deadline {
            return Err(format!("no sandbox window after 120 s:\n{}", log_text()).into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let started: Vec<(i32, String)> = descendants(me)
        .into_iter()
        .filter(|(pid, _)| !before.contains(pid))
        .collect();
    let names: Vec<&str> = started.iter().map(|(_, n)| n.as_str()).collect();
    for peer in [
        "rolehop-desktop",
        "dbus-daemon",
        "gnome-keyring-d",
        "moto_server",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(peer)),
            "{peer} is not among the sandbox's processes: {names:?}"
        );
    }

    match stop {
        // SAFETY: kill(2) on the process group this test created for the sandbox.
        Stop::CtrlC => assert_eq!(unsafe { libc::kill(-sandbox_pid, libc::SIGINT) }, 0),
        // SAFETY: kill(2) on the sandbox this test started.
        Stop::Sigterm => assert_eq!(unsafe { libc::kill(sandbox_pid, libc::SIGTERM) }, 0),
        Stop::CloseWindow => {
            let script = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/e2e/desktop/close_window.py"
            );
            let status = Command::new("python3")
                .args([script, xvfb.display(), &window])
                .status()?;
            assert!(status.success(), "close_window.py failed");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox.try_wait()?.is_none() {
        if Instant::now() > deadline {
            let _ = sandbox.kill();
            return Err(format!(
                "the sandbox still runs 30 s after the stop:\n{}",
                log_text()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let pids: Vec<i32> = started.iter().map(|(pid, _)| *pid).collect();
    reap(&pids);
    let left: Vec<(i32, String)> = descendants(me)
        .into_iter()
        .filter(|(pid, _)| !before.contains(pid))
        .collect();
    assert!(
        left.is_empty(),
        "processes of the sandbox outlived it: {left:?}\n(it had started {started:?})\n{}",
        log_text()
    );
    let survivors: Vec<&(i32, String)> = started
        .iter()
        .filter(|(pid, _)| Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(*pid))
        .collect();
    assert!(survivors.is_empty(), "still running: {survivors:?}");
    Ok(())
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.starts_with(" Z"))
    })
}

#[test]
fn sandbox_ctrl_c_stops_the_app_moto_the_keyring_and_dbus() -> TestResult {
    stops_everything("ctrl-c", Stop::CtrlC)
}

#[test]
fn sandbox_sigterm_stops_the_app_moto_the_keyring_and_dbus() -> TestResult {
    stops_everything("sigterm", Stop::Sigterm)
}

#[test]
fn sandbox_window_close_stops_the_app_moto_the_keyring_and_dbus() -> TestResult {
    stops_everything("close", Stop::CloseWindow)
}
