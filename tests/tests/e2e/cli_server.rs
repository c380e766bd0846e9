//! The container credentials endpoint: `rolehop exec --server SESSION -- COMMAND` and
//! `rolehop serve SESSION`. The real AWS CLI and boto3 fetch credentials from it (moto
//! answers their calls), raw requests prove who it refuses, and a short-lived role
//! proves a long-running child gets fresh credentials after a rotation.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

use crate::cli::{DEPLOY_ROLE, PRODUCTION, World, assumed, env_of};
use rolehop_e2e::binaries::rolehop_bin;
use rolehop_e2e::venv_bin;

/// One GET with an optional `Authorization` header: the status and the body.
fn get(url: &str, authorization: Option<&str>) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut stream = TcpStream::connect(host).expect("connect to the endpoint");
    let mut request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn exec_server_gives_the_command_an_endpoint_and_no_keys() {
    let world = World::start();
    world.seed_story();
    let run = world
        .rolehop_with(
            &[
                "exec",
                "--server",
                "production",
                "--mfa-code",
                "123456",
                "--",
                "env",
            ],
            &[
                ("AWS_PROFILE", "staging"),
                ("AWS_ACCESS_KEY_ID", "AKIACALLERSOWNKEY000"),
                ("AWS_SECRET_ACCESS_KEY", "callers-own-secret"),
                ("AWS_SESSION_TOKEN", "callers-own-token"),
            ],
            None,
        )
        .ok();
    let env = env_of(&run.stdout);
    for static_key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ] {
        assert!(!env.contains_key(static_key), "{static_key} in {env:?}");
    }
    let uri = &env["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    let token = &env["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    assert!(
        token.len() >= 64 && token.chars().all(|c| c.is_ascii_hexdigit()),
        "{token}"
    );
    assert_eq!(env["AWS_REGION"], "eu-west-1");
}

#[test]
fn the_aws_cli_and_boto3_in_an_exec_server_child_act_as_the_role() {
    let world = World::start();
    world.seed_story();
    let role_arn = assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-production");

    let aws = venv_bin("aws");
    let identity = world
        .rolehop(&[
            "exec",
            "--server",
            "production",
            "--mfa-code",
            "123456",
            "--",
            aws.to_str().unwrap(),
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(identity["Arn"], role_arn);

    let python = venv_bin("python");
    let script = r#"
import boto3
session = boto3.Session()
print(session.get_credentials().method)
print(session.client("sts").get_caller_identity()["Arn"])
"#;
    let run = world
        .rolehop(&[
            "exec",
            "--server",
            "production",
            "--",
            python.to_str().unwrap(),
            "-c",
            script,
        ])
        .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    // botocore names where its credentials came from: the container provider.
    assert_eq!(lines, ["container-role", role_arn.as_str()], "{run:?}");
}

#[test]
fn serve_prints_the_variables_and_refuses_requests_without_the_right_token() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let cached = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();

    let mut serve = Command::new(rolehop_bin())
        .env_clear()
        .envs(world.env())
        .args(["serve", "production"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rolehop serve runs");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let mut exported = HashMap::new();
    for _ in 0..2 {
        let line = lines.next().expect("a line").expect("text");
        let (name, value) = line
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
            .unwrap_or_else(|| panic!("not an export line: {line}"));
        exported.insert(name.to_owned(), value.to_owned());
    }
    let url = &exported["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
    let token = &exported["AWS_CONTAINER_AUTHORIZATION_TOKEN"];

    let (status, body) = get(url, None);
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("SecretAccessKey"), "{body}");
    let wrong = format!("{}0", &token[..token.len() - 1]);
    let wrong = if wrong == *token {
        format!("{}1", &token[..token.len() - 1])
    } else {
        wrong
    };
    let (status, body) = get(url, Some(&wrong));
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("SecretAccessKey"), "{body}");

    let (status, body) = get(url, Some(token));
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(served["AccessKeyId"], cached["AccessKeyId"]);
    assert_eq!(served["SecretAccessKey"], cached["SecretAccessKey"]);
    assert_eq!(served["Token"], cached["SessionToken"]);
    let expiration = served["Expiration"].as_str().expect("an expiration");
    chrono::DateTime::parse_from_rfc3339(expiration).expect("RFC 3339");

    // SIGTERM ends it cleanly, and the port is closed.
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .expect("kill runs");
    let status = serve.wait().expect("serve ends");
    assert_eq!(status.code(), Some(0), "{status:?}");
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(TcpStream::connect(host).is_err(), "still listening");
}

/// Issue 23, finding 3: `--format docker` once printed `-e AWS_CONTAINER_AUTHORIZATION_TOKEN=<token>`
/// to paste into `docker run`, where every local user reads it in `/proc/<pid>/cmdline`.
/// It prints `--env-file PATH` now: the file (0600, in the runtime directory) holds both
/// variables, no command line holds the token, and the file goes when serving ends.
#[test]
fn serve_for_docker_prints_an_env_file_that_only_the_user_reads_and_that_goes_with_it() {
    use std::os::unix::fs::PermissionsExt;

    let world = World::start();
    world.seed_story();
    let mut serve = Command::new(rolehop_bin())
        .env_clear()
        .envs(world.env())
        .args([
            "serve",
            "alice",
            "--format",
            "docker",
            "--mfa-code",
            "123456",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rolehop serve runs");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let line = lines.next().expect("a line").expect("text");
    let path = line
        .strip_prefix("--env-file ")
        .expect("an --env-file flag");
    let path = std::path::Path::new(path);
    assert!(path.is_absolute(), "{line}");
    let mode = std::fs::metadata(path)
        .expect("the env file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o077, 0, "{dir_mode:o}");
    let text = std::fs::read_to_string(path).expect("readable by its user");
    let vars: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    assert!(
        vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"].starts_with("http://127.0.0.1:"),
        "{text}"
    );
    let token = vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"];
    assert!(token.len() >= 32, "{text}");
    assert!(!line.contains(token));
    // No process's command line holds the token while it is served.
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            assert!(
                !String::from_utf8_lossy(&cmdline).contains(token),
                "{:?} holds the token",
                entry.path()
            );
        }
    }
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .expect("kill runs");
    assert_eq!(serve.wait().expect("serve ends").code(), Some(0));
    assert!(!path.exists(), "the env file outlived serve");
}

/// A role whose credentials live 900 s, with the rotation margin at its 3000 s maximum:
/// no cached copy is ever good enough, so every request to the endpoint mints new
/// credentials, as it does for a long-running child after each rotation.
#[test]
fn a_child_that_outlives_a_rotation_gets_fresh_working_credentials() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["settings", "set", "rotation-margin", "3000"])
        .ok();
    world
        .rolehop(&[
            "session",
            "add",
            "role",
            "--name",
            "short",
            "--parent",
            "codebuild",
            "--role-arn",
            DEPLOY_ROLE,
            "--profile",
            "short",
            "--region",
            "eu-west-1",
            "--duration",
            "900",
        ])
        .ok();
    let python = venv_bin("python");
    // Two fetches as an SDK makes them, each then used for a call to moto.
    let script = r#"
import json, os, urllib.request, boto3
def fetch():
    request = urllib.request.Request(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]})
    return json.load(urllib.request.urlopen(request))
