//! `rolehop import aws-config` on a realistic pair of AWS files (tests/fixtures/cli):
//! what it imports and skips and why, that the user's files are left as they were,
//! that a second run changes nothing, and that the imported chain works.

use std::fs;

use crate::cli::{self, PRODUCTION, World, assumed};
use rolehop_e2e::venv_bin;

const CONFIG: &str = include_str!("../../fixtures/cli/aws-config");
const CREDENTIALS: &str = include_str!("../../fixtures/cli/aws-credentials");

/// The fixture files, with moto's user's keys and MFA device in them: (config,
/// credentials, access key id, secret access key).
fn write_fixtures(world: &World) -> (String, String, String, String) {
    let moto = world.peers.moto();
    let alice = moto.create_user("alice").unwrap();
    let serial = moto.create_mfa_device("alice").unwrap();
    let config = CONFIG.replace("arn:aws:iam::123456789012:mfa/alice", &serial);
    let credentials = CREDENTIALS
        .replace("ACCESS_KEY_ID", &alice.access_key_id)
        .replace("SECRET_ACCESS_KEY", &alice.secret_access_key);
    let home = world.peers.home();
    home.write_aws_config(&config).unwrap();
    home.write_aws_credentials(&credentials).unwrap();
    (
        config,
        credentials,
        alice.access_key_id,
        alice.secret_access_key,
    )
}

fn workspace_file(world: &World) -> Option<Vec<u8>> {
    fs::read(world.peers.home().rolehop_home().join("workspace.json")).ok()
}

