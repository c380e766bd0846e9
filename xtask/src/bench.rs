//! `cargo xtask bench`: the benchmarks, with the test peers on PATH (benches that
//! measure a session start need moto and a keyring, like the end-to-end suites).

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;

/// Arguments go to `cargo bench`. Without any before `--`, every bench target of the
/// workspace runs: `--bench '*'` rather than plain `--workspace`, which would also
/// build every library and binary (the desktop app among them) in release mode only
/// to run their zero `#[bench]` functions. `cargo xtask bench -- FILTER` filters.
pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let mut job = Job::new("bench");
    install::for_tests(repo, &mut job);
    if job.failed() {
        return job.finish();
    }
    // The desktop bench measures the release app and a bare Tauri window.
    job.step("UI: npm ci", || desktop::npm_ci(repo));
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    job.step(
        "release build of the desktop app and the bare window",
        || desktop::build_release(repo, &[]),
    );
    if job.failed() {
        return job.finish();
    }
    let mut bench = repo.cargo_with_peers()?;
    bench.arg("bench");
    if args.first().is_none_or(|first| first == "--") {
        bench.args(["--workspace", "--bench", "*"]);
    }
    job.step("cargo bench", || run(bench.args(args)));
    job.finish()
}
