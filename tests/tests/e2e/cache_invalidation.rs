//! Every cached copy of a session's credentials is dropped, whichever path ends or
//! invalidates them (`crates/core/src/engine/forget.rs`): stop, `sso logout`,
//! `session rotate-keys`, new keys given through `session edit`, removal, and a sync
//! (IAM Identity Center or Organizations) that removes sessions. Each test starts what
//! it needs so the copies exist (the kernel keyring's is checked with `keyctl`, the
//! keychain's with `secret-tool`), takes the path, then asks `rolehop
//! credential-process`, as an AWS tool would: it must refuse, or ask AWS again (moto's
//! recorder shows the calls), never answer from a stale copy. Real peers: moto, a
//! private gnome-keyring, the IAM Identity Center stand-in, the CLI binary.
//!
//! Every test's kernel keys are under its own workspace (a hash of its Rolehop home in
//! the description), so the suites running in parallel in one user keyring never meet.

use std::process::Command;

use crate::cli::{DEPLOY_ROLE, Run, World};
use rolehop_core::testing::KernelCache;
use rolehop_e2e::{SsoAccount, SsoPortal};

/// `keyctl ARGS`: standard output when it succeeded, `None` when it said no.
fn keyctl(args: &[&str]) -> Option<String> {
    let out = Command::new("keyctl")
        .args(args)
        .output()
        .expect("keyctl runs (Debian: apt-get install keyutils)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether the kernel keyring holds a copy for the session with id `id`.
fn kernel_copy(world: &World, id: &str) -> bool {
    let home = world.peers.home();
    let description = KernelCache::new(home.keychain_service(), &home.rolehop_home())
        .description(id.parse().unwrap())
        .expect("the kernel cache is on");
    keyctl(&["search", "@u", "user", &description]).is_some()
}

/// Whether the keychain holds cached credentials for the session with id `id`.
fn keychain_copy(world: &World, id: &str) -> bool {
    let service = world.peers.home().keychain_service();
    let account = format!("cached-credentials:{id}");
    world
        .peers
        .secret_service()
        .lookup(service, &account)
        .expect("secret-tool")
        .is_some()
}

/// Asserts that neither the kernel keyring nor the keychain holds a copy of the
/// credentials of the sessions `ids` after `path`.
#[track_caller]
fn no_copy_left(world: &World, ids: &[String], path: &str) {
    for id in ids {
        assert!(!kernel_copy(world, id), "a kernel copy survived {path}");
        assert!(!keychain_copy(world, id), "a cached copy survived {path}");
    }
}

fn credential_process(world: &World, session: &str) -> Run {
    world.rolehop(&["credential-process", session])
}

/// A refusal as the AWS CLI sees it: exit `code`, one line saying why, and no
/// credentials on standard output.
#[track_caller]
fn refuses(run: Run, code: i32) -> Run {
    assert!(run.stdout.is_empty(), "credentials answered: {run:?}");
    run.fails_with(code)
}

/// The actions moto's recorder saw (`GetSessionToken`, `AssumeRole`...), each with the
/// access key id its signature named.
fn sts_calls(world: &World) -> Vec<(String, String)> {
    let calls = world.peers.moto().recorded_calls().expect("recording");
    calls
        .iter()
        .filter_map(|c| {
            let action = c.get("Action")?;
            let signer = c.get("@signed-by").cloned().unwrap_or_default();
            Some((action.clone(), signer))
        })
        .collect()
}

/// The seed's story with `production` (alice → codebuild → production) started.
fn story_started(session: &str) -> World {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", session, "--mfa-code", "123456"])
        .ok();
    world
}

/// carol (no MFA, her moto keys) on profile `carol` and role `ops` chained from her,
/// `ops` started: carol's session token and ops' credentials are cached, ops' also in
/// the kernel keyring.
fn carol_and_ops_started(world: &World) -> rolehop_e2e::IamUser {
    let moto = world.peers.moto();
    let carol = moto.create_user("carol").expect("user");
    world.add_iam_user_keys(&carol, "carol");
    let role = moto.create_role("OpsRole", &carol.arn).expect("role");
    world.add_role("ops", "carol", &role);
    world.rolehop(&["session", "start", "ops"]).ok();
    let (carol_id, ops_id) = (world.session_id("carol"), world.session_id("ops"));
    assert!(kernel_copy(world, &ops_id), "ops' kernel copy");
    assert!(keychain_copy(world, &ops_id), "ops' cached credentials");
    assert!(
        keychain_copy(world, &carol_id),
        "carol's cached session token"
    );
    carol
}

/// After new keys for carol, `credential-process ops` asks STS again: a session token
/// signed with `new_key`, then the role; and no copy of ops' from before is answered.
#[track_caller]
fn ops_asks_sts_again_with(world: &World, new_key: &str, before: &serde_json::Value) {
    no_copy_left(world, &[world.session_id("ops")], "the new keys");
    world.peers.moto().start_recording().expect("recording");
    let answer = credential_process(world, "ops").ok().json();
    assert_ne!(answer["AccessKeyId"], before["AccessKeyId"], "a stale copy");
    let calls = sts_calls(world);
    let token = calls
        .iter()
        .find(|(action, _)| action == "GetSessionToken")
        .unwrap_or_else(|| panic!("no GetSessionToken in {calls:?}"));
    assert_eq!(token.1, new_key, "signed with the new key: {calls:?}");
    assert!(
        calls.iter().any(|(action, _)| action == "AssumeRole"),
        "{calls:?}"
    );
}

/// Stop: the stopped role's kernel copy and cached credentials go, so a
/// `credential-process` of it asks AWS again (AssumeRole signed with its parent's cached
/// credentials: no MFA prompt) instead of answering the credentials the stop withdrew.
#[test]
fn stop_drops_a_roles_copies_and_credential_process_assumes_it_again() {
    let world = story_started("production");
    let production = world.session_id("production");
    let before = credential_process(&world, "production").ok().json();
    assert!(kernel_copy(&world, &production));
    assert!(keychain_copy(&world, &production));

    world.rolehop(&["session", "stop", "production"]).ok();
    no_copy_left(&world, std::slice::from_ref(&production), "the stop");

    world.peers.moto().start_recording().expect("recording");
    let after = credential_process(&world, "production").ok().json();
    assert_ne!(after["AccessKeyId"], before["AccessKeyId"], "a stale copy");
    let calls = sts_calls(&world);
    let actions: Vec<&str> = calls.iter().map(|(a, _)| a.as_str()).collect();
    // codebuild's cached credentials sign it; alice's token is not asked for again.
    assert_eq!(actions, ["AssumeRole"], "{calls:?}");
    let recorded = world.peers.moto().recorded_calls().unwrap();
    let assumed = recorded.iter().find_map(|c| c.get("RoleArn"));
    assert_eq!(
        assumed.map(String::as_str),
        Some(DEPLOY_ROLE),
        "{recorded:?}"
    );
    // Stopped, it is not copied back to the kernel keyring.
    assert!(!kernel_copy(&world, &production));
}

/// Stop of an MFA user: its kernel copy goes, but its cached session token stays, as
/// the MFA cache of the chains below it: they start without a second prompt until it
/// expires (there is no terminal here, so a prompt would fail them).
#[test]
fn stop_of_an_mfa_user_keeps_its_session_token_for_the_chains_below_it() {
    let world = story_started("alice");
    let alice = world.session_id("alice");
    assert!(kernel_copy(&world, &alice));

    world.rolehop(&["session", "stop", "alice"]).ok();
    assert!(!kernel_copy(&world, &alice), "the kernel copy survived");
    assert!(keychain_copy(&world, &alice), "the session token went");

    world.peers.moto().start_recording().expect("recording");
    credential_process(&world, "production").ok();
    let calls = sts_calls(&world);
    assert!(
        calls.iter().all(|(action, _)| action != "GetSessionToken"),
        "{calls:?}"
    );
}

/// A world whose `rolehop` reaches the IAM Identity Center stand-in, logged in to
/// integration `acme` (through a browser that approves), with `accounts` synced.
fn logged_in_and_synced(accounts: &[SsoAccount]) -> (World, SsoPortal, tempfile::TempDir) {
    let (world, portal) = World::with_sso_portal();
    portal.seed(accounts).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let browser = portal.approving_browser(dir.path()).unwrap();
    world
        .rolehop_with(
            &["sso", "login", "acme", "--use-device-code"],
            &[("BROWSER", browser.to_str().unwrap())],
            None,
        )
        .ok();
    world.rolehop(&["sso", "sync", "acme"]).ok();
    (world, portal, dir)
}

/// `sso logout`: the integration's SSO roles and every role chained below them stop
/// (their keys leave the credentials file) and every copy of their credentials goes
/// with the portal token, so `credential-process` of either refuses with exit 12,
/// naming the login, rather than answer from the kernel keyring or the keychain.
#[test]
fn logout_leaves_no_copy_answering_for_an_sso_role_or_a_role_chained_below_it() {
    let (world, _portal, _browser) =
        logged_in_and_synced(&[SsoAccount::new("555555555555", "tools", &["Admin"])]);
    world.add_role(
        "deeper",
        "tools-Admin",
        "arn:aws:iam::555555555555:role/Deeper",
    );
    world.rolehop(&["session", "start", "tools-Admin"]).ok();
    world.rolehop(&["session", "start", "deeper"]).ok();
    let ids = [world.session_id("tools-Admin"), world.session_id("deeper")];
    for id in &ids {
        assert!(kernel_copy(&world, id) && keychain_copy(&world, id), "{id}");
    }

    world.rolehop(&["sso", "logout", "acme"]).ok();

    no_copy_left(&world, &ids, "the logout");
    for name in ["tools-Admin", "deeper"] {
        let refused = refuses(credential_process(&world, name), 12);
        assert!(
            refused.stderr.contains("rolehop sso login acme"),
            "{refused:?}"
        );
        assert_eq!(world.state_of(name), "inactive");
    }
    let credentials = world
        .peers
        .home()
        .read_aws_credentials()
        .unwrap_or_default();
    assert!(!credentials.contains("[tools-Admin]"), "{credentials}");
    assert!(!credentials.contains("[deeper]"), "{credentials}");
}

/// `session rotate-keys`: the user's cached token and every copy of the sessions
/// chained below it go (role credentials assumed through the old key stay valid at AWS,
/// but nothing the person had answers after a rotation): `credential-process` of the
/// active role asks STS again, through the new key.
#[test]
fn rotate_keys_drops_every_copy_below_the_user_and_credential_process_uses_the_new_key() {
    let world = World::start();
    let carol = carol_and_ops_started(&world);
    let before = credential_process(&world, "ops").ok().json();

    world.rolehop(&["session", "rotate-keys", "carol"]).ok();

    let stored = world
        .peers
        .secret_service()
        .lookup(
            world.peers.home().keychain_service(),
            &format!("access-keys:{}", world.session_id("carol")),
        )
        .unwrap()
        .expect("carol's keys");
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let new_key = stored["access_key_id"].as_str().unwrap();
    assert_ne!(new_key, carol.access_key_id);
    ops_asks_sts_again_with(&world, new_key, &before);
}

/// New keys given through `session edit iam-user --new-keys`: the same as a rotation,
/// for the whole chain below the user.
#[test]
fn new_keys_given_by_edit_drop_every_copy_below_the_user() {
    let world = World::start();
    carol_and_ops_started(&world);
    let before = credential_process(&world, "ops").ok().json();
    let made = rolehop_e2e::aws_cli(
        [
            "iam",
            "create-access-key",
            "--user-name",
            "carol",
            "--output",
            "json",
        ],
        world.peers.moto().admin_env(),
    )
    .expect("aws runs");
    assert!(made.status.success(), "{made:?}");
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let key = made["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let secret = made["AccessKey"]["SecretAccessKey"].as_str().unwrap();

    world
        .rolehop_with(
            &["session", "edit", "iam-user", "carol", "--new-keys"],
            &[],
            Some(&format!("{key}\n{secret}\n")),
        )
        .ok();

    assert!(!keychain_copy(&world, &world.session_id("carol")));
    ops_asks_sts_again_with(&world, key, &before);
}

/// Removal (with the sessions chained below): every copy of each removed session goes
/// with it, and `credential-process` refuses it as an unknown session (exit 4).
#[test]
fn removal_drops_every_copy_of_the_removed_sessions() {
    let world = story_started("production");
    let ids = [
        world.session_id("codebuild"),
        world.session_id("production"),
    ];
    for id in &ids {
        assert!(keychain_copy(&world, id), "{id}");
    }
    assert!(kernel_copy(&world, &ids[1]));

    world
        .rolehop(&["session", "remove", "codebuild", "--cascade"])
        .ok();

    no_copy_left(&world, &ids, "the removal");
    for name in ["codebuild", "production"] {
        refuses(credential_process(&world, name), 4);
    }
}

/// An IAM Identity Center sync that removes a session (its assignment is gone): its
/// cached credentials (left by `credential-process`, which caches for inactive sessions
/// too; a sync never removes a live one) go with it.
#[test]
fn an_sso_sync_that_removes_a_session_drops_its_cached_credentials() {
    let (world, portal, _browser) = logged_in_and_synced(&[
        SsoAccount::new("555555555555", "tools", &["Admin"]),
        SsoAccount::new("666666666666", "data", &["Admin"]),
    ]);
    let gone = world.session_id("data-Admin");
    credential_process(&world, "data-Admin").ok();
    assert!(keychain_copy(&world, &gone));

    portal.remove_account("666666666666").unwrap();
    world.rolehop(&["sso", "sync", "acme"]).ok();

    no_copy_left(&world, std::slice::from_ref(&gone), "the sync");
    refuses(credential_process(&world, "data-Admin"), 4);
    credential_process(&world, "tools-Admin").ok();
}

/// An Organizations sync that removes a session (its account left): the same.
#[test]
fn an_org_sync_that_removes_a_session_drops_its_cached_credentials() {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    let made = rolehop_e2e::python(
        r#"
import json, boto3
org = boto3.client("organizations")
org.create_organization(FeatureSet="ALL")
ids = [org.create_account(Email=f"m{i}@example.com", AccountName=f"Member {i}")
       ["CreateAccountStatus"]["AccountId"] for i in range(2)]
print(json.dumps(ids))
"#,
        world.peers.moto().admin_env(),
    )
    .expect("python runs");
    assert!(made.status.success(), "{made:?}");
    let members: Vec<String> = serde_json::from_slice(&made.stdout).unwrap();
    let sync = [
        "org",
        "sync",
        "--via",
        "mgmt",
        "--role-name",
        "OrganizationAccountAccessRole",
    ];
    world.rolehop(&sync).ok();
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let name_of = |account: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["account_id"] == account && s["name"] != "mgmt")
            .and_then(|s| s["name"].as_str())
            .unwrap_or_else(|| panic!("no session for {account} in {list}"))
            .to_owned()
    };
    let (leaving, staying) = (name_of(&members[0]), name_of(&members[1]));
    let gone = world.session_id(&leaving);
    credential_process(&world, &leaving).ok();
    assert!(keychain_copy(&world, &gone));

    let left = rolehop_e2e::python(
        &format!(
            "import boto3\nboto3.client('organizations').remove_account_from_organization(AccountId='{}')",
            members[0]
        ),
        world.peers.moto().admin_env(),
    )
    .expect("python runs");
    assert!(left.status.success(), "{left:?}");
    let report = world.rolehop(&sync).ok().stdout;
    assert!(report.contains("removed 1"), "{report}");

    no_copy_left(&world, std::slice::from_ref(&gone), "the sync");
    refuses(credential_process(&world, &leaving), 4);
    credential_process(&world, &staying).ok();
}
