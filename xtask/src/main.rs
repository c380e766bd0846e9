//! `cargo xtask`: the project's tasks, one command each, for developers and CI alike.
//!
//! Every task first installs what is missing (Debian packages, the Python peers venv,
//! cargo tools), so a fresh clone needs nothing done by hand; each install checks
//! before it acts, so a second run costs seconds. See ARCHITECTURE.md, "Tests and CI".

mod bench;
mod bundle;
mod clean_root;
mod desktop;
mod install;
mod job;
mod layers;
mod process;
mod regions;
mod repo;
mod run;
mod sandbox;
mod startup_order;
mod test;

use std::process::ExitCode;

use repo::Repo;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  install   install what the project needs (Debian packages, peers venv, cargo tools)
  test      install, then fmt, clippy, every test suite and the doc tests
  run       install, build the UI, then start the desktop app (--release: optimised)
  bench     install, then run the benchmarks with the test peers available
  sandbox   the desktop app on throw-away moto, keyring and workspace, seeded
  bindings  regenerate ui/src/bindings (TypeScript) from the Rust types
  startup-order  the release app with its launch code gathered, as bundle builds it:
            profiled under valgrind, linked again, checked (bench does it too)
  layers    each crate's files, imports, import circles and largest files; fails on a
            circle inside a crate (--root DIR: measure another checkout)
  bundle    the .deb and .rpm packages (app + rolehop CLI) in <target dir>/release/bundle
            (--debug: of the debug builds, a quick check of the packaging;
            --check: then install the .deb, run it, launch it, remove it, and read
            the .rpm's file list: tests/tests/e2e/package.rs, needs root)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = match Repo::locate() {
        Ok(repo) => repo,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match args.first().map(String::as_str) {
        Some("install") => install::task(&repo),
        Some("test") => test::task(&repo),
        Some("run") => run::task(&repo, &args[1..]),
        Some("bench") => bench::task(&repo, &args[1..]),
        Some("sandbox") => sandbox::task(&repo),
        Some("bindings") => desktop::write_bindings(&repo),
        Some("bundle") => bundle::task(&repo, &args[1..]),
        Some("startup-order") => startup_order::task(&repo),
        Some("layers") => layers::task(&repo, &args[1..]),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
