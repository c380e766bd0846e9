//! `aws login` console sign-in sessions as sources (issue 22, part 2), end to end: the
//! `signin` stand-in (`tests/peers/signin_stand_in.py`), proven first by botocore's own
//! `LoginProvider` and the AWS CLI reading the same profile; then Rolehop importing the
//! profile, keeping its token in a private gnome-keyring, refreshing it with a DPoP
//! proof, and chaining a role from it in moto, which the AWS CLI then acts as.
//!
//! Rolehop's own browser sign-in and the logout of the kind: [`browser`].
//!
//! What no stand-in proves: that AWS's own `signin` endpoint words its refusals as the
//! stand-in does (the model lists the codes, not when each is sent), and that its
//! `/v1/authorize` takes what the AWS CLI's source sends (the stand-in is held to that
//! source and to the AWS CLI v2's own `aws login`, not to AWS).

use std::path::{Path, PathBuf};
use std::time::Duration;

mod browser;

use rolehop_e2e::SigninStandIn;
use serde_json::{Value, json};

use crate::cli::{World, assumed};

pub(crate) const ACCOUNT: &str = "123456789012";
pub(crate) const ALICE: &str = "arn:aws:iam::123456789012:user/alice";

/// A world whose `rolehop`, AWS CLI and boto3 reach the stand-in for `signin` (and moto
/// for STS, as every world).
fn world_with_signin() -> (World, SigninStandIn) {
    let signin = SigninStandIn::start().expect("the signin stand-in starts");
    let (key, value) = signin.endpoint_env();
    (World::start().with_env(&key, &value), signin)
}

/// The `HOME` of the world's children: where the AWS CLI keeps `.aws/login/cache`.
pub(crate) fn home(world: &World) -> PathBuf {
    world.peers.home().root().join("home")
}

/// `[profile console]` as `aws login` leaves it, and `[profile deploy]` chained from it.
fn write_config(world: &World, role_arn: &str) {
    world
        .peers
        .home()
        .write_aws_config(&format!(
            "[profile console]\nlogin_session = {ALICE}\nregion = us-east-1\n\n\
             [profile deploy]\nrole_arn = {role_arn}\nsource_profile = console\n\
             region = us-east-1\n"
        ))
        .unwrap();
}

pub(crate) fn deploy_role(world: &World) -> String {
    world.create_role_trusting(
        "Deploy",
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "sts:AssumeRole"}]}),
    )
}

/// Role `deploy`, chained from `console`.
pub(crate) fn add_deploy(world: &World, role_arn: &str) {
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "deploy",
            "--parent",
            "console",
            "--role-arn",
            role_arn,
            "--profile",
            "deploy",
            "--region",
            "us-east-1",
        ])
        .ok();
}

/// A world with the stand-in, role `Deploy` in moto, the two profiles, and alice signed
/// in with credentials good for `ttl`: the token and its file.
fn signed_in(ttl: Duration) -> (World, SigninStandIn, Value, PathBuf) {
    let (world, signin) = world_with_signin();
    let role_arn = deploy_role(&world);
    write_config(&world, &role_arn);
    let (token, file) = signin.sign_in(&home(&world), ALICE, ACCOUNT, ttl).unwrap();
    (world, signin, token, file)
}

/// The import report's entry for `profile`.
fn entry(report: &Value, profile: &str) -> Value {
    let entries = report.get("entries").unwrap_or(report);
    entries
        .as_array()
        .and_then(|a| a.iter().find(|e| e["profile"] == profile))
        .cloned()
        .unwrap_or_else(|| panic!("no entry for {profile} in {report}"))
}

/// `rolehop import aws-config --json`: the report, and its entry for `console`.
fn import(world: &World) -> (Value, Value) {
    let report = world
        .rolehop(&["import", "aws-config", "--json"])
        .ok()
        .json();
    let console = entry(&report, "console");
    (report, console)
}

/// `rolehop <exec...> -- aws sts get-caller-identity` answers as the `deploy` role.
fn acts_as_deploy(world: &World, exec: &[&str]) {
    let mut args = exec.to_vec();
    args.extend([
        "--",
        "aws",
        "sts",
        "get-caller-identity",
        "--output",
        "text",
    ]);
    let run = world.rolehop(&args).ok();
    assert!(
        run.stdout.contains("assumed-role/Deploy/rolehop-deploy"),
        "{run:?}"
    );
}

