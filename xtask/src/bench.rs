//! `cargo xtask bench`: the benchmarks, with the test peers on PATH (benches that
//! measure a session start need moto and a keyring, like the end-to-end suites).

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;
use crate::startup_order;

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
    if runs_desktop_figures(args) {
        // The desktop bench measures the release app as the packages ship it (its
        // launch code gathered from a profile of itself), the same build in the
        // compiler's order, and a bare Tauri window.
        startup_order::install(&mut job);
        job.step("UI: npm ci", || desktop::npm_ci(repo));
        job.step("UI: build (vite)", || desktop::build_ui(repo));
        if job.failed() {
            return job.finish();
        }
        startup_order::build_release(repo, &mut job);
        if job.failed() {
            return job.finish();
        }
    }
    let mut bench = repo.cargo_with_peers()?;
    bench.arg("bench");
    if args.first().is_none_or(|first| first == "--") {
        bench.args(["--workspace", "--bench", "*"]);
    }
    job.step("cargo bench", || run(bench.args(args)));
    job.finish()
}

/// Whether `cargo bench ARGS` runs the desktop bench's release figures: no `--bench`
/// naming another target, and no filter after `--` or one that `desktop` contains (as
/// the bench itself decides).
fn runs_desktop_figures(args: &[String]) -> bool {
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (cargo, bench) = (&args[..split], args.get(split + 1..).unwrap_or_default());
    let targets: Vec<&str> = cargo
        .windows(2)
        .filter(|pair| pair[0] == "--bench")
        .map(|pair| pair[1].as_str())
        .collect();
    let filters: Vec<&str> = bench
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    (targets.is_empty() || targets.iter().any(|t| matches!(*t, "desktop" | "*")))
        && (filters.is_empty() || filters.iter().any(|f| "desktop".contains(f)))
}

#[cfg(test)]
mod tests {
    use super::runs_desktop_figures;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn the_release_desktop_is_built_only_when_its_figures_run() {
        assert!(runs_desktop_figures(&args(&[])));
        assert!(runs_desktop_figures(&args(&["--", "desktop"])));
        assert!(runs_desktop_figures(&args(&[
            "--bench", "desktop", "--", "desk"
        ])));
        assert!(!runs_desktop_figures(&args(&["--", "engine_chain"])));
        assert!(!runs_desktop_figures(&args(&["--", "sso"])));
        assert!(!runs_desktop_figures(&args(&["--bench", "engine_chain"])));
    }
}
