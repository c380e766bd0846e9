//! The Linux packages, as a user gets them: `cargo xtask bundle --check` builds the
//! release `.deb` and `.rpm` and runs these tests against them. They are ignored in
//! the ordinary run: they need the packages and root. README's "Install" section says
//! how to run them.
//!
//! Here the release `.deb` is installed for real with `dpkg -i` on this machine (its
//! size and launch figures), its `rolehop` and its app are run from `/usr/bin`, and it
//! is removed with `dpkg -r`; the `.rpm`'s listing is read with `rpm -qlp`.
//! `clean_root` installs the `.deb` with apt on a Debian that has nothing and the
//! `.rpm` into an empty root; `cargo xtask test` (CI) runs it on the debug packages.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult};

mod clean_root;

/// Where `cargo xtask bundle` leaves the packages: `ROLEHOP_PACKAGE_DIR`, else
/// `target/release/bundle` beside this test's own build directory.
fn package_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ROLEHOP_PACKAGE_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .join("release/bundle")
}

/// The one package with `extension` under the bundle directory's `kind/`.
fn package(kind: &str, extension: &str) -> PathBuf {
    let dir = package_dir().join(kind);
    let found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}: run `cargo xtask bundle` first", dir.display()))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one .{extension} in {}: {found:?}",
        dir.display()
    );
    found.into_iter().next().unwrap()
}

/// Runs `program args`, asserting success; its standard output.
fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What both packages must hold: the app, the command line, the desktop entry, and the
/// icon in each hicolor size the bundle names.
const FILES: &[&str] = &[
    "/usr/bin/rolehop",
    "/usr/bin/rolehop-desktop",
    "/usr/share/applications/Rolehop.desktop",
    "/usr/share/icons/hicolor/32x32/apps/rolehop-desktop.png",
    "/usr/share/icons/hicolor/64x64/apps/rolehop-desktop.png",
    "/usr/share/icons/hicolor/128x128/apps/rolehop-desktop.png",
];

fn missing_files(listing: &str) -> Vec<&'static str> {
    FILES
        .iter()
        .copied()
        .filter(|f| {
            // `dpkg-deb -c` lists `usr/bin/rolehop` (last column), `rpm -qlp` `/usr/bin/rolehop`.
            !listing.lines().any(|l| {
                l.split_whitespace().last().is_some_and(|p| {
                    p.trim_start_matches("./").trim_start_matches('/') == f.trim_start_matches('/')
                })
            })
        })
        .collect()
}

#[test]
#[ignore = "needs the release packages: `cargo xtask bundle --check`"]
fn the_rpm_holds_the_app_the_cli_the_entry_and_the_icons_with_its_dependencies() {
    let rpm = package("rpm", "rpm");
    let rpm = rpm.to_str().unwrap();
    let listing = output("rpm", &["-qlp", rpm]);
    println!("rpm -qlp {rpm}:\n{listing}");
    assert_eq!(missing_files(&listing), Vec::<&str>::new(), "{listing}");
    assert_eq!(
        output("rpm", &["-qp", "--queryformat", "%{VERSION}", rpm]),
        VERSION
    );
    let requires = output("rpm", &["-qp", "--requires", rpm]);
    // RPM depends on the libraries' sonames (any distribution's WebKitGTK 4.1 package
    // provides it).
    assert!(
        requires.contains("libwebkit2gtk-4.1.so.0"),
        "requires: {requires}"
    );
    let recommends = output("rpm", &["-qp", "--recommends", rpm]);
    assert!(
        recommends.contains("gnome-keyring"),
        "recommends: {recommends}"
    );
}

/// Removes the package when the test ends, however it ends.
struct Installed(String);

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["-r", &self.0]).status();
    }
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).starts_with("install ok installed"))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the release packages and root: `cargo xtask bundle --check`"]
async fn the_deb_installs_answers_launches_and_uninstalls_leaving_the_workspace() -> TestResult {
    let deb = package("deb", "deb");
    let deb_str = deb.to_str().unwrap();
    let size = std::fs::metadata(&deb)?.len();
    println!(
        "figures: .deb {:.1} MB ({size} bytes), target under 15 MB",
        size as f64 / 1e6
    );
    let field = |name: &str| output("dpkg-deb", &["-f", deb_str, name]).trim().to_owned();
    let name = field("Package");
    assert_eq!(field("Version"), VERSION);
    assert!(
        field("Depends").contains("libwebkit2gtk-4.1-0"),
        "{}",
        field("Depends")
    );
    assert!(
        field("Recommends").contains("gnome-keyring"),
        "{}",
        field("Recommends")
    );
    let listing = output("dpkg-deb", &["-c", deb_str]);
    assert_eq!(missing_files(&listing), Vec::<&str>::new(), "{listing}");
    assert!(
        !installed(&name),
        "{name} is already installed on this machine: remove it first (dpkg -r {name})"
    );

    // A user's workspace of 1,000 sessions, made before the package arrives.
    let world = World::start();
    let names = desktop::seed_users(&world.peers, 1000)?;
    let workspace = world.peers.home().rolehop_home().join("workspace.json");

    let status = Command::new("dpkg").args(["-i", deb_str]).status()?;
    let guard = Installed(name.clone());
    assert!(status.success(), "dpkg -i {deb_str}: {status}");

    // The installed command line answers, and a real command reads the workspace.
    let run = |args: &[&str]| {
        Command::new("/usr/bin/rolehop")
            .args(args)
            .envs(world.env())
            .output()
    };
    let version = run(&["--version"])?;
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("rolehop {VERSION}")
    );
    let list = run(&["session", "list", "--json"])?;
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout)?;
    assert_eq!(listed.as_array().map(Vec::len), Some(names.len()));

    // The installed app opens its window on the list; launch to list painted, 3 runs.
    // SAFETY: set before any thread of this test reads the environment (the harness
    // reads it in `Desktop::launch`, below).
    unsafe { std::env::set_var("ROLEHOP_DESKTOP_BIN", "/usr/bin/rolehop-desktop") };
    let mut paints = Vec::new();
    for run in 0..3 {
        let app = Desktop::launch("installed", &world.peers, &[]).await?;
        paints.push(app.launch_to_paint_ms().await?);
        let first = names[0].clone();
        app.run(async move |app: &Desktop| {
            app.wait_for(&Desktop::row(&first, Some("inactive")))
                .await?;
            if run == 0 {
                app.screenshot("installed-app").await?;
            }
            Ok(())
        })
        .await?;
    }
    println!(
        "figures: installed app (release), launch to list painted, 1,000 sessions: median {:.0} ms (runs: {paints:.0?}), target under 700 ms",
        median(paints.clone())
    );

    // Removing the package leaves what the user made with it.
    let before = std::fs::read(&workspace)?;
    drop(guard);
    assert!(!installed(&name), "dpkg -r {name} left it installed");
    assert!(
        !Path::new("/usr/bin/rolehop").exists(),
        "/usr/bin/rolehop survived dpkg -r"
    );
    assert_eq!(
        std::fs::read(&workspace)?,
        before,
        "dpkg -r changed the user's workspace"
    );
    assert!(size < 15_000_000, ".deb is {size} bytes, over 15 MB");
    Ok(())
}
