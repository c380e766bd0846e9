//! `cargo xtask run`: install what is missing, build the UI, then start the desktop app
//! (with the `rolehop` CLI built next to it, which `credential_process` lines run).
//!
//! `cargo xtask run --release` builds both optimised.

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;

pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let release = args.iter().any(|a| a == "--release");
    let mut job = Job::new("run");
    install::for_app(repo, &mut job);
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    job.step("build the rolehop CLI", || {
        let mut cargo = repo.cargo();
        cargo.args(["build", "-p", "rolehop-cli"]);
        if release {
            cargo.arg("--release");
        }
        run(&mut cargo)
    });
    job.finish()?;

    let mut app = repo.cargo();
    app.args(["run", "-p", "rolehop-desktop", "--bin", "rolehop-desktop"]);
    if release {
        app.arg("--release");
    }
    run(&mut app)
}
