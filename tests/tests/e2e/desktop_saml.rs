//! The federated login window (issue 21, parts 2, 4, 5 and 6) in the real app under Xvfb,
//! against pysaml2's identity provider and the layer before moto's STS that checks
//! `AssumeRoleWithSAML` as IAM does (`rolehop_e2e::saml_idp`).
//!
//! The login window's web view has a WebKit context of its own (its own data
//! directory), and WebKitGTK lets only one context be driven by automation: WebDriver
//! sees the main window only. So the test is the person at the keyboard of the login
//! window (xdotool, through the X server), and reads the main window through WebDriver.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use rolehop_e2e::saml_idp::{PROVIDER_ARN, role_arn};
use rolehop_e2e::{NotificationServer, SamlIdp};

use crate::cli::{AwsFilesBytes, World, assumed};
use crate::cli_saml::{provider_world, walk};
use crate::desktop::{Desktop, TestResult, UI_TIMEOUT, Xvfb, saml_provider_sign_in, session_bus};

/// The login window's title for federated session `corp`.
pub(crate) const LOGIN_WINDOW: &str = "Rolehop sign-in: corp";

/// A world whose STS is the verifying layer, with federated session `corp` (role Admin
/// through the test provider) and role `deploy` chained from it.
pub(crate) fn federated() -> (World, SamlIdp) {
    let (world, idp) = provider_world();
    idp.offer_roles(&["Admin", "ReadOnly"]).unwrap();
    world
        .rolehop(&[
            "session",
            "add",
            "saml",
            "--name",
            "corp",
            "--idp-url",
            &idp.idp_url(),
            "--role-arn",
            &role_arn("Admin"),
            "--principal-arn",
            PROVIDER_ARN,
            "--profile",
            "corp",
            "--region",
            "us-east-1",
        ])
        .ok();
    world.add_role("deploy", "corp", &role_arn("Deployer"));
    (world, idp)
}

/// The app launched on `world` (as `name`), its STS `idp`'s verifying layer, with
/// `env` besides.
pub(crate) async fn launch_on(
    name: &str,
    world: &World,
    idp: &SamlIdp,
    env: &[(&str, &str)],
) -> TestResult<Desktop> {
    let sts = idp.sts_endpoint();
    let env: Vec<(&str, &str)> = [("AWS_ENDPOINT_URL_STS", sts.as_str())]
        .into_iter()
        .chain(env.iter().copied())
        .collect();
    Desktop::launch(name, &world.peers, &env).await
}

/// [`federated`], and the app launched on it (its STS the verifying layer).
pub(crate) async fn federated_app(name: &str) -> TestResult<(World, SamlIdp, Desktop)> {
    let (world, idp) = federated();
    let app = launch_on(name, &world, &idp, &[]).await?;
    Ok((world, idp, app))
}

/// Closes login window `window` before the provider posts; the main window's notice
/// of the cancelled sign-in, once it says "cancelled".
pub(crate) async fn close_to_cancel(app: &Desktop, window: &str) -> TestResult<String> {
    app.close_window_id(window)?;
    app.wait_window_gone(LOGIN_WINDOW).await?;
    let told = app
        .wait_text(".notice[data-notice='login-failed']", |t| !t.is_empty())
        .await?;
    assert!(told.contains("cancelled"), "{told}");
    Ok(told)
}

