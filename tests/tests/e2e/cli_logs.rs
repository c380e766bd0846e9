//! Logs at their most verbose name what happened and never a secret.
//!
//! The CLI at `ROLEHOP_LOG=trace` and `-vv`, against moto and a private gnome-keyring:
//! an IAM user with MFA whose keys go in through standard input, a role chain started
//! with one MFA code, its credentials read back, a start AWS refuses, a stop. Then
//! a rotation, which only a long-running host does: the engine in this process, with the
//! subscriber the hosts install (`rolehop_logs::install`) writing to memory. Neither
//! log may hold the secret access keys, the session tokens moto handed out, or the MFA
//! code; both must show the starts, stops, rotation and STS calls (action, hop, AWS's
//! request id). `LOG_SENSITIVE_BODIES=true` is set throughout: it makes the SDK's own
//! trace lines print HTTP bodies (a `GetSessionToken`'s `TokenCode`, STS's answer),
//! which only Rolehop's ceiling on other crates' levels keeps out of the log.

use std::io::Write;
use std::sync::{Arc, Mutex};

use rolehop_core::{NewIamUser, NewRole, StartOptions};

use crate::cli::World;
use crate::engine::{self, CountingPrompt};

/// The SDK's switch that puts HTTP bodies in its trace lines.
const SDK_BODIES: (&str, &str) = ("LOG_SENSITIVE_BODIES", "true");
/// An MFA code no log line may contain (moto accepts any six digits).
const MFA_CODE: &str = "731946";
/// The long-lived secret of a key moto does not know.
const UNKNOWN_SECRET: &str = "mallorys-secret-access-key-never-logged-0";

