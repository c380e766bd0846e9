//! Issue 27, part 5 in the window: the role dialog's Console section chooses the
//! browser (here a Firefox container), the page and the region; a name the container
//! extension cannot take is refused beside its field with nothing changed; and the
//! details pane's "Open console" opens the sign-in there, after signing the previous
//! session out of that container. The browsers are the recording stand-ins of
//! [`rolehop_e2e::browsers`] first on the app's PATH; the federation endpoint is the
//! loopback stand-in.

use std::time::{Duration, Instant};

use rolehop_e2e::browsers::RecordingBrowsers;
use rolehop_e2e::federation::{Federation, query, value};

use crate::cli::World;
use crate::desktop::{self, Desktop, TestResult};

const ROLE_DIALOG: &str = "dialog[data-dialog='role']";

fn console_of(world: &World, session: &str) -> serde_json::Value {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    list.as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == session))
        .map(|s| s["console"].clone())
        .unwrap_or_default()
}

async fn edit_console(app: &Desktop, session: &str) -> TestResult {
    app.click(&format!("{} .details-button", Desktop::row(session, None)))
        .await?;
    app.click(&format!("[data-details='{session}'] button[name='edit']"))
        .await?;
    app.click(&format!(
        "{ROLE_DIALOG} details[data-console-fields] summary"
    ))
    .await
}

/// Waits (bounded) until the stand-ins were started `count` times in all.
async fn launches(browsers: &RecordingBrowsers, count: usize) -> TestResult<usize> {
    let deadline = Instant::now() + desktop::UI_TIMEOUT;
    loop {
        let n = browsers.launches().len();
        if n >= count || Instant::now() > deadline {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part5_the_window_chooses_the_sessions_browser_page_and_region_and_opens_there()
-> TestResult {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    // codebuild was the last session signed in to container Work.
    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "codebuild",
            "--console-browser",
            "firefox",
            "--console-container",
            "Work",
        ])
        .ok();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"window-probe-token"}"#);
    let browsers = RecordingBrowsers::install()?;
    let path = browsers.path();
    let env = [
        ("ROLEHOP_FEDERATION_URL", federation.url.as_str()),
        ("PATH", path.as_str()),
    ];
    world
        .rolehop_with(&["console", "codebuild"], &env, None)
        .ok();
    let app = Desktop::launch("console-browser", &world.peers, &env).await?;
    app.run(async |app: &Desktop| {
        // A container name the extension cannot take: named beside its field.
        edit_console(app, "production").await?;
        app.select_value(
            &format!("{ROLE_DIALOG} select[name='console_browser']"),
            "firefox",
        )
        .await?;
        app.fill(
            &format!("{ROLE_DIALOG} input[name='console_container']"),
            "a&b",
        )
        .await?;
        app.click(&format!("{ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_for(&format!(
            "{ROLE_DIALOG} [data-error-field='console_container']"
        ))
        .await?;
        let unchanged = console_of(&world, "production");
        if unchanged["browser"]["kind"] != "default" {
            return Err(format!("a refused edit changed the console: {unchanged}").into());
        }
        // The same container as codebuild's, a page and a region.
        app.fill(
            &format!("{ROLE_DIALOG} input[name='console_container']"),
            "Work",
        )
        .await?;
        app.fill(
            &format!("{ROLE_DIALOG} input[name='console_destination']"),
            "s3",
        )
        .await?;
        app.fill(
            &format!("{ROLE_DIALOG} input[name='console_region']"),
            "eu-central-1",
        )
        .await?;
        app.click(&format!("{ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_gone(ROLE_DIALOG).await?;
        let saved = console_of(&world, "production");
        let expected = serde_json::json!({
            "browser": {"kind": "firefox", "container": "Work"},
            "destination": "s3",
            "region": "eu-central-1",
        });
        if saved != expected {
            return Err(format!("saved {saved}").into());
        }
        app.wait_text("[data-details='production'] [data-console]", |t| {
            t == "Firefox, container Work · s3 · eu-central-1"
        })
        .await?;

        app.click("[data-details='production'] button[name='open-console']")
            .await?;
        let n = launches(&browsers, 3).await?;
        let all = browsers.launches();
        if n != 3 {
            return Err(format!("the browsers got {all:?}").into());
        }
        // Started once by the CLI for codebuild, then by the window: the sign-out page
        // in container Work, then the one-time address, in the same container.
        let (out, sign_in) = (&all[1], &all[2]);
        let ok = out.program == "firefox"
            && out.container.as_deref() == Some("Work")
            && out.url.ends_with("/oauth?Action=logout")
            && sign_in.program == "firefox"
            && sign_in.container.as_deref() == Some("Work")
            && sign_in.url.starts_with("http://127.0.0.1:")
            && !sign_in.url.contains("Action=");
        if !ok {
            return Err(format!("not a sign-out then a sign-in in Work: {all:?}").into());
        }
        for launch in &all {
            if launch.argv.join(" ").contains("window-probe-token")
                || launch
                    .cmdlines
                    .iter()
                    .any(|c| c.contains("window-probe-token"))
            {
                return Err(format!("a command line holds the token: {launch:?}").into());
            }
        }
        // The federation stand-in saw the sign-out before the window's sign-in, which
        // lands on the session's page in its region.
        let mut seen = Vec::new();
        while seen
            .iter()
            .filter(|r: &&String| r.contains("Action=login"))
            .count()
            < 2
        {
            seen.push(federation.requests.recv_timeout(desktop::UI_TIMEOUT)?);
        }
        let logout = seen
            .iter()
            .position(|r| r.starts_with("/oauth?Action=logout"));
        let login = seen.iter().rposition(|r| r.contains("Action=login"));
        if !matches!((logout, login), (Some(o), Some(l)) if o < l) {
            return Err(format!("order: {seen:?}").into());
        }
        let destination = value(&query(&seen[login.unwrap_or_default()]), "Destination").to_owned();
        if destination != "https://console.aws.amazon.com/s3/home?region=eu-central-1" {
            return Err(format!("landed on {destination}").into());
        }
        Ok(())
    })
    .await
}
