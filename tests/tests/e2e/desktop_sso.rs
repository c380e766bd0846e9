//! The desktop's Integrations dialog (IAM Identity Center) in the real window (Xvfb,
//! WebDriver), against the SSO/OIDC stand-in (`tests/peers/sso_portal.py`) with moto's
//! STS behind it and a private gnome-keyring: a bad start URL refused beside its field,
//! a device login whose code the dialog shows (approved as the person's browser would),
//! a sync of 300 accounts × 2 roles with the counts shown, the sessions in the list and
//! found by account name, one started by a click, a logout, an edit, a removal refused
//! while sessions use it then cascaded, and no serious axe-core violation in the dialog.

use crate::cli::World;
use crate::desktop::{Desktop, TestResult};
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{PkceBrowser, SsoAccount, SsoOperation, SsoPortal};

const DIALOG: &str = "dialog[data-dialog='integrations'][open]";

fn integration(name: &str, login: &str) -> String {
    format!("{DIALOG} [data-integration='{name}'][data-login='{login}']")
}

/// Fills the dialog's form with integration `acme` at `start_url` and saves it.
async fn add_acme(app: &Desktop, start_url: &str) -> TestResult {
    for (field, value) in [
        ("name", "acme"),
        ("start_url", start_url),
        ("region", "eu-west-1"),
    ] {
        app.fill(&format!("{DIALOG} input[name='{field}']"), value)
            .await?;
    }
    app.click(&format!("{DIALOG} button[name='save-integration']"))
        .await
}

/// Clicks acme's "Log in with a code" (the device flow) and returns the user code the
/// dialog shows.
async fn start_login(app: &Desktop) -> TestResult<String> {
    app.click(&format!(
        "{DIALOG} [data-integration='acme'] button[name='login-device-code']"
    ))
    .await?;
    app.wait_text(&format!("{DIALOG} [data-user-code]"), |t| !t.is_empty())
        .await
}

/// The app, launched with the stand-in's endpoints in its environment.
async fn launch(name: &str, world: &World, portal: &SsoPortal) -> TestResult<Desktop> {
    launch_with(name, world, portal, &[]).await
}