/// `profile -> (outcome, detail)` from the JSON report.
fn outcomes(run: &cli::Run) -> Vec<(String, String, String)> {
    run.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["profile"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn outcome_of<'a>(all: &'a [(String, String, String)], profile: &str) -> (&'a str, &'a str) {
    all.iter()
        .find(|(p, _, _)| p == profile)
        .map(|(_, o, d)| (o.as_str(), d.as_str()))
        .unwrap_or_else(|| panic!("{profile} not reported: {all:?}"))
}

#[test]
fn import_says_what_it_imported_and_skipped_and_why() {
    let world = World::start();
    write_fixtures(&world);

    let run = world.rolehop(&["import", "aws-config", "--json"]).ok();
    let all = outcomes(&run);
    let (outcome, why) = outcome_of(&all, "staging");
    assert_eq!(outcome, "skipped");
    assert!(why.contains("--import-keys"), "{why}");
    assert!(
        outcome_of(&all, "production")
            .1
            .contains("source profile 'codebuild'")
    );
    // The sso-session profile becomes an SSO role of integration `corp`, made from its
    // [sso-session corp] section.
    let (outcome, what) = outcome_of(&all, "dev");
    assert_eq!(outcome, "imported", "{what}");
    assert!(
        what.contains("SSO role Developer in account 444444444444 through integration 'corp'"),
        "{what}"
    );
    let integrations = world.rolehop(&["sso", "list", "--json"]).ok().json();
    assert_eq!(integrations[0]["name"], "corp", "{integrations}");
    assert_eq!(
        integrations[0]["start_url"],
        "https://corp.awsapps.com/start"
    );
    assert_eq!(integrations[0]["region"], "eu-west-1");
    let sessions = world.rolehop(&["session", "list", "--json"]).ok().json();
    let dev = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dev")
        .unwrap_or_else(|| panic!("{sessions}"));
    assert_eq!(dev["kind"]["type"], "sso-role");
    assert_eq!(dev["kind"]["role_name"], "Developer");
    assert_eq!(dev["integration"], "corp");

    let run = world
        .rolehop(&["import", "aws-config", "--import-keys", "--json"])
        .ok();
    let all = outcomes(&run);
    for profile in ["staging", "codebuild", "production", "sandbox"] {
        assert_eq!(outcome_of(&all, profile).0, "imported", "{all:?}");
    }
    assert_eq!(outcome_of(&all, "dev").0, "unchanged", "{all:?}");
    for (profile, reason) in [
        ("default", "no credentials"),
        ("ci", "credential_source"),
        ("legacy", "'gone' is not in the AWS files"),
        ("vault", "credential_process"),
        ("old-temp", "temporary"),
    ] {
        let (outcome, why) = outcome_of(&all, profile);
        assert_eq!(outcome, "skipped", "{profile}");
        assert!(why.contains(reason), "{profile}: {why}");
    }

    let text = world
        .rolehop(&["import", "aws-config", "--import-keys"])
        .ok()
        .stdout;
    assert!(
        text.contains("0 imported, 5 unchanged, 5 skipped"),
        "{text}"
    );
}

#[test]
fn import_leaves_the_users_files_as_they_were_and_a_second_run_changes_nothing() {
    let world = World::start();
    let (config, credentials, _, secret) = write_fixtures(&world);

    world
        .rolehop(&["import", "aws-config", "--import-keys", "--dry-run"])
        .ok();
    assert_eq!(
        workspace_file(&world).map(|w| w.len()),
        None,
        "dry run wrote"
    );

    world
        .rolehop(&["import", "aws-config", "--import-keys"])
        .ok();
    let home = world.peers.home();
    assert_eq!(home.read_aws_config().unwrap(), config);
    assert_eq!(home.read_aws_credentials().unwrap(), credentials);
    let keychain = world
        .peers
        .secret_service()
        .search_all(home.keychain_service())
        .unwrap();
    assert!(keychain.contains("access-keys:"), "{keychain}");
    let workspace = workspace_file(&world).expect("workspace written");
    assert!(!String::from_utf8_lossy(&workspace).contains(&secret));

    let again = world
        .rolehop(&["import", "aws-config", "--import-keys", "--json"])
        .ok();
    for (profile, outcome, _) in outcomes(&again) {
        assert_ne!(outcome, "imported", "{profile} imported twice");
    }
    assert_eq!(
        workspace_file(&world).unwrap(),
        workspace,
        "workspace changed"
    );
    assert_eq!(home.read_aws_config().unwrap(), config);
    assert_eq!(home.read_aws_credentials().unwrap(), credentials);
}

#[test]
fn the_imported_chain_assumes_resource_deploy_car_with_the_configured_names() {
    let world = World::start();
    write_fixtures(&world);
    world
        .rolehop(&["import", "aws-config", "--import-keys"])
        .ok();
    let aws = venv_bin("aws");
    let identity = world
        .rolehop(&[
            "exec",
            "production",
            "--mfa-code",
            "123456",
            "--",
            aws.to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .ok()
        .json();
    // role_session_name from the config file, region from it too.
    assert_eq!(
        identity["Arn"],
        assumed(PRODUCTION, "ResourceDeployCAR", "alice-deploy")
    );
    let list = world
        .rolehop(&["session", "list", "--json", "--filter", "production"])
        .ok()
        .json();
    assert_eq!(list[0]["effective_region"], "eu-west-1");
    assert_eq!(list[0]["kind"]["external_id"], "deploy-2024");
    assert_eq!(
        list[0]["chain"],
        serde_json::json!(["staging", "codebuild", "production"])
    );
}

#[test]
fn remove_keys_takes_only_the_key_lines_out_of_the_credentials_file() {
    let world = World::start();
    let (config, credentials, id, secret) = write_fixtures(&world);
    let run = world.rolehop(&["import", "aws-config", "--remove-keys"]);
    assert_eq!(
        run.code,
        Some(2),
        "--remove-keys alone is a usage error: {run:?}"
    );
    assert!(run.stderr.contains("--import-keys"), "{run:?}");

    world
        .rolehop(&["import", "aws-config", "--import-keys", "--remove-keys"])
        .ok();
    let home = world.peers.home();
    let expected = credentials
        .replace(&format!("aws_access_key_id = {id}\n"), "")
        .replace(&format!("aws_secret_access_key = {secret}\n"), "");
    assert_ne!(expected, credentials);
    assert_eq!(home.read_aws_credentials().unwrap(), expected);
    assert_eq!(home.read_aws_config().unwrap(), config);

    // The keys now live in the keychain only, and still work.
    world
        .rolehop(&["session", "start", "staging", "--mfa-code", "123456"])
        .ok();
}

#[test]
fn the_imported_profile_is_refused_then_taken_over_and_the_aws_cli_answers_as_resource_deploy_car()
{
    let world = World::start();
    let (config, credentials, _, _) = write_fixtures(&world);
    world
        .rolehop(&["import", "aws-config", "--import-keys"])
        .ok();
    let home = world.peers.home();

    // The user's [profile production] assumes the role itself (with MFA): the AWS CLI
    // would use that, not the keys Rolehop writes. Refused, saying so.
    let refused = world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .fails_with(5);
    let config_path = home.aws_config_file().display().to_string();
    assert!(
        refused.stderr.contains(&format!(
            "profile 'production' in {config_path} sets role_arn, source_profile:"
        )) && refused.stderr.contains("--take-over"),
        "{refused:?}"
    );
    assert_eq!(home.read_aws_config().unwrap(), config);
    assert_eq!(home.read_aws_credentials().unwrap(), credentials);

    world
        .rolehop(&[
            "session",
            "start",
            "production",
            "--take-over",
            "--mfa-code",
            "123456",
        ])
        .ok();
    assert_eq!(
        world.caller_arn("production").unwrap(),
        assumed(PRODUCTION, "ResourceDeployCAR", "alice-deploy")
    );

    world.rolehop(&["session", "stop", "production"]).ok();
    assert_eq!(home.read_aws_config().unwrap(), config);
    assert_eq!(home.read_aws_credentials().unwrap(), credentials);
}