fn token_in_keychain(world: &World, session: &str) -> Option<Value> {
    let id = world.session_id(session);
    world
        .peers
        .secret_service()
        .lookup(
            world.peers.home().keychain_service(),
            &format!("login-token:{id}"),
        )
        .unwrap()
        .map(|text| serde_json::from_str(&text).expect("the keychain holds the token's JSON"))
}

fn all_files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Runs `script` with the venv's boto3 in the world's environment.
fn boto3(world: &World, script: &str) -> String {
    let out = rolehop_e2e::python(script, world.env()).expect("python runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn part2_stand_in_is_held_to_botocores_login_provider_and_the_aws_cli() {
    let (world, signin) = world_with_signin();
    write_config(&world, "arn:aws:iam::123456789012:role/unused");
    // Credentials that end within botocore's refresh window: it must refresh at once.
    let (token, file) = signin
        .sign_in(&home(&world), ALICE, ACCOUNT, Duration::from_secs(60))
        .unwrap();

    let key = boto3(
        &world,
        r#"
import boto3
creds = boto3.Session(profile_name="console").get_credentials()
print(creds.method, creds.get_frozen_credentials().access_key)
"#,
    );
    let issued = signin.issued_keys().unwrap();
    assert_eq!(issued.len(), 2, "the sign-in's and one refresh: {issued:?}");
    assert_eq!(key, format!("login {}", issued[1]));
    assert_eq!(signin.decisions().unwrap(), ["accept refresh_token"]);
    let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_ne!(
        saved["refreshToken"], token["refreshToken"],
        "botocore kept the rotated one"
    );
    assert_eq!(saved["dpopKey"], token["dpopKey"]);

    // The AWS CLI reads the same profile: a new sign-in with short credentials makes it
    // refresh too, then call STS (moto) with what it got.
    signin
        .sign_in(&home(&world), ALICE, ACCOUNT, Duration::from_secs(60))
        .unwrap();
    let run = world.aws(&["sts", "get-caller-identity", "--profile", "console"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(signin.decisions().unwrap().len(), 2);

    // Refused as AWS words it: a spent refresh token (botocore: run `aws login` again),
    // a request without a DPoP proof, an ended session.
    let mut spent_token = token.clone();
    spent_token["accessToken"]["expiresAt"] = json!("2020-01-01T00:00:00Z");
    std::fs::write(&file, spent_token.to_string()).unwrap();
    let spent = boto3(
        &world,
        r#"
import boto3
try:
    boto3.Session(profile_name="console").get_credentials().get_frozen_credentials()
    print("accepted")
except Exception as e:
    print(type(e).__name__)
"#,
    );
    assert_eq!(spent, "LoginRefreshRequired");
    let no_proof = boto3(
        &world,
        &format!(
            r#"
import json, urllib.request, urllib.error
body = json.dumps({{"clientId": "arn:aws:signin:::devtools/same-device",
                   "grantType": "refresh_token", "refreshToken": {refresh}}}).encode()
try:
    urllib.request.urlopen(urllib.request.Request("{endpoint}/v1/token", data=body))
    print("accepted")
except urllib.error.HTTPError as e:
    print(e.code, e.headers["x-amzn-ErrorType"], json.load(e)["error"])
"#,
            refresh = saved["refreshToken"],
            endpoint = signin.endpoint(),
        ),
    );
    assert_eq!(no_proof, "400 ValidationException invalid_request");
    signin
        .sign_in(&home(&world), ALICE, ACCOUNT, Duration::from_secs(60))
        .unwrap();
    signin.end_sessions().unwrap();
    let run = world.aws(&["sts", "get-caller-identity", "--profile", "console"]);
    assert_ne!(
        run.code,
        Some(0),
        "an ended session still refreshed: {run:?}"
    );
    let decisions = signin.decisions().unwrap();
    assert_eq!(
        decisions.last().map(String::as_str),
        Some("refuse AccessDeniedException TOKEN_EXPIRED"),
        "{decisions:?}"
    );
}

#[test]
fn part2_an_imported_login_session_parents_a_role_the_aws_cli_acts_as_with_its_token_only_in_the_keychain()
 {
    let (world, signin, token, file) = signed_in(Duration::from_secs(900));
    let file_bytes = std::fs::read(&file).unwrap();

    let (report, console) = import(&world);
    assert_eq!(console["outcome"], "imported", "{console}");
    assert_eq!(console["kind"], "login-session", "{console}");
    assert_eq!(entry(&report, "deploy")["outcome"], "imported");
    let list = world.rolehop(&["session", "list", "--json"]).ok().json();
    let kinds: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["kind"]["type"]
                    .as_str()
                    .or(s["kind"].as_str())
                    .unwrap_or("?"),
            )
        })
        .collect();
    assert!(kinds.contains(&("console", "login-session")), "{list}");

    // The token: in the keychain, whole; the AWS CLI's file left as it was; in no file
    // of Rolehop's.
    let held = token_in_keychain(&world, "console").expect("the token is in the keychain");
    assert_eq!(held["refreshToken"], token["refreshToken"]);
    assert_eq!(held["dpopKey"], token["dpopKey"]);
    assert_eq!(std::fs::read(&file).unwrap(), file_bytes);
    let key_body = token["dpopKey"]
        .as_str()
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned();
    let secrets = [
        token["refreshToken"].as_str().unwrap().to_owned(),
        token["accessToken"]["secretAccessKey"]
            .as_str()
            .unwrap()
            .to_owned(),
        key_body,
    ];
    for (path, bytes) in all_files_under(world.peers.home().root()) {
        if path == file {
            continue;
        }
        for secret in &secrets {
            assert!(
                !contains(&bytes, secret),
                "a token secret is in {}",
                path.display()
            );
        }
    }

    // The role chained from it: started, and the AWS CLI acts as it.
    world
        .rolehop(&["session", "start", "deploy", "--take-over"])
        .ok();
    assert_eq!(
        world.caller_arn("deploy").unwrap(),
        assumed(ACCOUNT, "Deploy", "rolehop-deploy")
    );
    // credential-process and exec answer through the same chain.
    let process = world.rolehop(&["credential-process", "deploy"]).ok().json();
    assert_eq!(process["Version"], 1);
    assert!(process["AccessKeyId"].is_string(), "{process}");
    acts_as_deploy(&world, &["exec", "deploy"]);
    // The credentials were the sign-in's own, still good: nothing was refreshed.
    assert!(signin.decisions().unwrap().is_empty());
}

