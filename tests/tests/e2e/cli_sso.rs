//! IAM Identity Center through the `rolehop` CLI, end to end against real peers: the
//! SSO/OIDC stand-in (`tests/peers/sso_portal.py`, proven by boto3's own clients),
//! moto's STS behind it, a private gnome-keyring and the real AWS CLI.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cli::{Run, World};

pub(crate) mod browser;
use rolehop_e2e::sso_portal::START_URL;
use rolehop_e2e::{SsoAccount, SsoOperation, SsoPortal, SsoPortalConfig};

/// Waits (polling) until `done` holds; panics naming `what` after a minute. Not a timed
/// assertion: the minute only keeps a broken peer from hanging the suite.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `rolehop sso login acme --use-device-code --no-browser`, approved through the stand-in once the CLI
/// has polled and been told "pending" at least once.
pub(crate) fn log_in(world: &World, portal: &SsoPortal) -> Run {
    log_in_to(world, portal, "acme")
}

fn log_in_to(world: &World, portal: &SsoPortal, integration: &str) -> Run {
    let before = portal.calls().unwrap().of(SsoOperation::CreateToken);
    let mut child = world.spawn(
        &[
            "sso",
            "login",
            integration,
            "--use-device-code",
            "--no-browser",
        ],
        &[],
    );
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = String::new();
    let code = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no user code in: {printed}"))
            .unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(code) = line.strip_prefix("user code: ") {
            break code.to_owned();
        }
    };
    assert!(printed.contains("verification URL: http"), "{printed}");
    assert!(portal.pending_user_codes().unwrap().contains(&code));
    wait_until("the CLI's first CreateToken poll", || {
        portal.calls().unwrap().of(SsoOperation::CreateToken) > before
    });
    portal.approve(&code).unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    printed.push_str(&rest.join("\n"));
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
    }
    let status = child.wait().unwrap();
    Run {
        code: status.code(),
        stdout: printed,
        stderr,
    }
    .ok()
}

pub(crate) fn sync_counts(world: &World) -> serde_json::Value {
    world
        .rolehop(&["sso", "sync", "acme", "--json"])
        .ok()
        .json()["counts"]
        .clone()
}

pub(crate) fn counts(added: u64, updated: u64, removed: u64, kept: u64) -> serde_json::Value {
    serde_json::json!({ "added": added, "updated": updated, "removed": removed, "kept": kept })
}

