//! The details pane's "Open console" and "Rotate keys" in the real window (Xvfb,
//! WebDriver), against moto and a private gnome-keyring.
//!
//! Real AWS is out of reach here: the federation endpoint is the loopback stand-in of
//! [`rolehop_e2e::federation`] (through `ROLEHOP_FEDERATION_URL`), and the browser is a
//! recording `xdg-open` first on the app's PATH, which writes the URL it is given to a
//! file (tauri-plugin-opener runs `xdg-open` on Linux, as a desktop does); the test
//! then opens that URL as a browser would.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult};
use rolehop_core::access_keys::masked_key_id;
use rolehop_e2e::federation::{Federation, follow, query, value};

/// A directory holding an `xdg-open` that appends its argument to `opened` and exits 0;
/// it first appends to `opened.jit` the value of `JSC_useJIT` it was started with
/// (`unset` if none), to show which environment the browser would get.
fn recording_browser(dir: &Path, opened: &Path) -> String {
    let script = dir.join("xdg-open");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"${{JSC_useJIT-unset}}\" >> '{0}.jit'\nprintf '%s\\n' \"$1\" >> '{0}'\n",
            opened.display()
        ),
    )
    .expect("write the stand-in");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The environment of every WebKit web process whose environment holds `marker`
/// (`NAME=value`, unique to one launch of the app).
fn web_process_environments(marker: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() != "WebKitWebProces" {
            continue;
        }
        let Ok(environ) = std::fs::read(dir.join("environ")) else {
            continue;
        };
        let vars: Vec<String> = environ
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        if vars.iter().any(|v| v == marker) {
            found.push(vars);
        }
    }
    found
}

/// Waits (bounded) until the stand-in browser has been handed something.
async fn wait_opened(opened: &Path) -> TestResult<Vec<String>> {
    let deadline = Instant::now() + desktop::UI_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(opened)
            && text.ends_with('\n')
        {
            return Ok(text.lines().map(str::to_owned).collect());
        }
        if Instant::now() > deadline {
            return Err("the browser was never asked to open anything".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_console_hands_the_browser_one_login_url_made_with_the_sessions_own_key() -> TestResult
{
    let world = World::start();
    let carol = world.add_iam_user("carol", "carol");
    let role = world
        .peers
        .moto()
        .create_role("ConsoleRole", &carol.arn)
        .expect("role");
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "ops",
            "--parent",
            "carol",
            "--role-arn",
            &role,
            "--profile",
            "ops",
            "--region",
            "eu-west-1",
        ])
        .ok();
    world.rolehop(&["session", "start", "ops"]).ok();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"window-token"}"#);
    let browser = tempfile::tempdir()?;
    let opened = browser.path().join("opened.txt");
    let path = recording_browser(browser.path(), &opened);
    let app = Desktop::launch(
        "open-console",
        &world.peers,
        &[("ROLEHOP_FEDERATION_URL", &federation.url), ("PATH", &path)],
    )
    .await?;
    app.run(async |app: &Desktop| {
        app.click(&format!(
            "{} .details-button",
            Desktop::row("ops", Some("active"))
        ))
        .await?;
        app.click("[data-details='ops'] button[name='open-console']")
            .await?;
        let urls = wait_opened(&opened).await?;
        if urls.len() != 1 {
            return Err(format!("the browser got {urls:?}").into());
        }
        // The browser's command line holds a one-time loopback address, never the
        // sign-in URL (every local user can read a command line); it redirects once.
        if !urls[0].starts_with("http://127.0.0.1:") || urls[0].contains("window-token") {
            return Err(format!("the browser was handed {:?}", urls[0]).into());
        }
        let signin = follow(&urls[0]).ok_or("the loopback address did not redirect")?;
        if follow(&urls[0]).is_some() {
            return Err("the loopback address redirected twice".into());
        }
        let login = query(&signin);
        let well_formed = signin.starts_with(&format!("{}?", federation.url))
            && value(&login, "Action") == "login"
            && value(&login, "Issuer") == "rolehop"
            && value(&login, "SigninToken") == "window-token"
            && value(&login, "Destination")
                == "https://console.aws.amazon.com/console/home?region=eu-west-1";
        if !well_formed {
            return Err(format!("not the login URL: {login:?}").into());
        }
        // The web view runs without a JIT (the app sets JSC_useJIT for WebKit's web
        // process), and the browser it starts does not inherit that.
        let jit = std::fs::read_to_string(browser.path().join("opened.txt.jit"))?;
        if jit != "unset\n" {
            return Err(format!("the browser was started with JSC_useJIT={jit:?}").into());
        }
        let marker = format!("ROLEHOP_FEDERATION_URL={}", federation.url);
        let web = web_process_environments(&marker);
        if web.is_empty()
            || web
                .iter()
                .any(|vars| !vars.iter().any(|v| v == "JSC_useJIT=false"))
        {
            return Err(format!("{} web process(es), not all without a JIT", web.len()).into());
        }
        let asked = federation.requests.recv_timeout(Duration::from_secs(1))?;
        let session: serde_json::Value = serde_json::from_str(value(&query(&asked), "Session"))?;
        let cached = world.rolehop(&["credential-process", "ops"]).ok().json();
        if session["sessionId"] != cached["AccessKeyId"] {
            return Err(format!("token asked with {session:?}, not the session's key").into());
        }
        if federation.requests.try_recv().is_ok() {
            return Err("more than one token request".into());
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_keys_in_the_details_pane_replaces_the_key_and_shows_its_age() -> TestResult {
    let world = World::start();
    let carol = world.add_iam_user("carol", "carol");
    let app = Desktop::launch("rotate-keys", &world.peers, &[]).await?;
    app.run(async |app: &Desktop| {
        app.click(&format!("{} .details-button", Desktop::row("carol", None)))
            .await?;
        let age = "[data-details='carol'] [data-access-key] [data-key-age='0']";
        app.wait_for(age).await?;
        let shown = app.text(age).await?;
        // Key ids reach the web view masked (`AKIA…WXYZ`), never whole.
        let old_masked = masked_key_id(&carol.access_key_id);
        if !shown.contains(&old_masked) || !shown.contains("0 days old") {
            return Err(format!("key line: {shown}").into());
        }
        app.click("[data-details='carol'] button[name='rotate-keys']")
            .await?;
        let rotated = app
            .wait_text("[data-details='carol'] [data-rotated]", |t| {
                t.contains("Rotated")
            })
            .await?;
        if !rotated.contains(&old_masked) {
            return Err(format!("rotation message: {rotated}").into());
        }
        let out = rolehop_e2e::aws_cli(
            [
                "iam",
                "list-access-keys",
                "--user-name",
                "carol",
                "--output",
                "json",
            ],
            world.peers.moto().admin_env(),
        )?;
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let keys = listed["AccessKeyMetadata"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let new_key = keys
            .first()
            .and_then(|k| k["AccessKeyId"].as_str())
            .unwrap_or_default()
            .to_owned();
        if keys.len() != 1 || new_key == carol.access_key_id {
            return Err(format!("IAM lists {keys:?}").into());
        }
        // The pane shows the new key once IAM is asked again.
        app.wait_text("[data-details='carol'] [data-key-age]", |t| {
            t.contains(&masked_key_id(&new_key))
        })
        .await?;
        let page = app.client.source().await?;
        if page.contains(&new_key) || page.contains(&carol.access_key_id) {
            return Err("a whole key id is in the web view".into());
        }
        Ok(())
    })
    .await
}
