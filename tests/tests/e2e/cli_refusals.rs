//! Every refusal of the command line: one line on stderr saying what failed and what
//! to do, the documented exit code, no stack trace, no secret, and nothing changed.

use crate::cli::World;
use rolehop_e2e::binaries::rolehop_bin;

/// STS at an address where nothing listens: a command that reached it would fail
/// with StsUnreachable (exit 6), not with the refusal a test expects.
const NO_STS: [(&str, &str); 2] = [
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9"),
];

fn session_names(world: &World) -> Vec<String> {
    world
        .rolehop(&["session", "list", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn access_keys_are_never_taken_from_a_flag_or_the_environment() {
    let world = World::start();
    let add = [
        "session",
        "add",
        "iam-user",
        "--name",
        "alice",
        "--profile",
        "staging",
    ];
    for flag in ["--access-key-id", "--secret-access-key"] {
        let mut args = add.to_vec();
        args.extend([flag, "AKIAIOSFODNN7EXAMPLE"]);
        let run = world.rolehop(&args);
        assert_eq!(run.code, Some(2), "{flag} accepted: {run:?}");
    }
    let from_env = [
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ];
    let run = world.rolehop_with(&add, &from_env, Some("")).fails_with(3);
    assert!(run.stderr.contains("standard input"), "{run:?}");
    let run = world
        .rolehop_with(&add, &from_env, Some("AKIAIOSFODNN7EXAMPLE\n"))
        .fails_with(3);
    assert!(run.stderr.contains("secret access key"), "{run:?}");
    assert!(session_names(&world).is_empty());
}

#[test]
fn an_mfa_code_that_is_not_six_digits_is_refused_before_any_aws_call() {
    let world = World::start();
    world.seed_story();
    for code in ["12345", "1234567", "12345a", "abcdef", "", "12 345"] {
        let run = world
            .rolehop_with(
                &["session", "start", "production", "--mfa-code", code],
                &NO_STS,
                None,
            )
            .fails_with(3);
        assert!(
            run.stderr.starts_with("rolehop: mfa_code: "),
            "{code:?}: {run:?}"
        );
    }
    assert_eq!(world.state_of("production"), "inactive");
}

#[test]
fn start_without_a_code_and_without_a_terminal_says_to_pass_mfa_code() {
    let world = World::start();
    world.seed_story();
    let run = world
        .rolehop_with(&["session", "start", "production"], &NO_STS, None)
        .fails_with(7);
    assert!(run.stderr.contains("--mfa-code"), "{run:?}");
    assert_eq!(world.state_of("production"), "failed");
    let list = world.rolehop(&["session", "list"]).ok().stdout;
    assert!(list.contains("failed: MfaRequired"), "{list}");
}

#[test]
fn credential_process_never_prompts_and_says_to_start_the_session_once() {
    let world = World::start();
    world.seed_story();
    let run = world
        .rolehop_with(&["credential-process", "production"], &NO_STS, None)
        .fails_with(7);
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr.contains("rolehop session start production"),
        "{run:?}"
    );
    assert_eq!(world.state_of("production"), "inactive", "nothing changed");
}

#[test]
fn errors_name_what_failed_with_their_exit_codes() {
    let world = World::start();
    world.seed_story();

    let run = world
        .rolehop(&["session", "start", "nobody", "--mfa-code", "123456"])
        .fails_with(4);
    assert!(run.stderr.contains("'nobody'"), "{run:?}");
    world
        .rolehop(&["credential-process", "nobody"])
        .fails_with(4);

    let run = world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "bad",
            "--parent",
            "alice",
            "--role-arn",
            "arn:aws:iam::12345:role/X",
            "--profile",
            "bad",
        ])
        .fails_with(3);
    assert!(run.stderr.starts_with("rolehop: role_arn: "), "{run:?}");

    let run = world
        .rolehop(&["profile", "add", "evil]\n[default"])
        .fails_with(3);
    assert!(run.stderr.starts_with("rolehop: profile: "), "{run:?}");

    let run = world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "short",
            "--parent",
            "codebuild",
            "--role-arn",
            "arn:aws:iam::123456789012:role/Short",
            "--profile",
            "short",
            "--duration",
            "7200",
        ])
        .fails_with(3);
    assert!(run.stderr.starts_with("rolehop: duration: "), "{run:?}");

    let run = world.rolehop(&["session", "remove", "alice"]).fails_with(5);
    // Both children named, in either order, and what to do.
    let refusal = run.stderr.trim_end();
    assert!(
        refusal.starts_with("rolehop: session 'alice' is the parent of ")
            && refusal.ends_with("; remove those first or ask for a cascade"),
        "{run:?}"
    );
    for child in ["'codebuild'", "'production'"] {
        assert!(refusal.contains(child), "{child}: {run:?}");
    }
    assert_eq!(session_names(&world), ["alice", "codebuild", "production"]);

    let run = world
        .rolehop(&["settings", "set", "delivery-mode", "carrier-pigeon"])
        .fails_with(3);
    assert!(
        run.stderr.starts_with(
            "rolehop: delivery-mode: 'carrier-pigeon' is not a mode; use credentials-file or \
             credential-process"
        ),
        "{run:?}"
    );
}