fn all_files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn log_in_once_sync_300_accounts_and_use_one_role_then_chain_from_it() {
    let (world, portal) = World::with_sso_portal();
    let accounts = portal.seed_generated(300, &["Admin", "ReadOnly"]).unwrap();
    let first = &accounts[0];
    let second = &accounts[1];
    let vanishing = &accounts[2];

    // Bad input names its field and changes nothing.
    let refused = world
        .rolehop(&[
            "sso",
            "add",
            "--name",
            "other",
            "--start-url",
            "http://d-1.awsapps.com/start",
            "--region",
            "eu-west-1",
        ])
        .fails_with(3);
    assert!(
        refused.stderr.starts_with("rolehop: start_url: "),
        "{refused:?}"
    );
    let refused = world
        .rolehop(&[
            "sso",
            "add",
            "--name",
            "other",
            "--start-url",
            START_URL,
            "--region",
            "eu-west-9",
        ])
        .fails_with(3);
    assert!(
        refused.stderr.starts_with("rolehop: region: "),
        "{refused:?}"
    );
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["login"]["status"], "logged-out");

    // Before a login, a sync says to log in.
    let before = world.rolehop(&["sso", "sync", "acme"]).fails_with(6);
    assert!(
        before.stderr.contains("rolehop sso login acme"),
        "{before:?}"
    );

    let login = log_in(&world, &portal);
    assert!(login.stdout.contains("logged in to 'acme'"), "{login:?}");
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");
    assert_eq!(list[0]["login"]["refreshable"], true, "{list}");

    // Sync: 600 sessions, one ListAccountRoles per account.
    portal.reset_calls().unwrap();
    assert_eq!(sync_counts(&world), counts(600, 0, 0, 0));
    let calls = portal.calls().unwrap();
    assert_eq!(calls.list_account_roles_by_account.len(), 300);
    assert!(
        calls
            .list_account_roles_by_account
            .values()
            .all(|n| *n == 1),
        "{calls:?}"
    );
    let admin = format!("{}-Admin", first.account_name);
    let table = world
        .rolehop(&["session", "list", "--filter", &first.account_name])
        .ok()
        .stdout;
    assert!(
        table.contains(&admin) && table.contains("acme: Admin"),
        "{table}"
    );
    let by_role = world
        .rolehop(&["session", "list", "--json", "--filter", "readonly"])
        .ok()
        .json();
    assert_eq!(by_role.as_array().unwrap().len(), 300);

    // Start one: the AWS CLI acts as that role in that account.
    world.rolehop(&["session", "start", &admin]).ok();
    assert_eq!(
        world.caller_arn(&admin).unwrap(),
        SsoPortal::assumed_role_arn(&first.account_id, "Admin", "alice")
    );

    // A role chained from it, and one chained from that.
    let deploy_arn = format!("arn:aws:iam::{}:role/Deploy", second.account_id);
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "deploy",
            "--parent",
            &admin,
            "--role-arn",
            &deploy_arn,
            "--profile",
            "deploy",
        ])
        .ok();
    let audit_arn = format!("arn:aws:iam::{}:role/Audit", vanishing.account_id);
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "audit",
            "--parent",
            "deploy",
            "--role-arn",
            &audit_arn,
            "--profile",
            "audit",
        ])
        .ok();
    world.rolehop(&["session", "start", "audit"]).ok();
    assert_eq!(
        world.caller_arn("audit").unwrap(),
        format!(
            "arn:aws:sts::{}:assumed-role/Audit/rolehop-audit",
            vanishing.account_id
        )
    );

    // Tokens: in the keychain (secret-tool finds them), in no file under the home.
    let integration = world.rolehop(&["sso", "list", "--json"]).ok().json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = world.peers.home().keychain_service();
    let stored = world
        .peers
        .secret_service()
        .lookup(service, &format!("sso-token:{integration}"))
        .unwrap()
        .expect("the portal token is in the keychain");
    let token: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let client = world
        .peers
        .secret_service()
        .lookup(service, &format!("sso-client:{integration}"))
        .unwrap()
        .expect("the client registration is in the keychain");
    let client: serde_json::Value = serde_json::from_str(&client).unwrap();
    let secrets = [
        token["access_token"].as_str().unwrap(),
        token["refresh_token"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    ];
    let files = all_files_under(world.peers.home().root());
    assert!(
        files.iter().any(|(p, _)| p.ends_with("workspace.json")),
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for (path, bytes) in &files {
        for secret in secrets {
            assert!(!contains(bytes, secret), "a portal secret is in {path}");
        }
    }

    // Re-sync changes nothing, not even the workspace file's bytes.
    let workspace = world.peers.home().rolehop_home().join("workspace.json");
    let bytes = std::fs::read(&workspace).unwrap();
    assert_eq!(sync_counts(&world), counts(0, 0, 0, 600));
    assert_eq!(std::fs::read(&workspace).unwrap(), bytes);

    // A vanished account's sessions go; an active one or a parent would stay.
    portal.remove_account(&vanishing.account_id).unwrap();
    portal.remove_account(&first.account_id).unwrap();
    let report = world.rolehop(&["sso", "sync", "acme"]).ok().stdout;
    assert!(
        report.starts_with("added 0, updated 0, removed 3, kept 597"),
        "{report}"
    );
    assert!(
        report.contains(&format!("kept '{admin}'")),
        "the active parent stays, reported: {report}"
    );
    let names = world.rolehop(&["session", "list", "--json"]).ok().json();
    let names: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&format!("{}-Admin", vanishing.account_name).as_str()));
    assert!(names.contains(&admin.as_str()) && names.contains(&"audit"));

    // Logout: the portal forgets the token, the keychain drops it, and a start says to
    // log in.
    world.rolehop(&["sso", "logout", "acme"]).ok();
    assert_eq!(portal.live_tokens().unwrap(), (0, 0));
    assert_eq!(
        world
            .peers
            .secret_service()
            .lookup(service, &format!("sso-token:{integration}"))
            .unwrap(),
        None
    );
    let second_admin = format!("{}-Admin", second.account_name);
    let refused = world
        .rolehop(&["session", "start", &second_admin])
        .fails_with(12);
    assert!(
        refused.stderr.contains("rolehop sso login acme"),
        "{refused:?}"
    );
    assert_eq!(world.state_of(&second_admin), "failed");
}

