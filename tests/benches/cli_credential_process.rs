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
//! (b) and (c) make a live `AssumeRole`; (a) answers from a cache. The like-for-like
//! baseline is (e): the AWS CLI v2 serving a role profile from *its* cache with
//! `aws configure export-credentials --profile P` (the same `credential_process` JSON
//! Rolehop prints), the profile's assumed credentials already in `~/.aws/cli/cache`
//! (the CLI's JSON cache of AssumeRole answers). It is Debian's AWS CLI v2
//! (`/usr/bin/aws`, package `awscli`): PyPI's awscli, the suites' consumer, is v1 and
//! has no `export-credentials`. v2.9 cannot be pointed at moto (it predates
//! `AWS_ENDPOINT_URL`), so v1 fills the cache once (the cache key and file are the same
//! in both) and the bench checks that v2 answers the cached key. (d) is v1's nearest
//! command, `aws configure list --profile P`, which resolves the same cached credentials
//! and prints them masked; kept beside (e) as the figure published before.
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
use rolehop_e2e::timing::{median, ms};
use rolehop_e2e::{aws_cli, python};

const ROUNDS: usize = 20;
/// Debian's AWS CLI v2 (package `awscli`), for `configure export-credentials`.
const AWS_CLI_V2: &str = "/usr/bin/aws";
/// Rolehop runs per round: it is cheap, and its median deserves more samples.
const ROLEHOP_PER_ROUND: usize = 5;

const BOTO3_SCRIPT: &str = r#"
import os, boto3
boto3.client("sts").assume_role(RoleArn=os.environ["ROLE_ARN"], RoleSessionName="bench")
"#;

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
    // (d): the AWS CLI's own cache. A role profile chained from a profile with alice's
    // keys, in files of its own, with a HOME that keeps `~/.aws/cli/cache` between runs.
    let cli_home = tempfile::tempdir().expect("tempdir");
    let config = cli_home.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile bench-source]\naws_access_key_id = {}\naws_secret_access_key = {}\n\
             region = us-east-1\n\n[profile bench-role]\nrole_arn = {DEPLOY_ROLE}\n\
             source_profile = bench-source\nrole_session_name = bench\nregion = us-east-1\n",
            story.alice.access_key_id, story.alice.secret_access_key
        ),
    )
    .expect("the AWS CLI's config");
    let credentials = cli_home.path().join("credentials");
    std::fs::write(&credentials, "").expect("an empty credentials file");
    let mut cached_env: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS_KEY") && !k.starts_with("AWS_SECRET"))
        .cloned()
        .collect();
    cached_env.extend([
        ("HOME".to_owned(), cli_home.path().display().to_string()),
        ("AWS_CONFIG_FILE".to_owned(), config.display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
            credentials.display().to_string(),
        ),
    ]);
    let run_aws_cached = || {
        // The AWS CLI here is v1 (PyPI's awscli), which has no `configure
        // export-credentials`; `configure list` resolves the profile's credentials the
        // same way (the assume-role provider over the CLI's JSON file cache) and prints
        // them masked, with no AWS call once the cache holds them.
        let args = ["configure", "list", "--profile", "bench-role"];
        aws_cli(args, cached_env.clone()).is_ok_and(|o| {
            if !o.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&o.stderr));
            }
            o.status.success()
        })
    };

    // (e): the AWS CLI v2 on the same files and cache, in a clean environment.
    let v2_version = Command::new(AWS_CLI_V2).arg("--version").output();
    let v2_version = v2_version
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        v2_version.starts_with("aws-cli/2."),
        "{AWS_CLI_V2} is not the AWS CLI v2 ({v2_version:?}): install Debian's awscli \
         (`cargo xtask install` does)"
    );
    let export_credentials = || {
        Command::new(AWS_CLI_V2)
            .args(["configure", "export-credentials", "--profile", "bench-role"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(cached_env.iter().map(|(k, v)| (k, v)))
            .output()
    };
    let run_aws_v2_cached = || {
        export_credentials().is_ok_and(|o| {
            if !o.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&o.stderr));
            }
            o.status.success()
        })
    };

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
    timed(run_aws_cached, "aws configure list (cached)");
    let cache = cli_home.path().join(".aws/cli/cache");
    let cached = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert!(
        cached > 0,
        "the AWS CLI kept no assumed credentials in {}: (d) would not be a cached read",
        cache.display()
    );
    // v2 must answer the key v1 cached: it cannot reach moto, so anything else would be
    // a failure, not a cached read.
    let exported = export_credentials().expect("aws configure export-credentials runs");
    let exported: serde_json::Value = serde_json::from_slice(&exported.stdout)
        .unwrap_or_else(|e| panic!("export-credentials printed no JSON ({e}): {exported:?}"));
    let cached_key = std::fs::read_dir(&cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|f| std::fs::read(f.path()).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .find_map(|v| v["Credentials"]["AccessKeyId"].as_str().map(str::to_owned));
    assert_eq!(
        exported["AccessKeyId"].as_str(),
        cached_key.as_deref(),
        "(e) answered other credentials than the cache holds: {exported}"
    );
    timed(
        run_aws_v2_cached,
        "aws configure export-credentials (cached)",
    );

    let (mut a, mut b, mut c, mut d) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut e = Vec::new();
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
        d.push(timed(run_aws_cached, "aws configure list (cached)"));
        e.push(timed(
            run_aws_v2_cached,
            "aws configure export-credentials (cached)",
        ));
    }
    let (ne, e) = (e.len(), median(e));
    let (na, nb, nc, nd) = (a.len(), b.len(), c.len(), d.len());
    let (a, b, c, d) = (median(a), median(b), median(c), median(d));
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
        "  rolehop is {:.0}x faster than the AWS CLI and {:.0}x faster than boto3 \
         (cached read against a live AssumeRole)",
        b.as_secs_f64() / a.as_secs_f64(),
        c.as_secs_f64() / a.as_secs_f64()
    );
    println!(
        "  aws configure list (AWS CLI, its own cache) {:8.1} ms  (n={nd})",
        ms(d)
    );
    println!(
        "  aws configure export-credentials (AWS CLI v2, its own cache) {:8.1} ms  (n={ne})",
        ms(e)
    );
    println!(
        "  like for like, both from a cache: rolehop is {:.0}x faster than the AWS CLI v2's \
         export-credentials ({:.0}x than v1's configure list)",
        e.as_secs_f64() / a.as_secs_f64(),
        d.as_secs_f64() / a.as_secs_f64()
    );
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    println!(
        "goals: median <= 5 ms: {}; <= 3x --version: {}; >= 25x the AWS CLI: {}",
        verdict(ms(a) <= 5.0),
        verdict(ratio <= 3.0),
        verdict(b.as_secs_f64() / a.as_secs_f64() >= 25.0)
    );
}
