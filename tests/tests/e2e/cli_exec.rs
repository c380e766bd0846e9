//! `rolehop exec SESSION -- COMMAND`: the command's environment, its exit code, and
//! the refusal to nest.

use crate::cli::{PRODUCTION, World, assumed, env_of};
use rolehop_e2e::binaries::rolehop_bin;
use rolehop_e2e::venv_bin;

#[test]
fn exec_runs_the_command_with_the_sessions_credentials_and_no_profile() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let answer = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();

    let run = world
        .rolehop_with(
            &["exec", "production", "--", "env"],
            &[
                ("AWS_PROFILE", "staging"),
                ("AWS_DEFAULT_PROFILE", "staging"),
            ],
            None,
        )
        .ok();
    let env = env_of(&run.stdout);
    assert_eq!(env["AWS_ACCESS_KEY_ID"], answer["AccessKeyId"]);
    assert_eq!(env["AWS_SECRET_ACCESS_KEY"], answer["SecretAccessKey"]);
    assert_eq!(env["AWS_SESSION_TOKEN"], answer["SessionToken"]);
    assert_eq!(env["AWS_CREDENTIAL_EXPIRATION"], answer["Expiration"]);
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert!(!env.contains_key("AWS_PROFILE"), "{env:?}");
    assert!(!env.contains_key("AWS_DEFAULT_PROFILE"), "{env:?}");

    let aws = venv_bin("aws");
    let identity = world
        .rolehop(&[
            "exec",
            "production",
            "--",
            aws.to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(
        identity["Arn"],
        assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production")
    );
}

#[test]
fn exec_passes_the_commands_exit_code_through() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    let run = world.rolehop(&["exec", "alice", "--", "sh", "-c", "echo out; exit 42"]);
    assert_eq!(run.code, Some(42), "{run:?}");
    assert_eq!(run.stdout, "out\n");
    world.rolehop(&["exec", "alice", "--", "true"]).ok();
    world
        .rolehop(&["exec", "alice", "--", "no-such-command-anywhere"])
        .fails_with(127);
}

#[test]
fn exec_refuses_to_nest_unless_forced() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    let rolehop = rolehop_bin();
    let rolehop = rolehop.to_str().unwrap();

    let nested = world.rolehop(&[
        "exec", "alice", "--", rolehop, "exec", "alice", "--", "true",
    ]);
    let nested = nested.fails_with(5);
    assert!(
        nested.stderr.starts_with(
            "rolehop: already inside `rolehop exec` for session 'alice'; pass --force"
        ),
        "{nested:?}"
    );

    // Forced, the inner exec of another session wins: the command inside acts as it.
    let inner = world
        .rolehop(&[
            "exec",
            "alice",
            "--",
            rolehop,
            "exec",
            "production",
            "--force",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
            "--query",
            "Arn",
            "--output",
            "text",
        ])
        .ok();
    assert_eq!(
        inner.stdout.trim(),
        assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production")
    );
}

#[test]
fn exec_without_a_cached_token_needs_an_mfa_code_and_takes_one() {
    let world = World::start();
    world.seed_story();
    let refused = world
        .rolehop(&["exec", "production", "--", "true"])
        .fails_with(7);
    assert!(refused.stderr.contains("--mfa-code"), "{refused:?}");

    world
        .rolehop(&["exec", "production", "--mfa-code", "12345", "--", "true"])
        .fails_with(3);
    world
        .rolehop(&["exec", "production", "--mfa-code", "123456", "--", "true"])
        .ok();
    // The token it obtained is cached for the next command.
    world.rolehop(&["exec", "production", "--", "true"]).ok();
}
