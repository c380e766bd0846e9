//! Part 4 of issue 27: session tags and transitive tag keys per role hop, through the
//! real CLI against moto. moto's request recorder shows what each `AssumeRole` carried
//! on the wire (`Tags.member.N.Key/Value`, `TransitiveTagKeys.member.N`: the query
//! protocol's form, as botocore's model names it). moto keeps no session tags (its STS
//! neither stores nor returns them: no response of it carries a tag), so they are read
//! back where Rolehop keeps them: `session list --json`. Refused input names its field
//! and changes nothing.

use std::collections::BTreeMap;

use crate::cli::World;

/// What one `AssumeRole` carried: its tags (key, value) and its transitive keys.
pub(crate) type SentTags = (Vec<(String, String)>, Vec<String>);

/// The `AssumeRole` calls moto recorded, by role ARN.
pub(crate) fn assume_role_tags(world: &World) -> BTreeMap<String, SentTags> {
    let calls = world.peers.moto().recorded_calls().expect("recording");
    calls
        .iter()
        .filter(|c| c.get("Action").map(String::as_str) == Some("AssumeRole"))
        .map(|c| {
            let tags = (1..)
                .map_while(|n| {
                    let key = c.get(&format!("Tags.member.{n}.Key"))?;
                    let value = c.get(&format!("Tags.member.{n}.Value"))?;
                    Some((key.clone(), value.clone()))
                })
                .collect();
            let transitive = (1..)
                .map_while(|n| c.get(&format!("TransitiveTagKeys.member.{n}")).cloned())
                .collect();
            (c["RoleArn"].clone(), (tags, transitive))
        })
        .collect()
}

pub(crate) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The session's tags and transitive keys as `session list --json` shows them.
pub(crate) fn listed_tags(world: &World, session: &str) -> (serde_json::Value, serde_json::Value) {
    let listed = world.rolehop(&["session", "list", "--json"]).ok().json();
    let s = listed
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == session))
        .unwrap_or_else(|| panic!("{session} not listed: {listed}"))
        .clone();
    (
        s["kind"]["tags"].clone(),
        s["kind"]["transitive_tag_keys"].clone(),
    )
}

#[test]
fn session_tags_of_each_hop_go_on_that_hops_assume_role() {
    let world = World::start();
    let story = world.seed_story();
    // codebuild passes a team tag on down the chain, production its own cost centre.
    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "codebuild",
            "--tag",
            "team=platform",
            "--tag",
            "project=dé ploy:1/2=3+4@x",
            "--transitive-tag",
            "team",
        ])
        .ok();
    world
        .rolehop(&[
            "session",
            "edit",
            "role",
            "production",
            "--tag",
            "cost-centre=42",
        ])
        .ok();
    world.peers.moto().start_recording().expect("recording");
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();

    let calls = assume_role_tags(&world);
    assert_eq!(
        calls[&story.codebuild_arn],
        (
            pairs(&[("team", "platform"), ("project", "dé ploy:1/2=3+4@x")]),
            vec!["team".to_owned()]
        ),
        "{calls:?}"
    );
    assert_eq!(
        calls[crate::cli::DEPLOY_ROLE],
        (pairs(&[("cost-centre", "42")]), vec![]),
        "{calls:?}"
    );

    let (tags, transitive) = listed_tags(&world, "codebuild");
    assert_eq!(
        tags,
        serde_json::json!([
            {"key": "team", "value": "platform"},
            {"key": "project", "value": "dé ploy:1/2=3+4@x"}
        ])
    );
    assert_eq!(transitive, serde_json::json!(["team"]));
}

#[test]
fn session_tags_given_at_add_then_cleared_by_edit_leave_the_wire() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "tagged",
            "--parent",
            "alice",
            "--role-arn",
            &story.codebuild_arn,
            "--profile",
            "tagged",
            "--tag",
            "env=",
            "--tag",
            "owner=alice@example.com",
            "--transitive-tag",
            "OWNER",
        ])
        .ok();
    world.peers.moto().start_recording().expect("recording");
    world
        .rolehop(&["session", "start", "tagged", "--mfa-code", "123456"])
        .ok();
    assert_eq!(
        assume_role_tags(&world)[&story.codebuild_arn],
        (
            pairs(&[("env", ""), ("owner", "alice@example.com")]),
            vec!["OWNER".to_owned()]
        )
    );
    world.rolehop(&["session", "stop", "tagged"]).ok();

    world
        .rolehop(&["session", "edit", "role", "tagged", "--no-tags"])
        .ok();
    assert_eq!(
        listed_tags(&world, "tagged"),
        (serde_json::json!([]), serde_json::json!([]))
    );
    world.peers.moto().start_recording().expect("recording");
    world.rolehop(&["session", "start", "tagged"]).ok();
    assert_eq!(
        assume_role_tags(&world)[&story.codebuild_arn],
        (vec![], vec![]),
        "no Tags once cleared"
    );
}

#[test]
fn refused_session_tags_name_the_field_and_change_nothing() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "edit", "role", "codebuild", "--tag", "team=a"])
        .ok();
    let workspace = world.peers.home().rolehop_home().join("workspace.json");
    let before = std::fs::read(&workspace).unwrap();

    let fifty_one: Vec<String> = (0..51).map(|i| format!("k{i}=v")).collect();
    let mut too_many = vec!["session", "edit", "role", "codebuild"];
    for t in &fifty_one {
        too_many.extend(["--tag", t.as_str()]);
    }
    let long_key = format!("{}=v", "k".repeat(129));
    let long_value = format!("k={}", "v".repeat(257));
    let edit = |extra: &[&str]| {
        let mut args = vec!["session", "edit", "role", "codebuild"];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str, &str)> = vec![
        (
            too_many.iter().map(|s| (*s).to_owned()).collect(),
            "tags",
            "at most 50",
        ),
        (edit(&["--tag", "novalue"]), "tags", "is not KEY=VALUE"),
        (edit(&["--tag", "=v"]), "tags", "1–128"),
        (edit(&["--tag", &long_key]), "tags", "1–128"),
        (edit(&["--tag", &long_value]), "tags", "at most 256"),
        (edit(&["--tag", "team#1=v"]), "tags", "may only contain"),
        (edit(&["--tag", "team=a,b"]), "tags", "may only contain"),
        (
            edit(&["--tag", "Team=a", "--tag", "team=b"]),
            "tags",
            "given twice",
        ),
        (
            edit(&["--tag", "team=a", "--transitive-tag", "project"]),
            "transitive_tag_keys",
            "'project'",
        ),
        (
            edit(&["--transitive-tag", "project"]),
            "transitive_tag_keys",
            "'project'",
        ),
        // At add: nothing is added.
        (
            [
                "session",
                "add",
                "role",
                "--name",
                "bad",
                "--parent",
                "alice",
                "--role-arn",
                &story.codebuild_arn,
                "--profile",
                "bad",
                "--tag",
                "a=b\tc",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            "tags",
            "may only contain",
        ),
    ];
    for (args, field, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = world.rolehop(&args).fails_with(3);
        assert!(
            run.stderr.contains(&format!("{field}: ")) && run.stderr.contains(says),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            std::fs::read(&workspace).unwrap(),
            before,
            "{args:?} changed the workspace"
        );
    }
}
