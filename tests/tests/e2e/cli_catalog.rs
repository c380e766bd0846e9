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
