//! Team catalogs through the built `rolehop`: the format held to its published JSON
//! Schema (part 1), following a catalog in a git repository served by a real
//! `git daemon` on 127.0.0.1, two workspaces playing two teammates (part 2), and
//! `catalog export` (part 5). Sessions start against moto and are read back with the
//! AWS CLI.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rolehop_core::catalog;
use rolehop_e2e::GitServer;
use rolehop_e2e::git_server::Clone;

use crate::cli::{DEPLOY_ROLE, World};

/// The validation exit code (`failure.rs`).
const INVALID: i32 = 3;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/catalog")
}

/// The seed's chain for moto's account: `{me}` -> CodeBuildRole -> ResourceDeployCAR,
/// and whatever `more` adds.
pub(crate) fn seed_catalog(more: &str) -> String {
    format!(
        r#"schema = 1
region = "us-east-1"

[sources.me]
type = "iam-user"
description = "Your own IAM user"

[[roles]]
name = "codebuild"
parent = "{{me}}"
role_arn = "arn:aws:iam::123456789012:role/CodeBuildRole"

[[roles]]
name = "deploy"
parent = "codebuild"
role_arn = "{DEPLOY_ROLE}"
external_id = "platform-deploy"
{more}"#
    )
}

pub(crate) const AUDIT: &str = r#"
[[roles]]
name = "audit"
parent = "codebuild"
role_arn = "arn:aws:iam::210987654321:role/Audit"
"#;

fn workspace_file(world: &World) -> PathBuf {
    world.peers.home().rolehop_home().join("workspace.json")
}

/// The workspace's bytes and modification time, to prove a command wrote nothing.
fn workspace_state(world: &World) -> Option<(Vec<u8>, SystemTime)> {
    let path = workspace_file(world);
    let bytes = std::fs::read(&path).ok()?;
    Some((bytes, std::fs::metadata(&path).ok()?.modified().ok()?))
}

/// A teammate: moto and a keyring of their own, an IAM user `user`.
fn teammate(user: &str) -> World {
    let world = World::start();
    world.add_iam_user(user, user);
    world
}

/// A git server holding a catalog repository with `catalog` pushed by a teammate.
fn repository(catalog: &str) -> (GitServer, String, Clone) {
    let server = GitServer::start().expect("git daemon");
    let url = server.create_repo("catalog.git").unwrap();
    let publisher = Clone::of(&url, &server.scratch("work").join("catalog")).unwrap();
    publisher.publish(catalog).unwrap();
    (server, url, publisher)
}

/// A teammate `user` following the catalog at `url` as `team`, `{me}` bound to them.
fn follower(url: &str, user: &str) -> World {
    let world = teammate(user);
    let bind = format!("me={user}");
    world
        .rolehop(&["catalog", "add", url, "--bind", &bind])
        .ok();
    world
}

fn sync(world: &World) -> serde_json::Value {
    world
        .rolehop(&["catalog", "sync", "team", "--json"])
        .ok()
        .json()
}

fn counts(report: &serde_json::Value) -> [u64; 4] {
    ["added", "updated", "removed", "kept"].map(|k| report["sync"]["counts"][k].as_u64().unwrap())
}

#[test]
fn part1_json_schema_agrees_with_the_parser_on_every_fixture() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/catalog.schema.json");
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures: {files:?}");
    // The venv's jsonschema (the reference implementation) over Python's own TOML reader.
    let script = r#"
import json, os, sys, tomllib, jsonschema
schema = json.load(open(os.environ["SCHEMA"]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
for path in os.environ["FILES"].split("\n"):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    errors = list(v.iter_errors(doc))
    print(os.path.basename(path), "refused" if errors else "accepted")
"#;
    let list = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let out = rolehop_e2e::python(
        script,
        [("SCHEMA", schema.display().to_string()), ("FILES", list)],
    )
    .expect("python runs");
    assert!(out.status.success(), "{out:?}");
    let verdicts = String::from_utf8_lossy(&out.stdout).into_owned();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let parser = catalog::parse(&text);
        let by_schema = verdicts
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no verdict for {name}: {verdicts}"));
        // ok-*: both accept; schema-*: both refuse; parser-*: what only the parser can
        // tell (a cycle, a missing source, a key inside free text), which the schema's
        // description names.
        let (schema_accepts, parser_accepts) = match name.split('-').next().unwrap() {
            "ok" => (true, true),
            "schema" => (false, false),
            "parser" => (true, false),
            other => panic!("fixture {name}: unknown prefix {other}"),
        };
        assert_eq!(
            by_schema == "accepted",
            schema_accepts,
            "{name}: schema {by_schema}"
        );
        assert_eq!(parser.is_ok(), parser_accepts, "{name}: parser {parser:?}");
        if let Err(e) = parser {
            assert!(e.line.is_some(), "{name}: no line in {e}");
        }
    }
}

