//! The federated login window's less trodden paths (issue 21, parts 1, 2, 3 and 5), in
//! the real app under Xvfb against pysaml2's identity provider and the layer before moto's
//! STS (`rolehop_e2e::saml_idp`): the command line launching the app for its login
//! window, the provider's pages posting the response in every way a real one could,
//! and a re-sync in the window after the provider changed its grants.
//!
//! As in `desktop_saml`, the login window is typed into with xdotool (WebDriver drives
//! only the main window's WebKit context).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rolehop_e2e::binaries::{build_dir, rolehop_bin};
use rolehop_e2e::saml_idp::{PROVIDER_ARN, role_arn};
use serde_json::json;

use crate::cli::{AwsFilesBytes, World, assumed};
use crate::cli_saml::{integration, provider_world};
use crate::desktop::{
    Desktop, TestResult, UI_TIMEOUT, WEBKIT_UNDER_XVFB, Xvfb, app_binary, app_pid, artifacts_dir,
    running,
};
use crate::desktop_saml::{
    LOGIN_WINDOW, Running, app_log, close_to_cancel, federated, federated_app, launch_on,
    sign_in_at_the_keyboard, sign_in_on_screen,
};

// ---- Part 5: the command line launches the app -----------------------------------------

/// The app the command line launched (`rolehop-desktop --minimized`, in a process group
/// of its own): found as the app binary whose `ROLEHOP_HOME` is this test's, and
/// stopped with its group (its WebKit helpers) when dropped. No process is looked up
/// by name: other tests run the same binary at the same time.
struct LaunchedApp {
    pid: i32,
}

impl LaunchedApp {
    /// Waits until the app runs for `world`'s home.
    async fn of(world: &World) -> TestResult<Self> {
        let home = world.peers.home().rolehop_home();
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Some(pid) = app_pid(&home) {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
                // pid (comm) state ppid pgrp ...: the command line made it a group leader.
                let group = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(2))
                    .ok_or("an unreadable /proc stat")?;
                assert_eq!(group, pid.to_string(), "the app leads a group of its own");
                return Ok(Self { pid });
            }
            if Instant::now() > deadline {
                return Err("the command line launched no app for this home".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.pid)])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for LaunchedApp {
    fn drop(&mut self) {
        self.signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(self.pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.signal("-KILL");
    }
}

/// Part 5: `rolehop session start corp` with a display and no app running starts the
/// desktop app itself (`rolehop-desktop --minimized`, beside `rolehop`), which opens
/// its login window while its main window stays hidden; the person signs in there;
/// the command exits 0 and the AWS CLI acts as the role. The test then stops the app
/// the command launched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part5_session_start_with_no_app_running_launches_the_app_whose_login_window_signs_in()
-> TestResult {
    let (world, idp) = federated();
    let screen = Xvfb::start(&artifacts_dir());
    assert!(app_pid(&world.peers.home().rolehop_home()).is_none());
    // The world's environment (its STS the verifying layer) and the display's.
    let mut env = vec![("DISPLAY", screen.display())];
    env.extend(WEBKIT_UNDER_XVFB);
    let mut cli = Running(world.spawn(&["session", "start", "corp"], &env));

    let window = screen.wait_window_named(LOGIN_WINDOW).await?;
    let app = LaunchedApp::of(&world).await?;
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", app.pid))?,
        app_binary().canonicalize()?
    );
    assert!(
        !screen.window_viewable("Rolehop")?,
        "the launched app showed its main window"
    );
    sign_in_on_screen(&screen, &idp, &window).await?;
    let run = cli.finished().await?;
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("started 'corp'"), "{stdout}");
    screen.wait_window_gone(LOGIN_WINDOW).await?;
    assert_eq!(
        world.caller_arn("corp").unwrap(),
        assumed("123456789012", "Admin", "alice@example.test")
    );
    assert!(!screen.window_viewable("Rolehop")?);

    let pid = app.pid;
    drop(app);
    assert!(!running(pid), "the launched app still runs");
    Ok(())
}

