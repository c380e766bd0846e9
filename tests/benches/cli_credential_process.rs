//! What a tool pays per credential fetch, in one run against one moto:
//! (a) `rolehop credential-process production` on a started session (cached: no STS
//! call, one keychain read), (b) `aws sts assume-role` for the same role with the AWS
//! CLI, (c) a boto3 script making the same `AssumeRole` call. Each sample is a whole
//! process, start to exit, as the AWS CLI experiences a `credential_process`. Rounds are
//! interleaved so that background load hits all of them alike.
//!
//! Two more rolehop runs split (a) by subtraction: `rolehop --version` (process start,
//! argument parsing, exit) and `rolehop credential-process no-such-session` (that plus
//! the runtime, the engine and the workspace read, failing before the keychain). What
//! is left of (a) is the keychain: the D-Bus connection, the encrypted session, the
//! search, the decryption, and the JSON answer. (The command opens the keychain's
//! connection while it reads the workspace, so the failing run pays for part of that
//! connection too: the split leans toward the workspace side.)
//!
//! (a) is measured twice, interleaved: as shipped, answered from the kernel keyring's
//! copy of the active session (`kernel_cache.rs`), and with that copy turned off
//! (`ROLEHOP_KERNEL_CACHE=0`, the keychain answers: the path before the copy existed).
//!
//! Run: `cargo build --release -p rolehop-cli && cargo bench -p rolehop-e2e --bench
//! cli_credential_process` (or `cargo xtask bench`, which builds every binary).
//! `ROLEHOP_BENCH_BIN=target/release/rolehop cargo bench --profile dev ...` times that
//! binary from a harness built in debug (no release build of the harness).
//! Goals: (a) median at most 5 ms and at most 3× `rolehop --version`; (a) at least 25×
//! faster than (b).

#[allow(dead_code)] // the suites use the rest of it
#[path = "../tests/e2e/cli.rs"]
mod cli;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli::{DEPLOY_ROLE, World};
use rolehop_e2e::binaries::bench_bin;
use rolehop_e2e::{aws_cli, python};

const ROUNDS: usize = 20;
/// Rolehop runs per round: it is cheap, and its median deserves more samples.
const ROLEHOP_PER_ROUND: usize = 5;

const BOTO3_SCRIPT: &str = r#"
import os, boto3
boto3.client("sts").assume_role(RoleArn=os.environ["ROLE_ARN"], RoleSessionName="bench")
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed(f: impl FnOnce() -> bool, what: &str) -> Duration {
    let start = Instant::now();
    let ok = f();
    let took = start.elapsed();
    assert!(ok, "{what} failed");
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();

    let rolehop = bench_bin();
    let env = world.env();
    let mut keys_env = env.clone();
    keys_env.extend([
        (
            "AWS_ACCESS_KEY_ID".to_owned(),
            story.alice.access_key_id.clone(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            story.alice.secret_access_key.clone(),
        ),
        ("AWS_DEFAULT_REGION".to_owned(), "us-east-1".to_owned()),
        ("ROLE_ARN".to_owned(), DEPLOY_ROLE.to_owned()),
    ]);

    let rolehop_run = |args: &[&str]| {
        Command::new(&rolehop)
            .args(args)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
    };
    let run_rolehop = || {
        rolehop_run(&["credential-process", "production"])
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"{"))
    };
    let run_keychain_only = || {
        Command::new(&rolehop)
            .args(["credential-process", "production"])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("ROLEHOP_KERNEL_CACHE", "0")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"{"))
    };
    let run_version = || rolehop_run(&["--version"]).is_ok_and(|o| o.status.success());
    // Exit code 4: not found (README's exit codes); anything else would be a different path.
    let run_no_session = || {
        rolehop_run(&["credential-process", "no-such-session"])
            .is_ok_and(|o| o.status.code() == Some(4))
    };
    let run_aws = || {
        let args = [
            "sts",
            "assume-role",
            "--role-arn",
            DEPLOY_ROLE,
            "--role-session-name",
            "bench",
            "--output",
            "json",
        ];
        aws_cli(args, keys_env.clone()).is_ok_and(|o| o.status.success())
    };
    let run_boto3 = || python(BOTO3_SCRIPT, keys_env.clone()).is_ok_and(|o| o.status.success());

    // Warm every path once (page cache, moto's lazy imports, Python's bytecode cache).
    timed(run_rolehop, "rolehop credential-process");
    timed(
        run_keychain_only,
        "rolehop credential-process, keychain only",
    );
    timed(run_version, "rolehop --version");
    timed(run_no_session, "rolehop credential-process no-such-session");
    timed(run_aws, "aws sts assume-role");
    timed(run_boto3, "boto3 assume_role");

    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let (mut version, mut no_session, mut keychain_only) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for _ in 0..ROLEHOP_PER_ROUND {
            a.push(timed(run_rolehop, "rolehop credential-process"));
            keychain_only.push(timed(
                run_keychain_only,
                "rolehop credential-process, keychain only",
            ));
            version.push(timed(run_version, "rolehop --version"));
            no_session.push(timed(
                run_no_session,
                "rolehop credential-process no-such-session",
            ));
        }
        b.push(timed(run_aws, "aws sts assume-role"));
        c.push(timed(run_boto3, "boto3 assume_role"));
    }
    let (na, nb, nc) = (a.len(), b.len(), c.len());
    let (a, b, c) = (median(a), median(b), median(c));
    let (version, no_session) = (median(version), median(no_session));
    let keychain_only = median(keychain_only);
    println!("credential fetch, whole process, median of interleaved rounds:");
    println!(
        "  rolehop credential-process (cached)  {:8.2} ms  (n={na})",
        ms(a)
    );
    println!(
        "  ... kernel copy off (keychain only)  {:8.2} ms  (n={na})",
        ms(keychain_only)
    );
    println!(
        "  rolehop --version                    {:8.2} ms  (n={na})",
        ms(version)
    );
    println!(
        "  rolehop credential-process (no such) {:8.2} ms  (n={na})",
        ms(no_session)
    );
    println!(
        "  split of (a): process start {:.2} ms, runtime + engine + workspace {:+.2} ms, \
         keychain + answer {:+.2} ms",
        ms(version),
        ms(no_session) - ms(version),
        ms(a) - ms(no_session)
    );
    let ratio = a.as_secs_f64() / version.as_secs_f64();
    println!("  credential-process / --version       {ratio:8.2}x");
    println!(
        "  keychain only / --version            {:8.2}x",
        keychain_only.as_secs_f64() / version.as_secs_f64()
    );
    println!(
        "  aws sts assume-role (AWS CLI)        {:8.1} ms  (n={nb})",
        ms(b)
    );
    println!(
        "  boto3 assume_role script             {:8.1} ms  (n={nc})",
        ms(c)
    );
    println!(
        "  rolehop is {:.0}x faster than the AWS CLI and {:.0}x faster than boto3",
        b.as_secs_f64() / a.as_secs_f64(),
        c.as_secs_f64() / a.as_secs_f64()
    );
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "goals: median <= 5 ms: {}; <= 3x --version: {}; >= 25x the AWS CLI: {}",
        verdict(ms(a) <= 5.0),
        verdict(ratio <= 3.0),
        verdict(b.as_secs_f64() / a.as_secs_f64() >= 25.0)
    );
}
