//! Keeping the workspace in shape from the command line: editing sessions, renaming and
//! removing profiles, removing sessions with their secrets, and the settings.

use crate::cli::{self, World};

fn session(world: &World, name: &str) -> serde_json::Value {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    list.as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn sessions_can_be_edited_and_an_empty_value_clears_a_field() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "production",
            "--region",
            "us-west-2",
            "--external-id",
            "x-42",
        ])
        .ok();
    let production = session(&world, "production");
    assert_eq!(production["region"], "us-west-2");
    assert_eq!(production["kind"]["external_id"], "x-42");
    assert_eq!(production["kind"]["role_arn"], cli::DEPLOY_ROLE, "kept");

    world
        .rolehop(&["session", "edit", "role", "production", "--external-id", ""])
        .ok();
    assert!(session(&world, "production")["kind"]["external_id"].is_null());

    // A rotated key pair (another moto user's: any pair moto issued will do).
    let rotated = world.peers.moto().create_user("alice-rotated").unwrap();
    assert_ne!(rotated.access_key_id, story.alice.access_key_id);
    let keys = format!("{}\n{}\n", rotated.access_key_id, rotated.secret_access_key);
    world
        .rolehop_with(
            &[
                "session",
                "edit",
                "iam-user",
                "alice",
                "--mfa-serial",
                "",
                "--new-keys",
            ],
            &[],
            Some(&keys),
        )
        .ok();
    assert!(session(&world, "alice")["kind"]["mfa_serial"].is_null());
    // Without an MFA device, no code is needed any more; and the new keys sign.
    world.peers.moto().start_recording().unwrap();
    world.rolehop(&["session", "start", "production"]).ok();
    let calls = world.peers.moto().recorded_calls().unwrap();
    let token_call = calls
        .iter()
        .find(|c| c.get("Action").map(String::as_str) == Some("GetSessionToken"))
        .unwrap_or_else(|| panic!("no GetSessionToken: {calls:?}"));
    assert_eq!(
        token_call.get("@signed-by"),
        Some(&rotated.access_key_id),
        "{token_call:?}"
    );
    assert!(!token_call.contains_key("SerialNumber"), "{token_call:?}");

    world
        .rolehop(&["session", "edit", "iam-user", "production"])
        .fails_with(3);
}

#[test]
fn profiles_are_renamed_and_removed_and_removing_a_chain_takes_its_secrets() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["profile", "rename", "codebuild", "build"])
        .ok();
    assert_eq!(session(&world, "codebuild")["profile"], "build");
    let profiles = world.rolehop(&["profile", "list"]).ok().stdout;
    assert!(profiles.lines().any(|l| l == "build"), "{profiles}");
    assert!(!profiles.lines().any(|l| l == "codebuild"), "{profiles}");

    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    world
        .rolehop(&["profile", "rename", "production", "prod"])
        .fails_with(5);

    let removed = world
        .rolehop(&["session", "remove", "alice", "--cascade"])
        .ok()
        .stdout;
    for name in ["alice", "codebuild", "production"] {
        assert!(removed.contains(&format!("removed '{name}'")), "{removed}");
    }
    let credentials = world
        .peers
        .home()
        .read_aws_credentials()
        .unwrap_or_default();
    assert!(!credentials.contains("[production]"), "{credentials}");
    let keychain = world
        .peers
        .secret_service()
        .search_all(world.peers.home().keychain_service())
        .unwrap_or_default();
    assert!(!keychain.contains("access-keys:"), "{keychain}");
    assert!(!keychain.contains("cached-credentials:"), "{keychain}");

    world.rolehop(&["profile", "remove", "production"]).ok();
    world
        .rolehop(&["profile", "remove", "production"])
        .fails_with(4);
}

#[test]
fn settings_are_shown_set_and_unset() {
    let world = World::start_without_peers();
    let shown = world.rolehop(&["settings", "show"]).ok().stdout;
    assert!(
        shown.contains("delivery-mode    credentials-file"),
        "{shown}"
    );
    world
        .rolehop(&["settings", "set", "default-region", "eu-west-3"])
        .ok();
    world
        .rolehop(&["settings", "set", "rotation-margin", "600"])
        .ok();
    let json = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert_eq!(json["default_region"], "eu-west-3");
    assert_eq!(json["rotation_margin_seconds"], 600);
    world
        .rolehop(&["settings", "set", "rotation-margin", "5"])
        .fails_with(3);
    world
        .rolehop(&["settings", "set", "default-region", "mars-1"])
        .fails_with(3);
    world.rolehop(&["settings", "unset", "default-region"]).ok();
    let json = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert!(json["default_region"].is_null());
    assert_eq!(json["mfa_sessions_in_kernel_keyring"], true);
    world
        .rolehop(&["settings", "set", "mfa-sessions-in-kernel-keyring", "off"])
        .ok();
    let json = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert_eq!(json["mfa_sessions_in_kernel_keyring"], false);
}

/// A workspace written by round 1 (failure codes as plain strings) is read and listed with
/// the same codes, and the next write stores them in the typed shape without losing any.
#[test]
fn a_round_one_workspace_keeps_its_failure_codes() {
    let world = World::start_without_peers();
    let dir = world.peers.home().rolehop_home();
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("workspace.json");
    std::fs::write(
        &file,
        include_str!("../../fixtures/workspace/round1-failed-sessions.json"),
    )
    .unwrap();
    let listed = |world: &World| {
        let table = world.rolehop(&["session", "list"]).ok().stdout;
        for shown in [
            "failed: MfaCancelled",
            "failed: AccessDenied",
            "failed: ProfileOwnedByUser",
        ] {
            assert!(table.contains(shown), "{shown}: {table}");
        }
        assert_eq!(
            session(world, "production")["state"]["code"],
            serde_json::json!({ "type": "Aws", "code": "AccessDenied" })
        );
    };
    listed(&world);

    world.rolehop(&["profile", "add", "staging"]).ok();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let alice = stored["sessions"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == "alice"))
        .unwrap_or_else(|| panic!("no alice in {stored}"));
    assert_eq!(
        alice["state"]["code"],
        serde_json::json!({ "type": "MfaCancelled" })
    );
    listed(&world);
}
