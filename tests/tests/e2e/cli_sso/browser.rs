//! The browser login (the authorization code grant with PKCE, `sso login`'s default)
//! end to end: the real `rolehop` opens the stand-in's `/authorize` through a `BROWSER`
//! script that plays the person's browser ([`PkceBrowser`]), the stand-in redirects to
//! Rolehop's listener on 127.0.0.1, and Rolehop redeems the code with its verifier.
//! The stand-in refuses what IAM Identity Center refuses: an `/authorize` for a client
//! not registered for `authorization_code` or for another redirect URI, a code redeemed
//! twice, with another verifier or another redirect URI.

use std::path::Path;

use super::{counts, log_in, sync_counts};
use crate::cli::{Run, World};
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{PkceBrowser, SsoAccount, SsoOperation, SsoPortal};

/// `rolehop sso login NAME [extra]` with `BROWSER` set to `browser`.
fn browser_login(world: &World, name: &str, browser: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["sso", "login", name];
    args.extend_from_slice(extra);
    world.rolehop_with(&args, &[("BROWSER", browser.to_str().unwrap())], None)
}

/// What a failed login must leave: no token in the keychain, the integration still
/// logged out, the workspace file byte for byte as it was.
fn assert_nothing_stored(world: &World, workspace_before: &[u8]) {
    let service = world.peers.home().keychain_service();
    let left = world.peers.secret_service().search_all(service).unwrap();
    assert!(!left.contains("sso-token:"), "a token was stored: {left}");
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-out", "{list}");
    assert_eq!(workspace(world), workspace_before, "the workspace changed");
}

pub(crate) fn workspace(world: &World) -> Vec<u8> {
    let dir = world.peers.home().rolehop_home();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("workspace"))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect()
}

fn opened(browser: &Path) -> String {
    std::fs::read_to_string(format!("{}.log", browser.display())).unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn pkce_login_is_the_default_then_sync_and_start_and_the_device_flow_still_works() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new("666666666666", "web", &["Admin"])])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let browser = portal
        .pkce_browser(dir.path(), PkceBrowser::Follow)
        .unwrap();
    let port = free_port();
    let port_arg = port.to_string();
    let run = browser_login(&world, "acme", &browser, &["--redirect-port", &port_arg]).ok();
    assert!(run.stdout.contains("logged in to 'acme'"), "{run:?}");

    // The browser was sent to the portal's /authorize with everything the AWS CLI
    // sends: the code grant, the client, Rolehop's listener, a state and an S256
    // challenge, the integration's scopes.
    let url = opened(&browser);
    let prefix = format!(
        "{}/authorize?response_type=code&client_id=",
        portal.endpoint()
    );
    assert!(url.starts_with(&prefix), "{url}");
    let redirect = format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Foauth%2Fcallback");
    for part in [
        redirect.as_str(),
        "&state=",
        "&code_challenge_method=S256",
        "&code_challenge=",
        "&scopes=sso%3Aaccount%3Aaccess",
    ] {
        assert!(url.contains(part), "{part} missing from {url}");
    }
    assert!(run.stdout.contains(url.trim()), "{run:?}");
    // The code is a secret of the login: never printed.
    let callback = std::fs::read_to_string(dir.path().join("callbacks.log")).unwrap();
    let code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert!(
        !run.stdout.contains(code) && !run.stderr.contains(code),
        "{run:?}"
    );
    let calls = portal.calls().unwrap();
    assert_eq!(
        calls.of(SsoOperation::StartDeviceAuthorization),
        0,
        "{calls:?}"
    );

    // Registered for authorization_code and refresh_token: the portal gave a refresh
    // token, which keeps the login going.
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");
    assert_eq!(list[0]["login"]["refreshable"], true, "{list}");
    let sync_and_start = |expected| {
        assert_eq!(sync_counts(&world), expected);
        world.rolehop(&["session", "start", "web-Admin"]).ok();
        assert_eq!(
            world.caller_arn("web-Admin").unwrap(),
            SsoPortal::assumed_role_arn("666666666666", "Admin", "alice")
        );
        world.rolehop(&["session", "stop", "web-Admin"]).ok();
        world.rolehop(&["sso", "logout", "acme"]).ok();
    };
    let registrations_made_by = |login: &dyn Fn()| {
        let before = portal.calls().unwrap().of(SsoOperation::RegisterClient);
        login();
        portal.calls().unwrap().of(SsoOperation::RegisterClient) - before
    };
    sync_and_start(counts(1, 0, 0, 0));

    // The device flow, on request, with its own registration: the stand-in refuses the
    // device code grant to a client registered for the code grant, so reusing the
    // browser login's registration would fail here.
    assert_eq!(registrations_made_by(&|| drop(log_in(&world, &portal))), 1);
    sync_and_start(counts(0, 0, 0, 1));

    // And back to the browser: its registration is reused, not the device flow's.
    let browser_again = || drop(browser_login(&world, "acme", &browser, &[]).ok());
    assert_eq!(registrations_made_by(&browser_again), 0);
}

