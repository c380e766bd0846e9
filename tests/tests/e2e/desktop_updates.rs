//! Issue 26, part 4: updates, in the real window against a real update server on
//! 127.0.0.1 (`UpdateServer`, which records every request) serving a manifest and a
//! package signed with a throwaway key (`UpdateKey`, the Tauri CLI's `signer`). The
//! debug app trusts that key and server through `ROLEHOP_UPDATE_PUBKEY` and
//! `ROLEHOP_UPDATE_ENDPOINT`, which only debug builds read.
//!
//! The app under test is `cargo build`'s, from no package: the bundler wrote no package
//! format into it, so a newer version is offered with its download link (the notice
//! every copy not installed from an AppImage, `.deb` or `.rpm` gets). Installing in
//! place is the plugin's `dpkg -i`/`rpm -U`/AppImage replacement and is not run here.

use rolehop_e2e::{UpdateKey, UpdateServer};

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult, app_pid, running};

const NEWER: &str = "99.0.0";
const NOTES: &str = "Rolehop 99: faster role chains.";
const PACKAGE: &str = "Rolehop_99.0.0_amd64.deb";

fn ensure(ok: bool, what: impl Into<String>) -> TestResult {
    if ok { Ok(()) } else { Err(what.into().into()) }
}

/// A server offering [`NEWER`], its package signed by `key` for `signed_version`;
/// `tamper` changes the package after signing.
fn server_offering(
    key: &UpdateKey,
    signed_version: &str,
    tamper: bool,
) -> TestResult<UpdateServer> {
    let server = UpdateServer::start()?;
    let package = b"!<arch>\nRolehop 99.0.0, as a package would hold it\n".to_vec();
    let path = server.serve(PACKAGE, &package)?;
    let signature = key.sign(&path, signed_version)?;
    if tamper {
        let mut changed = package;
        changed.extend_from_slice(b"and a little more");
        server.serve(PACKAGE, &changed)?;
    }
    server.offer(NEWER, NOTES, PACKAGE, &signature)?;
    Ok(server)
}

async fn launch(
    name: &str,
    world: &World,
    server: &UpdateServer,
    key: &UpdateKey,
) -> TestResult<Desktop> {
    let endpoint = server.url("latest.json");
    let pubkey = key.public()?;
    Desktop::launch(
        name,
        &world.peers,
        &[
            ("ROLEHOP_UPDATE_ENDPOINT", endpoint.as_str()),
            ("ROLEHOP_UPDATE_PUBKEY", pubkey.as_str()),
        ],
    )
    .await
}

/// The launch check's answer (`available`, `not-due`, `off`...).
async fn answer(app: &Desktop) -> TestResult<String> {
    let el = app.wait_for("[data-update-answer]").await?;
    Ok(el.attr("data-update-answer").await?.unwrap_or_default())
}

fn manifest_requests(server: &UpdateServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.as_str() == "GET /latest.json")
        .count()
}