for creds in (fetch(), fetch()):
    sts = boto3.client("sts", aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["Token"])
    print(creds["AccessKeyId"], sts.get_caller_identity()["Arn"])
"#;
    let run = world
        .rolehop(&[
            "exec",
            "--server",
            "short",
            "--mfa-code",
            "123456",
            "--",
            python.to_str().unwrap(),
            "-c",
            script,
        ])
        .ok();
    let rows: Vec<(&str, &str)> = run
        .stdout
        .lines()
        .map(|l| l.split_once(' ').expect("key and ARN"))
        .collect();
    assert_eq!(rows.len(), 2, "{run:?}");
    assert_ne!(
        rows[0].0, rows[1].0,
        "the second request reused expiring credentials"
    );
    let role_arn = assumed(PRODUCTION, "ResourceDeployCAR", "rolehop-short");
    assert_eq!(rows[0].1, role_arn);
    assert_eq!(rows[1].1, role_arn);
}

#[test]
fn exec_server_passes_the_exit_code_through_and_names_a_missing_command() {
    let world = World::start();
    world.seed_story();
    let args = ["exec", "--server", "alice", "--mfa-code", "123456", "--"];
    let run = world.rolehop(&[&args[..], &["sh", "-c", "echo out; exit 42"]].concat());
    assert_eq!(run.code, Some(42), "{run:?}");
    assert_eq!(run.stdout, "out\n");
    let missing = world
        .rolehop(&[&args[..], &["no-such-command-anywhere"]].concat())
        .fails_with(127);
    assert!(
        missing.stderr.contains("no-such-command-anywhere"),
        "{missing:?}"
    );
}

#[test]
fn exec_server_on_a_port_in_use_says_so_and_runs_nothing() {
    let world = World::start();
    world.seed_story();
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("addr").port().to_string();
    let marker = world.peers.home().root().join("ran");
    let refused = world
        .rolehop(&[
            "exec",
            "--server",
            "--port",
            &port,
            "alice",
            "--mfa-code",
            "123456",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ])
        .fails_with(5);
    assert!(
        refused.stderr.contains(&format!("127.0.0.1:{port}")) && refused.stderr.contains("--port"),
        "{refused:?}"
    );
    assert!(!marker.exists(), "the command ran");
}

#[test]
fn exec_server_for_a_session_that_cannot_start_says_why_and_runs_nothing() {
    let world = World::start();
    world.seed_story();
    let marker = world.peers.home().root().join("ran");
    // No cached MFA session and no terminal to ask on.
    let refused = world
        .rolehop(&[
            "exec",
            "--server",
            "production",
            "--",
            "touch",
            marker.to_str().unwrap(),
        ])
        .fails_with(7);
    assert!(refused.stderr.contains("--mfa-code"), "{refused:?}");
    world
        .rolehop(&["exec", "--server", "nobody", "--", "true"])
        .fails_with(4);
    assert!(!marker.exists(), "the command ran");
}
