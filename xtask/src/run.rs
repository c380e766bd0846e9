//! `cargo xtask run`: install what is missing, then start Rolehop.
//!
//! Until the desktop app exists this runs the command line's help; the desktop
//! shell's engineer replaces [`main_job`] with launching the app.

use anyhow::Result;

use crate::install;
use crate::job::Job;
use crate::process::{run, stdout_of};
use crate::repo::Repo;

pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let mut job = Job::new("run");
    install::for_app(repo, &mut job);
    job.finish()?;
    main_job(repo, args)
}

/// The command line, with `args` (default `--help`), if its package exists.
fn main_job(repo: &Repo, args: &[String]) -> Result<()> {
    if !package_exists(repo, "rolehop-cli") {
        println!("Rolehop has no runnable program yet (no rolehop-cli package).");
        return Ok(());
    }
    let mut command = repo.cargo();
    command.args(["run", "--quiet", "-p", "rolehop-cli", "--"]);
    if args.is_empty() {
        command.arg("--help");
    } else {
        command.args(args);
    }
    run(&mut command)
}

fn package_exists(repo: &Repo, name: &str) -> bool {
    stdout_of(
        repo.cargo()
            .args(["metadata", "--no-deps", "--format-version", "1"]),
    )
    .is_some_and(|json| json.contains(&format!(r#""name":"{name}""#)))
}
