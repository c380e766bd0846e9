//! `cargo xtask sandbox`: the desktop app on throw-away peers (moto, a private
//! gnome-keyring, a temporary workspace and AWS files), seeded with the seed's story.
//! See `tests/src/bin/sandbox.rs`.

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::repo::Repo;

pub fn task(repo: &Repo) -> Result<()> {
    let mut job = Job::new("sandbox");
    install::for_tests(repo, &mut job);
    job.step("UI: npm ci", || desktop::npm_ci(repo));
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    job.step("build the desktop app and the CLI", || {
        desktop::build_app(repo)
    });
    job.finish()?;

    let app = repo.target_dir()?.join("debug/rolehop-desktop");
    let mut sandbox = repo.cargo_with_peers()?;
    sandbox
        .args([
            "run",
            "--quiet",
            "-p",
            "rolehop-e2e",
            "--bin",
            "sandbox",
            "--",
        ])
        .arg(app);
    // Replaced by cargo, which `cargo run` replaces by the sandbox (exec on Unix): one
    // process, so Ctrl-C or a SIGTERM sent to `cargo xtask sandbox` reaches the sandbox,
    // which stops everything it started (`tests/src/bin/sandbox.rs`).
    println!("$ cargo run -p rolehop-e2e --bin sandbox");
    use std::os::unix::process::CommandExt;
    Err(anyhow::Error::from(sandbox.exec()).context("could not start cargo"))
}