#[test]
fn imported_sso_registration_scopes_are_registered_and_asked_for_in_the_browser() {
    let (world, portal) = World::with_sso_portal();
    let config = format!(
        "[sso-session stand]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
         sso_registration_scopes = sso:account:access, codewhisperer:completions\n\n\
         [profile shared-admin]\nsso_session = stand\nsso_account_id = 333333333333\n\
         sso_role_name = Admin\n"
    );
    world.peers.home().write_aws_config(&config).unwrap();
    world.rolehop(&["import", "aws-config"]).ok();
    let dir = tempfile::tempdir().unwrap();
    let browser = portal
        .pkce_browser(dir.path(), PkceBrowser::Follow)
        .unwrap();
    browser_login(&world, "stand", &browser, &[]).ok();
    let url = opened(&browser);
    assert!(
        url.contains("&scopes=sso%3Aaccount%3Aaccess+codewhisperer%3Acompletions"),
        "{url}"
    );
}

/// `rolehop sso login acme` through a `mode` browser (in `dir`), with `env`: it must
/// fail (exit 6) saying `why` after the integration's name, store nothing, and print
/// no code the browser was given.
fn refused_login(
    world: &World,
    portal: &SsoPortal,
    dir: &Path,
    mode: PkceBrowser,
    env: &[(&str, &str)],
    why: &str,
) -> Run {
    let before = workspace(world);
    let browser = portal.pkce_browser(dir, mode).unwrap();
    let mut env = env.to_vec();
    env.push(("BROWSER", browser.to_str().unwrap()));
    let refused = world
        .rolehop_with(&["sso", "login", "acme"], &env, None)
        .fails_with(6);
    let expected = format!("rolehop: IAM Identity Center integration 'acme': {why}");
    assert!(refused.stderr.starts_with(&expected), "{refused:?}");
    assert!(opened(&browser).contains("/authorize?"));
    let callbacks = std::fs::read_to_string(dir.join("callbacks.log")).unwrap_or_default();
    for code in callbacks.split("code=").skip(1) {
        let code = code.split('&').next().unwrap();
        assert!(!refused.stderr.contains(code), "{refused:?}");
    }
    assert_nothing_stored(world, &before);
    refused
}

#[test]
fn a_wrong_state_is_refused_and_nothing_is_stored() {
    let (world, portal) = World::with_sso_portal();
    let dir = tempfile::tempdir().unwrap();
    let why = "the browser came back with a state that is not this login's";
    refused_login(
        &world,
        &portal,
        dir.path(),
        PkceBrowser::WrongState,
        &[],
        why,
    );
    // The code was never offered to the portal.
    let calls = portal.calls().unwrap();
    assert_eq!(calls.of(SsoOperation::CreateToken), 0, "{calls:?}");
}

#[test]
fn a_replayed_code_is_refused_by_the_portal_and_nothing_is_stored() {
    let (world, portal) = World::with_sso_portal();
    let dir = tempfile::tempdir().unwrap();
    let follow = portal
        .pkce_browser(dir.path(), PkceBrowser::Follow)
        .unwrap();
    browser_login(&world, "acme", &follow, &[]).ok();
    world.rolehop(&["sso", "logout", "acme"]).ok();
    // The next login's browser brings back the first login's code, spent already.
    let why = "the portal refused the authorization code: InvalidGrantException";
    refused_login(&world, &portal, dir.path(), PkceBrowser::Replay, &[], why);
}