#[test]
fn a_denied_role_a_revoked_token_and_a_throttled_portal_fail_that_session_only() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[
            SsoAccount::new(
                "111111111111",
                "payments",
                &["Admin", "ReadOnly", "Billing"],
            ),
            SsoAccount::new("222222222222", "sandbox", &["Admin", "ReadOnly"]),
        ])
        .unwrap();
    log_in(&world, &portal);
    assert_eq!(sync_counts(&world), counts(5, 0, 0, 0));
    world.rolehop(&["session", "start", "sandbox-Admin"]).ok();

    // A role the portal denies: that session fails with AWS's words.
    portal.deny_role("111111111111", "Admin").unwrap();
    let denied = world
        .rolehop(&["session", "start", "payments-Admin"])
        .fails_with(6);
    assert!(denied.stderr.contains("ForbiddenException"), "{denied:?}");
    assert_eq!(world.state_of("payments-Admin"), "failed");
    assert_eq!(world.state_of("sandbox-Admin"), "active");

    // A throttled portal: retried with backoff, then that session fails saying so.
    portal
        .throttle(SsoOperation::GetRoleCredentials, 5)
        .unwrap();
    let throttled = world
        .rolehop(&["session", "start", "payments-ReadOnly"])
        .fails_with(6);
    assert!(
        throttled
            .stderr
            .contains("the SSO portal throttled the request after 5 attempts"),
        "{throttled:?}"
    );
    assert_eq!(world.state_of("sandbox-Admin"), "active");
    // The throttling over, it starts.
    world
        .rolehop(&["session", "start", "payments-ReadOnly"])
        .ok();

    // A revoked token: the session fails with the portal's message, the integration
    // reads "log in again", and the active session keeps its credentials.
    world
        .rolehop(&["session", "stop", "payments-ReadOnly"])
        .ok();
    world.rolehop(&["session", "stop", "sandbox-Admin"]).ok();
    world.rolehop(&["session", "start", "sandbox-Admin"]).ok();
    portal.revoke_tokens().unwrap();
    let revoked = world
        .rolehop(&["session", "start", "payments-Billing"])
        .fails_with(6);
    assert!(
        revoked.stderr.contains("UnauthorizedException"),
        "{revoked:?}"
    );
    assert_eq!(world.state_of("sandbox-Admin"), "active");
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "login-again", "{list}");
    let text = world.rolehop(&["sso", "list"]).ok().stdout;
    assert!(text.contains("log in again"), "{text}");

    // Logging in again brings it back.
    log_in(&world, &portal);
    world
        .rolehop(&["session", "start", "payments-Billing"])
        .ok();

    // A token the portal expired before its time: that session fails with its words.
    portal.expire_access_tokens().unwrap();
    let expired = world
        .rolehop(&["session", "start", "sandbox-ReadOnly"])
        .fails_with(6);
    assert!(
        expired.stderr.contains("UnauthorizedException"),
        "{expired:?}"
    );
    assert_eq!(world.state_of("payments-Billing"), "active");
}

#[test]
fn an_imported_sso_session_config_logs_in_and_starts_as_its_role() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new("333333333333", "shared", &["Admin"])])
        .unwrap();
    let config = format!(
        "[sso-session stand]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
         sso_registration_scopes = sso:account:access\n\n[profile shared-admin]\n\
         sso_session = stand\nsso_account_id = 333333333333\nsso_role_name = Admin\n\
         region = us-east-1\n"
    );
    world.peers.home().write_aws_config(&config).unwrap();
    let report = world
        .rolehop(&["import", "aws-config", "--json"])
        .ok()
        .json();
    let entry = &report["entries"][0];
    assert_eq!(entry["kind"], "sso-role", "{report}");
    assert_eq!(entry["outcome"], "imported", "{report}");
    log_in_to(&world, &portal, "stand");
    // The profile's sso_* keys are the user's: the start takes the profile over, and
    // the AWS CLI then uses Rolehop's credentials instead of its own SSO login.
    world
        .rolehop(&["session", "start", "shared-admin", "--take-over"])
        .ok();
    assert_eq!(
        world.caller_arn("shared-admin").unwrap(),
        SsoPortal::assumed_role_arn("333333333333", "Admin", "alice")
    );
    // Credential-process delivery works for SSO roles too.
    world.rolehop(&["session", "stop", "shared-admin"]).ok();
    world
        .rolehop(&["settings", "set", "delivery-mode", "credential-process"])
        .ok();
    world
        .rolehop(&["session", "start", "shared-admin", "--take-over"])
        .ok();
    let config = world.peers.home().read_aws_config().unwrap();
    assert!(config.contains("credential_process"), "{config}");
    assert_eq!(
        world.caller_arn("shared-admin").unwrap(),
        SsoPortal::assumed_role_arn("333333333333", "Admin", "alice")
    );
    let credentials =
        std::fs::read_to_string(world.peers.home().aws_credentials_file()).unwrap_or_default();
    assert!(
        !credentials.contains("aws_session_token"),
        "no key on disk in credential-process mode: {credentials}"
    );
}

