//! Two `rolehop` processes racing for one profile, and what a live session forbids:
//! the rules that hold only because each is checked inside the locked update that acts
//! on it, proven with real processes, the real keyring and moto.

use std::sync::Barrier;
use std::thread;

use crate::cli::World;

/// `[section]`'s `key = value` lines in an INI text.
fn values_in_section(text: &str, section: &str, key: &str) -> Vec<String> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut found = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
        } else if inside
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            found.push(v.trim().to_owned());
        }
    }
    found
}

#[test]
fn two_processes_starting_two_sessions_on_one_profile_leave_exactly_one_active() {
    let world = World::start();
    world.add_iam_user("left", "shared");
    world.add_iam_user("right", "shared");
    let names = ["left", "right"];

    for round in 0..50 {
        let barrier = Barrier::new(names.len());
        let runs: Vec<_> = thread::scope(|scope| {
            let handles: Vec<_> = names
                .iter()
                .map(|name| {
                    let (world, barrier) = (&world, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        world.rolehop(&["session", "start", name])
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Each start either went through (and may have been stopped by the other one
        // afterwards) or was told that it lost the profile: never any other failure.
        for run in &runs {
            let lost =
                run.code == Some(5) && run.stderr.contains("stopped before it became active");
            assert!(run.code == Some(0) || lost, "round {round}: {run:#?}");
        }

        let states: Vec<String> = names.iter().map(|n| world.state_of(n)).collect();
        let winners: Vec<&str> = names
            .iter()
            .zip(&states)
            .filter(|(_, s)| *s == "active")
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: states {states:?}, {runs:#?}"
        );
        assert!(
            states.iter().all(|s| s == "active" || s == "inactive"),
            "round {round}: the loser is stopped, not failed: {states:?}"
        );

        // The credentials file holds exactly the winner's keys under the profile.
        let winner = winners[0];
        let expected = world.rolehop(&["credential-process", winner]).ok().json();
        let file = world.peers.home().read_aws_credentials().unwrap();
        assert_eq!(file.matches("[shared]").count(), 1, "round {round}: {file}");
        assert_eq!(
            values_in_section(&file, "shared", "aws_access_key_id"),
            [expected["AccessKeyId"].as_str().unwrap()],
            "round {round}: winner {winner}"
        );
        assert_eq!(
            values_in_section(&file, "shared", "aws_session_token"),
            [expected["SessionToken"].as_str().unwrap()],
            "round {round}: winner {winner}"
        );
    }
}

#[test]
fn the_profile_of_a_live_session_cannot_be_changed_by_an_edit() {
    let world = World::start();
    world.add_iam_user("solo", "first");
    world.rolehop(&["session", "start", "solo"]).ok();
    let before = world.peers.home().read_aws_credentials().unwrap();

    let refused = world
        .rolehop(&["session", "edit", "iam-user", "solo", "--profile", "second"])
        .fails_with(3);
    assert!(
        refused.stderr.starts_with(
            "rolehop: profile: session 'solo' is active under profile 'first'; stop it"
        ),
        "{refused:#?}"
    );
    assert_eq!(world.state_of("solo"), "active");
    assert_eq!(world.peers.home().read_aws_credentials().unwrap(), before);

    // Other fields still change while it is active; the profile once it is stopped,
    // and its credentials are gone from the old profile.
    world
        .rolehop(&[
            "session",
            "edit",
            "iam-user",
            "solo",
            "--region",
            "eu-west-1",
        ])
        .ok();
    world.rolehop(&["session", "stop", "solo"]).ok();
    world
        .rolehop(&["session", "edit", "iam-user", "solo", "--profile", "second"])
        .ok();
    let after = world
        .peers
        .home()
        .read_aws_credentials()
        .unwrap_or_default();
    assert!(!after.contains("[first]"), "{after}");
}

#[test]
fn removing_a_session_whose_credentials_cannot_be_withdrawn_still_deletes_its_keys() {
    let world = World::start();
    world.add_iam_user("doomed", "fragile");
    let id = world.session_id("doomed");
    let service = world.peers.home().keychain_service().to_owned();
    let account = format!("access-keys:{id}");
    world.rolehop(&["session", "start", "doomed"]).ok();
    assert!(
        world
            .peers
            .secret_service()
            .lookup(&service, &account)
            .unwrap()
            .is_some()
    );

    // A real fault the AWS files editor cannot get past: its credentials file is now a
    // directory (the tests run as root, so permissions would not stop it).
    let credentials = world.peers.home().aws_credentials_file();
    std::fs::remove_file(&credentials).unwrap();
    std::fs::create_dir(&credentials).unwrap();

    let failed = world
        .rolehop(&["session", "remove", "doomed"])
        .fails_with(9);
    assert!(
        failed.stderr.contains("could not be withdrawn"),
        "the withdraw failure is reported: {failed:#?}"
    );
    assert_eq!(
        world
            .peers
            .secret_service()
            .lookup(&service, &account)
            .unwrap(),
        None,
        "the keys are gone from the keychain"
    );
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn a_start_whose_process_died_shows_the_session_as_it_was_before() {
    let world = World::start_without_peers();
    world.rolehop(&["profile", "add", "orphaned"]).ok();

    // What a `rolehop session start` killed at its MFA prompt leaves behind: a pending
    // session claimed by a process that is gone (written by hand: no test can kill a
    // start at exactly that point reliably); and a pending session without a claim, as
    // files from before claims have them.
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let pid = dead.id();
    dead.wait().unwrap();
    let file = world.peers.home().rolehop_home().join("workspace.json");
    let mut ws: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let user = |name: &str, profile: &str| {
        serde_json::json!({
            "id": uuid::Uuid::new_v4().to_string(), "name": name, "profile": profile,
            "region": null, "state": {"state": "pending"},
            "kind": {"type": "iam-user", "mfa_serial": null, "session_duration": 3600, "account_id": null},
        })
    };
    let mut restarted = user("restarted", "kept");
    restarted["claim"] = serde_json::json!({
        "token": uuid::Uuid::new_v4().to_string(),
        "pid": pid,
        "before": {"state": "active", "expires_at": "2099-01-01T00:00:00Z"},
    });
    ws["sessions"] = serde_json::json!([restarted, user("idle", "orphaned")]);
    std::fs::write(&file, serde_json::to_vec(&ws).unwrap()).unwrap();

    assert_eq!(
        world.state_of("restarted"),
        "active",
        "as before that start"
    );
    assert_eq!(world.state_of("idle"), "inactive");
    // Nothing holds the idle session's profile any more: it can be renamed.
    world
        .rolehop(&["profile", "rename", "orphaned", "adopted"])
        .ok();
    assert_eq!(world.state_of("idle"), "inactive");
}