/// Waits until the provider has served `what` (`GET /login`...) `times` times.
pub(crate) async fn served(idp: &SamlIdp, what: &str, times: usize) -> TestResult {
    let deadline = Instant::now() + UI_TIMEOUT;
    while idp.served()?.iter().filter(|s| *s == what).count() < times {
        if Instant::now() > deadline {
            return Err(format!("the provider never served {what}: {:?}", idp.served()?).into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Signs in on the provider's login form in login window `id`, as a person would.
pub(crate) async fn sign_in_at_the_keyboard(app: &Desktop, idp: &SamlIdp, id: &str) -> TestResult {
    sign_in_on_screen(app.screen(), idp, id).await
}

/// [`sign_in_at_the_keyboard`] on display `screen`, whatever app owns the window.
pub(crate) async fn sign_in_on_screen(screen: &Xvfb, idp: &SamlIdp, id: &str) -> TestResult {
    served(idp, "GET /login", 1).await?;
    // The form is served; give WebKit a moment to lay it out and focus its first field.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    screen.type_into_window(id, &saml_provider_sign_in())
}

/// The app's log lines (its daily files under the test's home).
pub(crate) fn app_log(home: &Path) -> String {
    walk(home)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("rolehop.") && name.ends_with(".log")
        })
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect()
}

/// The `SignatureValue` of a base64 SAML response: a long, unique piece of the XML.
fn signature_value(response: &str) -> String {
    let xml = base64::engine::general_purpose::STANDARD
        .decode(response)
        .expect("the provider's response is base64");
    let xml = String::from_utf8(xml).unwrap();
    let start = xml.find("SignatureValue>").expect("a signed response") + "SignatureValue>".len();
    xml[start..start + 64].to_owned()
}

/// Fails if a piece of any of the `issued` responses is in the main window's page
/// source (its DOM) or in any file under the home.
async fn no_response_kept(app: &Desktop, world: &World, issued: &[String]) -> TestResult {
    let page = app.client.source().await?;
    let home = world.peers.home().root();
    for response in issued {
        let pieces = [response[100..164].to_owned(), signature_value(response)];
        for piece in &pieces {
            assert!(
                !page.contains(piece.as_str()),
                "the main window's DOM holds a response"
            );
            for file in walk(home) {
                let text = String::from_utf8_lossy(&std::fs::read(&file)?).into_owned();
                assert!(
                    !text.contains(piece.as_str()),
                    "{} holds a response",
                    file.display()
                );
            }
        }
    }
    Ok(())
}

/// The directories the login windows keep their web data in (the app's local data
/// directory's `saml-login`), and every other directory holding a WebKit cookie jar.
fn cookie_jars(home: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    walk(home)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "cookies"))
        .partition(|p| p.parent().is_some_and(|d| d.ends_with("saml-login")))
}

/// Part 2: a click on the federated session opens the login window on the provider's
/// form; the person signs in there; the provider's post to AWS never leaves the
/// window: the app takes the response, closes the window, and the session is active
/// as the role (the AWS CLI says so). A role chained from it starts by a click too:
/// its window finds the provider's session in the window's own cookie store and closes
/// by itself. No response is in any file under the home or in the main window's DOM;
/// the provider's cookie is in the login windows' own directory only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part2_login_window_signs_in_at_the_provider_and_starts_the_role_and_a_chained_one()
-> TestResult {
    let (world, idp, app) = federated_app("saml-login").await?;
    app.run(async |app: &Desktop| {
        app.click(&Desktop::row("corp", Some("inactive"))).await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        served(&idp, "GET /login", 1).await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        app.window_screenshot(&window, "login-window")?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        assert_eq!(
            world.caller_arn("corp").unwrap(),
            assumed("123456789012", "Admin", "alice@example.test")
        );
        assert_eq!(
            idp.sts_decisions(),
            [format!("accept {}", role_arn("Admin"))]
        );

        // The chained role: one click, no typing (the provider's cookie is kept).
        app.click(&Desktop::row("deploy", Some("inactive"))).await?;
        app.wait_for(&Desktop::row("deploy", Some("active")))
            .await?;
        assert_eq!(
            world.caller_arn("deploy").unwrap(),
            assumed("123456789012", "Deployer", "rolehop-deploy")
        );
        assert_eq!(
            idp.served()?.iter().filter(|s| *s == "POST /login").count(),
            1,
            "the second sign-in asked for the password again: {:?}",
            idp.served()?
        );

        // Nothing of a response in the main window or in any file under the home.
        let issued = idp.issued();
        assert_eq!(issued.len(), 2, "{issued:?}");
        no_response_kept(app, &world, &issued).await?;
        let home = world.peers.home().root();

        // The login windows' web data: their own directory, holding the provider's
        // cookie; no other cookie jar holds it.
        let (login, others) = cookie_jars(home);
        assert_eq!(login.len(), 1, "{login:?}");
        assert!(std::fs::read_to_string(&login[0])?.contains("idp_session"));
        for jar in &others {
            assert!(
                !std::fs::read_to_string(jar)?.contains("idp_session"),
                "{} holds the provider's cookie",
                jar.display()
            );
        }
        for line in app_log(home).lines().filter(|l| l.contains("from_post_ms")) {
            println!("{line}");
        }
        Ok(())
    })
    .await
}