/// Part 5, the failure: a display, no app running and no `rolehop-desktop` beside
/// `rolehop` or on PATH: the command fails as a sign-in still required (exit 12)
/// naming the program it could not start; nothing reached STS and the AWS files keep
/// every byte.
#[test]
fn part5_session_start_with_no_app_and_none_to_launch_fails_naming_the_missing_app() {
    let (world, idp) = federated();
    let before = AwsFilesBytes::of(&world);
    // `rolehop` alone in a directory (on the build's file system, so a hard link).
    let alone = tempfile::tempdir_in(build_dir()).unwrap();
    let bin = alone.path().join("rolehop");
    if std::fs::hard_link(rolehop_bin(), &bin).is_err() {
        std::fs::copy(rolehop_bin(), &bin).unwrap();
    }
    let run = Command::new(&bin)
        .args(["session", "start", "corp"])
        .env_clear()
        .envs(world.env())
        .env("DISPLAY", ":189")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(12), "{stderr}");
    assert!(stderr.contains("rolehop-desktop"), "{stderr}");
    assert!(stderr.contains("could not be started"), "{stderr}");
    // The start without a response failed as it does with no display (the session
    // marked failed with SamlSignInRequired); no credentials were written.
    assert_eq!(AwsFilesBytes::of(&world), before);
    assert!(idp.sts_decisions().is_empty(), "{:?}", idp.sts_decisions());
}

// ---- Part 2: however the provider's page posts -------------------------------------------

/// The provider's ways of posting the response to AWS (the test provider's
/// `post_style`): `form.submit()`, `requestSubmit()`, a button clicked by script, a
/// submit button whose `formaction` is AWS's (the form's action elsewhere), the
/// response's field outside the form joined by `form="id"`, a same-origin frame's form
/// posting with `target="_top"` (submitted by the frame, or by the page through its own
/// realm's `HTMLFormElement.prototype.submit`), a form built by script on
/// `DOMContentLoaded`, a form with `target="_blank"`.
const POST_STYLES: [&str; 9] = [
    "form_submit",
    "request_submit",
    "button_click",
    "formaction",
    "form_attribute",
    "iframe_top",
    "iframe_from_parent",
    "built_by_script",
    "target_blank",
];

/// Part 2: one app, each post style in turn: a click starts `corp`, the provider's
/// page posts its response its own way (the password typed once; then the provider's
/// cookie), the window takes it and closes, the session is active as the role (the
/// layer accepted exactly one more call), and the session is stopped for the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part2_the_login_window_takes_the_response_however_the_providers_page_posts_it()
-> TestResult {
    let (world, idp, app) = federated_app("saml-post-styles").await?;
    app.run(async |app: &Desktop| {
        for (i, style) in POST_STYLES.into_iter().enumerate() {
            idp.configure(json!({ "post_style": style }))?;
            app.click(&Desktop::row("corp", Some("inactive"))).await?;
            if i == 0 {
                let window = app.wait_window_named(LOGIN_WINDOW).await?;
                sign_in_at_the_keyboard(app, &idp, &window).await?;
            }
            app.wait_for(&Desktop::row("corp", Some("active")))
                .await
                .map_err(|e| format!("post style {style}: the session did not start: {e}"))?;
            app.wait_window_gone(LOGIN_WINDOW).await?;
            assert_eq!(
                world.caller_arn("corp").unwrap(),
                assumed("123456789012", "Admin", "alice@example.test"),
                "post style {style}"
            );
            let decisions = idp.sts_decisions();
            assert_eq!(decisions.len(), i + 1, "post style {style}: {decisions:?}");
            assert_eq!(decisions[i], format!("accept {}", role_arn("Admin")));
            app.click(&Desktop::row("corp", Some("active"))).await?;
            app.wait_for(&Desktop::row("corp", Some("inactive")))
                .await?;
        }
        let served = idp.served()?;
        assert_eq!(
            served.iter().filter(|s| *s == "POST /login").count(),
            1,
            "{served:?}"
        );
        assert!(served.iter().any(|s| s == "GET /sso/frame"), "{served:?}");
        Ok(())
    })
    .await
}

/// What the app logs when the login window stops a page reaching AWS's sign-in
/// endpoint other than through the capture (never the response).
const STOPPED: &str = "the login window stopped a page going to AWS's sign-in endpoint";