#[test]
fn a_token_near_its_end_is_refreshed_unasked_and_a_refused_refresh_asks_for_a_login() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new(
            "444444444444",
            "data",
            &["Admin", "ReadOnly"],
        )])
        .unwrap();
    // Tokens that live 3 s: always inside the refresh window, soon past their end.
    portal
        .configure(&SsoPortalConfig {
            access_token_ttl: Some(Duration::from_secs(3)),
            ..SsoPortalConfig::default()
        })
        .unwrap();
    log_in(&world, &portal);
    let creates = portal.calls().unwrap().of(SsoOperation::CreateToken);
    assert_eq!(sync_counts(&world), counts(2, 0, 0, 0));
    world.rolehop(&["session", "start", "data-Admin"]).ok();
    // Each use refreshed the token with the refresh token: nobody was asked.
    let refreshed = portal.calls().unwrap().of(SsoOperation::CreateToken) - creates;
    assert!(refreshed >= 2, "{refreshed} refreshes");
    assert!(portal.pending_user_codes().unwrap().is_empty());
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");

    // The sign-in session revoked and the token past its end: the refresh is refused,
    // the integration reads "log in again", and a start says to log in.
    portal.revoke_tokens().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = list[0]["login"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    wait_until("the token's end", || chrono::Utc::now() > expires);
    let refused = world
        .rolehop(&["session", "start", "data-ReadOnly"])
        .fails_with(12);
    assert!(refused.stderr.contains("needs a new login"), "{refused:?}");
    assert!(
        refused.stderr.contains("rolehop sso login acme"),
        "{refused:?}"
    );
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "login-again", "{list}");
    assert_eq!(world.state_of("data-Admin"), "active");
}

#[test]
fn login_opens_browser_and_removing_the_integration_takes_its_sessions_and_secrets() {
    let (world, portal) = World::with_sso_portal();
    let dir = tempfile::tempdir().unwrap();
    let browser = portal.approving_browser(dir.path()).unwrap();
    let run = world
        .rolehop_with(
            &["sso", "login", "acme", "--use-device-code"],
            &[("BROWSER", browser.to_str().unwrap())],
            None,
        )
        .ok();
    assert!(run.stdout.contains("logged in to 'acme'"), "{run:?}");
    let opened = std::fs::read_to_string(dir.path().join("approving-browser.log")).unwrap();
    assert!(
        opened.starts_with(&format!("{}/device", portal.endpoint())),
        "{opened}"
    );
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");

    // Removing the integration: refused while a session uses it, then with --cascade
    // it says what it removes, and its secrets leave the keychain.
    portal
        .seed(&[SsoAccount::new("555555555555", "tools", &["Admin"])])
        .unwrap();
    assert_eq!(sync_counts(&world), counts(1, 0, 0, 0));
    world.rolehop(&["session", "start", "tools-Admin"]).ok();
    let refused = world.rolehop(&["sso", "remove", "acme"]).fails_with(5);
    assert!(refused.stderr.contains("'tools-Admin'"), "{refused:?}");
    let removed = world
        .rolehop(&["sso", "remove", "acme", "--cascade"])
        .ok()
        .stdout;
    assert!(
        removed.contains("removed session 'tools-Admin'"),
        "{removed}"
    );
    let service = world.peers.home().keychain_service();
    let left = world.peers.secret_service().search_all(service).unwrap();
    for account in ["sso-token:", "sso-client:", "cached-credentials:"] {
        assert!(!left.contains(account), "{account} left behind: {left}");
    }
    let credentials =
        std::fs::read_to_string(world.peers.home().aws_credentials_file()).unwrap_or_default();
    assert!(!credentials.contains("tools-Admin"), "{credentials}");
}

#[test]
fn a_scope_aws_does_not_know_fails_the_login_with_its_invalid_scope() {
    let (world, portal) = World::with_sso_portal();
    world
        .rolehop(&[
            "sso",
            "add",
            "--name",
            "wide",
            "--start-url",
            START_URL,
            "--region",
            "eu-west-1",
            "--scopes",
            "sso:account:access,sso:everything",
        ])
        .ok();
    let refused = world
        .rolehop(&["sso", "login", "wide", "--no-browser"])
        .fails_with(6);
    // AWS's error type names the refusal. (Rolehop drops the OIDC error's
    // `error_description`, "Invalid scope: sso:everything": the SDK's OIDC errors carry
    // no `message`, and crates/aws reads only that.)
    assert!(
        refused.stderr.starts_with(
            "rolehop: IAM Identity Center integration 'wide': InvalidScopeException: "
        ),
        "{refused:?}"
    );
    let calls = portal.calls().unwrap();
    assert_eq!(calls.of(SsoOperation::RegisterClient), 1, "{calls:?}");
    assert_eq!(
        calls.of(SsoOperation::StartDeviceAuthorization),
        0,
        "{calls:?}"
    );
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    let wide = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "wide")
        .unwrap();
    assert_ne!(wide["login"]["status"], "logged-in", "{list}");
}

