//! `cargo xtask test`: every check CI runs, in the order a developer wants them.
//!
//! To add checks, add a module with a `fn steps(repo: &Repo, job: &mut Job)` and call
//! it below, and put its installs in `install::for_tests`. The desktop app's are in
//! [`crate::desktop`]: the UI's checks and build, the bindings check, the app binary
//! that the WebDriver suites (run by nextest with the others) launch.

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;

pub fn task(repo: &Repo) -> Result<()> {
    let mut job = Job::new("test");
    install::for_tests(repo, &mut job);
    if job.failed() {
        // No point running suites whose peers are missing.
        return job.finish();
    }
    // The UI first: its build is what the app (and so clippy) embeds.
    desktop::ui_steps(repo, &mut job);
    job.step("TypeScript bindings are up to date", || {
        desktop::check_bindings(repo)
    });
    rust_steps(repo, &mut job)?;
    job.finish()
}

/// Format, lints, the doc tests and the Rust suites (unit and end-to-end).
fn rust_steps(repo: &Repo, job: &mut Job) -> Result<()> {
    job.step(
        "no import circle inside a crate (cargo xtask layers)",
        || crate::layers::check(repo),
    );
    job.step("cargo fmt --check", || {
        run(repo.cargo().args(["fmt", "--all", "--check"]))
    });
    job.step("cargo clippy", || {
        run(repo.cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    // Dependencies are chosen, not collected: one that no code uses fails (about 1 s).
    job.step("cargo machete (no unused dependency)", || {
        // cargo-machete reads CARGO_PKG_NAME (set for xtask by `cargo run`) as "run by
        // cargo" and then takes its own subcommand name for a path: clear it.
        run(repo.cargo().arg("machete").env_remove("CARGO_PKG_NAME"))
    });
    // Doc tests before the suites: nextest's summary should be the run's last word.
    let mut doctests = repo.cargo_with_peers()?;
    job.step("cargo test --doc", || {
        run(doctests.args(["test", "--workspace", "--doc"]))
    });
    // What the desktop WebDriver suites launch.
    job.step("build the desktop app and the CLI", || {
        desktop::build_app(repo)
    });
    // The debug packages installed on a clean Debian 12 (before the suites, whose
    // summary should be the run's last word).
    crate::bundle::debug_package_steps(repo, job)?;
    let mut nextest = repo.cargo_with_peers()?;
    job.step("cargo nextest (unit and end-to-end suites)", || {
        run(nextest.args(["nextest", "run", "--workspace", "--no-fail-fast"]))
    });
    Ok(())
}