async fn launch_with(
    name: &str,
    world: &World,
    portal: &SsoPortal,
    extra: &[(&str, &str)],
) -> TestResult<Desktop> {
    let env = portal.endpoint_env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    env.extend_from_slice(extra);
    Desktop::launch(name, &world.peers, &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_dialog_adds_logs_in_syncs_logs_out_edits_and_removes() -> TestResult {
    let world = World::start();
    let portal = SsoPortal::start(world.peers.moto())?;
    portal.seed_generated(300, &["Admin", "ReadOnly"])?;
    // Synced sessions name no region: the workspace's default is the profile's.
    world
        .rolehop(&["settings", "set", "default-region", "us-east-1"])
        .ok();
    let app = launch("sso", &world, &portal).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='integrations']").await?;
        app.wait_for(DIALOG).await?;

        // A start URL that is not https: refused beside its field, nothing added.
        add_acme(app, "http://acme.awsapps.com/start").await?;
        let refused = app
            .wait_text(&format!("{DIALOG} [data-error-field='start_url']"), |t| {
                !t.is_empty()
            })
            .await?;
        assert!(refused.contains("https"), "{refused}");
        assert!(app.all("[data-integration]").await?.is_empty());

        add_acme(app, START_URL).await?;
        app.wait_for(&integration("acme", "logged-out")).await?;

        // Log in: the dialog shows the portal's code; the person approves it.
        let code = start_login(app).await?;
        assert!(
            portal.pending_user_codes()?.contains(&code),
            "the dialog shows {code}, which the portal is not waiting for"
        );
        let violations = app.axe_serious_violations().await?;
        if !violations.is_empty() {
            return Err(violations.join("\n").into());
        }
        app.screenshot("sso-login-code").await?;
        portal.approve(&code)?;
        app.wait_for(&integration("acme", "logged-in")).await?;
        app.wait_gone(&format!("{DIALOG} [data-login-prompt]"))
            .await?;
        let status = app
            .text(&format!("{DIALOG} [data-integration='acme'] [data-status]"))
            .await?;
        assert!(status.starts_with("Logged in until "), "{status}");
        assert!(portal.calls()?.of(SsoOperation::CreateToken) >= 1);

        // Sync: 300 accounts × 2 roles, the counts shown.
        app.click(&format!(
            "{DIALOG} [data-integration='acme'] button[name='sync']"
        ))
        .await?;
        app.wait_text(&format!("{DIALOG} [data-sync-report]"), |t| {
            t == "acme: Added 600, updated 0, removed 0, kept 0"
        })
        .await?;
        app.screenshot("sso-synced").await?;
        app.click(&format!("{DIALOG} button[name='close']")).await?;
        app.wait_gone(DIALOG).await?;

        // The sessions are in the list; with the integration chosen, an account's name
        // finds its two roles.
        app.wait_text("footer.status", |t| t.starts_with("600 sessions"))
            .await?;
        app.select_label("select[name='integration']", "acme")
            .await?;
        app.fill("input[type='search']", "account-0150").await?;
        app.wait_for(&Desktop::row("account-0150-ReadOnly", Some("inactive")))
            .await?;
        let mut shown = app.row_names().await?;
        shown.sort();
        assert_eq!(shown, ["account-0150-Admin", "account-0150-ReadOnly"]);
        let detail = app
            .text(&format!(
                "{} .secondary-text",
                Desktop::row("account-0150-Admin", None)
            ))
            .await?;
        assert_eq!(detail, "account-0150 · Admin · acme");

        // A click starts the SSO role session (GetRoleCredentials, no MFA prompt).
        app.click(&Desktop::row("account-0150-Admin", None)).await?;
        app.wait_for(&Desktop::row("account-0150-Admin", Some("active")))
            .await?;
        assert!(portal.calls()?.of(SsoOperation::GetRoleCredentials) >= 1);

        // Log out: the status says so.
        app.click("button[name='integrations']").await?;
        app.wait_for(&integration("acme", "logged-in")).await?;
        app.click(&format!(
            "{DIALOG} [data-integration='acme'] button[name='logout']"
        ))
        .await?;
        app.wait_for(&integration("acme", "logged-out")).await?;
        let status = app
            .text(&format!("{DIALOG} [data-integration='acme'] [data-status]"))
            .await?;
        assert_eq!(status, "Logged out");
        let violations = app.axe_serious_violations().await?;
        if !violations.is_empty() {
            return Err(violations.join("\n").into());
        }

        // Edit: a new name, the same portal.
        app.click(&format!(
            "{DIALOG} [data-integration='acme'] button[name='edit']"
        ))
        .await?;
        app.fill(&format!("{DIALOG} input[name='name']"), "acme-prod")
            .await?;
        app.click(&format!("{DIALOG} button[name='save-integration']"))
            .await?;
        app.wait_for(&integration("acme-prod", "logged-out"))
            .await?;
        assert!(
            app.all(&format!("{DIALOG} [data-integration='acme']"))
                .await?
                .is_empty()
        );

        // Remove: refused while its 600 sessions use it, then removed with them.
        app.click(&format!(
            "{DIALOG} [data-integration='acme-prod'] button[name='remove']"
        ))
        .await?;
        app.click(&format!("{DIALOG} button[name='remove-cascade']"))
            .await?;
        app.wait_gone(&format!("{DIALOG} [data-integration]"))
            .await?;
        app.click(&format!("{DIALOG} button[name='close']")).await?;
        app.fill("input[type='search']", " ").await?;
        app.wait_text("footer.status", |t| t.starts_with("0 sessions"))
            .await?;
        Ok(())
    })
    .await
}

/// Cancel stops the login: the prompt goes, the integration stays logged out, and the
/// code it showed is never redeemed (approving it afterwards logs nothing in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_login_stops_the_poll_and_changes_nothing() -> TestResult {
    let world = World::start();
    let portal = SsoPortal::start(world.peers.moto())?;
    let app = launch("sso-cancel", &world, &portal).await?;
    app.run(async |app: &Desktop| {
        app.click("button[name='integrations']").await?;
        app.wait_for(DIALOG).await?;
        add_acme(app, START_URL).await?;
        app.wait_for(&integration("acme", "logged-out")).await?;
        let code = start_login(app).await?;
        app.click(&format!("{DIALOG} button[name='cancel-login']"))
            .await?;
        app.wait_gone(&format!("{DIALOG} [data-login-prompt]"))
            .await?;
        let polls = portal.calls()?.of(SsoOperation::CreateToken);
        portal.approve(&code)?;
        // Long enough for several polls at the stand-in's 1 s interval had one gone on.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(
            portal.calls()?.of(SsoOperation::CreateToken),
            polls,
            "the cancelled login kept polling"
        );
        app.click(&format!("{DIALOG} button[name='close']")).await?;
        app.click("button[name='integrations']").await?;
        app.wait_for(&integration("acme", "logged-out")).await?;
        Ok(())
    })
    .await
}