#[test]
fn part2_refresh_proves_the_dpop_key_keeps_the_rotated_token_and_asks_for_a_new_login_when_refused()
{
    // Credentials that end too soon to use: the first resolution must refresh.
    let (world, signin, token, file) = signed_in(Duration::from_secs(60));
    let file_bytes = std::fs::read(&file).unwrap();
    world.rolehop(&["import", "aws-config"]).ok();
    // Each refresh from now on gives credentials too short to reuse.
    signin.set_access_ttl(Duration::from_secs(60)).unwrap();

    let first = world
        .rolehop(&["credential-process", "console"])
        .ok()
        .json();
    assert_eq!(signin.decisions().unwrap(), ["accept refresh_token"]);
    let issued = signin.issued_keys().unwrap();
    assert_eq!(first["AccessKeyId"], issued[1].as_str());
    let held = token_in_keychain(&world, "console").unwrap();
    assert_ne!(
        held["refreshToken"], token["refreshToken"],
        "the rotated token is kept"
    );
    assert_eq!(held["accessToken"]["accessKeyId"], issued[1].as_str());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        file_bytes,
        "the AWS CLI's file is left as it is"
    );

    // The next resolution refreshes again with the rotated token (the first is spent:
    // the stand-in would refuse it).
    world
        .rolehop(&["session", "start", "deploy", "--take-over"])
        .ok();
    assert_eq!(
        signin.decisions().unwrap(),
        ["accept refresh_token", "accept refresh_token"]
    );
    assert_eq!(
        world.caller_arn("deploy").unwrap(),
        assumed(ACCOUNT, "Deploy", "rolehop-deploy")
    );

    // The console session ends (signed out, or its 12 hours ran out): a start fails
    // asking for `aws login`, exit 12, and no secret is in what it says.
    signin.end_sessions().unwrap();
    world.rolehop(&["session", "stop", "deploy"]).ok();
    let refused = world
        .rolehop(&["session", "start", "console"])
        .fails_with(12);
    assert!(refused.stderr.contains("aws login"), "{refused:?}");
    let held = token_in_keychain(&world, "console").unwrap();
    assert!(
        !refused
            .stderr
            .contains(held["refreshToken"].as_str().unwrap())
    );
    assert_eq!(world.state_of("console"), "failed");

    // The person signs in again; importing again takes the newer token.
    signin
        .sign_in(&home(&world), ALICE, ACCOUNT, Duration::from_secs(900))
        .unwrap();
    let (_, console) = import(&world);
    assert_eq!(console["outcome"], "imported", "{console}");
    assert!(
        console["detail"].as_str().unwrap().contains("newer token"),
        "{console}"
    );
    world.rolehop(&["session", "start", "console"]).ok();
    assert_eq!(world.state_of("console"), "active");
    // A second import finds nothing newer and changes nothing.
    assert_eq!(import(&world).1["outcome"], "unchanged");
}