#[test]
fn part1_hostile_catalog_files_are_refused_naming_line_and_field_and_change_nothing() {
    let world = World::start_without_peers();
    let cases = [
        (
            "schema-secret-key.toml",
            "line 4",
            "sources.me.aws_secret_access_key",
        ),
        ("schema-endpoint.toml", "line 8", "roles[0].endpoint_url"),
        (
            "schema-credential-process.toml",
            "line 8",
            "roles[0].credential_process",
        ),
        ("schema-ini-injection.toml", "line 5", "roles[0].name"),
        ("parser-cycle.toml", "line 6", "roles[0].parent"),
    ];
    for (file, line, field) in cases {
        let before = workspace_state(&world);
        let path = fixtures().join(file);
        let run = world
            .rolehop(&["catalog", "add", path.to_str().unwrap()])
            .fails_with(INVALID);
        assert!(
            run.stderr.contains(line) && run.stderr.contains(field),
            "{file}: {run:#?}"
        );
        assert!(
            !run.stderr.contains("do-not-share"),
            "{file} repeated the secret: {run:#?}"
        );
        assert_eq!(
            workspace_state(&world),
            before,
            "{file} changed the workspace"
        );
    }
    // 10 MB: refused before it is parsed.
    let big = world.peers.home().rolehop_home().with_file_name("big.toml");
    std::fs::write(
        &big,
        format!("{}# {}\n", seed_catalog(""), "x".repeat(10 << 20)),
    )
    .unwrap();
    let before = workspace_state(&world);
    let run = world
        .rolehop(&["catalog", "add", big.to_str().unwrap()])
        .fails_with(INVALID);
    assert!(run.stderr.contains("at most 1 MiB"), "{run:#?}");
    assert_eq!(workspace_state(&world), before);
    assert!(
        world
            .rolehop(&["catalog", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn part2_two_teammates_follow_one_repository_and_a_pushed_change_reaches_both() {
    let (_server, url, publisher) = repository(&seed_catalog(""));

    let alice = teammate("alice");
    let bob = teammate("bob");
    for (world, me) in [(&alice, "alice"), (&bob, "bob")] {
        let bind = format!("me={me}");
        let report = world
            .rolehop(&["catalog", "add", &url, "--bind", &bind, "--json"])
            .ok()
            .json();
        assert_eq!(counts(&report), [2, 0, 0, 0], "{report}");
        assert_eq!(
            world.session_names(),
            [me, "codebuild", "deploy"]
                .map(String::from)
                .to_vec()
                .tap_sort()
        );
    }
    // The chain works: alice -> CodeBuildRole -> ResourceDeployCAR, read back by the AWS CLI.
    alice.rolehop(&["session", "start", "deploy"]).ok();
    let arn = alice
        .caller_arn("deploy")
        .expect("the AWS CLI reads the profile");
    assert!(
        arn.starts_with("arn:aws:sts::210987654321:assumed-role/ResourceDeployCAR/"),
        "{arn}"
    );

    // One teammate pushes a new role; a sync brings it to both.
    publisher.publish(&seed_catalog(AUDIT)).unwrap();
    for world in [&alice, &bob] {
        let report = sync(world);
        assert_eq!(counts(&report), [1, 0, 0, 2], "{report}");
        assert!(world.session_names().contains(&"audit".to_owned()));
    }
    let list = bob.rolehop(&["catalog", "list", "--json"]).ok().json();
    assert_eq!(
        list[0]["bindings"][0],
        serde_json::json!(["me", "bob"]),
        "{list}"
    );
    assert_eq!(list[0]["sessions"], 3);
}

/// Sorting a fixed array in an expression.
trait TapSort {
    fn tap_sort(self) -> Self;
}
impl TapSort for Vec<String> {
    fn tap_sort(mut self) -> Self {
        self.sort();
        self
    }
}

#[test]
fn part2_renames_are_kept_and_a_sync_with_nothing_changed_writes_nothing() {
    let (_server, url, publisher) = repository(&seed_catalog(""));
    let alice = follower(&url, "alice");

    alice
        .rolehop(&[
            "session",
            "edit",
            "role",
            "deploy",
            "--name",
            "my-deploy",
            "--profile",
            "prod",
        ])
        .ok();
    let report = sync(&alice);
    assert_eq!(counts(&report), [0, 0, 0, 2], "{report}");
    let before = workspace_state(&alice).unwrap();
    let report = sync(&alice);
    assert_eq!(counts(&report), [0, 0, 0, 2], "{report}");
    assert_eq!(
        workspace_state(&alice).unwrap(),
        before,
        "a sync with nothing changed wrote"
    );
    // A change from the team still reaches the renamed session, the rename stays.
    publisher
        .publish(&seed_catalog("").replace("platform-deploy", "platform-deploy-2"))
        .unwrap();
    let report = sync(&alice);
    assert_eq!(counts(&report), [0, 1, 0, 1], "{report}");
    let list = alice.rolehop(&["session", "list", "--json"]).ok().json();
    let deploy = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "my-deploy")
        .expect("renamed kept");
    assert_eq!(deploy["profile"], "prod", "{deploy}");
    assert!(deploy.to_string().contains("platform-deploy-2"), "{deploy}");
}

#[test]
fn part2_an_active_session_whose_role_was_removed_is_kept_and_reported() {
    let (_server, url, publisher) = repository(&seed_catalog(AUDIT));
    let alice = follower(&url, "alice");
    alice.rolehop(&["session", "start", "audit"]).ok();

    publisher.publish(&seed_catalog("")).unwrap();
    let run = alice.rolehop(&["catalog", "sync"]).ok();
    assert!(
        run.stdout
            .contains("kept audit: its role left the catalog, but the session is active"),
        "{run:#?}"
    );
    assert_eq!(alice.state_of("audit"), "active");
    alice.rolehop(&["session", "stop", "audit"]).ok();
    let report = sync(&alice);
    assert_eq!(counts(&report)[2], 1, "{report}");
    assert!(!alice.session_names().contains(&"audit".to_owned()));
}

#[test]
fn part2_require_signed_accepts_a_signed_commit_and_refuses_an_unsigned_one() {
    let server = GitServer::start().expect("git daemon");
    let url = server.create_repo("catalog.git").unwrap();
    let mut publisher = Clone::of(&url, &server.scratch("work").join("catalog")).unwrap();
    let signer = publisher.sign_with_new_key().unwrap();
    publisher.publish(&seed_catalog("")).unwrap();

    // The follower's own git trusts the publisher's key (SSH signatures: no agent).
    let trust = server.scratch("trust");
    std::fs::write(trust.join("allowed_signers"), format!("{signer}\n")).unwrap();
    let gitconfig = trust.join("gitconfig");
    std::fs::write(
        &gitconfig,
        format!(
            "[gpg]\n\tformat = ssh\n[gpg \"ssh\"]\n\tallowedSignersFile = {}\n",
            trust.join("allowed_signers").display()
        ),
    )
    .unwrap();
    let alice = teammate("alice").with_env("GIT_CONFIG_GLOBAL", gitconfig.to_str().unwrap());
    let report = alice
        .rolehop(&[
            "catalog",
            "add",
            &url,
            "--require-signed",
            "--bind",
            "me=alice",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(counts(&report), [2, 0, 0, 0], "{report}");

    publisher.stop_signing();
    let unsigned = publisher.publish(&seed_catalog(AUDIT)).unwrap();
    let before = workspace_state(&alice);
    let run = alice
        .rolehop(&["catalog", "sync", "team"])
        .fails_with(INVALID);
    assert!(
        run.stderr.contains("require_signed") && run.stderr.contains(&unsigned[..12]),
        "{run:#?}"
    );
    assert_eq!(
        workspace_state(&alice),
        before,
        "an unsigned commit changed the workspace"
    );
    assert!(!alice.session_names().contains(&"audit".to_owned()));

    // Without --require-signed the same commit is read: the flag is what refused it.
    let bob = teammate("bob");
    bob.rolehop(&["catalog", "add", &url, "--bind", "me=bob"])
        .ok();
    assert!(bob.session_names().contains(&"audit".to_owned()));
}

#[test]
fn part2_a_hostile_commit_is_refused_on_sync_naming_its_line_and_changes_nothing() {
    let (_server, url, publisher) = repository(&seed_catalog(""));
    let alice = follower(&url, "alice");
    let hostile = [
        (
            "aws_secret_access_key = \"do-not-share\"\n",
            "line 18",
            "roles[1].aws_secret_access_key",
        ),
        (
            "endpoint_url = \"https://sts.evil.example\"\n",
            "line 18",
            "roles[1].endpoint_url",
        ),
        (
            "credential_process = \"/bin/sh -c id\"\n",
            "line 18",
            "roles[1].credential_process",
        ),
        (
            "profile = \"x]\\n[default\"\n",
            "line 18",
            "roles[1].profile",
        ),
    ];
    for (line_added, line, field) in hostile {
        publisher.publish(&seed_catalog(line_added)).unwrap();
        let before = workspace_state(&alice);
        let run = alice
            .rolehop(&["catalog", "sync", "team"])
            .fails_with(INVALID);
        assert!(
            run.stderr.contains(line) && run.stderr.contains(field),
            "{line_added}: {run:#?}"
        );
        assert_eq!(workspace_state(&alice), before);
    }
    let cycle = seed_catalog("").replace("parent = \"{me}\"", "parent = \"deploy\"");
    publisher.publish(&cycle).unwrap();
    let run = alice
        .rolehop(&["catalog", "sync", "team"])
        .fails_with(INVALID);
    assert!(
        run.stderr.contains("cycle") && run.stderr.contains("line 10"),
        "{run:#?}"
    );
    publisher
        .publish(&format!("{}# {}\n", seed_catalog(""), "x".repeat(10 << 20)))
        .unwrap();
    let before = workspace_state(&alice);
    let run = alice
        .rolehop(&["catalog", "sync", "team"])
        .fails_with(INVALID);
    assert!(run.stderr.contains("at most"), "{run:#?}");
    assert_eq!(workspace_state(&alice), before);
    assert_eq!(alice.session_names(), ["alice", "codebuild", "deploy"]);

    // A refused add leaves nothing behind: no record, no git copy.
    let bob = teammate("bob");
    let run = bob
        .rolehop(&["catalog", "add", &url, "--name", "hostile"])
        .fails_with(INVALID);
    assert!(run.stderr.contains("at most"), "{run:#?}");
    let copies = bob.peers.home().rolehop_home().join("catalogs");
    assert!(
        !copies.join("hostile.git").exists(),
        "git's copy was left behind"
    );
    assert!(
        bob.rolehop(&["catalog", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn part5_export_writes_hand_made_sessions_as_a_catalog_a_teammate_follows() {
    let alice = teammate("alice");
    alice.add_role(
        "codebuild",
        "alice",
        "arn:aws:iam::123456789012:role/CodeBuildRole",
    );
    alice.add_role("deploy", "codebuild", DEPLOY_ROLE);
    let out = alice
        .peers
        .home()
        .rolehop_home()
        .with_file_name("exported.toml");
    alice
        .rolehop(&["catalog", "export", "--out", out.to_str().unwrap()])
        .ok();
    let text = std::fs::read_to_string(&out).unwrap();
    let keys = alice.peers.moto().create_user("probe").unwrap();
    assert!(!text.contains("AKIA") && !text.contains(&keys.secret_access_key[..8]));
    let parsed = catalog::parse(&text).expect("the export parses back");
    assert_eq!(parsed.roles.len(), 2, "{text}");
    assert!(text.contains("[sources.alice]"), "{text}");
    assert!(text.contains("parent = \"codebuild\""), "{text}");

    // A teammate follows the exported file with their own user.
    let bob = teammate("bob");
    bob.rolehop(&[
        "catalog",
        "add",
        out.to_str().unwrap(),
        "--bind",
        "alice=bob",
    ])
    .ok();
    bob.rolehop(&["session", "start", "deploy"]).ok();
    let arn = bob
        .caller_arn("deploy")
        .expect("the AWS CLI reads the profile");
    assert!(arn.contains("assumed-role/ResourceDeployCAR/"), "{arn}");
}

#[test]
fn part2_a_placeholder_bound_later_completes_its_chains_and_ref_picks_the_branch() {
    let (_server, url, publisher) = repository(&seed_catalog(""));
    // `stable` stays at this commit; `main` moves on with a new role.
    rolehop_e2e::git_server::git(
        &publisher.dir,
        &["push", "--quiet", "origin", "main:stable"],
        &[],
    )
    .unwrap();
    publisher.publish(&seed_catalog(AUDIT)).unwrap();

    let alice = teammate("alice");
    let report = alice
        .rolehop(&["catalog", "add", &url, "--ref", "stable", "--json"])
        .ok()
        .json();
    assert_eq!(counts(&report), [0, 0, 0, 0], "{report}");
    assert_eq!(report["unbound"], serde_json::json!(["me"]), "{report}");
    assert_eq!(report["skipped"].as_array().unwrap().len(), 2, "{report}");
    let run = alice.rolehop(&["catalog", "sync"]).ok();
    assert!(
        run.stdout
            .contains("{me} is not bound: rolehop catalog bind team me SESSION"),
        "{run:#?}"
    );

    // A placeholder of no source, or a session that does not exist, changes nothing.
    let before = workspace_state(&alice);
    alice
        .rolehop(&["catalog", "bind", "team", "you", "alice"])
        .fails_with(INVALID);
    alice
        .rolehop(&["catalog", "bind", "team", "me", "nobody"])
        .fails_with(4);
    assert_eq!(workspace_state(&alice), before);

    let report = alice
        .rolehop(&["catalog", "bind", "team", "me", "alice", "--json"])
        .ok()
        .json();
    assert_eq!(counts(&report), [2, 0, 0, 0], "{report}");
    // The branch named by --ref, not main's new role.
    assert_eq!(alice.session_names(), ["alice", "codebuild", "deploy"]);
}

/// The seed's chain for moto's accounts with the example's tags: `{me}` (an IAM user of
/// the staging account) -> CodeBuildRole (tagged `team`, passed on) -> ResourceDeployCAR
/// in the production account, with an external id.
fn part3_catalog() -> String {
    format!(
        r#"schema = 1
region = "us-east-1"

[sources.me]
type = "iam-user"
account_id = "123456789012"

[[roles]]
name = "codebuild"
parent = "{{me}}"
role_arn = "arn:aws:iam::123456789012:role/CodeBuildRole"
tags = {{ team = "platform" }}
transitive_tags = ["team"]

[[roles]]
name = "deploy"
parent = "codebuild"
role_arn = "{DEPLOY_ROLE}"
external_id = "platform-deploy"
"#
    )
}

/// `create-stack` of `template` with `env` (whose keys decide the account moto creates
/// the stack in), the `{me}` users given as `MeUserArns`.
fn part3_deploy(
    world: &World,
    template: &Path,
    stack: &str,
    users: &str,
    env: Vec<(String, String)>,
) {
    let parameter = format!("ParameterKey=MeUserArns,ParameterValue={users}");
    crate::cli_trust::create_stack(world, template, stack, &["--parameters", &parameter], env);
}

/// Alice follows the part-3 catalog from a file; its CloudFormation template, linted by
/// cfn-lint, is deployed in both accounts of the chain (as moto's administrator in the
/// staging account, as the `deploy` session in the production one).
fn part3_deployed() -> (World, tempfile::TempDir) {
    let world = World::start();
    let alice = world.peers.moto().create_user("alice").expect("moto user");
    world.add_iam_user_keys(&alice, "alice");
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(&catalog, part3_catalog()).unwrap();
    world
        .rolehop(&[
            "catalog",
            "add",
            catalog.to_str().unwrap(),
            "--bind",
            "me=alice",
        ])
        .ok();
    let template = dir.path().join("trust.json");
    world
        .rolehop(&[
            "catalog",
            "trust-template",
            "team",
            "--format",
            "cloudformation",
            "--out",
            template.to_str().unwrap(),
        ])
        .ok();
    crate::cli_trust::cfn_lint(&template);
    part3_deploy(
        &world,
        &template,
        "catalog-staging",
        &alice.arn,
        world.peers.moto().admin_env(),
    );
    // The chain runs (moto takes AssumeRole of a role it does not hold yet): its last
    // session deploys the production account's half.
    world.rolehop(&["session", "start", "deploy"]).ok();
    let mut as_deploy = world.env();
    as_deploy.push(("AWS_PROFILE".into(), "deploy".into()));
    part3_deploy(
        &world,
        &template,
        "catalog-production",
        &alice.arn,
        as_deploy,
    );
    (world, dir)
}

/// The drift table's line of hop `n` ("1/2").
fn part3_row<'a>(stdout: &'a str, n: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(n))
        .unwrap_or_else(|| panic!("no hop {n} in {stdout}"))
}

fn part3_verdicts(world: &World, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let run = world.rolehop(&[&["catalog", "check", "team", "--json"], args].concat());
    let report = run.json();
    let verdicts = report["hops"]
        .as_array()
        .unwrap_or_else(|| panic!("{run:?}"))
        .iter()
        .map(|h| h["verdict"].as_str().unwrap().to_owned())
        .collect();
    (run.code, verdicts)
}

#[test]
fn part3_the_generated_cloudformation_deploys_on_moto_and_catalog_check_admits_every_hop() {
    let (world, _dir) = part3_deployed();
    let run = world
        .rolehop(&["catalog", "check", "team", "--via", "deploy"])
        .ok();
    assert_eq!(run.stdout.matches("  admits\n").count(), 2, "{run:#?}");
    assert!(
        part3_row(&run.stdout, "1/2").contains("{me} -> codebuild (codebuild)"),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("expected  arn:aws:iam::123456789012:root if ArnEquals aws:PrincipalArn"),
        "{run:#?}"
    );
    let (code, verdicts) = part3_verdicts(&world, &["--via", "deploy"]);
    assert_eq!(
        (code, verdicts),
        (Some(0), vec!["admits".into(), "admits".into()])
    );
}

#[test]
fn part3_a_hand_broken_trust_policy_is_drift_on_that_hop_only_with_trust_checks_exit_status() {
    let (world, dir) = part3_deployed();
    // Someone edits ResourceDeployCAR's trust policy by hand: it now trusts another role.
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/SomeoneElse"},
            "Action": "sts:AssumeRole"}]})
        .to_string(),
    )
    .unwrap();
    world
        .aws(&[
            "iam",
            "update-assume-role-policy",
            "--role-name",
            "ResourceDeployCAR",
            "--policy-document",
            &format!("file://{}", broken.display()),
            "--profile",
            "deploy",
        ])
        .ok();

    let run = world
        .rolehop(&["catalog", "check", "team", "--via", "deploy"])
        .fails_with(10);
    // The table as a user sees it (`--no-capture` shows it).
    eprintln!("{}{}", run.stdout, run.stderr);
    let first = part3_row(&run.stdout, "1/2");
    assert!(
        first.contains("{me} -> codebuild (codebuild)") && first.ends_with("  admits"),
        "{run:#?}"
    );
    let second = part3_row(&run.stdout, "2/2");
    assert!(
        second.contains("codebuild -> deploy (deploy)") && second.contains("  refuses: "),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .contains("found     arn:aws:iam::123456789012:role/SomeoneElse"),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("1 of 2 hops of catalog 'team' are refused"),
        "{run:#?}"
    );
    let (code, verdicts) = part3_verdicts(&world, &["--via", "deploy"]);
    assert_eq!(
        (code, verdicts),
        (Some(10), vec!["admits".into(), "refuses".into()])
    );

    // No session of the production account can read its policy: that hop cannot be told
    // (exit 11), the other still admits.
    world.rolehop(&["session", "stop", "deploy"]).ok();
    let (code, verdicts) = part3_verdicts(&world, &[]);
    assert_eq!(
        (code, verdicts),
        (Some(11), vec!["admits".into(), "cannot-tell".into()])
    );
}

/// The Terraform output of the documented example parses with python-hcl2 (no
/// `terraform` binary nor its provider registry is reachable here, so `terraform plan`
/// is not run) and declares the same roles, principals, conditions and permissions as
/// the CloudFormation output.
#[test]
fn part3_the_terraform_output_parses_and_names_what_the_cloudformation_output_names() {
    let world = World::start_without_peers();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/catalog.example.toml");
    world
        .rolehop(&[
            "catalog",
            "add",
            example.to_str().unwrap(),
            "--name",
            "platform",
        ])
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let out = |format: &str| {
        let file = dir.path().join(format);
        world
            .rolehop(&[
                "catalog",
                "trust-template",
                "platform",
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ])
            .ok();
        file.display().to_string()
    };
    let script = r#"
import json, os, sys, textwrap, hcl2

def heredoc(value):
    body = value.strip('"')
    assert body.startswith("<<-EOT\n") and body.endswith("EOT"), body
    text = textwrap.dedent(body[len("<<-EOT\n"):-len("EOT")])
    # The placeholder's users: a variable, the same list the CloudFormation parameter is.
    return json.loads(text.replace("${jsonencode(var.me_user_arns)}", '"USERS"'))

def summary(roles, permissions):
    return {"roles": sorted(roles), "permissions": sorted(permissions)}

cfn = json.load(open(os.environ["CFN"]))
roles, permissions = [], []
for res in cfn["Resources"].values():
    props = res["Properties"]
    if res["Type"] == "AWS::IAM::Role":
        policy = json.loads(json.dumps(props["AssumeRolePolicyDocument"]).replace('{"Ref": "MeUserArns"}', '"USERS"'))
        roles.append(json.dumps([props["RoleName"], props["Path"], policy["Statement"]], sort_keys=True))
        for p in props.get("Policies", []):
            permissions.append(json.dumps(p["PolicyDocument"]["Statement"], sort_keys=True))
    elif res["Type"] == "AWS::IAM::ManagedPolicy":
        permissions.append(json.dumps(props["PolicyDocument"]["Statement"], sort_keys=True))
    else:
        sys.exit("unexpected resource " + res["Type"])
assert cfn["Parameters"]["MeUserArns"]["Type"] == "CommaDelimitedList"

tf = hcl2.load(open(os.environ["TF"]))
troles, tpermissions = [], []
for block in tf["resource"]:
    for kind, named in block.items():
        for name, res in named.items():
            kind = kind.strip('"')
            if kind == "aws_iam_role":
                policy = heredoc(res["assume_role_policy"])
                troles.append(json.dumps([res["name"].strip('"'), res["path"].strip('"'), policy["Statement"]], sort_keys=True))
            elif kind in ("aws_iam_role_policy", "aws_iam_policy"):
                tpermissions.append(json.dumps(heredoc(res["policy"])["Statement"], sort_keys=True))
            else:
                sys.exit("unexpected resource " + kind)
variables = [list(v.keys())[0] for v in tf["variable"]]
assert variables == ['"me_user_arns"'] or variables == ["me_user_arns"], variables
print(json.dumps({"cloudformation": summary(roles, permissions), "terraform": summary(troles, tpermissions)}))
"#;
    let run = rolehop_e2e::python(
        script,
        [("CFN", out("cloudformation")), ("TF", out("terraform"))],
    )
    .expect("python runs");
    assert!(run.status.success(), "{run:?}");
    let both: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(both["cloudformation"], both["terraform"], "{both:#}");
    let roles = both["terraform"]["roles"].to_string();
    for expected in [
        "CodeBuildRole",
        "ResourceDeployCAR",
        "arn:aws:iam::111111111111:root",
        "aws:PrincipalArn",
        "USERS",
        "arn:aws:iam::111111111111:role/CodeBuildRole",
        "platform-deploy",
        "sts:TagSession",
        "sts:TransitiveTagKeys",
    ] {
        assert!(roles.contains(expected), "{expected} in {roles}");
    }
    assert_eq!(
        both["terraform"]["permissions"].as_array().unwrap().len(),
        2,
        "{both:#}"
    );
}

/// `--ref` names a tag, lightweight or annotated (`git fetch` of a tag, peeled to its
/// commit): the catalog stays at the tag while main moves on, and follows it when the
/// tag is moved.
#[test]
fn part3_ref_names_a_tag_and_the_catalog_stays_at_it_while_main_moves_on() {
    let (_server, url, publisher) = repository(&seed_catalog(""));
    let push_tag = |args: &[&str]| {
        rolehop_e2e::git_server::git(&publisher.dir, args, &[]).unwrap();
        rolehop_e2e::git_server::git(
            &publisher.dir,
            &["push", "--quiet", "--force", "origin", "--tags"],
            &[],
        )
        .unwrap();
    };
    push_tag(&["tag", "v1"]);
    push_tag(&["tag", "-a", "-m", "release 1", "release-1"]);
    publisher.publish(&seed_catalog(AUDIT)).unwrap();

    for tag in ["v1", "release-1"] {
        let world = teammate("alice");
        let report = world
            .rolehop(&[
                "catalog", "add", &url, "--ref", tag, "--bind", "me=alice", "--json",
            ])
            .ok()
            .json();
        assert_eq!(counts(&report), [2, 0, 0, 0], "{tag}: {report}");
        assert_eq!(
            world.session_names(),
            ["alice", "codebuild", "deploy"],
            "{tag}"
        );
        let tagged = report["commit"].as_str().unwrap().to_owned();
        let head =
            rolehop_e2e::git_server::git(&publisher.dir, &["rev-parse", "HEAD"], &[]).unwrap();
        assert_ne!(tagged, head.trim(), "{tag} is not main's commit");
        let again = sync(&world);
        assert_eq!(counts(&again), [0, 0, 0, 2], "{tag}: {again}");
        if tag == "v1" {
            // The tag moves to main's commit: the next sync follows it.
            push_tag(&["tag", "--force", "v1"]);
            let moved = sync(&world);
            assert_eq!(counts(&moved), [1, 0, 0, 2], "{moved}");
            assert!(world.session_names().contains(&"audit".to_owned()));
        }
    }
}

/// A plain HTTP server on 127.0.0.1 (a port the kernel picks) answering every GET with
/// `body`, counting the bytes it managed to send; stopped when dropped.
struct FileServer {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl FileServer {
    fn serve(body: Vec<u8>) -> Self {
        Self::serve_repeated(body, 1)
    }

    /// Serves `chunk` `times` over, as one body (a large body without holding it).
    fn serve_repeated(chunk: Vec<u8>, times: usize) -> Self {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!(
            "http://127.0.0.1:{}/catalog.toml",
            listener.local_addr().unwrap().port()
        );
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut sent = 0;
            while !stopping.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/toml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    chunk.len() * times
                );
                let _ = stream.write_all(head.as_bytes());
                for _ in 0..times {
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
            }
            sent
        });
        Self {
            url,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the server; the bytes of bodies it sent.
    fn stop(mut self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An https URL of the file itself is a source (plain http only on loopback, as here):
/// followed and synced like a file; a 256 MiB answer is refused naming the catalog's
/// limit with the download abandoned well before its end and nothing changed; http to
/// another host, a user name in the URL and `--require-signed` are refused naming the
/// field, before any request.
#[test]
fn part3_an_https_file_source_is_followed_within_1_mib_and_http_only_on_loopback() {
    let served = FileServer::serve(seed_catalog("").into_bytes());
    let world = teammate("alice");
    let report = world
        .rolehop(&[
            "catalog",
            "add",
            &served.url,
            "--bind",
            "me=alice",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(counts(&report), [2, 0, 0, 0], "{report}");
    assert_eq!(world.session_names(), ["alice", "codebuild", "deploy"]);
    let list = world.rolehop(&["catalog", "list", "--json"]).ok().json();
    assert_eq!(
        list[0]["location"],
        serde_json::json!({"type": "https", "at": served.url}),
        "{list}"
    );
    assert_eq!(counts(&sync(&world)), [0, 0, 0, 2]);
    served.stop();

    let before = workspace_state(&world);
    // 256 MiB: a client that reads on past its limit would take all of it, while the
    // kernel's loopback buffers (socket send and receive, auto-tuned to several MiB)
    // let the server write some MiB more than an abandoning client ever read.
    let big = FileServer::serve_repeated(vec![b'#'; 64 * 1024], 4 * 1024);
    let run = world
        .rolehop(&["catalog", "add", &big.url, "--name", "big"])
        .fails_with(INVALID);
    assert!(
        run.stderr
            .contains("catalog: the file is over 1048576 bytes"),
        "{run:?}"
    );
    let sent = big.stop();
    assert!(
        sent < 64 * 1024 * 1024,
        "the download went on to {sent} bytes of 256 MiB"
    );
    for (args, field) in [
        (
            vec!["catalog", "add", "http://192.0.2.1/catalog.toml"],
            "source: must be https",
        ),
        (
            vec!["catalog", "add", "https://someone@192.0.2.1/catalog.toml"],
            "source: must not hold a user name",
        ),
        (
            vec![
                "catalog",
                "add",
                "https://192.0.2.1/catalog.toml",
                "--require-signed",
            ],
            "require_signed: only a git repository's commits carry signatures",
        ),
    ] {
        let run = world
            .rolehop(&[&args[..], &["--name", "other"]].concat())
            .fails_with(INVALID);
        assert!(run.stderr.contains(field), "{args:?}: {run:?}");
    }
    assert_eq!(workspace_state(&world), before, "nothing changed");
}

/// A catalog with an sso source at `start_url` (SSO role `admin`: Admin in
/// 111111111111), `deploy` chained from it, and a federated source at `idp_url` (SAML
/// role `corp`: Admin through the test provider) with `corp-deploy` chained from it.
fn part2_sources_catalog(start_url: &str, idp_url: &str) -> String {
    format!(
        r#"schema = 1
region = "us-east-1"

[sources.portal]
type = "sso"
start_url = "{start_url}"
region = "eu-west-1"

[sources.idp]
type = "federated"
url = "{idp_url}"

[[roles]]
name = "admin"
parent = "{{portal}}"
account_id = "111111111111"
sso_role = "Admin"

[[roles]]
name = "deploy"
parent = "admin"
role_arn = "arn:aws:iam::222222222222:role/Deploy"

[[roles]]
name = "corp"
parent = "{{idp}}"
role_arn = "{saml_admin}"
principal_arn = "{provider}"
duration = 3600

[[roles]]
name = "corp-deploy"
parent = "corp"
role_arn = "{saml_deployer}"
"#,
        saml_admin = rolehop_e2e::saml_idp::role_arn("Admin"),
        saml_deployer = rolehop_e2e::saml_idp::role_arn("Deployer"),
        provider = rolehop_e2e::saml_idp::PROVIDER_ARN,
    )
}

/// Writes `text` as a catalog file in `world`'s home and follows it as `team`.
fn part2_follow_file(world: &World, text: &str) -> serde_json::Value {
    let path = world.peers.home().root().join("catalog.toml");
    std::fs::write(&path, text).unwrap();
    world
        .rolehop(&["catalog", "add", path.to_str().unwrap(), "--json"])
        .ok()
        .json()
}

/// The roles a sync report skipped, by name.
fn part2_skipped(report: &serde_json::Value) -> Vec<&str> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect()
}

/// A re-sync with nothing changed adds, updates and removes nothing, and leaves the
/// workspace's bytes and mtime alone.
fn part2_resync_writes_nothing(world: &World) {
    let before = workspace_state(world);
    let again = sync(world);
    assert_eq!(counts(&again)[..3], [0, 0, 0], "{again}");
    assert_eq!(workspace_state(world), before);
}

fn part2_session<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no session {name} in {list}"))
}

#[test]
fn part2_sso_source_syncs_an_sso_role_of_the_matching_integration_and_a_chained_role_the_aws_cli_acts_as()
 {
    use rolehop_e2e::{SsoAccount, SsoPortal};
    let (world, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new("111111111111", "prod", &["Admin"])])
        .unwrap();
    crate::cli_sso::log_in(&world, &portal);
    // The catalog writes the start URL with a trailing slash: still the same portal.
    let start_url = format!("{}/", rolehop_e2e::sso_portal::START_URL);
    let report = part2_follow_file(
        &world,
        &part2_sources_catalog(&start_url, "http://127.0.0.1:9/idp"),
    );
    let skipped = part2_skipped(&report);
    assert!(
        !skipped.contains(&"admin") && !skipped.contains(&"deploy"),
        "{report}"
    );
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let admin = part2_session(&list, "admin");
    assert_eq!(admin["kind"]["type"], "sso-role", "{admin}");
    assert_eq!(admin["kind"]["account_id"], "111111111111");
    assert_eq!(admin["kind"]["role_name"], "Admin");
    let acme = world.rolehop(&["sso", "list", "--json"]).ok().json()[0]["id"].clone();
    assert_eq!(admin["kind"]["integration"], acme, "{admin}");
    let deploy = part2_session(&list, "deploy");
    assert_eq!(deploy["kind"]["type"], "role", "{deploy}");
    assert_eq!(deploy["kind"]["parent"], admin["id"], "{deploy}");

    // The chained role starts (through the SSO role) and the AWS CLI acts as it.
    world.rolehop(&["session", "start", "deploy"]).ok();
    assert_eq!(
        world.caller_arn("deploy").unwrap(),
        "arn:aws:sts::222222222222:assumed-role/Deploy/rolehop-deploy"
    );
    world.rolehop(&["session", "start", "admin"]).ok();
    assert_eq!(
        world.caller_arn("admin").unwrap(),
        SsoPortal::assumed_role_arn("111111111111", "Admin", "alice")
    );

    part2_resync_writes_nothing(&world);
}

#[test]
fn part2_sso_source_without_a_matching_integration_is_skipped_naming_the_start_url() {
    let world = World::start();
    let report = part2_follow_file(
        &world,
        &part2_sources_catalog(
            "https://d-0000000000.awsapps.com/start",
            "http://127.0.0.1:9/idp",
        ),
    );
    let skipped = report["skipped"].as_array().unwrap();
    let why = |role: &str| {
        skipped
            .iter()
            .find(|s| s["role"] == role)
            .unwrap_or_else(|| panic!("{role} not skipped: {report}"))["why"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let admin = why("admin");
    assert!(
        admin.contains("https://d-0000000000.awsapps.com/start")
            && admin.contains("rolehop sso add"),
        "{admin}"
    );
    assert!(why("deploy").contains("'admin' was skipped"));
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"admin") && !names.contains(&"deploy"),
        "{list}"
    );
    // The same text through `catalog sync` says it too, in words.
    let run = world.rolehop(&["catalog", "sync", "team"]).ok();
    assert!(
        run.stdout
            .contains("skipped admin: {portal} needs an IAM Identity Center integration"),
        "{run:?}"
    );
}

#[test]
fn part2_federated_source_syncs_a_saml_session_and_a_chained_role_started_with_an_assertion_file() {
    use rolehop_e2e::saml_idp::{PASSWORD, USER};
    let (world, idp) = crate::cli_saml::provider_world();
    idp.offer_roles(&["Admin"]).unwrap();
    // No IAM Identity Center here: the sso roles are skipped, the federated ones not.
    let report = part2_follow_file(
        &world,
        &part2_sources_catalog("https://d-0000000000.awsapps.com/start", &idp.idp_url()),
    );
    let skipped = part2_skipped(&report);
    assert_eq!(skipped, ["admin", "deploy"], "{report}");
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let corp = part2_session(&list, "corp");
    assert_eq!(corp["kind"]["type"], "saml", "{corp}");
    assert_eq!(corp["kind"]["idp_url"], idp.idp_url());
    assert_eq!(
        corp["kind"]["role_arn"],
        rolehop_e2e::saml_idp::role_arn("Admin")
    );
    assert_eq!(
        corp["kind"]["principal_arn"],
        rolehop_e2e::saml_idp::PROVIDER_ARN
    );
    let chained = part2_session(&list, "corp-deploy");
    assert_eq!(chained["kind"]["type"], "role", "{chained}");
    assert_eq!(chained["kind"]["parent"], corp["id"], "{chained}");

    let assertion = idp.sign_in(USER, PASSWORD).unwrap();
    let file = crate::cli_saml::assertion_file(&world, &assertion);
    world
        .rolehop(&["session", "start", "corp", "--assertion-file", &file])
        .ok();
    assert_eq!(
        world.caller_arn("corp").unwrap(),
        crate::cli::assumed("123456789012", "Admin", "alice@example.test")
    );
    world.rolehop(&["session", "start", "corp-deploy"]).ok();
    assert_eq!(
        world.caller_arn("corp-deploy").unwrap(),
        crate::cli::assumed("123456789012", "Deployer", "rolehop-corp-deploy")
    );
    part2_resync_writes_nothing(&world);
}

#[test]
fn part5_export_writes_a_federated_session_as_a_federated_source_a_teammate_syncs() {
    use rolehop_e2e::SamlIdp;
    use rolehop_e2e::saml_idp::{PROVIDER_ARN, role_arn};
    let alice = World::start();
    let idp = SamlIdp::start(alice.peers.moto()).expect("the SAML provider starts");
    let idp_url = idp.idp_url();
    crate::cli_saml::add_saml(&alice, &idp, "corp", &role_arn("Admin")).ok();
    alice.add_role("corp-deploy", "corp", &role_arn("Deployer"));
    let text = alice.rolehop(&["catalog", "export"]).ok().stdout;
    let parsed = catalog::parse(&text).expect("the export parses back");
    assert_eq!(parsed.roles.len(), 2, "{text}");
    assert!(
        text.contains("type = \"federated\"") && text.contains(&idp_url),
        "{text}"
    );
    assert!(text.contains("parent = \"corp\""), "{text}");

    // A teammate following it gets the same federated session and its chained role.
    let bob = World::start();
    let report = part2_follow_file(&bob, &text);
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    let list = bob.rolehop(&["session", "list", "--json"]).ok().json();
    let corp = part2_session(&list, "corp");
    assert_eq!(corp["kind"]["type"], "saml", "{corp}");
    assert_eq!(corp["kind"]["idp_url"], idp_url);
    assert_eq!(corp["kind"]["principal_arn"], PROVIDER_ARN);
    assert_eq!(corp["kind"]["duration"], 3600);
    let chained = part2_session(&list, "corp-deploy");
    assert_eq!(chained["kind"]["parent"], corp["id"], "{chained}");
}

#[test]
fn part5_export_of_an_sso_role_round_trips_to_a_teammate_with_their_own_integration() {
    use rolehop_e2e::SsoAccount;
    let (alice, _alice_portal) = World::with_sso_portal();
    alice.add_sso_role("admin", "acme", "111111111111", "Admin");
    alice.add_role("deploy", "admin", "arn:aws:iam::222222222222:role/Deploy");
    let text = alice.rolehop(&["catalog", "export"]).ok().stdout;
    assert!(
        text.contains("type = \"sso\"")
            && text.contains(rolehop_e2e::sso_portal::START_URL)
            && text.contains("sso_role = \"Admin\""),
        "{text}"
    );

    // Bob has his own integration for the same portal: the export completes through it.
    let (bob, portal) = World::with_sso_portal();
    portal
        .seed(&[SsoAccount::new("111111111111", "prod", &["Admin"])])
        .unwrap();
    crate::cli_sso::log_in(&bob, &portal);
    let report = part2_follow_file(&bob, &text);
    assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
    let list = bob.rolehop(&["session", "list", "--json"]).ok().json();
    let admin = part2_session(&list, "admin");
    let acme = bob.rolehop(&["sso", "list", "--json"]).ok().json()[0]["id"].clone();
    assert_eq!(admin["kind"]["integration"], acme, "{admin}");
    bob.rolehop(&["session", "start", "deploy"]).ok();
    assert_eq!(
        bob.caller_arn("deploy").unwrap(),
        "arn:aws:sts::222222222222:assumed-role/Deploy/rolehop-deploy"
    );
}
