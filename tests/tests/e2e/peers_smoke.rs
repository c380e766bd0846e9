//! The harness's own checks: each peer starts, answers like the real thing, and is
//! gone after drop. If these fail, no other end-to-end suite can be trusted.

use std::error::Error;
use std::net::TcpStream;
use std::path::Path;

use rolehop_e2e::{MotoServer, Peers, SecretService, aws_cli};

type TestResult = Result<(), Box<dyn Error>>;

/// Static keys: moto accepts any key until auth is enabled.
fn dummy_keys() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn moto_answers_get_caller_identity_through_the_aws_cli() -> TestResult {
    let moto = MotoServer::start()?;
    let endpoint = moto.endpoint();
    let mut env = dummy_keys();
    env.push(("AWS_ENDPOINT_URL", &endpoint));

    let out = aws_cli(["sts", "get-caller-identity", "--output", "json"], env)?;

    assert!(out.status.success(), "aws failed: {}", text(&out.stderr));
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(identity["Account"], "123456789012");
    Ok(())
}

#[test]
fn moto_with_auth_rejects_unknown_keys_and_accepts_created_ones() -> TestResult {
    let moto = MotoServer::start()?;
    let user = moto.create_user("alice")?;
    moto.enable_auth()?;
    let endpoint = moto.endpoint();

    let mut unknown = dummy_keys();
    unknown.push(("AWS_ENDPOINT_URL", &endpoint));
    let out = aws_cli(["sts", "get-caller-identity"], unknown)?;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("InvalidClientTokenId"),
        "stderr: {}",
        text(&out.stderr)
    );

    let known = [
        ("AWS_ACCESS_KEY_ID", user.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", user.secret_access_key.as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", &endpoint),
    ];
    let out = aws_cli(["sts", "get-caller-identity", "--output", "json"], known)?;
    assert!(out.status.success(), "aws failed: {}", text(&out.stderr));
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(identity["Arn"], user.arn.as_str());
    Ok(())
}

#[test]
fn moto_fixtures_make_a_role_the_user_can_assume_with_mfa() -> TestResult {
    let moto = MotoServer::start()?;
    let user = moto.create_user("deployer")?;
    let serial = moto.create_mfa_device("deployer")?;
    let role_arn = moto.create_role("CodeBuildRole", &user.arn)?;
    moto.enable_auth()?;
    let endpoint = moto.endpoint();

    let env = [
        ("AWS_ACCESS_KEY_ID", user.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", user.secret_access_key.as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", &endpoint),
    ];
    let args = [
        "sts",
        "assume-role",
        "--role-arn",
        &role_arn,
        "--role-session-name",
        "smoke",
        "--serial-number",
        &serial,
        "--token-code",
        "123456",
        "--output",
        "json",
    ];
    let out = aws_cli(args, env)?;

    assert!(out.status.success(), "aws failed: {}", text(&out.stderr));
    let assumed: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let arn = assumed["AssumedRoleUser"]["Arn"]
        .as_str()
        .unwrap_or_default();
    assert!(
        arn.contains(":assumed-role/CodeBuildRole/smoke"),
        "assumed {arn}"
    );
    assert!(
        serial.starts_with("arn:aws:iam::123456789012:mfa/"),
        "serial {serial}"
    );
    Ok(())
}

#[test]
fn secret_tool_round_trips_on_the_private_bus() -> TestResult {
    let keyring = SecretService::start()?;
    let service = "rolehop-test-smoke";

    assert_eq!(keyring.lookup(service, "alice")?, None);
    keyring.store(service, "alice", "s3cr3t value")?;

    assert_eq!(
        keyring.lookup(service, "alice")?.as_deref(),
        Some("s3cr3t value")
    );
    let listing = keyring.search_all(service)?;
    assert!(
        listing.contains("attribute.username = alice"),
        "listing: {listing}"
    );
    keyring.clear(service, "alice")?;
    assert_eq!(keyring.lookup(service, "alice")?, None);
    assert_eq!(keyring.search_all(service)?.trim(), "");
    Ok(())
}

#[test]
fn rolehop_keychain_writes_where_secret_tool_reads() -> TestResult {
    let keyring = SecretService::start()?;
    // SAFETY: first thing in the test, before any thread; nextest runs each test in
    // its own process.
    unsafe { keyring.export_to_this_process() };
    let service = "rolehop-test-core-keychain";

    rolehop_core::keychain::Keychain::new(service).set("AKIAEXAMPLE", "the-secret")?;

    assert_eq!(
        keyring.lookup(service, "AKIAEXAMPLE")?.as_deref(),
        Some("the-secret")
    );
    Ok(())
}

#[test]
fn peers_are_gone_after_drop() -> TestResult {
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let mut pids = peers.secret_service().pids();
    pids.push(peers.moto().pid());
    let endpoint = peers.moto().endpoint();
    let address = endpoint.trim_start_matches("http://").to_owned();
    let home = peers.home().root().to_owned();
    let keyring_dir = peers.secret_service().dir().to_owned();
    assert!(TcpStream::connect(&address).is_ok());

    drop(peers);

    for pid in pids {
        // Reaped, not just killed: a zombie would still have a /proc entry.
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} outlived its peer"
        );
    }
    assert!(
        TcpStream::connect(&address).is_err(),
        "{endpoint} still answers"
    );
    assert!(!home.exists(), "{} was not removed", home.display());
    assert!(
        !keyring_dir.exists(),
        "{} was not removed",
        keyring_dir.display()
    );
    Ok(())
}
