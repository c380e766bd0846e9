//! The command line against hostile input: endpoints that would carry signed requests
//! off the machine in clear text, escape sequences in text Rolehop echoes (values from
//! `~/.aws/config`, endpoints, AWS's messages), and AWS files built to exhaust `import`.

use crate::cli::{self, World};
use rolehop_e2e::ConnectionTrap;

/// The escape sequence that retitles a terminal window (OSC 0), as an attacker would
/// plant it; any raw ESC on the terminal means the CLI let it through.
const RETITLE: &str = "\x1b]0;pwned\x07";
/// The same, as Rolehop shows it.
const RETITLE_SHOWN: &str = "\\e]0;pwned\\x07";

#[track_caller]
fn refused(run: &cli::Run) {
    assert_ne!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stderr.lines().count(), 1, "not one line: {run:#?}");
    assert!(run.stderr.starts_with("rolehop: "), "{run:#?}");
}

#[test]
fn plain_http_to_a_remote_sts_endpoint_is_refused_naming_the_variable() {
    let world = World::start();
    world.seed_story();
    let run = world.rolehop_with(
        &["session", "start", "production", "--mfa-code", "123456"],
        &[("AWS_ENDPOINT_URL_STS", "http://example.com")],
        None,
    );
    refused(&run);
    assert!(
        run.stderr
            .contains("AWS_ENDPOINT_URL_STS = http://example.com: plain http"),
        "{}",
        run.stderr
    );
    assert_eq!(world.state_of("production"), "failed");
    // Loopback http is how LocalStack and moto are reached: still allowed.
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
}

#[test]
fn the_default_profiles_endpoint_url_is_ignored_for_the_environments() {
    let world = World::start();
    world.seed_story();
    let trap = ConnectionTrap::start().unwrap();
    let home = world.peers.home();
    let config = home.read_aws_config().unwrap_or_default();
    home.write_aws_config(&format!(
        "[default]\nendpoint_url = {}\n\n{config}",
        trap.url()
    ))
    .unwrap();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    assert_eq!(trap.connections(), 0);
}

#[test]
fn a_session_failing_with_an_escape_sequence_in_its_message_prints_it_inert() {
    let world = World::start();
    world.seed_story();
    let endpoint = format!("https://{RETITLE}.example/");
    let run = world.rolehop_with(
        &["session", "start", "production", "--mfa-code", "123456"],
        &[("AWS_ENDPOINT_URL_STS", &endpoint)],
        None,
    );
    refused(&run);
    assert!(!run.stderr.contains('\x1b'), "raw ESC on stderr: {run:?}");
    assert!(run.stderr.contains(RETITLE_SHOWN), "{}", run.stderr);
    // The stored failure is shown the same way in the table.
    let table = world.rolehop(&["session", "list"]).ok().stdout;
    assert!(!table.contains('\x1b'), "{table:?}");
}

#[test]
fn values_from_the_aws_config_are_printed_inert_by_import() {
    let world = World::start_without_peers();
    world
        .peers
        .home()
        .write_aws_config(&format!(
            "[profile u]\n[profile planted]\nrole_arn = arn:{RETITLE}:iam::111111111111:role/X\n\
             source_profile = u\n"
        ))
        .unwrap();
    world
        .peers
        .home()
        .write_aws_credentials(
            "[u]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
             aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        )
        .unwrap();
    // The refusal of the planted ARN echoes its partition.
    let args = ["import", "aws-config", "--import-keys", "--dry-run"];
    let run = world.rolehop(&args).ok();
    assert!(!run.stdout.contains('\x1b'), "raw ESC on stdout: {run:?}");
    assert!(run.stdout.contains(RETITLE_SHOWN), "{}", run.stdout);
    // JSON escapes it its own way, and keeps the value exact for programs.
    let json = world.rolehop(&[&args[..], &["--json"]].concat()).ok();
    assert!(!json.stdout.contains('\x1b'));
    assert!(
        json.stdout.contains("\\u001b]0;pwned\\u0007"),
        "{}",
        json.stdout
    );
}

#[test]
fn a_ten_thousand_deep_source_profile_chain_imports_without_overflowing() {
    let world = World::start_without_peers();
    let mut config = String::from("[profile u]\n");
    for i in (1..=10_000).rev() {
        let source = if i == 1 {
            "u".to_owned()
        } else {
            format!("r{}", i - 1)
        };
        config.push_str(&format!(
            "[profile r{i}]\nrole_arn = arn:aws:iam::111111111111:role/R{i}\n\
             source_profile = {source}\n"
        ));
    }
    world.peers.home().write_aws_config(&config).unwrap();
    world.peers.home().write_aws_credentials("").unwrap();
    let run = world
        .rolehop(&["import", "aws-config", "--dry-run", "--json"])
        .ok();
    let entries = run.json()["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 10_001);
    let detail = |profile: &str| {
        entries
            .iter()
            .find(|e| e["profile"] == profile)
            .map(|e| e["detail"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{profile} not reported"))
    };
    assert!(
        detail("r65").contains("longer than 64 hops"),
        "{}",
        detail("r65")
    );
    assert!(detail("r10000").contains("longer than 64 hops"));
    // Within the limit, the chain fails only at its root (no keys imported).
    assert!(detail("r64").contains("source profile 'r63' was skipped"));
}