/// Part 2: a page that sends the response to AWS by `fetch` (not a navigation, so the
/// navigation handler never sees it) is refused by the capture script: the request is
/// never made, the app logs the warning, the window stays on the provider's page,
/// nothing reached STS and the AWS files keep every byte; closing the window then
/// cancels the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part2_a_post_the_script_cannot_take_is_stopped_before_aws_and_the_window_stays()
-> TestResult {
    let (world, idp, app) = federated_app("saml-post-refused").await?;
    idp.configure(json!({ "post_style": "fetch" }))?;
    let before = AwsFilesBytes::of(&world);
    app.run(async |app: &Desktop| {
        let home = world.peers.home().root();
        app.click(&Desktop::row("corp", Some("inactive"))).await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        let deadline = Instant::now() + UI_TIMEOUT;
        while !app_log(home).contains(STOPPED) {
            if Instant::now() > deadline {
                return Err(format!("no {STOPPED:?} in the app's log").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            idp.issued().len(),
            1,
            "the page with the response was served"
        );
        assert!(
            app.window_viewable(LOGIN_WINDOW)?,
            "the login window closed"
        );
        assert!(idp.sts_decisions().is_empty(), "{:?}", idp.sts_decisions());
        assert_eq!(AwsFilesBytes::of(&world), before);
        app.wait_for(&Desktop::row("corp", Some("inactive")))
            .await?;

        close_to_cancel(app, &window).await?;
        assert!(idp.sts_decisions().is_empty());
        Ok(())
    })
    .await
}

// ---- Part 3: a re-sync in the window ------------------------------------------------------

/// The picker's checkbox of role `role`.
fn tick(role: &str) -> String {
    format!("li[data-offer=\"{}\"] input", role_arn(role))
}

/// In the open Federated (SAML) dialog: "Sign in and choose roles" for `corp`, the
/// login window closing by itself (the provider's cookie), until the picker shows.
async fn sign_in_again(app: &Desktop) -> TestResult {
    app.click(r#"li[data-saml-integration="corp"] button[name="saml-sign-in"]"#)
        .await?;
    app.wait_for("[data-role-picker]").await?;
    Ok(())
}

/// Part 3 in the window: integration `corp` offers Admin, ReadOnly and Auditor; Admin
/// and ReadOnly are picked, Admin is started. The provider then withdraws both and
/// grants Billing. "Sign in and choose roles" again (no password: the provider's
/// cookie): Billing is offered unticked, the withdrawn roles are not offered; Billing
/// is added; corp-ReadOnly is gone; corp-Admin, active, is kept and the dialog says
/// so. Once it is stopped, a re-sync removes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part3_a_resync_in_the_window_after_the_provider_changes_its_grants_updates_the_sessions()
-> TestResult {
    let (world, idp) = integration();
    idp.offer_roles(&["Admin", "ReadOnly", "Auditor"])?;
    let app = launch_on("saml-resync", &world, &idp, &[]).await?;
    app.run(async |app: &Desktop| {
        let dialog = r#"button[name="saml-integrations"]"#;
        app.click(dialog).await?;
        app.click(r#"li[data-saml-integration="corp"] button[name="saml-sign-in"]"#)
            .await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        app.wait_for("[data-role-picker]").await?;
        app.click(&tick("Admin")).await?;
        app.click(&tick("ReadOnly")).await?;
        app.click(r#"button[name="add-selected"]"#).await?;
        app.wait_text("[data-sync-report]", |t| t.contains("Added 2"))
            .await?;
        app.click(r#"button[name="close"]"#).await?;
        app.click(&Desktop::row("corp-Admin", Some("inactive")))
            .await?;
        app.wait_for(&Desktop::row("corp-Admin", Some("active")))
            .await?;

        // The provider withdraws both picked roles and grants a new one.
        idp.offer_roles(&["Auditor", "Billing"])?;
        app.click(dialog).await?;
        sign_in_again(app).await?;
        let mut offered = Vec::new();
        for offer in app.all("[data-offer]").await? {
            offered.extend(offer.attr("data-offer").await?);
        }
        offered.sort();
        assert_eq!(offered, [role_arn("Auditor"), role_arn("Billing")]);
        assert_eq!(
            app.prop(&tick("Billing"), "checked").await?.as_deref(),
            Some("false"),
            "a newly granted role is offered unticked"
        );
        app.click(&tick("Billing")).await?;
        app.click(r#"button[name="add-selected"]"#).await?;
        let report = app
            .wait_text("[data-sync-report]", |t| t.contains("Added 1"))
            .await?;
        assert!(report.contains("removed 1"), "{report}");
        let kept = app.text("[data-kept-live='corp-Admin']").await?;
        assert!(kept.contains("active"), "{kept}");
        app.screenshot("kept-active").await?;
        app.click(r#"button[name="close"]"#).await?;
        app.wait_for(&Desktop::row("corp-Billing", Some("inactive")))
            .await?;
        app.wait_gone(&Desktop::row("corp-ReadOnly", None)).await?;
        assert_eq!(
            app.row_names().await?,
            ["corp-Admin", "corp-Billing"],
            "the withdrawn active session is kept"
        );
        assert_eq!(world.state_of("corp-Admin"), "active");

        // Stopped, the withdrawn session goes at the next re-sync.
        app.click(&Desktop::row("corp-Admin", Some("active")))
            .await?;
        app.wait_for(&Desktop::row("corp-Admin", Some("inactive")))
            .await?;
        app.click(dialog).await?;
        sign_in_again(app).await?;
        assert_eq!(
            app.prop(&tick("Billing"), "checked").await?.as_deref(),
            Some("true"),
            "a synced role is offered ticked"
        );
        app.click(r#"button[name="add-selected"]"#).await?;
        let report = app
            .wait_text("[data-sync-report]", |t| t.contains("removed 1"))
            .await?;
        assert!(report.contains("Added 0"), "{report}");
        app.click(r#"button[name="close"]"#).await?;
        app.wait_gone(&Desktop::row("corp-Admin", None)).await?;
        assert_eq!(app.row_names().await?, ["corp-Billing"]);
        assert_eq!(
            idp.served()?.iter().filter(|s| *s == "POST /login").count(),
            1,
            "a re-sign-in asked for the password again"
        );
        Ok(())
    })
    .await
}

// ---- Part 1: the window's dialog for one federated role ----------------------------------

/// The dialog that adds and edits one federated role.
const SAML_ROLE_DIALOG: &str = "dialog[data-dialog='saml-role']";

/// Fills field `name` of the federated-role dialog.
async fn fill_saml(app: &Desktop, name: &str, value: &str) -> TestResult {
    app.fill(&format!("{SAML_ROLE_DIALOG} input[name='{name}']"), value)
        .await
}

/// Saves the federated-role dialog and waits for the refusal beside `field`: its words.
async fn refused_beside(app: &Desktop, field: &str) -> TestResult<String> {
    app.click(&format!("{SAML_ROLE_DIALOG} button[name='save']"))
        .await?;
    app.wait_text(
        &format!("{SAML_ROLE_DIALOG} [data-error-field='{field}']"),
        |t| !t.is_empty(),
    )
    .await
}

/// Part 1: the window's "+ Federated role (SAML)" dialog. An empty save names every
/// required field beside it; a plain-http URL to another host, a user's ARN as the role,
/// a role's ARN as the provider and a duration of 100 s are each refused beside their
/// field, the workspace unchanged (`session list --json`). A good one is added and listed
/// as a federated role; a click starts it through the login window and the AWS CLI acts
/// as the role. Edit opens the dialog with its values; a new profile and duration are
/// what the CLI then lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part1_the_window_adds_a_federated_session_refusing_each_bad_field_by_name_and_edits_it()
-> TestResult {
    let (world, idp) = provider_world();
    idp.offer_roles(&["Admin", "ReadOnly"])?;
    let app = launch_on("saml-role-dialog", &world, &idp, &[]).await?;
    let listed = || world.rolehop(&["session", "list", "--json"]).ok().json();
    let before = listed();
    app.run(async |app: &Desktop| {
        app.click("button[name='add-saml-role']").await?;
        app.wait_for(SAML_ROLE_DIALOG).await?;
        // Nothing filled: every required field is named beside it at once.
        app.click(&format!("{SAML_ROLE_DIALOG} button[name='save']"))
            .await?;
        for field in ["name", "idp_url", "role_arn", "principal_arn", "profile"] {
            app.wait_for(&format!("{SAML_ROLE_DIALOG} [data-error-field='{field}']"))
                .await?;
        }
        // The duration may stay empty (an hour).
        assert!(
            app.all(&format!("{SAML_ROLE_DIALOG} [data-error-field='duration']"))
                .await?
                .is_empty()
        );
        assert_eq!(listed(), before);

        fill_saml(app, "name", "corp").await?;
        fill_saml(app, "profile", "corp").await?;
        fill_saml(app, "region", "us-east-1").await?;
        fill_saml(app, "role_arn", &role_arn("Admin")).await?;
        fill_saml(app, "principal_arn", PROVIDER_ARN).await?;
        // Each bad value in turn, refused by the engine beside its own field.
        fill_saml(app, "idp_url", "http://idp.example.test/sso").await?;
        let said = refused_beside(app, "idp_url").await?;
        assert!(said.contains("https"), "{said}");
        assert_eq!(listed(), before);
        fill_saml(app, "idp_url", &idp.idp_url()).await?;
        fill_saml(app, "role_arn", "arn:aws:iam::123456789012:user/alice").await?;
        refused_beside(app, "role_arn").await?;
        assert_eq!(listed(), before);
        fill_saml(app, "role_arn", &role_arn("Admin")).await?;
        fill_saml(app, "principal_arn", &role_arn("Admin")).await?;
        let said = refused_beside(app, "principal_arn").await?;
        assert!(said.contains("saml-provider"), "{said}");
        assert_eq!(listed(), before);
        fill_saml(app, "principal_arn", PROVIDER_ARN).await?;
        fill_saml(app, "duration", "100").await?;
        refused_beside(app, "duration").await?;
        assert_eq!(listed(), before);

        // Good: added, listed as a federated role.
        fill_saml(app, "duration", "3600").await?;
        app.click(&format!("{SAML_ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_gone(SAML_ROLE_DIALOG).await?;
        let row = Desktop::row("corp", Some("inactive"));
        app.wait_for(&row).await?;
        assert_eq!(
            app.text(&format!("{row} .kind")).await?,
            "Federated role (SAML)"
        );
        let list = listed();
        let corp = &list[0];
        assert_eq!(corp["kind"]["type"], "saml");
        assert_eq!(corp["kind"]["idp_url"], idp.idp_url());
        assert_eq!(corp["kind"]["principal_arn"], PROVIDER_ARN);
        assert_eq!(corp["kind"]["duration"], 3600);

        // A click starts it through the login window; the AWS CLI acts as the role.
        app.click(&row).await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        assert_eq!(
            world.caller_arn("corp").unwrap(),
            assumed("123456789012", "Admin", "alice@example.test")
        );
        app.click(&Desktop::row("corp", Some("active"))).await?;
        app.wait_for(&row).await?;

        // Edit: the dialog opens with its values; a new profile and duration are kept.
        app.click(&format!("{row} .details-button")).await?;
        app.click("[data-details='corp'] button[name='edit']")
            .await?;
        app.wait_for(SAML_ROLE_DIALOG).await?;
        assert_eq!(
            app.prop(
                &format!("{SAML_ROLE_DIALOG} input[name='role_arn']"),
                "value"
            )
            .await?
            .as_deref(),
            Some(role_arn("Admin").as_str())
        );
        fill_saml(app, "profile", "corp-admin").await?;
        fill_saml(app, "duration", "7200").await?;
        app.click(&format!("{SAML_ROLE_DIALOG} button[name='save']"))
            .await?;
        app.wait_gone(SAML_ROLE_DIALOG).await?;
        let list = listed();
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        let corp = &list[0];
        assert_eq!(corp["profile"], "corp-admin");
        assert_eq!(corp["kind"]["duration"], 7200);
        assert_eq!(corp["kind"]["idp_url"], idp.idp_url());
        Ok(())
    })
    .await
}
