//! `cargo xtask startup-order`: rewrites `src-tauri/startup-order.ld`, the order in
//! which release builds place the desktop app's launch code, from a profile of a
//! launch under valgrind's callgrind (`tests/benches/desktop/startup_order.rs` does the
//! profiling). Not part of CI: run it after large changes to what the app runs at
//! launch, then `cargo xtask bench -- desktop` to see the memory it saves.

use anyhow::Result;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;

pub fn task(repo: &Repo) -> Result<()> {
    let mut job = Job::new("startup-order");
    install::for_tests(repo, &mut job);
    job.step(
        "Debian packages valgrind and binutils (callgrind, nm)",
        || install::debian_packages(&["valgrind", "binutils"]),
    );
    job.step("UI: npm ci", || desktop::npm_ci(repo));
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    // The release app as `cargo xtask bench` builds it (its symbol table is kept:
    // Cargo.toml, `[profile.release.package.rolehop-desktop]`), but linked without the
    // script: callgrind names only the functions in `.text`.
    job.step("release build of the desktop app, launch order off", || {
        desktop::build_release(repo, &[("ROLEHOP_LAUNCH_ORDER", "off")])
    });
    if job.failed() {
        return job.finish();
    }
    let mut profile = repo.cargo_with_peers()?;
    profile.args([
        "bench",
        "-p",
        "rolehop-e2e",
        "--bench",
        "desktop",
        "--",
        "startup-order",
    ]);
    job.step("profile a launch and write the script", || {
        run(&mut profile)
    });
    // Leave the release app as the other tasks expect it: linked with the new script.
    job.step("release build of the desktop app", || {
        desktop::build_release(repo, &[])
    });
    job.finish()
}
