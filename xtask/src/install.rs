//! Installing what the project needs, idempotently: every install looks first and
//! acts only on what is missing, so a second run of any task costs seconds.
//!
//! To add a need: a Debian package goes into [`APP_PACKAGES`] (the app needs it to
//! build or run) or [`TEST_PACKAGES`] (only the tests do); anything else becomes a
//! function here and one `job.step` line in [`for_app`] or [`for_tests`].

use std::fs;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::desktop;
use crate::job::Job;
use crate::process::{run, stdout_of, succeeds};
use crate::repo::Repo;

/// Debian packages the app needs to build and run: the Secret Service keychain over
/// D-Bus, and Tauri's prerequisites on Debian (WebKitGTK, the tray's appindicator,
/// librsvg for icons, libxdo for menus).
pub const APP_PACKAGES: &[&str] = &[
    "dbus",
    "gnome-keyring",
    "libdbus-1-dev",
    "pkg-config",
    "build-essential",
    "file",
    "libssl-dev",
    "libwebkit2gtk-4.1-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
];

/// Debian packages only the end-to-end tests need: `secret-tool` to look into the
/// keychain from outside, Python to build the peers venv, and for the desktop suites
/// an X server (Xvfb), WebKitGTK's WebDriver (which tauri-driver fronts), `xwininfo`
/// (x11-utils: is the window shown?), `xdotool` (the keyboard in the federated login
/// window, which WebDriver cannot reach) and `busctl` (systemd: the tray menu over D-Bus);
/// zsh and fish parse the completion scripts the CLI prints; `keyctl` (keyutils) reads
/// the kernel keyring's copies back; awscli is Debian's AWS CLI v2 (`/usr/bin/aws`), whose
/// `configure export-credentials` is the `credential-process` bench's cached baseline
/// (the venv's PyPI awscli, which the suites use, is v1 and has no such command); the
/// package tests make a clean Debian root with `mmdebstrap` and install the `.rpm` into
/// an empty one with `rpm`; `xmlsec1` signs the SAML responses of the test identity
/// provider (pysaml2 calls it); `dunst` is the notification server whose notifications
/// the federated desktop test clicks.
pub const TEST_PACKAGES: &[&str] = &[
    "awscli",
    "libsecret-tools",
    "keyutils",
    "python3",
    "python3-venv",
    "xvfb",
    "webkit2gtk-driver",
    "x11-utils",
    "xdotool",
    "systemd",
    "zsh",
    "fish",
    "mmdebstrap",
    "rpm",
    "xmlsec1",
    "dunst",
];

/// The tauri-driver the desktop suites use: the latest 2.x (crates.io's newest are 3.0
/// alphas, for Tauri 3).
const TAURI_DRIVER_VERSION: &str = "^2";

/// `cargo xtask install`: everything, for running the app and the tests.
pub fn task(repo: &Repo) -> Result<()> {
    let mut job = Job::new("install");
    for_tests(repo, &mut job);
    job.finish()
}

/// The steps that make `cargo xtask run` work.
pub fn for_app(repo: &Repo, job: &mut Job) {
    job.step("Debian packages for the app", || {
        debian_packages(APP_PACKAGES)
    });
    job.step("UI: npm ci", || desktop::npm_ci(repo));
}

/// The steps that make `cargo xtask test` and `bench` work (a superset of the app's).
pub fn for_tests(repo: &Repo, job: &mut Job) {
    job.step("Rust components rustfmt and clippy", || {
        rust_components(repo)
    });
    let packages: Vec<&str> = APP_PACKAGES.iter().chain(TEST_PACKAGES).copied().collect();
    job.step("Debian packages for the app and the tests", || {
        debian_packages(&packages)
    });
    job.step("Python peers venv (moto, awscli, boto3)", || {
        peers_venv(repo)
    });
    job.step("cargo-nextest", || {
        cargo_subcommand(repo, "nextest", "cargo-nextest")
    });
    job.step("cargo-machete", || {
        cargo_subcommand(repo, "machete", "cargo-machete")
    });
    job.step("tauri-driver", || tauri_driver(repo));
}

