//! The AWS files under real concurrency and real crashes: two processes racing hundreds
//! of starts and stops lose no update, and a writer killed with SIGKILL at random moments
//! leaves the old file or the new one, never a torn one, and a ledger the next process
//! can finish from.

use std::error::Error;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rolehop_core::awsfiles::dialect::{FileRole, Outline, value_at};
use rolehop_core::awsfiles::ini::Document;
use rolehop_core::delivery::Delivery;
use rolehop_core::model::ProfileName;
use rolehop_e2e::TestHome;

type TestResult = Result<(), Box<dyn Error>>;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/awsfiles");
const DRIVER: &str = env!("CARGO_BIN_EXE_awsfiles-driver");

fn fixture(name: &str) -> Vec<u8> {
    fs::read(Path::new(FIXTURES).join(name)).expect("fixture")
}

fn driver(home: &TestHome, args: &[&str]) -> Command {
    let mut command = Command::new(DRIVER);
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(home.env());
    command
}

/// `profile`'s keys in `doc`, each with its value, in file order.
fn keys(doc: &Document, profile: &str) -> Vec<(String, String)> {
    let outline = Outline::of_sections(doc, |n| {
        FileRole::Credentials.section_is_profile(n, profile)
    });
    outline
        .sections
        .iter()
        .flat_map(|s| &s.keys)
        .map(|k| (k.name.clone(), value_at(doc, k.line).to_string()))
        .collect()
}

/// What the driver writes for access key id `akid` (see src/bin/awsfiles-driver.rs).
fn assert_complete_driver_section(doc: &Document, profile: &str) {
    let keys = keys(doc, profile);
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_expiration"
        ],
        "[{profile}]"
    );
    let akid = &keys[0].1;
    assert_eq!(
        keys[1].1,
        format!("secret/for/{akid}"),
        "[{profile}] secret of another write"
    );
    assert_eq!(
        keys[2].1,
        format!("token-for-{akid}"),
        "[{profile}] token of another write"
    );
}

#[test]
fn two_processes_racing_hundreds_of_starts_and_stops_lose_no_update() -> TestResult {
    const COUNT: usize = 300;
    let home = TestHome::new()?;
    fs::write(home.aws_credentials_file(), fixture("credentials-handmade"))?;
    fs::write(home.aws_config_file(), fixture("config-handmade"))?;

    let count = COUNT.to_string();
    let mut workers: Vec<_> = ["1", "2"]
        .iter()
        .map(|w| {
            driver(&home, &["hammer", w, &count])
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for worker in &mut workers {
        let status = worker.wait()?;
        let mut stderr = String::new();
        std::io::Read::read_to_string(worker.stderr.as_mut().unwrap(), &mut stderr)?;
        assert!(status.success(), "worker failed: {stderr}");
    }

    // Every delivery is there with its own keys; every withdrawal took exactly its own.
    let doc = Document::parse(&fs::read(home.aws_credentials_file())?);
    let mut live = Vec::new();
    for worker in ["1", "2"] {
        for i in 0..COUNT {
            let profile = format!("w{worker}-{i}");
            let withdrawn = i % 3 == 1 && i + 1 < COUNT;
            if withdrawn {
                assert!(keys(&doc, &profile).is_empty(), "[{profile}] was withdrawn");
            } else {
                assert_complete_driver_section(&doc, &profile);
                assert_eq!(keys(&doc, &profile)[0].1, format!("ASIAW{worker}X{i}"));
                live.push(profile);
            }
        }
    }
    assert_eq!(
        fs::read(home.aws_config_file())?,
        fixture("config-handmade")
    );

    // The ledger both processes kept knows every one of them: stopping them all gives
    // back the user's file byte for byte.
    // The delivery a later process would open on the test home.
    let later = home.aws_files_delivery("/usr/bin/rolehop");
    for profile in &live {
        later.withdraw(&ProfileName::parse(profile)?)?;
    }
    assert_eq!(
        fs::read(home.aws_credentials_file())?,
        fixture("credentials-handmade")
    );
    Ok(())
}

/// A big file (the fixture and 1,500 sections of filler), so that writes take long
/// enough for kills to land in the middle of them.
fn big_credentials() -> Vec<u8> {
    let mut out = fixture("credentials-handmade");
    out.push(b'\n');
    for i in 0..1_500 {
        out.extend_from_slice(
            format!("\n[filler-{i}]\naws_access_key_id = AKIAFILLER{i:010}\naws_secret_access_key = {}\n", "f".repeat(40))
                .as_bytes(),
        );
    }
    out
}

/// A small pseudo-random sequence (no rand crate needed for kill timings).
struct Timings(u64);

impl Timings {
    fn next_millis(&mut self, max: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % max
    }
}

#[test]
fn a_writer_killed_at_any_moment_leaves_the_old_or_the_new_file() -> TestResult {
    const KILLS: usize = 60;
    let home = TestHome::new()?;
    let original = big_credentials();
    fs::write(home.aws_credentials_file(), &original)?;
    let seed = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos() as u64 | 1;
    let mut timings = Timings(seed);
    println!("kill timings seed: {seed}");

    // Kills that left a temp file behind hit a write between its start and its rename.
    let mut mid_write = 0;
    for kill in 0..KILLS {
        let mut child = driver(&home, &["churn", "1"])
            .stdout(Stdio::piped())
            .spawn()?;
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut ready)?;
        assert_eq!(ready.trim(), "ready", "the writer did not start");
        std::thread::sleep(Duration::from_millis(timings.next_millis(40)));
        child.kill()?; // SIGKILL
        child.wait()?;

        // Whatever instant the kill hit, the file is one the writer meant: the user's
        // bytes first, then whole sections of Rolehop's, each from a single write.
        let bytes = fs::read(home.aws_credentials_file())?;
        assert!(
            bytes.starts_with(&original),
            "kill {kill}: the user's bytes changed"
        );
        let doc = Document::parse(&bytes);
        for slot in 0..4 {
            let profile = format!("k1-{slot}");
            if !keys(&doc, &profile).is_empty() {
                assert_complete_driver_section(&doc, &profile);
            }
        }
        let stray: Vec<_> = fs::read_dir(home.root().join("aws"))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(
            stray.len() <= 3,
            "kill {kill}: temp files pile up: {stray:?}"
        );
        mid_write += usize::from(!stray.is_empty());
    }
    println!("{mid_write} of {KILLS} kills landed in the middle of a write");
    assert!(
        mid_write > 0,
        "no kill hit a write: the test proved nothing"
    );

    // A later process finishes from the ledger the killed ones left: every section of
    // Rolehop's goes, the user's file comes back byte for byte, no temp file remains.
    // The delivery a later process would open on the test home.
    let later = home.aws_files_delivery("/usr/bin/rolehop");
    for slot in 0..4 {
        later.withdraw(&ProfileName::parse(&format!("k1-{slot}"))?)?;
    }
    assert!(
        fs::read(home.aws_credentials_file())? == original,
        "the user's file is back byte for byte"
    );
    let leftovers: Vec<_> = fs::read_dir(home.root().join("aws"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    Ok(())
}
