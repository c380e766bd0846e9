//! `cargo xtask bench`: the benchmarks, with the test peers on PATH (benches that
//! measure a session start need moto and a keyring, like the end-to-end suites).

use anyhow::Result;

use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;

/// Extra arguments go to `cargo bench` (e.g. `-p rolehop-e2e`, `-- filter`).
pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let mut job = Job::new("bench");
    install::for_tests(repo, &mut job);
    if job.failed() {
        return job.finish();
    }
    let mut bench = repo.cargo_with_peers()?;
    bench.arg("bench");
    if !args.iter().any(|a| a == "-p" || a.starts_with("--package")) {
        bench.arg("--workspace");
    }
    job.step("cargo bench", || run(bench.args(args)));
    job.finish()
}
