//! The session picker of `rolehop session start` and `rolehop exec` without a SESSION,
//! driven through a real pseudo-terminal (keys typed into its line discipline), with
//! moto and gnome-keyring behind the sessions it starts.

use crate::cli::World;

/// Two IAM users, alpha and bravo, with bravo used last (started, then stopped).
fn alpha_and_bravo() -> World {
    let world = World::start();
    world.add_iam_user("alpha", "alpha");
    world.add_iam_user("bravo", "bravo");
    world.rolehop(&["session", "start", "bravo"]).ok();
    world.rolehop(&["session", "stop", "bravo"]).ok();
    world
}

/// The session on the picker's first row (the one selected when it opens).
fn first_row(shown: &str) -> String {
    let after = shown
        .split("\n> ")
        .nth(1)
        .unwrap_or_else(|| panic!("no row: {shown}"));
    after
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn workspace_bytes(world: &World) -> Vec<u8> {
    std::fs::read(world.peers.home().rolehop_home().join("workspace.json")).expect("workspace")
}

#[test]
fn typing_a_filter_and_enter_starts_the_chosen_session_most_recent_listed_first() {
    let world = alpha_and_bravo();
    let mut terminal = world.on_terminal(&["session", "start"]);
    let shown = terminal.wait_for("IAM user");
    assert_eq!(first_row(&shown), "bravo", "{shown}");
    terminal.type_keys(b"alp");
    terminal.wait_for("Esc cancels): alp");
    terminal.type_keys(b"\r");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("started 'alpha'"), "{shown}");
    assert_eq!(world.state_of("alpha"), "active");
    assert_eq!(world.state_of("bravo"), "inactive");
}

#[test]
fn exec_picks_with_the_arrows_runs_the_command_and_is_listed_first_next_time() {
    let world = alpha_and_bravo();
    let mut terminal = world.on_terminal(&[
        "exec",
        "--",
        "sh",
        "-c",
        "echo \"ran as $ROLEHOP_EXEC_SESSION ${AWS_SESSION_TOKEN:+with a session token}\"",
    ]);
    terminal.wait_for("IAM user");
    terminal.type_keys(b"\x1b[B"); // ↓: from bravo (used last) to alpha
    terminal.type_keys(b"\r");
    let (code, shown) = terminal.wait();
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        shown.contains("ran as alpha with a session token"),
        "{shown}"
    );

    let mut terminal = world.on_terminal(&["session", "start"]);
    let shown = terminal.wait_for("IAM user");
    assert_eq!(first_row(&shown), "alpha", "exec counts as a use: {shown}");
    terminal.type_keys(b"\x03");
    terminal.wait();
}

#[test]
fn escape_or_ctrl_c_in_the_picker_cancels_and_changes_nothing() {
    let world = alpha_and_bravo();
    let before = workspace_bytes(&world);
    for (args, key) in [
        (&["session", "start"][..], &b"\x1b"[..]),
        (&["session", "start"][..], &b"br\x03"[..]),
        (&["exec", "--", "true"][..], &b"\x1b"[..]),
    ] {
        let mut terminal = world.on_terminal(args);
        terminal.wait_for("IAM user");
        terminal.type_keys(key);
        let (code, shown) = terminal.wait();
        assert_eq!(code, Some(130), "{args:?}: {shown}");
        assert!(shown.contains("cancelled, nothing changed"), "{shown}");
        assert!(terminal.echoes(), "the terminal is back to cooked mode");
    }
    assert_eq!(workspace_bytes(&world), before);
}

#[test]
fn without_a_terminal_a_missing_session_is_a_usage_error_naming_it() {
    let world = World::start_without_peers();
    for args in [&["session", "start"][..], &["exec", "--", "true"][..]] {
        let run = world.rolehop(args).fails_with(2);
        assert!(run.stderr.contains("<SESSION>"), "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
}
