//! `rolehop org sync` through the built binary, against moto's Organizations: an
//! organization of 20 member accounts in two OUs (one nested OU), made with boto3; the
//! fan-out, `--ou`, a start in a member account read back by the AWS CLI, idempotent
//! re-syncs, a user's rename kept, accounts that left or closed dropped, and an active
//! session of a departed account, or one the user chained a role from, kept and reported.

use crate::cli::World;
use crate::org::{Org, make_org, organizations};

/// A world with the management account's IAM user `mgmt` and its organization.
fn world_with_org() -> (World, Org) {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    let org = make_org(&world);
    (world, org)
}

/// `org sync` through `mgmt` of the role every test syncs.
pub(crate) const SYNC: [&str; 6] = [
    "org",
    "sync",
    "--via",
    "mgmt",
    "--role-name",
    "OrganizationAccountAccessRole",
];

/// `org sync --json` with `extra` arguments: the report.
fn sync(world: &World, extra: &[&str]) -> serde_json::Value {
    let mut args = [&SYNC[..], &["--json"]].concat();
    args.extend_from_slice(extra);
    world.rolehop(&args).ok().json()
}

fn counts(report: &serde_json::Value) -> [u64; 4] {
    ["added", "updated", "removed", "kept"].map(|k| report["counts"][k].as_u64().unwrap())
}

fn workspace_bytes(world: &World) -> Vec<u8> {
    std::fs::read(world.peers.home().rolehop_home().join("workspace.json")).expect("workspace")
}

fn sessions(world: &World) -> Vec<serde_json::Value> {
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    list.as_array().unwrap().clone()
}

/// The session synced for `account_id`.
fn session_of(world: &World, account_id: &str) -> serde_json::Value {
    sessions(world)
        .into_iter()
        .find(|s| s["account_id"] == account_id && s["name"] != "mgmt")
        .unwrap_or_else(|| panic!("no session for {account_id}"))
}

#[test]
fn org_sync_makes_a_session_per_member_account_and_one_starts_in_its_account() {
    let (world, org) = world_with_org();

    let report = sync(&world, &[]);
    assert_eq!(counts(&report), [20, 0, 0, 0], "{report}");
    let synced: Vec<serde_json::Value> = sessions(&world)
        .into_iter()
        .filter(|s| s["name"] != "mgmt")
        .collect();
    assert_eq!(synced.len(), 20, "the management account gets none");
    let (id, name, _) = &org.accounts[3];
    let s = session_of(&world, id);
    assert_eq!(s["name"], "Workload-03-OrganizationAccountAccessRole");
    assert_eq!(s["profile"], s["name"]);
    assert_eq!(s["account_name"], name.as_str());
    assert_eq!(
        s["kind"]["role_arn"],
        format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole")
    );
    assert_eq!(s["chain"], serde_json::json!(["mgmt", s["name"]]));

    // Account names are searchable, as they read (spaces and all).
    let found = world
        .rolehop(&["session", "list", "--filter", "workload 03", "--json"])
        .ok()
        .json();
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Workload-03-OrganizationAccountAccessRole"]);

    // A start in the member account, read back by the AWS CLI.
    let profile = s["name"].as_str().unwrap();
    world.rolehop(&["session", "start", profile]).ok();
    let arn = world
        .caller_arn(profile)
        .expect("the AWS CLI uses the profile");
    assert!(
        arn.starts_with(&format!(
            "arn:aws:sts::{id}:assumed-role/OrganizationAccountAccessRole/"
        )),
        "{arn}"
    );

    // Re-sync with nothing changed: every session kept, the workspace not rewritten.
    let before = workspace_bytes(&world);
    let again = world.rolehop(&SYNC).ok();
    assert_eq!(
        again.stdout.lines().next(),
        Some("added 0, updated 0, removed 0, kept 20"),
        "{again:?}"
    );
    assert_eq!(
        workspace_bytes(&world),
        before,
        "an idempotent sync writes nothing"
    );
}