/// Part 6: closing the login window before the provider posts fails the start as
/// cancelled, in words, and changes nothing: the session stays inactive, the AWS files
/// keep every byte, nothing reached STS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part6_closing_the_login_window_cancels_the_start_and_changes_nothing() -> TestResult {
    let (world, idp, app) = federated_app("saml-cancel").await?;
    let before = AwsFilesBytes::of(&world);
    app.run(async |app: &Desktop| {
        app.click(&Desktop::row("corp", Some("inactive"))).await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        served(&idp, "GET /login", 1).await?;
        let told = close_to_cancel(app, &window).await?;
        assert!(told.contains("corp"), "{told}");
        app.wait_for(&Desktop::row("corp", Some("inactive")))
            .await?;
        assert_eq!(AwsFilesBytes::of(&world), before);
        assert!(idp.sts_decisions().is_empty(), "{:?}", idp.sts_decisions());
        // The app still runs and answers: the main window is there.
        assert!(app.window_shown()?);
        Ok(())
    })
    .await
}

/// Part 5: `rolehop session start corp` with no `--assertion-file`, the app running on
/// the display: the command line asks the app over its local channel, the app's login
/// window opens, the person signs in there, and the command exits 0 once the app has
/// started the session; the AWS CLI acts as the role. The response never crossed the
/// socket (the request names the session; `app_sign_in`'s unit test pins the frames).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part5_session_start_on_the_command_line_signs_in_in_the_running_apps_login_window()
-> TestResult {
    let (world, idp, app) = federated_app("saml-cli").await?;
    app.run(async |app: &Desktop| {
        let mut cli =
            Running(world.spawn(&["session", "start", "corp"], &[("DISPLAY", app.display())]));
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        let run = cli.finished().await?;
        assert_eq!(run.status.code(), Some(0), "{run:?}");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains("started 'corp'"), "{stdout}");
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        assert_eq!(
            world.caller_arn("corp").unwrap(),
            assumed("123456789012", "Admin", "alice@example.test")
        );
        Ok(())
    })
    .await
}

/// Part 5 with part 6: the window the command line opened is closed before the
/// provider posts; the command fails as a sign-in still required (exit 12) saying it
/// was cancelled, and nothing reached STS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part5_part6_closing_the_window_the_command_line_opened_fails_it_as_cancelled() -> TestResult
{
    let (world, idp, app) = federated_app("saml-cli-cancel").await?;
    app.run(async |app: &Desktop| {
        let mut cli =
            Running(world.spawn(&["session", "start", "corp"], &[("DISPLAY", app.display())]));
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        served(&idp, "GET /login", 1).await?;
        app.close_window_id(&window)?;
        let run = cli.finished().await?;
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(12), "{stderr}");
        assert!(stderr.contains("cancelled"), "{stderr}");
        assert!(idp.sts_decisions().is_empty(), "{:?}", idp.sts_decisions());
        Ok(())
    })
    .await
}

/// The hidden login window's title (never on screen).
const HIDDEN_WINDOW: &str = "Rolehop sign-in (renewing)";