#[test]
fn a_sign_in_denied_in_the_browser_is_refused_and_nothing_is_stored() {
    let (world, portal) = World::with_sso_portal();
    portal.deny_authorizations(true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let why = "the sign-in was refused in the browser (access_denied: The user denied the \
               request)";
    refused_login(&world, &portal, dir.path(), PkceBrowser::Follow, &[], why);
    let calls = portal.calls().unwrap();
    assert_eq!(calls.of(SsoOperation::CreateToken), 0, "{calls:?}");
}

#[test]
fn a_browser_closed_before_the_redirect_times_out_and_nothing_is_stored() {
    let (world, portal) = World::with_sso_portal();
    let dir = tempfile::tempdir().unwrap();
    let env = [("ROLEHOP_SSO_LOGIN_TIMEOUT_SECS", "2")];
    let why = "the browser did not come back within 2 s";
    refused_login(&world, &portal, dir.path(), PkceBrowser::Closed, &env, why);
}

/// `--export-token`: the token lands in the AWS CLI's own cache, under the AWS CLI's
/// name for an `sso_session` (the SHA-1 of its name), 0600, with the AWS CLI's fields
/// and no refresh token; the real AWS CLI, given only a profile naming that
/// `sso_session`, reads it and acts as the role; logout deletes it.
#[test]
fn export_token_writes_the_aws_clis_cache_which_the_aws_cli_reads_and_logout_deletes_it() {
    use std::os::unix::fs::PermissionsExt;

    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new("888888888888", "ide", &["Admin"])])
        .unwrap();
    world
        .peers
        .home()
        .write_aws_config(&format!(
            "[sso-session acme]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\n\
             [profile ide]\nsso_session = acme\nsso_account_id = 888888888888\n\
             sso_role_name = Admin\nregion = us-east-1\n"
        ))
        .unwrap();
    // Without the flag, nothing is exported.
    let dir = tempfile::tempdir().unwrap();
    let browser = portal
        .pkce_browser(dir.path(), PkceBrowser::Follow)
        .unwrap();
    let home = world.peers.home().root().join("home");
    let cache = home.join(".aws/sso/cache");
    browser_login(&world, "acme", &browser, &[]).ok();
    assert!(!cache.exists(), "exported unasked");
    let unexported = world.caller_arn("ide").unwrap_err();
    assert!(unexported.stderr.contains("acme"), "{unexported:?}");

    let run = browser_login(&world, "acme", &browser, &["--export-token"]).ok();
    // hashlib.sha1(b"acme").hexdigest(), botocore's SSOTokenLoader key for the session.
    let file = cache.join("293abb6b76d7791c0732cc517d38c4b5c734b87f.json");
    assert!(
        run.stdout
            .contains(&format!("exported the token to {}", file.display())),
        "{run:?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "rolehop: warning: {} holds a bearer token",
            file.display()
        )),
        "{run:?}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let mut fields: Vec<&str> = exported
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["accessToken", "expiresAt", "region", "startUrl"]);
    assert_eq!(exported["startUrl"], START_URL);
    assert_eq!(exported["region"], "eu-west-1");
    assert!(
        chrono::NaiveDateTime::parse_from_str(
            exported["expiresAt"].as_str().unwrap(),
            "%Y-%m-%dT%H:%M:%SZ"
        )
        .is_ok(),
        "{exported}"
    );

    // The real AWS CLI: the cached token -> GetRoleCredentials -> moto's STS.
    let before = portal.calls().unwrap().of(SsoOperation::GetRoleCredentials);
    assert_eq!(
        world.caller_arn("ide").unwrap(),
        SsoPortal::assumed_role_arn("888888888888", "Admin", "alice")
    );
    let calls = portal.calls().unwrap();
    assert_eq!(
        calls.of(SsoOperation::GetRoleCredentials),
        before + 1,
        "{calls:?}"
    );

    world.rolehop(&["sso", "logout", "acme"]).ok();
    assert!(!file.exists(), "the exported token outlived the logout");
}

/// A refresh by Rolehop rewrites the copy it exported (the old token in it would soon
/// be refused), and logout then deletes the refreshed copy.
#[test]
fn export_token_copy_follows_rolehops_refreshes_until_logout() {
    let (world, portal) = World::with_sso_portal();
    // Tokens that live 3 s: each use refreshes them first.
    portal
        .configure(&rolehop_e2e::SsoPortalConfig {
            access_token_ttl: Some(std::time::Duration::from_secs(3)),
            ..Default::default()
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let browser = portal
        .pkce_browser(dir.path(), PkceBrowser::Follow)
        .unwrap();
    browser_login(&world, "acme", &browser, &["--export-token"]).ok();
    let file = world
        .peers
        .home()
        .root()
        .join("home/.aws/sso/cache/293abb6b76d7791c0732cc517d38c4b5c734b87f.json");
    let token = || {
        let exported: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        exported["accessToken"].as_str().unwrap().to_owned()
    };
    let first = token();
    world.rolehop(&["sso", "sync", "acme"]).ok();
    assert_ne!(token(), first, "the exported token was not refreshed");
    world.rolehop(&["sso", "logout", "acme"]).ok();
    assert!(!file.exists(), "the refreshed copy outlived the logout");
}