#[test]
fn ou_selects_its_accounts_nested_ous_included() {
    let (world, org) = world_with_org();

    let report = sync(&world, &["--ou", &org.sandbox]);
    assert_eq!(counts(&report), [10, 0, 0, 0], "{report}");
    let mut got: Vec<&str> = report["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut want: Vec<&str> = org.in_ou("sandbox").iter().map(|a| a.0.as_str()).collect();
    want.sort_unstable();
    assert_eq!(got, want, "Sandbox's 7 and its nested Team's 3");

    // Two OUs together are the whole organization: Workloads' 10 join.
    let both = sync(&world, &["--ou", &org.workloads, "--ou", &org.sandbox]);
    assert_eq!(counts(&both), [10, 0, 0, 10], "{both}");
}

#[test]
fn organizations_endpoint_comes_from_its_own_variable_before_the_general_one() {
    let (world, _) = world_with_org();
    let moto = world.peers.moto().endpoint();
    let args = SYNC;
    let before = workspace_bytes(&world);
    let run = world
        .rolehop_with(
            &args,
            &[("AWS_ENDPOINT_URL_ORGANIZATIONS", "http://127.0.0.1:9")],
            None,
        )
        .fails_with(6);
    assert!(
        run.stderr
            .contains("could not connect to AWS Organizations at http://127.0.0.1:9"),
        "{run:?}"
    );
    assert_eq!(workspace_bytes(&world), before);
    let run = world
        .rolehop_with(
            &args,
            &[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                ("AWS_ENDPOINT_URL_STS", &moto),
                ("AWS_ENDPOINT_URL_ORGANIZATIONS", &moto),
            ],
            None,
        )
        .ok();
    assert!(run.stdout.starts_with("added 20,"), "{run:?}");
}

#[test]
fn resync_keeps_renames_drops_departed_accounts_and_keeps_active_and_parent_sessions() {
    let (world, org) = world_with_org();
    sync(&world, &[]);
    let renamed = &org.accounts[0].0;
    let left = &org.accounts[1].0;
    let closed = &org.accounts[2].0;
    let active = &org.accounts[3].0;
    let parent = &org.accounts[4].0;

    let old = session_of(&world, renamed)["name"]
        .as_str()
        .unwrap()
        .to_owned();
    world
        .rolehop(&["session", "edit", "role", &old, "--name", "my-workload"])
        .ok();
    let active_name = session_of(&world, active)["name"]
        .as_str()
        .unwrap()
        .to_owned();
    world.rolehop(&["session", "start", &active_name]).ok();
    // The user chains a role of their own from another account's synced session.
    let parent_name = session_of(&world, parent)["name"]
        .as_str()
        .unwrap()
        .to_owned();
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "deeper",
            "--parent",
            &parent_name,
            "--role-arn",
            &format!("arn:aws:iam::{parent}:role/Deeper"),
            "--profile",
            "deeper",
        ])
        .ok();

    organizations(
        &world,
        &format!(
            r#"
org.remove_account_from_organization(AccountId="{left}")
org.close_account(AccountId="{closed}")
org.remove_account_from_organization(AccountId="{active}")
org.remove_account_from_organization(AccountId="{parent}")
print("{{}}")
"#
        ),
    );

    let before = workspace_bytes(&world);
    let run = world.rolehop(&SYNC).ok();
    let text = run.stdout;
    assert!(
        text.starts_with("added 0, updated 0, removed 2, kept 18\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "kept {active_name}: account {active} left the organization, but the session is active"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "kept {parent_name}: account {parent} left the organization, but 'deeper' chain from it"
        )),
        "{text}"
    );
    assert_ne!(workspace_bytes(&world), before);

    let names: Vec<String> = sessions(&world)
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"my-workload".to_owned()), "{names:?}");
    assert!(names.contains(&active_name), "the active session stays");
    for gone in [left, closed] {
        assert!(
            sessions(&world)
                .iter()
                .all(|s| s["account_id"] != gone.as_str()),
            "{gone} dropped"
        );
    }
    assert_eq!(world.state_of(&active_name), "active");
    let arn = world.caller_arn(&active_name).expect("still usable");
    assert!(arn.contains(active.as_str()), "{arn}");

    // The JSON report names the kept one too; once stopped, the next sync removes it.
    let report = sync(&world, &[]);
    assert_eq!(report["kept_live"][0]["name"], active_name.as_str());
    assert_eq!(counts(&report), [0, 0, 0, 18]);
    world.rolehop(&["session", "stop", &active_name]).ok();
    let report = sync(&world, &[]);
    assert_eq!(counts(&report), [0, 0, 1, 17], "{report}");
}

#[test]
fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let world = World::start();
    world.add_iam_user("mgmt", "mgmt");
    let before = workspace_bytes(&world);
    for (args, field) in [
        (
            &["--role-name", "path/Role"][..],
            "role_name: must be 1–64 letters",
        ),
        (
            &["--role-name", "R", "--profile-template", "{account}"][..],
            "profile_template: has an unknown placeholder {account}",
        ),
        (
            &["--role-name", "R", "--ou", "Workloads"][..],
            "ou: 'Workloads' is not an organizational unit id",
        ),
    ] {
        let mut full = vec!["org", "sync", "--via", "mgmt"];
        full.extend_from_slice(args);
        let run = world.rolehop(&full).fails_with(3);
        assert!(run.stderr.contains(field), "{run:?}");
    }
    let run = world
        .rolehop(&["org", "sync", "--via", "nobody", "--role-name", "R"])
        .fails_with(4);
    assert!(
        run.stderr
            .starts_with("rolehop: no session named or with id 'nobody'"),
        "{run:?}"
    );
    // No organization: AWS's own code, as the via session's failure (exit 6).
    let run = world
        .rolehop(&["org", "sync", "--via", "mgmt", "--role-name", "R"])
        .fails_with(6);
    assert!(
        run.stderr.contains("AWSOrganizationsNotInUseException"),
        "{run:?}"
    );
    assert_eq!(workspace_bytes(&world), before);
}
