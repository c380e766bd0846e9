//! `cargo xtask bundle`: the Linux packages, through the Tauri bundler (the
//! `@tauri-apps/cli` npm package, a prebuilt binary in ui/node_modules): a `.deb` and an
//! `.rpm` holding the desktop app, the `rolehop` command line in `/usr/bin`, the desktop
//! entry and the icon, with the app's library dependencies (webkit2gtk, GTK, the app
//! indicator) and a Secret Service provider recommended (`tauri.conf.json`, `bundle`).
//! Neither bundler downloads anything at build time (the AppImage one would: not built).
//!
//! Release builds by default; `--debug` packages the debug builds, a quick check of the
//! packaging itself. The packages land in `<target dir>/<profile>/bundle/{deb,rpm}/`
//! (`CARGO_TARGET_DIR` honoured), and the task prints where.
//!
//! A release package's app has its launch code gathered (`startup_order.rs`): the
//! bundler builds the app, a launch of that build is profiled under valgrind and Xvfb
//! (with a private keyring and 1,000 sessions), the bundler links it again with the
//! script the profile wrote and packages it, and the task fails unless that binary
//! holds the profiled functions in its `.text.launch` section. Nothing of it is kept
//! in the repository, so a compiler or dependency update cannot leave a stale layout.
//!
//! `--check` then tests them as a user gets them (`tests/tests/e2e/package.rs`, ignored
//! in `cargo xtask test`): the `.deb` installed with `dpkg -i`, its `/usr/bin/rolehop` run,
//! its app launched under Xvfb on 1,000 sessions (the launch figure), then `dpkg -r`
//! with the user's workspace intact; the `.rpm`'s file list, version and dependencies
//! read with `rpm -qlp`. Installing needs root. Not part of CI: the release build alone
//! takes about ten minutes of both cores; the launch profile (about 100 s) and the app's
//! second link add 5 to 10 more.

use anyhow::{Result, bail};
use serde_json::json;

use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;
use crate::startup_order;

pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let debug = args.iter().any(|a| a == "--debug");
    let check = args.iter().any(|a| a == "--check");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--debug" | "--check"))
    {
        bail!("bundle: unknown argument {unknown} (use --debug and/or --check)");
    }
    let profile = if debug { "debug" } else { "release" };
    let tauri = desktop::ui_dir(repo).join("node_modules/.bin/tauri");
    let mut job = Job::new("bundle");
    // The bundler's prerequisites are the app's own (WebKitGTK, the appindicator...).
    install::for_app(repo, &mut job);
    if !debug {
        // The launch profile's: Xvfb, valgrind (its keyring is the app's gnome-keyring).
        startup_order::install(&mut job);
    }
    if check {
        // The package tests: the peers and the WebDriver stack of the desktop suites,
        // and `rpm` to read the .rpm.
        install::for_tests(repo, &mut job);
        job.step("Debian package rpm (reads the .rpm)", || {
            install::debian_packages(&["rpm"])
        });
    }
    job.step("UI: build (vite)", || desktop::build_ui(repo));
    job.step("build the rolehop CLI", || {
        let mut cargo = repo.cargo();
        cargo.args(["build", "-p", "rolehop-cli", "--bin", "rolehop"]);
        if !debug {
            cargo.arg("--release");
        }
        run(&mut cargo)
    });
    // The CLI goes to /usr/bin from this build's target directory; the path is
    // absolute, so it is given here rather than in tauri.conf.json.
    let built = repo.target_dir()?.join(profile);
    let cli = built.join("rolehop");
    let files = json!({ "/usr/bin/rolehop": cli });
    let config = json!({ "bundle": { "linux": {
        "deb": { "files": files },
        "rpm": { "files": files },
    } } });
    let bundler = |args: &[&str]| -> Result<std::process::Command> {
        if !tauri.exists() {
            bail!(
                "{} is missing: install the UI's dev dependencies (`npm ci` in ui/, which needs Node >= 20.19)",
                tauri.display()
            );
        }
        let mut bundler = std::process::Command::new(&tauri);
        bundler
            .current_dir(repo.root.join("src-tauri"))
            .arg("build")
            .args(args)
            .args(["--ci", "--config"])
            .arg(config.to_string());
        if debug {
            bundler.arg("--debug");
        }
        Ok(bundler)
    };
    if !debug {
        job.step(
            "build the app (bundler, no packages), the compiler's order",
            || run(&mut bundler(&["--no-bundle"])?),
        );
        job.step(
            "profile a launch of that build (callgrind) and write the script",
            || startup_order::profile(repo, &startup_order::release_app(repo)?),
        );
    }
    if job.failed() {
        return job.finish();
    }
    job.step("package the app and the CLI (.deb, .rpm)", || {
        let mut bundler = bundler(&["--bundles", "deb,rpm"])?;
        if !debug {
            // The same build linked again, its launch code gathered.
            let (var, script) = startup_order::order_env(repo);
            bundler.env(var, script);
        }
        run(&mut bundler)
    });
    if !debug {
        job.step("check the packaged app's launch code gathered", || {
            startup_order::check(repo, &startup_order::release_app(repo)?)
        });
    }
    if check {
        job.step(
            "test the packages (dpkg -i, run, launch, dpkg -r; rpm -qlp)",
            || {
                let mut nextest = repo.cargo_with_peers()?;
                nextest
                    // The package suite is a module of the end-to-end test binary.
                    .args(["nextest", "run", "-p", "rolehop-e2e", "--test", "e2e"])
                    .args(["-E", "test(/^package::/)"])
                    .args(["--run-ignored", "only", "--no-capture"])
                    .env("ROLEHOP_PACKAGE_DIR", built.join("bundle"));
                run(&mut nextest)
            },
        );
    }
    job.finish()?;
    println!("packages: {}", built.join("bundle").display());
    Ok(())
}