/// Installs tauri-driver 2.x from crates.io unless `cargo install` already did.
fn tauri_driver(repo: &Repo) -> Result<()> {
    let listed = stdout_of(repo.cargo().args(["install", "--list"])).unwrap_or_default();
    if let Some(line) = listed.lines().find(|l| l.starts_with("tauri-driver v2.")) {
        println!("already installed: {}", line.trim_end_matches(':'));
        return Ok(());
    }
    run(repo.cargo().args([
        "install",
        "tauri-driver",
        "--locked",
        "--version",
        TAURI_DRIVER_VERSION,
    ]))
}

/// Installs the Debian packages among `packages` that are not installed yet.
pub fn debian_packages(packages: &[&str]) -> Result<()> {
    if !succeeds(Command::new("dpkg-query").arg("--version")) {
        println!(
            "not a Debian system: skipping. Make sure these (or your system's equivalents) \
             are installed: {}",
            packages.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !debian_installed(p))
        .collect();
    if missing.is_empty() {
        println!("already installed: {}", packages.join(" "));
        return Ok(());
    }
    println!("missing: {}", missing.join(" "));
    apt_get(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q"];
    install.extend(&missing);
    apt_get(&install)?;

    let still_missing: Vec<&str> = missing
        .into_iter()
        .filter(|p| !debian_installed(p))
        .collect();
    if !still_missing.is_empty() {
        bail!("apt-get did not install: {}", still_missing.join(" "));
    }
    Ok(())
}

fn debian_installed(package: &str) -> bool {
    stdout_of(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|status| status.trim() == "install ok installed")
}

/// Runs apt-get as root: directly when we are root (CI), through `sudo -n` when that
/// works without a password, otherwise fails with the command to run by hand.
fn apt_get(args: &[&str]) -> Result<()> {
    // Waits for another apt or dpkg (an unattended upgrade) instead of failing.
    let lock_wait = ["-o", "DPkg::Lock::Timeout=600"];
    let is_root = stdout_of(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let mut command = if is_root {
        let mut command = Command::new("apt-get");
        command.env("DEBIAN_FRONTEND", "noninteractive");
        command
    } else if succeeds(Command::new("sudo").args(["-n", "true"])) {
        let mut command = Command::new("sudo");
        command.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        command
    } else {
        bail!(
            "installing Debian packages needs root; run `sudo apt-get {}` and try again",
            args.join(" ")
        );
    };
    run(command.args(lock_wait).args(args))
}

/// Creates the peers venv if needed and installs `tests/peers-requirements.txt` into
/// it when that file changed since the last install (a copy of it is the stamp).
fn peers_venv(repo: &Repo) -> Result<()> {
    let requirements_path = repo.peers_requirements();
    let requirements = fs::read(&requirements_path)
        .with_context(|| format!("reading {}", requirements_path.display()))?;
    let venv = &repo.peers_venv;
    let python = venv.join("bin/python");
    let stamp = venv.join(".rolehop-peers-requirements");

    let python_works = succeeds(Command::new(&python).args(["-c", "import sys"]));
    let stamp_matches = fs::read(&stamp).is_ok_and(|old| old == requirements);
    let peers_import = python_works
        && succeeds(Command::new(&python).args(["-c", "import moto, boto3, awscli, flask"]));
    if stamp_matches && peers_import {
        println!("up to date: {}", venv.display());
        return Ok(());
    }

    if !python_works {
        // --clear: a venv whose interpreter moved or vanished is rebuilt from scratch.
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(venv))
        .context("creating the peers venv (Debian: python3-venv)")?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
        ])
        .arg("-r")
        .arg(&requirements_path))?;
    fs::write(&stamp, &requirements).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(())
}

/// rustfmt and clippy, added through rustup when the toolchain lacks them.
fn rust_components(repo: &Repo) -> Result<()> {
    let present = |tool: &str| succeeds(repo.cargo().args([tool, "--version"]));
    if present("fmt") && present("clippy") {
        println!("already installed: rustfmt clippy");
        return Ok(());
    }
    run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
        .context("adding rustfmt and clippy to the toolchain")
}

/// Installs the cargo subcommand `cargo <name>` from crate `krate` if it is missing.
fn cargo_subcommand(repo: &Repo, name: &str, krate: &str) -> Result<()> {
    if let Some(version) = stdout_of(repo.cargo().args([name, "--version"])) {
        println!(
            "already installed: {}",
            version.lines().next().unwrap_or(krate)
        );
        return Ok(());
    }
    run(repo.cargo().args(["install", krate, "--locked"]))
}
