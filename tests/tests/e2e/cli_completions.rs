//! Issue 27, part 1 (pickers), the command line's half: bash, zsh and fish complete
//! session, profile and region names from the workspace, through the script
//! `rolehop completions SHELL` prints, run by the real shells; and `settings` knows
//! `close-without-tray`.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use rolehop_e2e::binaries::rolehop_bin;

use crate::cli::{Run, World};

/// Profiles `prod`, `prod-eu` and `staging`, with sessions `prod-admin` (on prod),
/// `prod-ops` (on prod-eu) and `staging-ci` (on staging).
fn seeded() -> World {
    let world = World::start();
    world.add_iam_user("prod-admin", "prod");
    world.add_iam_user("prod-ops", "prod-eu");
    world.add_iam_user("staging-ci", "staging");
    world
}

/// `script` run by `shell ARGS -c script` with the world's environment and the built
/// `rolehop` first on PATH (the completion scripts call `rolehop` by name).
fn in_shell(world: &World, shell: &str, args: &[&str], script: &str) -> Run {
    let bin_dir = rolehop_bin().parent().expect("bin dir").to_path_buf();
    let mut env = world.env();
    for (k, v) in env.iter_mut() {
        if k == "PATH" {
            *v = format!("{}:{v}", bin_dir.display());
        }
    }
    let out = Command::new(shell)
        .args(args)
        .arg("-c")
        .arg(script)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{shell} runs: {e}"));
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What bash offers for `line` (words split on spaces; the last one is completed, "" for a
/// fresh word): the script sourced, its function called as bash's `complete -F` would.
fn bash_offers(world: &World, line: &str) -> Run {
    let words: Vec<&str> = line.split(' ').collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().expect("a word");
    let previous = words[words.len() - 2];
    let script = format!(
        "source <(rolehop completions bash) || exit 90
complete -p rolehop >/dev/null || exit 91
COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9
_clap_complete_rolehop rolehop '{current}' '{previous}'
printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    in_shell(world, "bash", &["--norc", "--noprofile"], &script)
}

/// What fish offers for `line`: `complete -C`, fish's own query of its completions, with
/// the script sourced (each line is `candidate<TAB>description`).
fn fish_offers(world: &World, line: &str) -> Run {
    let script = format!(
        "rolehop completions fish | source; or exit 90
complete -C '{line}'"
    );
    in_shell(world, "fish", &["--no-config"], &script)
}

/// What zsh's completion function hands to compsys for `line`. zsh's completion widgets
/// run only inside the line editor of an interactive shell, so `compdef` and `_describe`
/// (compsys's, which would draw the menu) are stand-ins that print what they are given;
/// the script's own function, its call back into `rolehop` and its parsing run in zsh.
fn zsh_offers(world: &World, line: &str) -> Run {
    let words: Vec<&str> = line.split(' ').collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "compdef() {{ registered=\"$*\" }}
_describe() {{ local name=${{@[-1]}}; [[ $name == -* ]] && name=$3; print -rl -- ${{(P)name}} }}
source <(rolehop completions zsh) || exit 90
[[ $registered == '_clap_dynamic_completer_rolehop rolehop' ]] || exit 91
words=({words}); CURRENT={current}
_clap_dynamic_completer_rolehop",
        words = quoted.join(" "),
        current = words.len(),
    );
    in_shell(world, "zsh", &["-f"], &script)
}

/// The candidates (a description after a tab or, for zsh, a colon dropped).
fn candidates(run: Run, description_separator: char) -> BTreeSet<String> {
    let run = run.ok();
    assert_eq!(run.stderr, "", "a completion prints nothing else: {run:#?}");
    run.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(description_separator)
                .next()
                .unwrap_or(l)
                .to_owned()
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

const LINES: [(&str, &[&str]); 9] = [
    ("rolehop cred", &["credential-process"]),
    ("rolehop session start prod-", &["prod-admin", "prod-ops"]),
    ("rolehop trust check st", &["staging-ci"]),
    ("rolehop console prod-a", &["prod-admin"]),
    ("rolehop exec staging", &["staging-ci"]),
    (
        "rolehop trust check prod-ops --via prod-",
        &["prod-admin", "prod-ops"],
    ),
    ("rolehop session list --profile pro", &["prod", "prod-eu"]),
    (
        "rolehop session add iam-user --region eu-west-",
        &["eu-west-1", "eu-west-2", "eu-west-3"],
    ),
    (
        "rolehop session edit role prod-admin --region ap-northeast-",
        &["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
    ),
];

/// Every line of [`LINES`] offered, in one shell, exactly the expected candidates.
fn offers_every_line(shell: &str, offers: fn(&World, &str) -> Run, separator: char) {
    let world = seeded();
    for (line, expected) in LINES {
        let offered = candidates(offers(&world, line), separator);
        assert_eq!(offered, set(expected), "{shell}: {line}");
    }
}

#[test]
fn part1_bash_completes_session_profile_and_region_names() {
    offers_every_line("bash", bash_offers, '\t');
}

#[test]
fn part1_fish_completes_session_profile_and_region_names() {
    offers_every_line("fish", fish_offers, '\t');
}

#[test]
fn part1_zsh_completes_session_profile_and_region_names() {
    offers_every_line("zsh", zsh_offers, ':');
}

/// An unreadable workspace completes nothing and says nothing; a workspace locked by a
/// writer (as a `session start` holds it) is not waited for.
#[test]
fn part1_a_completion_is_silent_on_errors_and_never_waits_for_the_lock() {
    let world = World::start_without_peers();
    world.rolehop(&["profile", "add", "prod"]).ok();
    let home = world.peers.home().rolehop_home();

    // Held exclusively (as a writer holds it) for as long as the completion runs.
    let lock = std::fs::File::create(home.join("workspace.lock")).expect("lock file");
    lock.lock().expect("exclusive lock");
    let offered = in_shell(
        &world,
        "bash",
        &["--norc", "--noprofile"],
        "ROLEHOP_COMPLETE=fish timeout 20 rolehop -- rolehop session list --profile pr",
    );
    lock.unlock().expect("unlock");
    assert_eq!(candidates(offered, '\t'), set(&["prod"]));

    std::fs::write(home.join("workspace.json"), b"{ not json").expect("spoil");
    for line in [
        "rolehop session start p",
        "rolehop session list --profile p",
    ] {
        assert_eq!(
            candidates(bash_offers(&world, line), '\t'),
            set(&[]),
            "{line}"
        );
        assert_eq!(
            candidates(fish_offers(&world, line), '\t'),
            set(&[]),
            "{line}"
        );
    }
    // Regions need no workspace.
    assert_eq!(
        candidates(
            fish_offers(&world, "rolehop session add role --region us-gov-"),
            '\t'
        ),
        set(&["us-gov-east-1", "us-gov-west-1"])
    );
}

#[test]
fn part1_settings_close_without_tray_round_trips_and_a_bad_value_is_refused_naming_it() {
    let world = World::start_without_peers();
    let shown = world.rolehop(&["settings", "show"]).ok().stdout;
    assert!(shown.contains("close-without-tray  ask"), "{shown}");
    for (value, json) in [
        ("keep-running", "keep-running"),
        ("quit", "quit"),
        ("ask", "ask"),
    ] {
        let said = world
            .rolehop(&["settings", "set", "close-without-tray", value])
            .ok()
            .stdout;
        assert!(
            said.contains(&format!("close-without-tray  {value}")),
            "{said}"
        );
        let read = world.rolehop(&["settings", "show", "--json"]).ok().json();
        assert_eq!(read["close_without_tray"], json);
    }
    world
        .rolehop(&["settings", "set", "close-without-tray", "quit"])
        .ok();
    let refused = world
        .rolehop(&["settings", "set", "close-without-tray", "minimize"])
        .fails_with(3);
    assert!(
        refused.stderr.contains("close-without-tray: 'minimize'"),
        "{refused:#?}"
    );
    let read = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert_eq!(
        read["close_without_tray"], "quit",
        "a refusal changes nothing"
    );
    world
        .rolehop(&["settings", "unset", "close-without-tray"])
        .ok();
    let read = world.rolehop(&["settings", "show", "--json"]).ok().json();
    assert_eq!(read["close_without_tray"], "ask");
}