#[test]
fn part2_removing_a_login_session_drops_its_token_and_every_cached_copy() {
    let (world, _signin, _, file) = signed_in(Duration::from_secs(900));
    world.rolehop(&["import", "aws-config"]).ok();
    world
        .rolehop(&["session", "start", "deploy", "--take-over"])
        .ok();
    let service = world.peers.home().keychain_service();
    let before = world.peers.secret_service().search_all(service).unwrap();
    assert!(before.contains("login-token:"), "{before}");
    assert!(before.contains("cached-credentials:"), "{before}");

    // A stop keeps the token (a restart needs no new `aws login`).
    world.rolehop(&["session", "stop", "deploy"]).ok();
    assert!(token_in_keychain(&world, "console").is_some());

    world
        .rolehop(&["session", "remove", "console", "--cascade"])
        .ok();
    let left = world.peers.secret_service().search_all(service).unwrap();
    for account in ["login-token:", "cached-credentials:"] {
        assert!(!left.contains(account), "{account} left behind: {left}");
    }
    assert!(file.exists(), "the AWS CLI's own file is the AWS CLI's");
    let credentials =
        std::fs::read_to_string(world.peers.home().aws_credentials_file()).unwrap_or_default();
    assert!(!credentials.contains("[deploy]"), "{credentials}");
}

#[test]
fn part2_a_login_session_chain_serves_credential_process_mode_the_container_endpoint_and_the_console()
 {
    let (world, signin, token, _) = signed_in(Duration::from_secs(900));
    world.rolehop(&["import", "aws-config"]).ok();

    // credential_process delivery: no key on disk, the AWS CLI acts as the role.
    world
        .rolehop(&["settings", "set", "delivery-mode", "credential-process"])
        .ok();
    world
        .rolehop(&["session", "start", "deploy", "--take-over"])
        .ok();
    let config = world.peers.home().read_aws_config().unwrap();
    assert!(config.contains("credential_process"), "{config}");
    assert_eq!(
        world.caller_arn("deploy").unwrap(),
        assumed(ACCOUNT, "Deploy", "rolehop-deploy")
    );
    let credentials =
        std::fs::read_to_string(world.peers.home().aws_credentials_file()).unwrap_or_default();
    assert!(!credentials.contains("aws_session_token"), "{credentials}");

    // The container endpoint of `exec --server`: the AWS CLI inside asks it.
    acts_as_deploy(&world, &["exec", "--server", "deploy"]);

    // The console signs the console session's own credentials in.
    let federation = rolehop_e2e::federation::Federation::answering(
        "200 OK",
        r#"{"SigninToken":"stand-in-token"}"#,
    );
    world
        .rolehop_with(
            &["console", "console", "--print"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url)],
            None,
        )
        .ok();
    let request = federation.requests.recv().expect("a token request");
    let asked = rolehop_e2e::federation::query(&request);
    let session: Value =
        serde_json::from_str(rolehop_e2e::federation::value(&asked, "Session")).unwrap();
    assert_eq!(session["sessionId"], token["accessToken"]["accessKeyId"]);
    assert!(signin.decisions().unwrap().is_empty());
}