/// The app with the stand-in browser `mode` as its `xdg-open` (first on its PATH), in
/// the directory returned (its log is `xdg-open.log` there).
async fn launch_with_browser(
    name: &str,
    world: &World,
    portal: &SsoPortal,
    mode: PkceBrowser,
) -> TestResult<(Desktop, tempfile::TempDir)> {
    let browser = tempfile::tempdir()?;
    let script = portal.pkce_browser(browser.path(), mode)?;
    std::fs::copy(&script, browser.path().join("xdg-open"))?;
    let path = format!(
        "{}:{}",
        browser.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let app = launch_with(name, world, portal, &[("PATH", &path)]).await?;
    Ok((app, browser))
}

/// Opens the dialog, adds `acme` and clicks its Log in (the browser login).
async fn add_acme_and_log_in(app: &Desktop) -> TestResult {
    app.click("button[name='integrations']").await?;
    app.wait_for(DIALOG).await?;
    add_acme(app, START_URL).await?;
    app.wait_for(&integration("acme", "logged-out")).await?;
    app.click(&format!(
        "{DIALOG} [data-integration='acme'] button[name='login']"
    ))
    .await
}

/// "Log in" signs in through the browser (the authorization code flow with PKCE): the
/// app opens the portal's `/authorize` with `xdg-open` (here the stand-in browser of
/// [`SsoPortal::pkce_browser`], first on the app's PATH, which signs in and follows the
/// redirect to the app's listener), no code is shown, and the integration is logged in;
/// a sync and a click on a synced role follow. "Log in with a code" still runs the
/// device flow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_signs_in_in_the_browser_with_pkce_and_a_code_login_is_still_offered() -> TestResult
{
    let world = World::start();
    world
        .rolehop(&["settings", "set", "default-region", "us-east-1"])
        .ok();
    let portal = SsoPortal::start(world.peers.moto())?;
    portal.seed(&[SsoAccount::new("777777777777", "shop", &["Admin"])])?;
    let (app, browser) =
        launch_with_browser("sso-pkce", &world, &portal, PkceBrowser::Follow).await?;
    app.run(async |app: &Desktop| {
        add_acme_and_log_in(app).await?;
        app.wait_for(&integration("acme", "logged-in")).await?;
        app.wait_gone(&format!("{DIALOG} [data-login-prompt]"))
            .await?;
        let opened = std::fs::read_to_string(browser.path().join("xdg-open.log"))?;
        assert!(
            opened.starts_with(&format!(
                "{}/authorize?response_type=code&",
                portal.endpoint()
            )),
            "{opened}"
        );
        assert!(opened.contains("&code_challenge_method=S256&"), "{opened}");
        let calls = portal.calls()?;
        assert_eq!(
            calls.of(SsoOperation::StartDeviceAuthorization),
            0,
            "{calls:?}"
        );
        app.screenshot("sso-pkce-logged-in").await?;

        app.click(&format!(
            "{DIALOG} [data-integration='acme'] button[name='sync']"
        ))
        .await?;
        app.wait_text(&format!("{DIALOG} [data-sync-report]"), |t| {
            t == "acme: Added 1, updated 0, removed 0, kept 0"
        })
        .await?;
        app.click(&format!("{DIALOG} button[name='close']")).await?;
        app.wait_gone(DIALOG).await?;
        app.click(&Desktop::row("shop-Admin", None)).await?;
        app.wait_for(&Desktop::row("shop-Admin", Some("active")))
            .await?;
        assert_eq!(
            world.caller_arn("shop-Admin").unwrap(),
            SsoPortal::assumed_role_arn("777777777777", "Admin", "alice")
        );

        // The device flow, on request: its code shows, the person approves it.
        app.click("button[name='integrations']").await?;
        app.wait_for(&integration("acme", "logged-in")).await?;
        let code = start_login(app).await?;
        app.screenshot("sso-device-code-on-request").await?;
        portal.approve(&code)?;
        app.wait_gone(&format!("{DIALOG} [data-login-prompt]"))
            .await?;
        app.wait_for(&integration("acme", "logged-in")).await?;
        Ok(())
    })
    .await
}

/// A browser login whose browser never comes back (closed before the sign-in): the
/// dialog says to sign in in the browser and shows no code; Cancel ends the wait, the
/// integration stays logged out and no token reaches the keychain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_login_waits_for_the_browser_and_cancel_stores_nothing() -> TestResult {
    let world = World::start();
    let portal = SsoPortal::start(world.peers.moto())?;
    let (app, _browser) =
        launch_with_browser("sso-pkce-closed", &world, &portal, PkceBrowser::Closed).await?;
    app.run(async |app: &Desktop| {
        add_acme_and_log_in(app).await?;
        let told = app
            .wait_text(&format!("{DIALOG} [data-browser-login]"), |t| !t.is_empty())
            .await?;
        assert!(told.starts_with("Sign in on the page opened"), "{told}");
        assert!(
            app.all(&format!("{DIALOG} [data-user-code]"))
                .await?
                .is_empty()
        );
        app.screenshot("sso-browser-login-waiting").await?;
        app.click(&format!("{DIALOG} button[name='cancel-login']"))
            .await?;
        app.wait_gone(&format!("{DIALOG} [data-login-prompt]"))
            .await?;
        app.wait_for(&integration("acme", "logged-out")).await?;
        let service = world.peers.home().keychain_service();
        let left = world.peers.secret_service().search_all(service)?;
        assert!(!left.contains("sso-token:"), "{left}");
        Ok(())
    })
    .await
}
