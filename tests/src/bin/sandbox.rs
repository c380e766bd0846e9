//! `cargo xtask sandbox`: the desktop app on throw-away peers, to try it without an AWS
//! account or touching your own keychain and AWS files.
//!
//! Starts moto and a private gnome-keyring, seeds them with the seed's story (an IAM
//! user `deployer` with an MFA device in the staging account, `CodeBuildRole` chained
//! from it, `ResourceDeployCAR` in a production account chained from that) through the
//! `rolehop` CLI, then runs the app on that workspace until it quits. Any six digits
//! answer the MFA dialog.
//!
//! Everything it started stops together: when the app quits (Quit, `Ctrl+Q`, or closing
//! its window, which the sandbox's workspace sets to quit), or when the sandbox gets
//! SIGINT (Ctrl-C), SIGTERM or SIGHUP, it ends the app's process group (the app and
//! WebKit's helpers), then moto, gnome-keyring and the private D-Bus, and removes the
//! temporary files. The `sandbox_stop` suite checks that no process of it remains.
//!
//! Usage: `sandbox APP_BINARY` (the `rolehop` CLI is looked for next to it).

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use rolehop_e2e::Peers;

/// The production account of the story (moto does not check that an assumed role exists).
const DEPLOY_ROLE: &str = "arn:aws:iam::210987654321:role/ResourceDeployCAR";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

type Error = Box<dyn std::error::Error>;

fn run() -> Result<ExitCode, Error> {
    let app = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: sandbox APP_BINARY")?;
    let cli = app.with_file_name("rolehop");
    for bin in [&app, &cli] {
        if !bin.exists() {
            return Err(format!(
                "{} is missing: `cargo xtask sandbox` builds it",
                bin.display()
            )
            .into());
        }
    }

    // Before any peer starts: a signal from now on stops what was started so far.
    catch_stop_signals();
    println!("starting moto and a private gnome-keyring...");
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let mut env = peers.env();
    env.push((
        "ROLEHOP_KEYCHAIN_SERVICE".into(),
        peers.home().keychain_service().into(),
    ));
    env.push(("ROLEHOP_CLI".into(), cli.to_string_lossy().into_owned()));
    seed(&peers, &cli, &env)?;
    close_means_quit(&peers)?;

    println!("\nThe sandbox's environment (for the AWS CLI or `rolehop` in another shell):");
    for (key, value) in &env {
        println!("  export {key}='{value}'");
    }
    println!(
        "\nStart ResourceDeployCAR in the window (any 6 digits answer the MFA dialog), then:\n  \
         aws sts get-caller-identity --profile production\n\
         Quit (Ctrl+Q), close the window or press Ctrl-C here: moto, the keyring and the \
         files go with the app.\n"
    );
    if stop_signal().is_some() {
        return Ok(ExitCode::FAILURE);
    }
    let app = Command::new(&app)
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        // A group of its own: the terminal's Ctrl-C reaches the sandbox, which ends the
        // app with everything the app started (WebKit's processes) in one signal.
        .process_group(0)
        .spawn()?;
    let status = run_app(app)?;
    // Dropping the peers kills and reaps moto, gnome-keyring and the bus, and removes
    // the temporary home.
    drop(peers);
    Ok(if status.is_some_and(|s| s.success()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The stop signal received, 0 for none. Written by the handler, read by the main loop.
static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signal: libc::c_int) {
    // Only an atomic store: all a signal handler may safely do.
    STOP.store(signal, Ordering::SeqCst);
}

/// SIGINT, SIGTERM and SIGHUP no longer kill the sandbox outright (which would leave
/// its peers running): they ask the main loop to stop everything. A handler, unlike an
/// ignored or blocked signal, is not inherited by the programs the sandbox starts.
fn catch_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs a handler that only stores to an atomic.
        unsafe {
            libc::signal(signal, on_stop_signal as *const () as libc::sighandler_t);
        }
    }
}

fn stop_signal() -> Option<i32> {
    Some(STOP.load(Ordering::SeqCst)).filter(|s| *s != 0)
}

/// Waits for the app to quit or for a stop signal; either way the app's whole process
/// group is gone on return. The app's exit status, or None when a signal ended it.
fn run_app(mut app: Child) -> Result<Option<ExitStatus>, Error> {
    let group = i32::try_from(app.id())?;
    let status = loop {
        if let Some(status) = app.try_wait()? {
            break Some(status);
        }
        if let Some(signal) = stop_signal() {
            println!("\nsandbox: signal {signal}: stopping the app, moto, the keyring and D-Bus");
            signal_group(group, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while app.try_wait()?.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Whatever of the group outlived the app (WebKit's helpers) goes now, and is gone
    // when this returns (a SIGKILL is delivered, not awaited, by kill(2)).
    signal_group(group, libc::SIGKILL);
    let _ = app.kill();
    let _ = app.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_alive(group) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(status)
}

/// Whether a process of `group` still runs (a zombie waiting for its reaper does not).
fn group_alive(group: i32) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .any(|stat| {
            // `pid (comm) state ppid pgrp ...`
            let mut fields = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest)
                .unwrap_or("")
                .split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
            state != Some("Z") && pgrp == Some(group)
        })
}

fn signal_group(group: i32, signal: libc::c_int) {
    // SAFETY: kill(2) on the process group the sandbox created for its app.
    unsafe {
        libc::kill(-group, signal);
    }
}

/// The sandbox's window has no tray to hide to (its session bus is private): closing
/// it quits, and so ends the sandbox, instead of asking.
fn close_means_quit(peers: &Peers) -> Result<(), Error> {
    let file = peers.home().rolehop_home().join("workspace.json");
    let mut workspace: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
    workspace["settings"]["close_without_tray"] = "quit".into();
    std::fs::write(&file, serde_json::to_vec_pretty(&workspace)?)?;
    Ok(())
}

/// The story, in moto and in the workspace (through the CLI, as a user would).
fn seed(peers: &Peers, cli: &Path, env: &[(String, String)]) -> Result<(), Error> {
    let moto = peers.moto();
    let user = moto.create_user("deployer")?;
    let serial = moto.create_mfa_device("deployer")?;
    let codebuild = moto.create_role("CodeBuildRole", &user.arn)?;
    let keys = format!("{}\n{}\n", user.access_key_id, user.secret_access_key);
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "iam-user",
            "--name",
            "deployer",
            "--profile",
            "staging",
            "--region",
            "us-east-1",
            "--mfa-serial",
            &serial,
        ],
        Some(&keys),
    )?;
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "role",
            "--name",
            "CodeBuildRole",
            "--parent",
            "deployer",
            "--role-arn",
            &codebuild,
            "--profile",
            "codebuild",
            "--region",
            "us-east-1",
        ],
        None,
    )?;
    rolehop(
        cli,
        env,
        &[
            "session",
            "add",
            "role",
            "--name",
            "ResourceDeployCAR",
            "--parent",
            "CodeBuildRole",
            "--role-arn",
            DEPLOY_ROLE,
            "--profile",
            "production",
            "--region",
            "eu-west-1",
        ],
        None,
    )?;
    Ok(())
}

fn rolehop(
    cli: &Path,
    env: &[(String, String)],
    args: &[&str],
    stdin: Option<&str>,
) -> Result<(), Error> {
    let mut child = Command::new(cli)
        .args(args)
        .envs(env.iter().cloned())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("rolehop {} failed ({status})", args.join(" ")).into());
    }
    Ok(())
}
