//! `rolehop session rotate-keys` and `session keys` against moto's IAM and STS, with the
//! keychain read from outside with `secret-tool`. moto's auth is on wherever a test
//! relies on a deleted key being refused and on an IAM user's own policy being applied.

use crate::cli::World;
use rolehop_e2e::IamUser;

/// The access key ids IAM lists for `user`, asked as moto's administrator.
fn iam_keys(world: &World, user: &str) -> Vec<String> {
    let out = rolehop_e2e::aws_cli(
        [
            "iam",
            "list-access-keys",
            "--user-name",
            user,
            "--output",
            "json",
        ],
        world.peers.moto().admin_env(),
    )
    .expect("aws runs");
    assert!(out.status.success(), "{out:?}");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    listed["AccessKeyMetadata"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["AccessKeyId"].as_str().expect("id").to_owned())
        .collect()
}

/// A second key for `user`, made behind Rolehop's back (as in the console).
fn create_key_outside(world: &World, user: &str) -> String {
    let out = rolehop_e2e::aws_cli(
        [
            "iam",
            "create-access-key",
            "--user-name",
            user,
            "--output",
            "json",
        ],
        world.peers.moto().admin_env(),
    )
    .expect("aws runs");
    assert!(out.status.success(), "{out:?}");
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    made["AccessKey"]["AccessKeyId"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The stored keys of session `name`, as `secret-tool` reads them.
fn keychain_keys(world: &World, name: &str) -> serde_json::Value {
    let home = world.peers.home();
    let account = format!("access-keys:{}", world.session_id(name));
    let secret = world
        .peers
        .secret_service()
        .lookup(home.keychain_service(), &account)
        .expect("secret-tool")
        .unwrap_or_else(|| panic!("no {account} in the keychain"));
    serde_json::from_str(&secret).expect("keys JSON")
}

/// Everything Rolehop keeps in the keychain, secrets included.
fn whole_keychain(world: &World) -> String {
    let home = world.peers.home();
    world
        .peers
        .secret_service()
        .search_all(home.keychain_service())
        .expect("secret-tool")
}

/// carol (no MFA, keys from moto) on profile `carol`, and role `ops` chained from her.
fn carol_and_ops(world: &World, policy: Option<&str>) -> IamUser {
    let moto = world.peers.moto();
    let carol = match policy {
        Some(policy) => moto.create_user_with_policy("carol", policy).expect("user"),
        None => moto.create_user("carol").expect("user"),
    };
    world.add_iam_user_keys(&carol, "carol");
    let role = moto.create_role("OpsRole", &carol.arn).expect("role");
    world.add_role("ops", "carol", &role);
    carol
}

#[test]
fn rotation_leaves_one_new_key_in_iam_only_its_secret_in_the_keychain_and_chains_start_with_it() {
    let world = World::start();
    let carol = carol_and_ops(&world, None);
    // Cached credentials made with the old key, for the user and the role chained from it.
    world.rolehop(&["session", "start", "ops"]).ok();

    let run = world.rolehop(&["session", "rotate-keys", "carol"]).ok();

    let keys = iam_keys(&world, "carol");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let new_key = &keys[0];
    assert_ne!(new_key, &carol.access_key_id);
    assert!(run.stdout.contains(new_key.as_str()), "{run:?}");
    assert!(run.stdout.contains(&carol.access_key_id), "{run:?}");
    let stored = keychain_keys(&world, "carol");
    assert_eq!(stored["access_key_id"], new_key.as_str());
    let everything = whole_keychain(&world);
    assert!(
        !everything.contains(&carol.secret_access_key),
        "the old secret is still in the keychain"
    );
    assert!(!everything.contains(&carol.access_key_id), "{everything}");
    // The cached session token and the role's credentials came from the old key.
    for name in ["carol", "ops"] {
        let cache = format!("cached-credentials:{}", world.session_id(name));
        assert!(!everything.contains(&cache), "{cache} kept: {everything}");
    }
    assert!(run.stdout.contains("carol, ops"), "{run:?}");

    // The caches are gone, so a chain that starts now asks STS for a new session token,
    // signed with the new key. (moto's auth stays off: with it on, moto refuses a role
    // assumed with a session token.)
    world.peers.moto().start_recording().expect("recording");
    world.rolehop(&["session", "start", "ops"]).ok();
    let calls = world.peers.moto().recorded_calls().expect("recording");
    let token = calls
        .iter()
        .find(|c| c.get("Action").map(String::as_str) == Some("GetSessionToken"))
        .unwrap_or_else(|| panic!("no GetSessionToken in {calls:?}"));
    assert_eq!(token["@signed-by"], *new_key);
    assert!(
        world
            .caller_arn("ops")
            .expect("the AWS CLI acts as the role")
            .contains("OpsRole"),
    );
}

#[test]
fn a_user_with_two_keys_is_refused_naming_the_other_key_and_nothing_changes() {
    let world = World::start();
    let carol = carol_and_ops(&world, None);
    let other = create_key_outside(&world, "carol");
    let keychain_before = whole_keychain(&world);

    let refused = world
        .rolehop(&["session", "rotate-keys", "carol"])
        .fails_with(6);

    for part in [
        "two",
        "LimitExceeded",
        "nothing changed",
        &other,
        &carol.access_key_id,
    ] {
        assert!(refused.stderr.contains(part), "{part} not in {refused:?}");
    }
    let mut keys = iam_keys(&world, "carol");
    keys.sort();
    let mut expected = vec![carol.access_key_id.clone(), other];
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(whole_keychain(&world), keychain_before);
}

#[test]
fn iam_refusing_a_new_key_changes_nothing_and_says_why() {
    let world = World::start();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}"#;
    let carol = carol_and_ops(&world, Some(policy));
    world.peers.moto().enable_auth().expect("auth on");
    let keychain_before = whole_keychain(&world);

    let refused = world
        .rolehop(&["session", "rotate-keys", "carol"])
        .fails_with(6);

    for part in ["CreateAccessKey", "carol", "nothing changed"] {
        assert!(refused.stderr.contains(part), "{part} not in {refused:?}");
    }
    assert_eq!(iam_keys(&world, "carol"), [carol.access_key_id]);
    assert_eq!(whole_keychain(&world), keychain_before);
}

#[test]
fn a_refused_delete_of_the_old_key_keeps_the_new_one_stored_and_names_the_old_one() {
    let world = World::start();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:DeleteAccessKey","Resource":"*"}]}"#;
    let carol = carol_and_ops(&world, Some(policy));
    world.peers.moto().enable_auth().expect("auth on");

    let refused = world
        .rolehop(&["session", "rotate-keys", "carol"])
        .fails_with(6);

    let keys = iam_keys(&world, "carol");
    assert_eq!(keys.len(), 2, "{keys:?}");
    let new_key = keys
        .iter()
        .find(|k| **k != carol.access_key_id)
        .expect("a new key");
    assert_eq!(
        keychain_keys(&world, "carol")["access_key_id"],
        new_key.as_str()
    );
    let delete_by_hand = format!(
        "aws iam delete-access-key --user-name carol --access-key-id {}",
        carol.access_key_id
    );
    assert!(refused.stderr.contains(&delete_by_hand), "{refused:?}");
    assert!(
        refused.stderr.contains(&format!(
            "the new access key {new_key} of user 'carol' is in the keychain and works, but \
             IAM refused to delete the old key {}",
            carol.access_key_id
        )),
        "{refused:?}"
    );
    // The stored key is the working one: the chain starts from it (moto with auth on
    // refuses a role assumed with a session token, so the user's own hop is started).
    world.rolehop(&["session", "start", "carol"]).ok();
}

#[test]
fn an_mfa_user_rotates_with_a_code_and_its_token_is_asked_for_again_afterwards() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "start", "codebuild", "--mfa-code", "123456"])
        .ok();
    world
        .rolehop(&["session", "rotate-keys", "alice", "--mfa-code", "123456"])
        .ok();
    let keys = iam_keys(&world, "alice");
    assert_eq!(keys.len(), 1);
    assert_ne!(keys[0], story.alice.access_key_id);
    assert_eq!(
        keychain_keys(&world, "alice")["access_key_id"],
        keys[0].as_str()
    );
    // The cached MFA session token was made with the old key: a new start needs a code.
    let again = world
        .rolehop(&["session", "start", "codebuild"])
        .fails_with(7);
    let needs_code = format!(
        "rolehop: session 'codebuild' failed: via 'alice': 'alice' needs a code from MFA \
         device {} and there is no terminal to ask on; pass --mfa-code CODE",
        story.mfa_serial
    );
    assert!(again.stderr.starts_with(&needs_code), "{again:?}");
    assert!(
        again.stderr.trim_end().ends_with("(MfaRequired)"),
        "{again:?}"
    );
}

