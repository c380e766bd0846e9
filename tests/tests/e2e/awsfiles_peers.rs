//! The AWS files as the real AWS CLI and boto3 read them: Rolehop writes a session's
//! credentials (or a `credential_process` line), the consumers call moto with them, and
//! stopping the session gives back the user's files byte for byte. Both delivery modes,
//! and a take-over whose saved section lives in a real gnome-keyring between two
//! processes.

use std::error::Error;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, Utc};
use rolehop_core::Credentials;
use rolehop_core::delivery::{Delivery, Handover};
use rolehop_core::model::{DeliveryMode, ProfileName, SessionId};
use rolehop_e2e::{Peers, aws_cli, python};
use zeroize::Zeroizing;

type TestResult = Result<(), Box<dyn Error>>;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/awsfiles");
const DRIVER: &str = env!("CARGO_BIN_EXE_awsfiles-driver");

fn fixture(name: &str) -> Vec<u8> {
    fs::read(Path::new(FIXTURES).join(name)).expect("fixture")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Temporary credentials for a role in moto, as STS returns them.
struct Assumed {
    arn: String,
    credentials: Credentials,
}

fn assume_role(peers: &Peers, role: &str) -> Result<Assumed, Box<dyn Error>> {
    let moto = peers.moto();
    let user = moto.create_user(&format!("{role}-user"))?;
    let role_arn = moto.create_role(role, &user.arn)?;
    let endpoint = moto.endpoint();
    let env = [
        ("AWS_ACCESS_KEY_ID", user.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", user.secret_access_key.as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ];
    let args = [
        "sts",
        "assume-role",
        "--role-arn",
        &role_arn,
        "--role-session-name",
        "rolehop-e2e",
        "--output",
        "json",
    ];
    let out = aws_cli(args, env)?;
    assert!(out.status.success(), "assume-role: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let c = &json["Credentials"];
    let field = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    Ok(Assumed {
        arn: json["AssumedRoleUser"]["Arn"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        credentials: Credentials {
            access_key_id: field("AccessKeyId"),
            secret_access_key: Zeroizing::new(field("SecretAccessKey")),
            session_token: Some(Zeroizing::new(field("SessionToken"))),
            expiration: Some(field("Expiration").parse::<DateTime<Utc>>()?),
        },
    })
}

fn handover(profile: &str, creds: &Credentials, region: &str, mode: DeliveryMode) -> Handover {
    Handover {
        profile: ProfileName::parse(profile).unwrap(),
        session: SessionId::new(),
        credentials: creds.clone(),
        region: Some(region.to_owned()),
        mode,
        take_over: false,
    }
}

/// The AWS CLI with the test home's files and moto as its endpoint.
fn aws(peers: &Peers, extra: &[(&str, &str)], args: &[&str]) -> Result<Output, Box<dyn Error>> {
    let mut env = peers.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Ok(aws_cli(args, env)?)
}

fn caller_arn(
    peers: &Peers,
    extra: &[(&str, &str)],
    profile: &str,
) -> Result<String, Box<dyn Error>> {
    let out = aws(
        peers,
        extra,
        &[
            "sts",
            "get-caller-identity",
            "--profile",
            profile,
            "--output",
            "json",
        ],
    )?;
    assert!(
        out.status.success(),
        "get-caller-identity --profile {profile}: {}",
        text(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(json["Arn"].as_str().unwrap_or_default().to_owned())
}

fn configured_region(peers: &Peers, profile: &str) -> Result<Option<String>, Box<dyn Error>> {
    let out = aws(
        peers,
        &[],
        &["configure", "get", "region", "--profile", profile],
    )?;
    Ok(out
        .status
        .success()
        .then(|| text(&out.stdout).trim().to_owned()))
}

/// boto3's `Session(profile_name=...)`: the caller's ARN and the session's region.
fn boto3_session(
    peers: &Peers,
    extra: &[(&str, &str)],
    profile: &str,
) -> Result<(String, String), Box<dyn Error>> {
    let mut env = peers.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.push(("PROFILE".into(), profile.into()));
    let out = python(
        r#"
import json, os, boto3
session = boto3.Session(profile_name=os.environ["PROFILE"])
arn = session.client("sts").get_caller_identity()["Arn"]
print(json.dumps({"arn": arn, "region": session.region_name}))
"#,
        env,
    )?;
    assert!(out.status.success(), "boto3: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok((
        json["arn"].as_str().unwrap_or_default().to_owned(),
        json["region"].as_str().unwrap_or_default().to_owned(),
    ))
}

fn boto3_knows_profile(peers: &Peers, profile: &str) -> Result<bool, Box<dyn Error>> {
    let mut env = peers.env();
    env.push(("PROFILE".into(), profile.into()));
    let out = python(
        "import os, boto3\nprint(os.environ['PROFILE'] in boto3.Session().available_profiles)",
        env,
    )?;
    assert!(out.status.success(), "boto3: {}", text(&out.stderr));
    Ok(text(&out.stdout).trim() == "True")
}

#[test]
fn credentials_file_mode_is_read_by_the_aws_cli_and_boto3_and_stop_restores_the_files() -> TestResult
{
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let home = peers.home();
    fs::write(home.aws_credentials_file(), fixture("credentials-handmade"))?;
    fs::write(home.aws_config_file(), fixture("config-handmade"))?;
    let assumed = assume_role(&peers, "DeployRole")?;
    let delivery = peers.home().aws_files_delivery("/usr/bin/rolehop");

    delivery.deliver(&handover(
        "deploy",
        &assumed.credentials,
        "eu-west-2",
        DeliveryMode::CredentialsFile,
    ))?;
    // The user's own [profile production] assumes a role (which the AWS CLI would use
    // instead of the credentials file): taken over, its role_arn and source_profile wait
    // in the keychain (reached from the driver, which has the private D-Bus). It has no
    // region: Rolehop adds one, and only that.
    let session = SessionId::new().to_string();
    let akid = assumed.credentials.access_key_id.as_str();
    let production = [
        "deliver",
        "production",
        &session,
        akid,
        "--take-over",
        "--region",
        "ap-southeast-2",
    ];
    let taken = driver(&peers, &production, &assumed.credentials)?;
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    // The user's own [profile staging] sets its region: it stays the user's.
    delivery.deliver(&handover(
        "staging",
        &assumed.credentials,
        "sa-east-1",
        DeliveryMode::CredentialsFile,
    ))?;

    assert_eq!(caller_arn(&peers, &[], "deploy")?, assumed.arn);
    assert_eq!(caller_arn(&peers, &[], "production")?, assumed.arn);
    assert!(
        assumed.arn.contains(":assumed-role/DeployRole/rolehop-e2e"),
        "{}",
        assumed.arn
    );
    assert_eq!(
        configured_region(&peers, "deploy")?.as_deref(),
        Some("eu-west-2")
    );
    assert_eq!(
        configured_region(&peers, "production")?.as_deref(),
        Some("ap-southeast-2")
    );
    assert_eq!(
        configured_region(&peers, "staging")?.as_deref(),
        Some("eu-central-1")
    );
    assert_eq!(
        boto3_session(&peers, &[], "deploy")?,
        (assumed.arn.clone(), "eu-west-2".to_owned())
    );
    // Untouched profiles still read as the user wrote them.
    assert_eq!(
        configured_region(&peers, "default")?.as_deref(),
        Some("eu-west-1")
    );

    for profile in ["deploy", "staging"] {
        delivery.withdraw(&ProfileName::parse(profile)?)?;
    }
    let stopped = driver(&peers, &["withdraw", "production"], &assumed.credentials)?;
    assert!(stopped.status.success(), "{}", text(&stopped.stderr));
    assert_eq!(
        fs::read(home.aws_credentials_file())?,
        fixture("credentials-handmade")
    );
    assert_eq!(
        fs::read(home.aws_config_file())?,
        fixture("config-handmade")
    );
    assert_eq!(configured_region(&peers, "deploy")?, None);
    assert_eq!(configured_region(&peers, "production")?, None);
    assert!(!boto3_knows_profile(&peers, "deploy")?);
    Ok(())
}

#[test]
fn credential_process_mode_is_run_by_the_aws_cli_and_boto3_and_no_key_touches_the_disk()
-> TestResult {
    let peers = Peers::builder().with_moto().start()?;
    let home = peers.home();
    fs::write(home.aws_credentials_file(), fixture("credentials-handmade"))?;
    fs::write(home.aws_config_file(), fixture("config-crlf"))?;
    let assumed = assume_role(&peers, "ProcessRole")?;

    // The "rolehop" binary lives under a path with a space, as on macOS and Windows: the
    // quoting of the credential_process line is part of what is tested.
    let apps = home.root().join("Rolehop Apps");
    fs::create_dir_all(&apps)?;
    let binary = apps.join("rolehop");
    fs::copy(DRIVER, &binary)?;
    let creds_dir = home.root().join("served-credentials");
    fs::create_dir_all(&creds_dir)?;

    let delivery = peers.home().aws_files_delivery(binary.clone());
    let h = handover(
        "dev",
        &assumed.credentials,
        "eu-west-3",
        DeliveryMode::CredentialProcess,
    );
    let c = &assumed.credentials;
    let served = serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.as_str(),
        "SessionToken": c.session_token.as_deref().map(|t| t.as_str()),
        "Expiration": c.expiration.map(|e| e.to_rfc3339()),
    });
    fs::write(
        creds_dir.join(format!("{}.json", h.session)),
        served.to_string(),
    )?;
    delivery.deliver(&h)?;

    let config = text(&fs::read(home.aws_config_file())?);
    let line = format!(
        "credential_process = \"{}\" credential-process {}\r\n",
        binary.display(),
        h.session
    );
    assert!(config.contains(&line), "{config:?}");
    assert_eq!(
        fs::read(home.aws_credentials_file())?,
        fixture("credentials-handmade"),
        "no key on disk"
    );

    let served_env = [("AWSFILES_DRIVER_CREDENTIALS", creds_dir.to_str().unwrap())];
    assert_eq!(caller_arn(&peers, &served_env, "dev")?, assumed.arn);
    assert_eq!(
        configured_region(&peers, "dev")?.as_deref(),
        Some("eu-west-3")
    );
    assert_eq!(
        boto3_session(&peers, &served_env, "dev")?,
        (assumed.arn.clone(), "eu-west-3".to_owned())
    );

    delivery.withdraw(&h.profile)?;
    assert_eq!(fs::read(home.aws_config_file())?, fixture("config-crlf"));
    assert_eq!(configured_region(&peers, "dev")?, None);
    Ok(())
}

/// Runs the driver binary in the test home, with the private keyring.
fn driver(peers: &Peers, args: &[&str], creds: &Credentials) -> Result<Output, Box<dyn Error>> {
    let out = Command::new(DRIVER)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(peers.env())
        .env("AWSFILES_DRIVER_KEYCHAIN", peers.home().keychain_service())
        .env("AWSFILES_DRIVER_SECRET", creds.secret_access_key.as_str())
        .env(
            "AWSFILES_DRIVER_TOKEN",
            creds.session_token.as_deref().map_or("", |t| t.as_str()),
        )
        .output()?;
    Ok(out)
}

#[test]
fn take_over_keeps_the_users_section_in_the_keychain_until_another_process_stops_it() -> TestResult
{
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let home = peers.home();
    fs::write(home.aws_credentials_file(), fixture("credentials-handmade"))?;
    fs::write(home.aws_config_file(), fixture("config-handmade"))?;
    let assumed = assume_role(&peers, "TakeOverRole")?;
    let session = SessionId::new().to_string();
    let akid = assumed.credentials.access_key_id.clone();

    // [ci] holds the user's own keys: refused, with an error that says why and how.
    let refused = driver(
        &peers,
        &["deliver", "ci", &session, &akid],
        &assumed.credentials,
    )?;
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("'ci'") && message.contains("take-over"),
        "{message}"
    );
    assert!(
        message.contains(&home.aws_credentials_file().display().to_string()),
        "{message}"
    );
    assert_eq!(
        fs::read(home.aws_credentials_file())?,
        fixture("credentials-handmade")
    );

    let taken = driver(
        &peers,
        &[
            "deliver",
            "ci",
            &session,
            &akid,
            "--take-over",
            "--region",
            "us-east-1",
        ],
        &assumed.credentials,
    )?;
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    let creds = text(&fs::read(home.aws_credentials_file())?);
    assert!(!creds.contains("AKIAUSERCI"), "{creds}");
    assert_eq!(caller_arn(&peers, &[], "ci")?, assumed.arn);
    // The user's section waits in the keychain, nowhere else.
    let stored = peers.secret_service().search_all(home.keychain_service())?;
    assert!(stored.contains("AKIAUSERCI0000000001"), "{stored}");
    let ledger = fs::read_to_string(home.rolehop_home().join("awsfiles-ledger.json"))?;
    assert!(
        !ledger.contains("AKIAUSERCI") && !ledger.contains("ci/secret"),
        "{ledger}"
    );
    assert!(
        !ledger.contains(assumed.credentials.secret_access_key.as_str()),
        "{ledger}"
    );

    // A later process stops it.
    let stopped = driver(&peers, &["withdraw", "ci"], &assumed.credentials)?;
    assert!(stopped.status.success(), "{}", text(&stopped.stderr));
    assert_eq!(
        fs::read(home.aws_credentials_file())?,
        fixture("credentials-handmade")
    );
    assert_eq!(
        fs::read(home.aws_config_file())?,
        fixture("config-handmade")
    );
    assert!(
        !peers
            .secret_service()
            .search_all(home.keychain_service())?
            .contains("AKIAUSERCI")
    );
    Ok(())
}

/// The profile the user set up by hand, in several ways the AWS CLI would prefer to the
/// keys Rolehop writes: refused without take-over; with it, the AWS CLI answers as
/// Rolehop's session; a later process stops it and the config file is byte-identical.
#[test]
fn a_config_profile_that_assumes_a_role_or_uses_sso_is_refused_then_taken_over_and_given_back()
-> TestResult {
    let peers = Peers::builder().with_moto().with_secret_service().start()?;
    let home = peers.home();
    let assumed = assume_role(&peers, "ResourceDeployCAR")?;
    let akid = assumed.credentials.access_key_id.clone();
    let creds_dir = home.root().join("served-credentials");
    fs::create_dir_all(&creds_dir)?;
    let served_env = [("AWSFILES_DRIVER_CREDENTIALS", creds_dir.to_str().unwrap())];
    let config_path = home.aws_config_file().display().to_string();

    let cases: [(&str, bool, &str, &str); 4] = [
        (
            "config-assume-role",
            false,
            "sets role_arn, source_profile:",
            "role_arn = arn:aws:iam::123456789012:role/ResourceDeployCAR",
        ),
        (
            "config-assume-role",
            true,
            "sets role_arn, source_profile:",
            "source_profile = default",
        ),
        (
            "config-sso",
            false,
            "sets sso_session, sso_account_id, sso_role_name:",
            "sso_role_name = ResourceDeploy",
        ),
        (
            "config-credential-process",
            true,
            "sets credential_process:",
            "my-own-helper --profile production",
        ),
    ];
    for (name, process, keys, set_aside) in cases {
        let config = fixture(name);
        fs::write(home.aws_credentials_file(), fixture("credentials-handmade"))?;
        fs::write(home.aws_config_file(), &config)?;
        let session = SessionId::new().to_string();
        let c = &assumed.credentials;
        let served = serde_json::json!({
            "Version": 1,
            "AccessKeyId": c.access_key_id,
            "SecretAccessKey": c.secret_access_key.as_str(),
            "SessionToken": c.session_token.as_deref().map(|t| t.as_str()),
            "Expiration": c.expiration.map(|e| e.to_rfc3339()),
        });
        fs::write(
            creds_dir.join(format!("{session}.json")),
            served.to_string(),
        )?;
        let mut args = vec!["deliver", "production", &session, &akid];
        if process {
            args.push("--process");
        }

        let refused = driver(&peers, &args, c)?;
        assert!(!refused.status.success(), "{name}");
        let message = text(&refused.stderr);
        assert!(
            message.contains(&format!("profile 'production' in {config_path} {keys}"))
                && message.contains("take-over"),
            "{name}: {message}"
        );
        assert_eq!(fs::read(home.aws_config_file())?, config, "{name}");

        args.push("--take-over");
        let taken = driver(&peers, &args, c)?;
        assert!(taken.status.success(), "{name}: {}", text(&taken.stderr));
        let during = text(&fs::read(home.aws_config_file())?);
        assert!(!during.contains(set_aside), "{name}: {during}");
        assert_eq!(
            caller_arn(&peers, &served_env, "production")?,
            assumed.arn,
            "{name}: the AWS CLI answers as Rolehop's session"
        );
        let stored = peers.secret_service().search_all(home.keychain_service())?;
        assert!(stored.contains(set_aside), "{name}: {stored}");

        let stopped = driver(&peers, &["withdraw", "production"], c)?;
        assert!(
            stopped.status.success(),
            "{name}: {}",
            text(&stopped.stderr)
        );
        assert_eq!(fs::read(home.aws_config_file())?, config, "{name}");
        assert_eq!(
            fs::read(home.aws_credentials_file())?,
            fixture("credentials-handmade"),
            "{name}"
        );
        let stored = peers.secret_service().search_all(home.keychain_service())?;
        assert!(!stored.contains(set_aside), "{name}: {stored}");
    }
    Ok(())
}