#[test]
fn no_secret_appears_in_any_output_or_in_the_workspace() {
    let world = World::start();
    let story = world.seed_story();
    let secret = story.alice.secret_access_key.as_str();
    let mut outputs = vec![
        world.rolehop(&["session", "list"]).ok(),
        world.rolehop(&["session", "list", "--json"]).ok(),
        world.rolehop(&["settings", "show", "--json"]).ok(),
        world
            .rolehop_with(&["session", "start", "production"], &NO_STS, None)
            .fails_with(7),
        world
            .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
            .ok(),
    ];
    // A second IAM user with the same keys fails on its name, not with its secret.
    let keys = format!("{}\n{secret}\n", story.alice.access_key_id);
    outputs.push(
        world
            .rolehop_with(
                &[
                    "session",
                    "add",
                    "iam-user",
                    "--name",
                    "alice",
                    "--profile",
                    "x",
                ],
                &[],
                Some(&keys),
            )
            .fails_with(3),
    );
    for run in &outputs {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "secret in {run:?}"
        );
    }
    let home = world.peers.home().rolehop_home();
    for entry in std::fs::read_dir(&home).unwrap() {
        let path = entry.unwrap().path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            assert!(!text.contains(secret), "secret in {}", path.display());
        }
    }
    // The keys are in the keyring, under this test's service.
    let listing = world
        .peers
        .secret_service()
        .search_all(world.peers.home().keychain_service())
        .unwrap();
    assert!(listing.contains("access-keys:"), "{listing}");
}

#[test]
fn every_command_has_help_and_completions_exist_for_three_shells() {
    let world = World::start_without_peers();
    let commands: &[&[&str]] = &[
        &[],
        &["profile"],
        &["profile", "add"],
        &["profile", "list"],
        &["profile", "remove"],
        &["profile", "rename"],
        &["session"],
        &["session", "add"],
        &["session", "add", "iam-user"],
        &["session", "add", "role"],
        &["session", "edit", "iam-user"],
        &["session", "edit", "role"],
        &["session", "list"],
        &["session", "start"],
        &["session", "stop"],
        &["session", "remove"],
        &["credential-process"],
        &["exec"],
        &["import", "aws-config"],
        &["settings", "set"],
        &["completions"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let run = world.rolehop(&args).ok();
        assert!(run.stdout.contains("Usage: rolehop"), "{args:?}: {run:?}");
    }
    let help = world.rolehop(&["--help"]).ok().stdout;
    assert!(help.contains("Exit codes"), "{help}");
    // Each script parses in its own shell (which `cargo xtask install` provides).
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", &["-n"][..]),
        ("zsh", &["-n"][..]),
        ("fish", &["--no-execute"][..]),
    ] {
        let script = world.rolehop(&["completions", shell]).ok().stdout;
        // The scripts ask `rolehop` for candidates (commands included): that they offer
        // `credential-process` is proven in each shell by `cli_completions`.
        assert!(script.contains("ROLEHOP_COMPLETE="), "{shell}: {script}");
        let file = dir.path().join(format!("rolehop.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let parsed = std::process::Command::new(shell)
            .args(check)
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{shell} runs (cargo xtask install): {e}"));
        assert!(
            parsed.status.success(),
            "{shell} cannot parse its completions: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
    }
    assert!(rolehop_bin().exists());
}

/// Issue 23, finding 9: `trust check --policy FILE` reads at most 64 KiB (IAM's own limit
/// on a trust policy is 4,096 characters): a larger file, or a device that never ends, is
/// refused naming the field, and nothing is read past the cap.
#[test]
fn trust_check_refuses_a_policy_file_over_64_kib_naming_the_field() {
    let world = World::start_without_peers();
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let filler = "x".repeat(70 * 1024);
    std::fs::write(
        &big,
        format!(r#"{{"Version":"2012-10-17","Sid":"{filler}"}}"#),
    )
    .unwrap();
    for file in [big.to_str().unwrap(), "/dev/zero"] {
        let refused = world
            .rolehop_with(
                &["trust", "check", "production", "--policy", file],
                &NO_STS,
                None,
            )
            .fails_with(3);
        assert!(
            refused.stderr.starts_with("rolehop: policy: cannot read")
                && refused.stderr.contains("64 KiB"),
            "{refused:?}"
        );
    }
}