#[test]
fn keys_shows_the_age_and_which_key_is_in_the_keychain() {
    let world = World::start();
    let carol = carol_and_ops(&world, None);
    let other = create_key_outside(&world, "carol");
    let report = world
        .rolehop(&["session", "keys", "carol", "--json"])
        .ok()
        .json();
    assert_eq!(report["user_name"], "carol");
    assert_eq!(report["age_days"], 0);
    assert_eq!(report["stale"], false);
    let keys = report["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    for key in keys {
        let held = key["access_key_id"] == carol.access_key_id.as_str();
        assert_eq!(key["in_keychain"], held, "{report}");
        assert!(held || key["access_key_id"] == other.as_str());
    }
    let list = world.rolehop(&["session", "list", "--key-age"]).ok();
    assert!(
        list.stdout.contains("key age  carol: 0 days old"),
        "{list:?}"
    );
}

#[test]
fn rotate_keys_refuses_a_role_and_an_unknown_session_by_name() {
    let world = World::start();
    let carol = carol_and_ops(&world, None);
    let keychain_before = whole_keychain(&world);
    let role = world
        .rolehop(&["session", "rotate-keys", "ops"])
        .fails_with(3);
    assert!(role.stderr.contains("'ops' is a role"), "{role:?}");
    assert!(role.stderr.contains("'carol'"), "{role:?}");
    let unknown = world
        .rolehop(&["session", "rotate-keys", "nobody"])
        .fails_with(4);
    assert!(
        unknown
            .stderr
            .starts_with("rolehop: no session named or with id 'nobody'"),
        "{unknown:?}"
    );
    assert_eq!(iam_keys(&world, "carol"), [carol.access_key_id]);
    assert_eq!(whole_keychain(&world), keychain_before);
}
