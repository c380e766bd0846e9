//! The desktop app's steps: the UI (npm ci, type check, lint, Vitest, build), the
//! TypeScript bindings generated from the Rust types (checked for staleness), and the
//! app binary the WebDriver suites drive.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::job::Job;
use crate::process::{run, stdout_of};
use crate::repo::Repo;

/// The Node.js that Vite 8 and Vitest need.
const NODE_MIN: (u32, u32) = (20, 19);

pub fn ui_dir(repo: &Repo) -> PathBuf {
    repo.root.join("ui")
}

fn npm(repo: &Repo) -> Command {
    let mut command = Command::new("npm");
    command.current_dir(ui_dir(repo));
    command
}

/// `npm ci` in ui/, when node_modules is missing or older than package-lock.json.
pub fn npm_ci(repo: &Repo) -> Result<()> {
    let version = stdout_of(Command::new("node").arg("--version"))
        .context("Node.js is not installed (the UI needs Node >= 20.19 and npm)")?;
    let (major, minor) = parse_node_version(&version)
        .with_context(|| format!("cannot read Node's version from {version:?}"))?;
    if (major, minor) < NODE_MIN {
        bail!(
            "Node {} is too old: the UI's Vite needs >= {}.{}",
            version.trim(),
            NODE_MIN.0,
            NODE_MIN.1
        );
    }
    let lock = ui_dir(repo).join("package-lock.json");
    // npm writes this copy of the lock file into node_modules on every install.
    let installed = ui_dir(repo).join("node_modules/.package-lock.json");
    if modified(&installed).is_some_and(|i| modified(&lock).is_some_and(|l| i >= l)) {
        println!("up to date: ui/node_modules");
        return Ok(());
    }
    run(npm(repo).args(["ci", "--no-audit", "--no-fund"]))
}

fn parse_node_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// `vite build` into ui/dist, which the app embeds.
pub fn build_ui(repo: &Repo) -> Result<()> {
    run(npm(repo).args(["run", "build"]))
}

/// The UI's checks and build, for `cargo xtask test`: after these, ui/dist holds the
/// real UI (so clippy and the app build embed it, not the placeholder).
pub fn ui_steps(repo: &Repo, job: &mut Job) {
    job.step("UI: npm ci", || npm_ci(repo));
    job.step("UI: type check (svelte-check)", || {
        run(npm(repo).args(["run", "check"]))
    });
    job.step("UI: lint (eslint)", || run(npm(repo).args(["run", "lint"])));
    job.step("UI: unit tests (Vitest)", || {
        run(npm(repo).args(["run", "test"]))
    });
    job.step("UI: build (vite)", || build_ui(repo));
}

/// The TypeScript bindings, as ts-rs generates them from the Rust types, into `dir`,
/// with the desktop's typed command API (`commands.ts`, from
/// `src-tauri/src/commands/list.rs`), and that list's capability file into `capability`.
fn export_bindings(repo: &Repo, dir: &Path, capability: &Path) -> Result<()> {
    run(repo
        .cargo()
        .env("TS_RS_EXPORT_DIR", dir)
        .env("ROLEHOP_CAPABILITY_FILE", capability)
        .args([
            "test",
            "--quiet",
            "-p",
            "rolehop-model",
            "-p",
            "rolehop-policy",
            "-p",
            "rolehop-core",
            "-p",
            "rolehop-desktop",
            "--features",
            "rolehop-model/ts,rolehop-policy/ts,rolehop-core/ts,rolehop-desktop/ts",
            "--lib",
            "export_bindings",
        ]))
}

/// The capability file the command list grants the main window.
fn capability_file(repo: &Repo) -> PathBuf {
    repo.root.join("src-tauri/capabilities/main.json")
}

/// `cargo xtask bindings`: regenerates ui/src/bindings and src-tauri/capabilities/main.json.
pub fn write_bindings(repo: &Repo) -> Result<()> {
    // The region table first: the model's bindings export it.
    crate::regions::write(repo)?;
    let dir = ui_dir(repo).join("src/bindings");
    if dir.exists() {
        fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    export_bindings(repo, &dir, &capability_file(repo))
}

/// Fails when ui/src/bindings or the capability file differs from what the Rust types
/// and the command list generate now: a command registered but not permitted,
/// permitted but not registered, or missing from the TypeScript API.
pub fn check_bindings(repo: &Repo) -> Result<()> {
    let fresh = repo.root.join("target/xtask-bindings");
    if fresh.exists() {
        fs::remove_dir_all(&fresh)?;
    }
    let fresh_capability = repo.root.join("target/xtask-capability.json");
    export_bindings(repo, &fresh, &fresh_capability)?;
    let committed = ui_dir(repo).join("src/bindings");
    let mut stale = differences(&committed, &fresh)?;
    if fs::read(capability_file(repo)).ok() != fs::read(&fresh_capability).ok() {
        stale.push("src-tauri/capabilities/main.json".into());
    }
    if !crate::regions::is_current(repo)? {
        stale
            .push("crates/model/src/validate/regions.rs (the SDK's partition data changed)".into());
    }
    if !stale.is_empty() {
        bail!(
            "the generated bindings are stale ({}): run `cargo xtask bindings` and commit the result",
            stale.join(", ")
        );
    }
    println!("ui/src/bindings and the capability file match the Rust types and commands");
    Ok(())
}

/// The file names that differ between two flat directories (missing on either side,
/// or with other bytes).
fn differences(a: &Path, b: &Path) -> Result<Vec<String>> {
    let names = |dir: &Path| -> Result<Vec<String>> {
        let mut names = Vec::new();
        if dir.exists() {
            for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
                names.push(entry?.file_name().to_string_lossy().into_owned());
            }
        }
        Ok(names)
    };
    let mut all = names(a)?;
    all.extend(names(b)?);
    all.sort();
    all.dedup();
    Ok(all
        .into_iter()
        .filter(|name| fs::read(a.join(name)).ok() != fs::read(b.join(name)).ok())
        .collect())
}

/// What the desktop WebDriver suites launch: the app (target/debug/rolehop-desktop)
/// and, next to it, the `rolehop` CLI that its credential_process lines run and that
/// the suites use to change the workspace behind the window's back.
pub fn build_app(repo: &Repo) -> Result<()> {
    run(repo.cargo().args([
        "build",
        "-p",
        "rolehop-desktop",
        "-p",
        "rolehop-cli",
        "--bins",
    ]))
}

/// What the desktop bench compares: the release app and the bare Tauri window example.
/// `env`: variables for the build (`cargo xtask startup-order` sets one).
pub fn build_release(repo: &Repo, env: &[(&str, &str)]) -> Result<()> {
    run(repo.cargo().envs(env.iter().copied()).args([
        "build",
        "--release",
        "-p",
        "rolehop-desktop",
        "--bin",
        "rolehop-desktop",
        "--example",
        "bare_window",
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_versions_parse_with_or_without_the_v() {
        assert_eq!(parse_node_version("v20.20.2\n"), Some((20, 20)));
        assert_eq!(parse_node_version("22.1.0"), Some((22, 1)));
        assert_eq!(parse_node_version("garbage"), None);
    }
}