/// Whether `log` contains `code` as a number of its own: a timestamp's microseconds
/// (`.731946Z`) or a duration's decimals are not the code.
fn contains_code(log: &str, code: &str) -> bool {
    log.match_indices(code).any(|(at, _)| {
        let before = log[..at].chars().next_back();
        let after = log[at + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// Panics, naming the kind of secret, if any of `secrets` is in `log`.
#[track_caller]
fn assert_no_secret(log: &str, secrets: &[(String, &str)]) {
    for (secret, what) in secrets {
        assert!(!secret.is_empty(), "{what} was not collected");
        assert!(
            !log.contains(secret.as_str()),
            "the log holds {what}:\n{log}"
        );
    }
    assert!(
        !contains_code(log, MFA_CODE),
        "the log holds the MFA code:\n{log}"
    );
}

/// The secret access key and session token of a `credential-process` answer.
fn secrets_of(answer: &serde_json::Value, hop: &str) -> Vec<(String, &'static str)> {
    ["SecretAccessKey", "SessionToken"]
        .iter()
        .map(|field| {
            let value = answer[field].as_str().unwrap_or_default().to_owned();
            assert!(!value.is_empty(), "{hop}: no {field} in {answer}");
            (value, *field)
        })
        .collect()
}

#[test]
fn the_cli_at_trace_logs_starts_stops_and_sts_calls_but_no_secret() {
    let world = World::start()
        .with_env("ROLEHOP_LOG", "trace")
        .with_env(SDK_BODIES.0, SDK_BODIES.1);
    let mut log = String::new();
    // `seed_story` keeps its commands' output: mallory's keys, below, are the ones
    // whose way in through standard input is checked.
    let story = world.seed_story();
    let started = world
        .rolehop(&["session", "start", "production", "--mfa-code", MFA_CODE])
        .ok();
    for line in [
        "start{session=\"production\"}",
        "action=\"GetSessionToken\"",
        "hop=alice",
        "action=\"AssumeRole\"",
        "hop=codebuild",
        "hop=production",
        "session state",
    ] {
        assert!(
            started.stderr.contains(line),
            "no {line:?} in:\n{}",
            started.stderr
        );
    }
    assert!(
        !started.stderr.contains("request_id=\"none\""),
        "every STS call names AWS's request id:\n{}",
        started.stderr
    );
    log.push_str(&started.stderr);

    let mut secrets = vec![(story.alice.secret_access_key.clone(), "alice's secret key")];
    for hop in ["alice", "codebuild", "production"] {
        let answer = world.rolehop(&["credential-process", hop]).ok();
        // Standard output is the AWS CLI's: nothing but the JSON, logs or not.
        secrets.extend(secrets_of(&answer.json(), hop));
        log.push_str(&answer.stderr);
    }

    // A start AWS refuses, at -vv and -vvv (the flag wins over ROLEHOP_LOG).
    world.peers.moto().enable_auth().expect("moto auth");
    let keys = format!("AKIAUNKNOWNKEY000000\n{UNKNOWN_SECRET}\n");
    let added = world.rolehop_with(
        &[
            "session",
            "add",
            "iam-user",
            "--name",
            "mallory",
            "--profile",
            "mallory",
        ],
        &[],
        Some(&keys),
    );
    log.push_str(&added.ok().stderr);
    for verbose in ["-vv", "-vvv"] {
        let refused = world.rolehop(&[verbose, "session", "start", "mallory"]);
        assert_eq!(refused.code, Some(6), "{refused:#?}");
        for line in ["STS call failed", "InvalidClientTokenId", "hop=mallory"] {
            assert!(
                refused.stderr.contains(line),
                "{verbose}: no {line:?} in:\n{}",
                refused.stderr
            );
        }
        log.push_str(&refused.stderr);
    }
    secrets.push((UNKNOWN_SECRET.to_owned(), "mallory's secret key"));

    let stopped = world
        .rolehop(&["-vv", "session", "stop", "production"])
        .ok();
    assert!(
        stopped.stderr.contains("stop{session=\"production\"}"),
        "{}",
        stopped.stderr
    );
    log.push_str(&stopped.stderr);

    assert_no_secret(&log, &secrets);
}

#[test]
fn the_cli_logs_nothing_but_its_own_warnings_unless_asked() {
    let world = World::start();
    world.seed_story();
    let started = world
        .rolehop(&["session", "start", "production", "--mfa-code", MFA_CODE])
        .ok();
    assert_eq!(started.stderr, "", "nothing asked, nothing logged");
    let verbose = world.rolehop(&["-v", "session", "stop", "production"]).ok();
    assert!(
        verbose.stderr.contains("session state"),
        "{}",
        verbose.stderr
    );
    assert!(!verbose.stderr.contains("DEBUG"), "{}", verbose.stderr);
}

/// Log lines kept in memory, as the hosts' file or stderr would get them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

#[test]
fn a_rotation_at_trace_logs_its_sts_calls_but_no_secret() {
    let peers = engine::peers();
    // SAFETY: no other thread exists yet (nextest runs each test in its own process).
    unsafe { std::env::set_var(SDK_BODIES.0, SDK_BODIES.1) };
    let captured = Captured::default();
    let sink = captured.clone();
    rolehop_logs::install(
        move || sink.clone(),
        &rolehop_logs::Request::Directives("trace".into()),
        rolehop_logs::LevelFilter::INFO,
    )
    .expect("the first subscriber of this process");

    let secrets = engine::runtime().block_on(async {
        let engine = engine::open(&peers, CountingPrompt::answering(MFA_CODE)).await;
        let alice = peers.moto().create_user("alice").unwrap();
        let mfa_serial = peers.moto().create_mfa_device("alice").unwrap();
        let role_arn = peers
            .moto()
            .create_role("CodeBuildRole", &alice.arn)
            .unwrap();
        engine
            .add_iam_user(
                NewIamUser {
                    name: "alice".into(),
                    profile: "staging".into(),
                    mfa_serial: Some(mfa_serial),
                    ..Default::default()
                },
                alice.access_keys(),
            )
            .await
            .unwrap();
        engine
            .add_role(NewRole {
                name: "codebuild".into(),
                profile: "codebuild".into(),
                parent: "alice".into(),
                role_arn,
                ..Default::default()
            })
            .await
            .unwrap();

        engine
            .start("codebuild", StartOptions::default())
            .await
            .unwrap();
        let (_, user) = engine.credentials("alice", None, false).await.unwrap();
        let (_, before) = engine.credentials("codebuild", None, false).await.unwrap();
        engine.rotate("codebuild").await.unwrap();
        let (_, after) = engine.credentials("codebuild", None, false).await.unwrap();
        assert_ne!(
            before.access_key_id, after.access_key_id,
            "the rotation got new keys"
        );
        engine.stop("codebuild").await.unwrap();
        engine.flush().await.unwrap();

        let mut secrets = vec![(alice.secret_access_key, "alice's secret key")];
        for (c, hop) in [
            (user, "alice's"),
            (before, "the first"),
            (after, "the rotated"),
        ] {
            secrets.push((c.secret_access_key.to_string(), hop));
            let token = c.session_token.as_ref().map(|t| t.to_string());
            secrets.push((token.unwrap_or_default(), hop));
        }
        secrets
    });
    let log = captured.text();
    for line in [
        "start{session=\"codebuild\"}",
        "rotate{session=\"codebuild\"}",
        "stop{session=\"codebuild\"}",
        "action=\"GetSessionToken\"",
        "action=\"AssumeRole\"",
        "hop=codebuild",
        "duration=",
        "request_id=",
    ] {
        assert!(log.contains(line), "no {line:?} in:\n{log}");
    }
    let rotation = log
        .lines()
        .skip_while(|l| !l.contains("rotate{"))
        .find(|l| l.contains("action=\"AssumeRole\""));
    assert!(
        rotation.is_some(),
        "the rotation's AssumeRole is logged:\n{log}"
    );
    // No AWS client probes EC2's instance metadata for a region (off EC2, a connection
    // attempt to 169.254.169.254 on every process's first call).
    assert!(!log.contains("imds"), "a client probed IMDS:\n{log}");
    assert_no_secret(&log, &secrets);
}