#[test]
fn a_login_told_to_slow_down_polls_five_seconds_slower_and_is_not_told_again() {
    let (world, portal) = World::with_sso_portal();
    // The first poll is told slow_down, which lengthens the interval to 6 s at the
    // stand-in; a client that kept its 1 s pace would be told again at every poll until
    // its device code lapsed (30 s here, so such a login fails rather than hangs).
    portal
        .configure(&SsoPortalConfig {
            device_code_ttl: Some(Duration::from_secs(30)),
            ..SsoPortalConfig::default()
        })
        .unwrap();
    portal.throttle(SsoOperation::CreateToken, 1).unwrap();
    log_in(&world, &portal);
    let calls = portal.calls().unwrap();
    assert_eq!(calls.slow_downs, 1, "{calls:?}");
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");
}

#[test]
fn refreshes_that_answer_no_new_refresh_token_keep_the_old_one_working() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new(
            "666666666666",
            "ops",
            &["Admin", "ReadOnly"],
        )])
        .unwrap();
    // Tokens that live 3 s (always inside the refresh window) and refreshes that give
    // no new refresh token: each use refreshes with the one from the login.
    portal
        .configure(&SsoPortalConfig {
            access_token_ttl: Some(Duration::from_secs(3)),
            rotate_refresh_tokens: Some(false),
            ..SsoPortalConfig::default()
        })
        .unwrap();
    log_in(&world, &portal);
    let creates = portal.calls().unwrap().of(SsoOperation::CreateToken);
    assert_eq!(sync_counts(&world), counts(2, 0, 0, 0));
    world.rolehop(&["session", "start", "ops-Admin"]).ok();
    world.rolehop(&["session", "start", "ops-ReadOnly"]).ok();
    let refreshed = portal.calls().unwrap().of(SsoOperation::CreateToken) - creates;
    assert!(refreshed >= 2, "{refreshed} refreshes");
    assert_eq!(
        portal.live_tokens().unwrap().1,
        1,
        "the login's refresh token, still the only one"
    );
    assert!(
        portal.pending_user_codes().unwrap().is_empty(),
        "nobody was asked"
    );
    assert_eq!(
        world.caller_arn("ops-ReadOnly").unwrap(),
        SsoPortal::assumed_role_arn("666666666666", "ReadOnly", "alice")
    );
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-in", "{list}");
}

#[test]
fn a_logout_the_portal_refuses_still_deletes_the_tokens_and_says_so() {
    let (world, portal) = World::with_sso_portal();
    log_in(&world, &portal);
    // The portal ended the token before its time: Logout answers UnauthorizedException.
    portal.expire_access_tokens().unwrap();
    let refused = world.rolehop(&["sso", "logout", "acme"]).fails_with(6);
    assert!(
        refused.stderr.contains(
            "the tokens were deleted, but the portal's Logout failed: UnauthorizedException"
        ),
        "{refused:?}"
    );
    assert_eq!(portal.calls().unwrap().of(SsoOperation::Logout), 1);
    let service = world.peers.home().keychain_service();
    let left = world.peers.secret_service().search_all(service).unwrap();
    assert!(!left.contains("sso-token:"), "token left behind: {left}");
    let list = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(list[0]["login"]["status"], "logged-out", "{list}");
}

#[test]
fn a_sync_pages_each_accounts_roles_with_that_accounts_own_next_tokens() {
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[
            SsoAccount::new("777777777777", "alpha", &["Admin", "ReadOnly", "Billing"]),
            SsoAccount::new("888888888888", "beta", &["Admin", "ReadOnly", "Billing"]),
        ])
        .unwrap();
    // One item a page whatever Rolehop asks: every listing pages, and the stand-in
    // refuses a next token given to another operation or account.
    portal
        .configure(&SsoPortalConfig {
            max_page_size: Some(1),
            ..SsoPortalConfig::default()
        })
        .unwrap();
    log_in(&world, &portal);
    assert_eq!(sync_counts(&world), counts(6, 0, 0, 0));
    let calls = portal.calls().unwrap();
    assert_eq!(calls.of(SsoOperation::ListAccounts), 2, "{calls:?}");
    assert_eq!(
        calls.list_account_roles_by_account,
        [
            ("777777777777".to_owned(), 3),
            ("888888888888".to_owned(), 3)
        ]
        .into()
    );
}