/// The access key id the AWS CLI reads for profile `corp`.
fn corp_key(world: &World) -> String {
    world
        .aws(&["configure", "get", "aws_access_key_id", "--profile", "corp"])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

/// The app's notifications so far (one log line each).
fn notifications(home: &Path) -> Vec<String> {
    app_log(home)
        .lines()
        .filter(|l| l.contains("notification") && l.contains("Rolehop could not refresh"))
        .map(str::to_owned)
        .collect()
}

/// Waits up to `within` until `done`; fails if a login window is ever on screen
/// meanwhile (the hidden sign-in must show nothing).
async fn nothing_shown_until(
    app: &Desktop,
    within: Duration,
    what: &str,
    mut done: impl FnMut() -> TestResult<bool>,
) -> TestResult {
    let deadline = Instant::now() + within;
    loop {
        for title in [HIDDEN_WINDOW, LOGIN_WINDOW] {
            assert!(!app.window_viewable(title)?, "{title:?} was shown");
        }
        if done()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{what} did not happen within {within:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Part 4: the hidden re-sign-in. `corp` lasts 900 s (AssumeRoleWithSAML's least) and
/// the rotation margin is 880 s, so rotation is due 20 s after each start. Started
/// through the login window, the session is renewed at its margin by a hidden login
/// window: the provider's session is still valid (the window's cookie store), its page
/// posts by itself, the app takes the response; the AWS CLI reads a new access key, no
/// window was on screen and no notification was raised. Then the provider's sessions
/// end: the next rotation's hidden window finds the form, gives up after its wait
/// (`ROLEHOP_SAML_SILENT_WAIT_SECS`, 5 s here), and the core's path applies: no
/// renewal, the session stays active on its credentials, exactly one notification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_rotation_signs_in_again_in_a_hidden_window_and_gives_up_once_the_provider_session_ended()
-> TestResult {
    let (world, idp, app) = renewing_app("saml-hidden").await?;
    app.run(async |app: &Desktop| {
        let home = world.peers.home().root();
        app.click(&Desktop::row("corp", Some("inactive"))).await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        let first = corp_key(&world);
        assert!(first.starts_with("ASIA"), "{first}");

        // Renewed at the margin with no window and no notification.
        nothing_shown_until(app, Duration::from_secs(90), "a renewal", || {
            Ok(corp_key(&world) != first)
        })
        .await?;
        let renewed = corp_key(&world);
        assert_eq!(
            world.caller_arn("corp").unwrap(),
            assumed("123456789012", "Admin", "alice@example.test")
        );
        let accepted = idp.sts_decisions();
        assert!(accepted.len() >= 2, "{accepted:?}");
        assert!(
            accepted
                .iter()
                .all(|d| *d == format!("accept {}", role_arn("Admin")))
        );
        assert_eq!(
            idp.served()?.iter().filter(|s| *s == "POST /login").count(),
            1,
            "the renewal asked for the password: {:?}",
            idp.served()?
        );
        assert!(notifications(home).is_empty(), "{:?}", notifications(home));

        // The provider's session ends: the next rotation gives up, told once.
        idp.forget_sessions()?;
        let forms_before = idp.served()?.iter().filter(|s| *s == "GET /login").count();
        let decisions_before = idp.sts_decisions().len();
        nothing_shown_until(app, Duration::from_secs(90), "a notification", || {
            Ok(!notifications(home).is_empty())
        })
        .await?;
        // Time for more rotation ticks (the session is due every second from now on):
        // still one notification, no other sign-in, the session active on its keys.
        let calm = Instant::now() + Duration::from_secs(20);
        nothing_shown_until(app, Duration::from_secs(30), "20 s", || {
            Ok(Instant::now() > calm)
        })
        .await?;
        let told = notifications(home);
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].contains("corp"), "{told:?}");
        assert!(
            idp.served()?.iter().filter(|s| *s == "GET /login").count() > forms_before,
            "the hidden window never reached the provider's form: {:?}",
            idp.served()?
        );
        assert_eq!(idp.sts_decisions().len(), decisions_before);
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        assert_eq!(
            corp_key(&world),
            renewed,
            "renewed after the provider's session ended"
        );
        for line in app_log(home)
            .lines()
            .filter(|l| l.contains("hidden sign-in"))
        {
            println!("{line}");
        }
        Ok(())
    })
    .await
}

/// `corp` and `deploy` as [`federated`], `corp` lasting 900 s with a 880 s rotation
/// margin (rotation due 20 s after each start), and the app launched on them with a
/// 5 s hidden sign-in wait: part 4's setting.
async fn renewing_app(name: &str) -> TestResult<(World, SamlIdp, Desktop)> {
    let (world, idp) = federated();
    world
        .rolehop(&["session", "edit", "saml", "corp", "--duration", "900"])
        .ok();
    world
        .rolehop(&["settings", "set", "rotation-margin", "880"])
        .ok();
    let app = launch_on(
        name,
        &world,
        &idp,
        &[("ROLEHOP_SAML_SILENT_WAIT_SECS", "5")],
    )
    .await?;
    Ok((world, idp, app))
}

/// Starts `corp` through the login window, at the keyboard; its access key.
async fn start_corp(app: &Desktop, world: &World, idp: &SamlIdp) -> TestResult<String> {
    app.click(&Desktop::row("corp", Some("inactive"))).await?;
    let window = app.wait_window_named(LOGIN_WINDOW).await?;
    sign_in_at_the_keyboard(app, idp, &window).await?;
    app.wait_for(&Desktop::row("corp", Some("active"))).await?;
    app.wait_window_gone(LOGIN_WINDOW).await?;
    let key = corp_key(world);
    assert!(key.starts_with("ASIA"), "{key}");
    Ok(key)
}

/// `corp`'s state label and, when active, its expiry, as the CLI lists them.
fn corp_state(world: &World) -> (String, String) {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let corp = list
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == "corp"))
        .cloned()
        .unwrap_or_default();
    let label = corp["state"]["state"].as_str().unwrap_or_default();
    let until = corp["state"]["expires_at"].as_str().unwrap_or_default();
    (label.to_owned(), until.to_owned())
}

/// Fails unless `corp` is active on the access key `key` (the AWS CLI reads it).
fn active_on(world: &World, key: &str) {
    assert_eq!(corp_state(world).0, "active");
    assert_eq!(corp_key(world), key);
}

/// Signs in at the keyboard in the login window the renewal opened (the provider
/// serves its form again: `forms` forms served before it).
async fn renew_at_the_keyboard(
    app: &Desktop,
    idp: &SamlIdp,
    window: &str,
    forms: usize,
) -> TestResult {
    served(idp, "GET /login", forms + 1).await?;
    sign_in_at_the_keyboard(app, idp, window).await
}

/// Waits until the AWS CLI reads another key than `old` for `corp` (no login window on
/// screen meanwhile); the new key.
async fn new_key(app: &Desktop, world: &World, old: &str) -> TestResult<String> {
    nothing_shown_until(app, UI_TIMEOUT, "a new key", || {
        let key = corp_key(world);
        Ok(!key.is_empty() && key != old)
    })
    .await?;
    Ok(corp_key(world))
}

/// Part 4, the last clause: "when it is not [valid], one notification, the session
/// stays active until its real expiry, and a click opens the window". The provider's
/// session ends right after the start; at the margin the hidden sign-in finds the form
/// and gives up, and the app shows its one notification on the desktop's notification
/// server (dunst on the test's bus and display), with a default action and a "Sign in
/// again" one. A person clicks it (xdotool on dunst's window): the visible login window
/// opens on the provider's form, the person signs in, and the session is renewed in
/// place (new key for the AWS CLI, new expiry), active all along; exactly one
/// notification; no response in any file under the home or in the main window's DOM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_a_click_on_the_sign_in_notice_opens_the_login_window_and_renews_the_active_session()
-> TestResult {
    let (world, idp, app) = renewing_app("saml-notice").await?;
    let server = NotificationServer::start(&session_bus(&world.peers)?, app.display())?;
    let outcome = app
        .run(async |app: &Desktop| {
            let home = world.peers.home().root();
            let first = start_corp(app, &world, &idp).await?;
            let (_, first_until) = corp_state(&world);
            idp.forget_sessions()?;

            // The margin's hidden sign-in gives up: one notification, on screen.
            let notice = server.wait_shown(Duration::from_secs(90))?;
            let calls = server.notify_calls();
            assert_eq!(calls.len(), 1, "{calls:?}");
            assert!(calls[0].contains("'corp'"), "{}", calls[0]);
            assert!(calls[0].contains("string \"default\""), "{}", calls[0]);
            assert!(calls[0].contains("Sign in again"), "{}", calls[0]);
            app.window_screenshot(&notice, "notification")?;
            active_on(&world, &first);
            let decisions = idp.sts_decisions().len();
            let forms = idp.served()?.iter().filter(|s| *s == "GET /login").count();

            // The person clicks it: the visible login window, on the provider's form.
            server.click(&notice)?;
            let window = app.wait_window_named(LOGIN_WINDOW).await?;
            served(&idp, "GET /login", forms + 1).await?;
            // Still active on its credentials while the person signs in.
            active_on(&world, &first);
            renew_at_the_keyboard(app, &idp, &window, forms).await?;
            app.wait_window_gone(LOGIN_WINDOW).await?;
            let renewed = new_key(app, &world, &first).await?;
            app.wait_for(&Desktop::row("corp", Some("active"))).await?;
            let (state, until) = corp_state(&world);
            assert_eq!(state, "active");
            let instant = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("an expiry");
            assert!(
                instant(&until) > instant(&first_until),
                "{first_until} -> {until}"
            );
            assert_ne!(renewed, first);
            assert_eq!(
                world.caller_arn("corp").unwrap(),
                assumed("123456789012", "Admin", "alice@example.test")
            );
            assert!(idp.sts_decisions().len() > decisions);

            // One notification in all, on the server and in the log.
            assert_eq!(
                server.notify_calls().len(),
                1,
                "{:?}",
                server.notify_calls()
            );
            let told = notifications(home);
            assert_eq!(told.len(), 1, "{told:?}");
            no_response_kept(app, &world, &idp.issued()).await?;
            Ok(())
        })
        .await;
    if outcome.is_err() {
        eprintln!("dunst: {}", server.log());
    }
    server.stop();
    outcome
}

/// Part 4 in the window: while `corp` waits for a sign-in its row says so and until
/// when its credentials last, with "Sign in again"; a click there opens the login
/// window (the row's own click still stops it, so that is not it). Closing that window
/// leaves the session active on its old key, and the notice says so; "Sign in again"
/// in the details pane then opens it again, the person signs in, and the session is
/// renewed (a new key), its badge gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part4_the_rows_sign_in_again_button_renews_it_and_closing_that_window_keeps_it_active_until_expiry()
-> TestResult {
    let (world, idp, app) = renewing_app("saml-renew").await?;
    app.run(async |app: &Desktop| {
        let first = start_corp(app, &world, &idp).await?;
        idp.forget_sessions()?;
        let badge = ".row[data-session='corp'] [data-sign-in-needed='corp']";
        app.wait_for_within(badge, Duration::from_secs(90)).await?;
        let text = app.text(badge).await?;
        assert!(text.contains("sign-in needed"), "{text}");
        assert!(text.contains("lasts until"), "{text}");
        app.screenshot("sign-in-needed").await?;
        active_on(&world, &first);
        let decisions = idp.sts_decisions().len();

        // The row's "Sign in again", then the window closed: nothing changes.
        let forms = idp.served()?.iter().filter(|s| *s == "GET /login").count();
        app.click("[data-sign-in-again='corp']").await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        served(&idp, "GET /login", forms + 1).await?;
        let told = close_to_cancel(app, &window).await?;
        assert!(told.contains("'corp' stays active"), "{told}");
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        active_on(&world, &first);
        assert_eq!(idp.sts_decisions().len(), decisions);
        app.wait_for(badge).await?;

        // Again, from the details pane: signed in, renewed, the badge gone.
        let forms = idp.served()?.iter().filter(|s| *s == "GET /login").count();
        app.click("aside[data-details='corp'] button[name='sign-in-again']")
            .await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        renew_at_the_keyboard(app, &idp, &window, forms).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        new_key(app, &world, &first).await?;
        app.wait_gone(badge).await?;
        app.wait_for(&Desktop::row("corp", Some("active"))).await?;
        assert_eq!(corp_state(&world).0, "active");
        Ok(())
    })
    .await
}

/// A command the test started; killed and reaped if the test ends before it does.
pub(crate) struct Running(pub(crate) std::process::Child);

impl Running {
    /// Waits for it, at most [`UI_TIMEOUT`] more; its exit status and output.
    pub(crate) async fn finished(&mut self) -> TestResult<std::process::Output> {
        use std::io::Read;
        let deadline = Instant::now() + UI_TIMEOUT;
        let status = loop {
            if let Some(status) = self.0.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                return Err("the command still runs".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let Some(out) = self.0.stdout.as_mut() {
            out.read_to_end(&mut stdout)?;
        }
        if let Some(err) = self.0.stderr.as_mut() {
            err.read_to_end(&mut stderr)?;
        }
        Ok(std::process::Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Part 3 in the window: a federated integration is added in its dialog (a missing
/// provider URL and a duration out of range refused beside their fields, nothing
/// added); "Sign in and choose roles" opens the login window on the provider, the
/// person signs in there, and the main window offers every role the response grants
/// (never the response: only a one-time handle); the filter narrows them, two are
/// picked and added as sessions; one starts with a click and the AWS CLI acts as it.
/// No response is in any file under the home or in the main window's page source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part3_the_dialog_adds_a_federated_integration_and_picks_two_of_its_roles() -> TestResult {
    let (world, idp) = provider_world();
    idp.offer_roles(&["Admin", "ReadOnly", "Deployer", "Auditor"])?;
    let app = launch_on("saml-role-picker", &world, &idp, &[]).await?;
    app.run(async |app: &Desktop| {
        let form = r#"form[aria-label="Add a federated integration"]"#;
        app.click(r#"button[name="saml-integrations"]"#).await?;
        app.fill(&format!("{form} input[name=\"name\"]"), "corp")
            .await?;
        app.fill(&format!("{form} input[name=\"region\"]"), "us-east-1")
            .await?;
        app.fill(
            &format!("{form} input[name=\"profile_template\"]"),
            "corp-{role_name}",
        )
        .await?;
        app.fill(&format!("{form} input[name=\"duration\"]"), "60")
            .await?;
        // No provider URL: refused beside its field, nothing sent.
        app.click(r#"button[name="save-saml-integration"]"#).await?;
        app.wait_for(r#"[data-error-field="idp_url"]"#).await?;
        // A duration out of range: the engine's refusal, beside its field.
        app.fill(&format!("{form} input[name=\"idp_url\"]"), &idp.idp_url())
            .await?;
        app.click(r#"button[name="save-saml-integration"]"#).await?;
        app.wait_for(r#"[data-error-field="duration"]"#).await?;
        let listed = world.rolehop(&["saml", "list", "--json"]).ok().stdout;
        assert!(!listed.contains("corp"), "a refused add added: {listed}");
        app.fill(&format!("{form} input[name=\"duration\"]"), "3600")
            .await?;
        app.click(r#"button[name="save-saml-integration"]"#).await?;
        app.wait_for(r#"li[data-saml-integration="corp"]"#).await?;

        // Sign in at the provider in the login window.
        app.click(r#"li[data-saml-integration="corp"] button[name="saml-sign-in"]"#)
            .await?;
        let window = app.wait_window_named(LOGIN_WINDOW).await?;
        sign_in_at_the_keyboard(app, &idp, &window).await?;
        app.wait_window_gone(LOGIN_WINDOW).await?;
        app.wait_for("[data-role-picker]").await?;
        let offered = app.all("[data-offer]").await?.len();
        assert_eq!(offered, 4, "every granted role is offered");
        app.screenshot("role-picker").await?;

        // Type to filter, tick one, filter again, tick another.
        let tick = |role: &str| format!("li[data-offer=\"{}\"] input", role_arn(role));
        app.fill(r#"input[name="role-filter"]"#, "read").await?;
        app.wait_gone(&format!("li[data-offer=\"{}\"]", role_arn("Admin")))
            .await?;
        assert_eq!(app.all("[data-offer]").await?.len(), 1);
        app.click(&tick("ReadOnly")).await?;
        app.fill(r#"input[name="role-filter"]"#, "adm").await?;
        app.wait_for(&tick("Admin")).await?;
        app.click(&tick("Admin")).await?;
        app.click(r#"button[name="add-selected"]"#).await?;
        app.wait_text("[data-sync-report]", |t| t.contains("Added 2"))
            .await?;
        app.wait_gone("[data-role-picker]").await?;
        app.click(r#"button[name="close"]"#).await?;

        // The two sessions, and only those; one starts with a click (the provider's
        // cookie is kept, so its login window closes by itself).
        app.wait_for(&Desktop::row("corp-Admin", Some("inactive")))
            .await?;
        app.wait_for(&Desktop::row("corp-ReadOnly", Some("inactive")))
            .await?;
        let mut rows = app.row_names().await?;
        rows.sort();
        assert_eq!(rows, ["corp-Admin", "corp-ReadOnly"]);
        app.click(&Desktop::row("corp-ReadOnly", Some("inactive")))
            .await?;
        app.wait_for(&Desktop::row("corp-ReadOnly", Some("active")))
            .await?;
        assert_eq!(
            world.caller_arn("corp-ReadOnly").unwrap(),
            assumed("123456789012", "ReadOnly", "alice@example.test")
        );

        // Nothing of a response in the main window or in any file under the home.
        let issued = idp.issued();
        assert_eq!(issued.len(), 2, "{issued:?}");
        no_response_kept(app, &world, &issued).await?;
        Ok(())
    })
    .await
}
