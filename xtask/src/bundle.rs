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
//! in the ordinary run): the `.deb` installed with `dpkg -i` on this machine, its
//! `/usr/bin/rolehop` run, its app launched under Xvfb on 1,000 sessions (the launch
//! figure), then `dpkg -r` with the user's workspace intact; and (`package::clean_root`)
//! the `.deb` installed with `apt-get install` into a clean Debian 12 root
//! (`clean_root.rs`), a role chain, its credential_process line and its desktop entry
//! run there, then purged; the `.rpm`'s dependencies checked against the `.deb`'s and
//! installed with `rpm -i --root --nodeps` into an empty root. Installing needs root.
//! With `--debug`, only `package::clean_root` (the other holds release figures).
//!
//! `--no-updater` builds the app without the cargo feature `updater` (for distributions
//! that update their packages themselves): no update check, no update server named.
//! Every bundle checks the packaged app holds the updater, or not, as asked (the
//! plugin's user agent in the binary); with `--check` too, the ignored window test
//! `desktop_updates::part4_a_build_without_the_updater_asks_nothing` runs that app
//! against an update server that records every request, and none may reach it.
//! The release package is not part of CI: its build alone takes about ten minutes of
//! both cores; the launch profile (about 100 s) and the app's second link add 5 to 10
//! more. CI (`cargo xtask test`) packages the debug build and runs `package::clean_root`
//! on it ([`debug_package_steps`]).

use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};
use serde_json::json;

use crate::clean_root;
use crate::desktop;
use crate::install;
use crate::job::Job;
use crate::process::run;
use crate::repo::Repo;
use crate::startup_order;