/// Waits until the server has been asked for the manifest `count` times.
async fn wait_for_requests(server: &UpdateServer, count: usize) -> TestResult {
    let deadline = std::time::Instant::now() + desktop::UI_TIMEOUT;
    while manifest_requests(server) < count {
        ensure(
            std::time::Instant::now() < deadline,
            format!("requests: {:?}", server.requests()),
        )?;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Ends this test's app and waits for its process to go (the next launch must be a
/// first instance, not a second one that focuses it).
async fn quit(world: &World, app: Desktop) -> TestResult {
    let pid = app_pid(&world.peers.home().rolehop_home());
    drop(app);
    let deadline = std::time::Instant::now() + desktop::UI_TIMEOUT;
    while pid.is_some_and(running) {
        ensure(std::time::Instant::now() < deadline, "the app still runs")?;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Sets the workspace's record of the last check to `hours_ago`.
fn last_checked(world: &World, hours_ago: i64) -> TestResult {
    // The workspace file exists (an unchanged workspace is not written: a change and
    // back).
    for value in ["off", "on"] {
        world
            .rolehop(&["settings", "set", "check-for-updates", value])
            .ok();
    }
    let file = world.peers.home().rolehop_home().join("workspace.json");
    let mut ws: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)?;
    let at = chrono::Utc::now() - chrono::Duration::hours(hours_ago);
    ws["last_update_check"] = at.to_rfc3339().into();
    std::fs::write(file, serde_json::to_vec(&ws)?)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_a_newer_signed_version_is_offered_with_its_notes_and_download_link() -> TestResult {
    let world = World::start();
    let key = UpdateKey::generate()?;
    let server = server_offering(&key, NEWER, false)?;
    let app = launch("update-offered", &world, &server, &key).await?;
    app.run(async |app: &Desktop| {
        // The launch check (the first, so due) found it, its package checked first.
        let banner = app
            .wait_text("[data-update='available']", |t| t.contains(NEWER))
            .await?;
        ensure(banner.contains("is available"), format!("banner: {banner}"))?;
        ensure(
            app.text("[data-update-notes]").await? == NOTES,
            "the release notes are shown",
        )?;
        // Not from a package: the download link, no install button.
        let url = app.text("[data-update-url]").await?;
        ensure(url == server.url(PACKAGE), format!("link: {url}"))?;
        ensure(
            app.all("button[name='install-update']").await?.is_empty(),
            "an install button for a copy no package installed",
        )?;
        ensure(
            server.requests() == ["GET /latest.json".to_owned(), format!("GET /{PACKAGE}")],
            format!("requests: {:?}", server.requests()),
        )?;
        // "Check for updates now" asks again at once, within the day.
        app.click("button[name='settings']").await?;
        app.click("button[name='check-updates']").await?;
        wait_for_requests(&server, 2).await?;
        let said = app
            .wait_text("[data-update-result]", |t| t.contains(NEWER))
            .await?;
        ensure(said.contains("is available"), format!("settings: {said}"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_a_tampered_package_is_refused_and_reported() -> TestResult {
    let world = World::start();
    let key = UpdateKey::generate()?;
    let server = server_offering(&key, NEWER, true)?;
    let app = launch("update-tampered", &world, &server, &key).await?;
    app.run(async |app: &Desktop| {
        let banner = app
            .wait_text("[data-update='refused']", |t| t.contains(NEWER))
            .await?;
        ensure(
            banner.contains("refused") && banner.contains("signature"),
            format!("banner: {banner}"),
        )?;
        ensure(
            app.all("button[name='install-update'], button[name='download-update']")
                .await?
                .is_empty(),
            "a refused update is offered",
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_a_manifest_announcing_another_version_than_signed_is_refused() -> TestResult {
    let world = World::start();
    let key = UpdateKey::generate()?;
    // A genuine signature of an older release's package, announced as the newer one.
    let server = server_offering(&key, "98.0.0", false)?;
    let app = launch("update-version-swap", &world, &server, &key).await?;
    app.run(async |app: &Desktop| {
        let banner = app
            .wait_text("[data-update='refused']", |t| t.contains(NEWER))
            .await?;
        ensure(banner.contains("98.0.0"), format!("banner: {banner}"))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_a_package_signed_by_another_key_is_refused() -> TestResult {
    let world = World::start();
    let ours = UpdateKey::generate()?;
    let theirs = UpdateKey::generate()?;
    let server = server_offering(&theirs, NEWER, false)?;
    let app = launch("update-other-key", &world, &server, &ours).await?;
    app.run(async |app: &Desktop| {
        app.wait_text("[data-update='refused']", |t| t.contains("signature"))
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_the_launch_check_asks_at_most_once_a_day() -> TestResult {
    let world = World::start();
    let key = UpdateKey::generate()?;
    let server = server_offering(&key, NEWER, false)?;

    // Checked an hour ago (the record the last launch left): this launch asks nothing.
    last_checked(&world, 1)?;
    let app = launch("update-not-due", &world, &server, &key).await?;
    let said = answer(&app).await?;
    ensure(said == "not-due", format!("answer: {said}"))?;
    ensure(
        server.requests().is_empty(),
        format!("requests: {:?}", server.requests()),
    )?;
    quit(&world, app).await?;

    // A day and an hour ago: this launch asks, and records it.
    last_checked(&world, 25)?;
    let app = launch("update-due", &world, &server, &key).await?;
    let said = answer(&app).await?;
    ensure(said == "available", format!("answer: {said}"))?;
    ensure(manifest_requests(&server) == 1, "the due check asked once")?;
    quit(&world, app).await?;
    let file = world.peers.home().rolehop_home().join("workspace.json");
    let ws: serde_json::Value = serde_json::from_slice(&std::fs::read(file)?)?;
    let recorded: chrono::DateTime<chrono::Utc> = ws["last_update_check"]
        .as_str()
        .ok_or("no last_update_check")?
        .parse()?;
    ensure(
        chrono::Utc::now() - recorded < chrono::Duration::minutes(5),
        "the check was recorded",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_the_setting_off_sends_no_request_even_on_demand() -> TestResult {
    let world = World::start();
    world
        .rolehop(&["settings", "set", "check-for-updates", "off"])
        .ok();
    let key = UpdateKey::generate()?;
    let server = server_offering(&key, NEWER, false)?;
    let app = launch("update-off", &world, &server, &key).await?;
    app.run(async |app: &Desktop| {
        let said = answer(app).await?;
        ensure(said == "off", format!("answer: {said}"))?;
        app.click("button[name='settings']").await?;
        ensure(
            app.prop("input[name='check_for_updates']", "checked")
                .await?
                .as_deref()
                == Some("false"),
            "Settings shows the setting off",
        )?;
        app.click("button[name='check-updates']").await?;
        let said = app
            .wait_text("[data-update-result]", |t| !t.is_empty())
            .await?;
        ensure(said.contains("off"), format!("settings: {said}"))?;
        ensure(
            server.requests().is_empty(),
            format!("requests: {:?}", server.requests()),
        )
    })
    .await
}

/// A real `.deb` of version [`NEWER`] (`dpkg-deb --build`), holding one file.
fn tiny_deb(dir: &std::path::Path) -> TestResult<Vec<u8>> {
    let root = dir.join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN"))?;
    std::fs::create_dir_all(root.join("usr/share/doc/rolehop-update-test"))?;
    std::fs::write(
        root.join("usr/share/doc/rolehop-update-test/README"),
        "the update a test installs\n",
    )?;
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: rolehop-update-test\nVersion: {NEWER}\nArchitecture: all\n\
             Maintainer: Rolehop tests <tests@example.invalid>\n\
             Description: the update a test installs\n"
        ),
    )?;
    let deb = dir.join("update.deb");
    let out = std::process::Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()?;
    ensure(
        out.status.success(),
        format!("dpkg-deb: {}", String::from_utf8_lossy(&out.stderr)),
    )?;
    Ok(std::fs::read(deb)?)
}

/// The bundler records the package format in the binary it packages by rewriting a
/// marker in place (`tauri_utils::platform::bundle_type`); this does the same to a copy
/// of cargo's build, as `tauri bundle --bundles deb` would.
fn as_packaged_deb(app: &std::path::Path, copy: &std::path::Path) -> TestResult {
    const UNKNOWN: &[u8] = b"__TAURI_BUNDLE_TYPE_VAR_UNK";
    const DEB: &[u8] = b"__TAURI_BUNDLE_TYPE_VAR_DEB";
    let mut bytes = std::fs::read(app)?;
    let at = bytes
        .windows(UNKNOWN.len())
        .position(|w| w == UNKNOWN)
        .ok_or("the app holds no bundle type marker")?;
    bytes[at..at + DEB.len()].copy_from_slice(DEB);
    std::fs::write(copy, bytes)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(copy, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// Installing in place, as the app from a `.deb` does: the plugin writes the verified
/// package to a temporary file and runs `pkexec dpkg -i` on it. `pkexec` here is a
/// stand-in first on the app's PATH that records what it was asked to run and the
/// package it was given, and runs nothing (a fake for what no test peer can give:
/// privilege escalation; a real `dpkg -i` as root would install onto this machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_from_a_deb_install_hands_the_verified_package_to_dpkg_through_pkexec() -> TestResult
{
    let world = World::start();
    let dir = tempfile::tempdir()?;
    let package = tiny_deb(dir.path())?;
    let key = UpdateKey::generate()?;
    let server = UpdateServer::start()?;
    let path = server.serve(PACKAGE, &package)?;
    let signature = key.sign(&path, NEWER)?;
    server.offer(NEWER, NOTES, PACKAGE, &signature)?;

    let app = dir.path().join("rolehop-desktop");
    as_packaged_deb(&desktop::app_binary(), &app)?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin)?;
    let record = dir.path().join("pkexec");
    std::fs::write(
        bin.join("pkexec"),
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{0}.args'\ncp \"$3\" '{0}.package'\nexit 0\n",
            record.display()
        ),
    )?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("pkexec"), std::fs::Permissions::from_mode(0o755))?;
    let path_var = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let endpoint = server.url("latest.json");
    let pubkey = key.public()?;
    let desktop = Desktop::launch_binary(
        "update-deb-install",
        &world.peers,
        &[
            ("ROLEHOP_UPDATE_ENDPOINT", endpoint.as_str()),
            ("ROLEHOP_UPDATE_PUBKEY", pubkey.as_str()),
            ("PATH", path_var.as_str()),
        ],
        &app,
    )
    .await?;
    desktop
        .run(async |app: &Desktop| {
            app.wait_text("[data-update='available']", |t| t.contains(NEWER))
                .await?;
            ensure(
                app.all("[data-update-url]").await?.is_empty(),
                "a download link for an app from a .deb",
            )?;
            app.click("button[name='install-update']").await?;
            let said = app
                .wait_text("[data-update='installed']", |t| t.contains(NEWER))
                .await?;
            ensure(said.contains("installed"), format!("banner: {said}"))?;
            Ok(())
        })
        .await?;
    let args = std::fs::read_to_string(dir.path().join("pkexec.args"))?;
    let args: Vec<&str> = args.lines().collect();
    ensure(
        args.len() == 3 && args[..2] == ["dpkg", "-i"] && args[2].ends_with(".deb"),
        format!("pkexec ran: {args:?}"),
    )?;
    ensure(
        std::fs::read(dir.path().join("pkexec.package"))? == package,
        "the package given to dpkg is not the one signed",
    )
}

/// The build switch: an app built without the cargo feature `updater` (`cargo xtask
/// bundle --no-updater`, which runs this test on the app it built, named by
/// `ROLEHOP_DESKTOP_BIN`) asks nothing, at launch or when asked, and says updates come
/// from the distribution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an app built without the updater: cargo xtask bundle --no-updater --check"]
async fn part4_a_build_without_the_updater_asks_nothing() -> TestResult {
    let world = World::start();
    let key = UpdateKey::generate()?;
    let server = server_offering(&key, NEWER, false)?;
    let app = launch("update-not-built", &world, &server, &key).await?;
    app.run(async |app: &Desktop| {
        let said = answer(app).await?;
        ensure(said == "not-in-this-build", format!("answer: {said}"))?;
        app.click("button[name='settings']").await?;
        app.click("button[name='check-updates']").await?;
        let said = app
            .wait_text("[data-update-result]", |t| !t.is_empty())
            .await?;
        ensure(said.contains("distribution"), format!("settings: {said}"))?;
        ensure(
            server.requests().is_empty(),
            format!("requests: {:?}", server.requests()),
        )
    })
    .await
}

/// The CLI's side of the setting: `settings set|unset check-for-updates`, a bad value
/// refused naming the field and changing nothing.
#[test]
fn part4_settings_set_check_for_updates_on_and_off() {
    let world = World::start_without_peers();
    let shown = world.rolehop(&["settings", "show"]).ok().stdout;
    assert!(shown.contains("check-for-updates  on"), "{shown}");
    let said = world
        .rolehop(&["settings", "set", "check-for-updates", "off"])
        .ok()
        .stdout;
    assert!(said.contains("check-for-updates  off"), "{said}");
    let refused = world
        .rolehop(&["settings", "set", "check-for-updates", "daily"])
        .fails_with(3);
    assert!(
        refused.stderr.contains("check-for-updates: 'daily'"),
        "{}",
        refused.stderr
    );
    let json = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert_eq!(
        json["check_for_updates"], false,
        "the refused value changed it"
    );
    let said = world
        .rolehop(&["settings", "unset", "check-for-updates"])
        .ok()
        .stdout;
    assert!(said.contains("check-for-updates  on"), "{said}");
}