pub fn task(repo: &Repo, args: &[String]) -> Result<()> {
    let debug = args.iter().any(|a| a == "--debug");
    let check = args.iter().any(|a| a == "--check");
    let updater = !args.iter().any(|a| a == "--no-updater");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--debug" | "--check" | "--no-updater"))
    {
        bail!("bundle: unknown argument {unknown} (use --debug, --check, --no-updater)");
    }
    let profile = if debug { "debug" } else { "release" };
    let mut job = Job::new("bundle");
    // The bundler's prerequisites are the app's own (WebKitGTK, the appindicator...).
    install::for_app(repo, &mut job);
    if !debug {
        // The launch profile's: Xvfb, valgrind (its keyring is the app's gnome-keyring).
        startup_order::install(&mut job);
    }
    if check {
        // The package tests: the peers and the WebDriver stack of the desktop suites,
        // `rpm` and `mmdebstrap` (TEST_PACKAGES).
        install::for_tests(repo, &mut job);
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
    let built = repo.target_dir()?.join(profile);
    let bundler = |args: &[&str]| {
        let mut bundler = bundler(repo, debug, "build", args)?;
        if !updater {
            // The app's default features but `updater` (Cargo.toml of src-tauri).
            bundler.args([
                "--",
                "--no-default-features",
                "--features",
                "custom-protocol",
            ]);
        }
        Ok::<_, anyhow::Error>(bundler)
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
    let app = built.join("rolehop-desktop");
    job.step(
        if updater {
            "the packaged app holds the updater"
        } else {
            "the packaged app holds no updater (--no-updater)"
        },
        || check_updater(&app, updater),
    );
    if check && !updater {
        let mut nextest = repo.cargo_with_peers()?;
        nextest
            .args(["nextest", "run", "-p", "rolehop-e2e", "--test", "e2e"])
            .args([
                "-E",
                "test(/^desktop_updates::part4_a_build_without_the_updater/)",
            ])
            .args(["--run-ignored", "only", "--no-capture"])
            .env("ROLEHOP_DESKTOP_BIN", &app);
        job.step(
            "the app without the updater asks the update server nothing (window test)",
            || run(&mut nextest),
        );
    }
    if check {
        job.step(
            "clean root: Debian 12 base system (mmdebstrap, cached)",
            || clean_root::ensure().map(|_| ()),
        );
        test_packages(
            repo,
            &mut job,
            "test the packages (dpkg -i, run, launch, dpkg -r; apt-get install on a clean Debian 12 root, purge; rpm -i --root)",
            &built.join("bundle"),
            // The release-only test holds the release's size and launch figures.
            if debug {
                "test(/^package::clean_root::/)"
            } else {
                "test(/^package::/)"
            },
        )?;
    }
    job.finish()?;
    println!("packages: {}", built.join("bundle").display());
    Ok(())
}

/// What tauri-plugin-updater puts in every binary that links it: its user agent,
/// `tauri-plugin-updater/<version>`.
const UPDATER_MARK: &[u8] = b"tauri-plugin-updater/";

/// Fails unless `app` links the updater exactly when `wanted`.
fn check_updater(app: &Path, wanted: bool) -> Result<()> {
    let bytes = std::fs::read(app)?;
    let holds = bytes.windows(UPDATER_MARK.len()).any(|w| w == UPDATER_MARK);
    match (holds, wanted) {
        (true, true) | (false, false) => Ok(()),
        (false, true) => bail!("{} holds no updater", app.display()),
        (true, false) => bail!(
            "{} holds the updater although --no-updater was given",
            app.display()
        ),
    }
}

/// The bundler (the `@tauri-apps/cli` binary) for this profile, the CLI of the same build
/// added at `/usr/bin/rolehop`: `subcommand` `build` (build the app, then package it) or
/// `bundle` (package the app cargo built); `args`: the bundler's own.
fn bundler(repo: &Repo, debug: bool, subcommand: &str, args: &[&str]) -> Result<Command> {
    let tauri = desktop::ui_dir(repo).join("node_modules/.bin/tauri");
    if !tauri.exists() {
        bail!(
            "{} is missing: install the UI's dev dependencies (`npm ci` in ui/, which needs Node >= 20.19)",
            tauri.display()
        );
    }
    // The CLI goes to /usr/bin from this build's target directory; the path is
    // absolute, so it is given here rather than in tauri.conf.json.
    let profile = if debug { "debug" } else { "release" };
    let cli = repo.target_dir()?.join(profile).join("rolehop");
    let files = json!({ "/usr/bin/rolehop": cli });
    let config = json!({ "bundle": { "linux": {
        "deb": { "files": files },
        "rpm": { "files": files },
    } } });
    let mut bundler = Command::new(&tauri);
    bundler
        .current_dir(repo.root.join("src-tauri"))
        .arg(subcommand)
        .args(args)
        .args(["--ci", "--config"])
        .arg(config.to_string());
    if debug {
        bundler.arg("--debug");
    }
    Ok(bundler)
}

/// For `cargo xtask test` (CI), after the debug app and CLI are built: the debug
/// `.deb` and `.rpm` (the same bundler as a release, without the optimiser or the
/// launch profile), the clean root, and the `package::clean_root` tests on them (the
/// release-only one, with its size and launch figures, stays in `bundle --check`).
pub fn debug_package_steps(repo: &Repo, job: &mut Job) -> Result<()> {
    // `tauri bundle`, not `build`: the bundler's own build of the app would differ from
    // cargo's (its configuration reaches the build script), so each would rebuild the
    // app after the other (about 40 s plus 80 s on two cores).
    job.step("package the debug build (.deb, .rpm)", || {
        run(&mut bundler(
            repo,
            true,
            "bundle",
            &["--bundles", "deb,rpm"],
        )?)
    });
    let app = repo.target_dir()?.join("debug/rolehop-desktop");
    job.step("the packaged app holds the updater", || {
        check_updater(&app, true)
    });
    job.step(
        "clean root: Debian 12 base system (mmdebstrap, cached)",
        || clean_root::ensure().map(|_| ()),
    );
    test_packages(
        repo,
        job,
        "the debug .deb on a clean Debian 12 root (apt-get install, chain, app, purge); the .rpm (rpm -i --root)",
        &repo.target_dir()?.join("debug/bundle"),
        "test(/^package::clean_root::/)",
    )
}

/// Runs the package tests matching `filter` (ignored in the ordinary run: they need
/// the packages and root) on the packages in `bundle`.
fn test_packages(
    repo: &Repo,
    job: &mut Job,
    label: &str,
    bundle: &Path,
    filter: &str,
) -> Result<()> {
    let mut nextest = repo.cargo_with_peers()?;
    nextest
        // The package suite is a module of the end-to-end test binary.
        .args(["nextest", "run", "-p", "rolehop-e2e", "--test", "e2e"])
        .args(["-E", filter])
        .args(["--run-ignored", "only", "--no-capture"])
        .env("ROLEHOP_PACKAGE_DIR", bundle)
        .env("ROLEHOP_CLEAN_ROOT_CACHE", clean_root::cache_dir()?);
    job.step(label, || run(&mut nextest));
    Ok(())
}
