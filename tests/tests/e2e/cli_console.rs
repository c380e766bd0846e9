//! `rolehop console SESSION`: the federation sign-in flow. Real AWS is out of reach
//! here and no emulator serves the federation endpoint, so `ROLEHOP_FEDERATION_URL`
//! points it at a stand-in ([`rolehop_e2e::federation`]): a loopback HTTP server that
//! records the `getSigninToken` request and answers as AWS documents it.

use crate::cli::World;
use rolehop_e2e::federation::{Federation, query, value};

#[test]
fn console_asks_for_a_token_with_exactly_the_sessions_credentials_and_prints_the_login_url() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"stand-in-token/+="}"#);
    let run = world
        .rolehop_with(
            &["console", "production", "--service", "s3", "--print"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url)],
            None,
        )
        .ok();
    let cached = world
        .rolehop(&["credential-process", "production"])
        .ok()
        .json();

    let request = federation.requests.recv().expect("a token request");
    assert!(request.starts_with("/federation?"), "{request}");
    let asked = query(&request);
    assert_eq!(value(&asked, "Action"), "getSigninToken");
    let session: serde_json::Value =
        serde_json::from_str(value(&asked, "Session")).expect("Session is JSON");
    assert_eq!(
        session,
        serde_json::json!({
            "sessionId": cached["AccessKeyId"],
            "sessionKey": cached["SecretAccessKey"],
            "sessionToken": cached["SessionToken"],
        })
    );

    let url = run.stdout.trim();
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert!(url.starts_with(&format!("{}?", federation.url)), "{url}");
    let login = query(url);
    assert_eq!(value(&login, "Action"), "login");
    assert_eq!(value(&login, "Issuer"), "rolehop");
    assert_eq!(
        value(&login, "Destination"),
        "https://console.aws.amazon.com/s3/home?region=eu-west-1"
    );
    assert_eq!(value(&login, "SigninToken"), "stand-in-token/+=");
}

#[test]
fn a_federation_endpoint_that_answers_an_error_is_named_in_the_message() {
    let world = World::start();
    world.seed_story();
    let federation = Federation::answering("400 Bad Request", "Invalid session credentials");
    let refused = world
        .rolehop_with(
            &["console", "production", "--mfa-code", "123456", "--print"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url)],
            None,
        )
        .fails_with(6);
    assert!(refused.stdout.is_empty(), "{refused:?}");
    for part in [
        federation.url.as_str(),
        "400",
        "Invalid session credentials",
    ] {
        assert!(refused.stderr.contains(part), "{part} not in {refused:?}");
    }
}

/// An IAM user signs in through GetFederationToken: the federation endpoint sees that
/// call's credentials (asked of moto here with the user's keys, as boto3 asks it), never
/// the user's long-lived keys.
#[test]
fn an_iam_user_signs_in_with_federation_token_credentials_not_its_own_keys() {
    let world = World::start();
    let story = world.seed_story();
    world
        .rolehop(&["session", "start", "alice", "--mfa-code", "123456"])
        .ok();
    let script = r#"
import json, os, boto3
sts = boto3.client("sts", aws_access_key_id=os.environ["KEY_ID"],
                   aws_secret_access_key=os.environ["SECRET"], region_name="us-east-1")
c = sts.get_federation_token(Name="rolehop-alice", DurationSeconds=43200)["Credentials"]
print(json.dumps({"sessionId": c["AccessKeyId"], "sessionKey": c["SecretAccessKey"],
                  "sessionToken": c["SessionToken"]}))
"#;
    let mut env = world.env();
    env.push(("KEY_ID".into(), story.alice.access_key_id.clone()));
    env.push(("SECRET".into(), story.alice.secret_access_key.clone()));
    let out = rolehop_e2e::python(script, env).expect("python runs");
    assert!(out.status.success(), "{out:?}");
    let federated: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("federation credentials");
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"user-token"}"#);
    let run = world
        .rolehop_with(
            &["console", "alice", "--print"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url)],
            None,
        )
        .ok();
    let asked = query(&federation.requests.recv().expect("a token request"));
    let session: serde_json::Value =
        serde_json::from_str(value(&asked, "Session")).expect("Session is JSON");
    assert_eq!(session, federated);
    assert_ne!(session["sessionId"], story.alice.access_key_id.as_str());
    assert_ne!(
        session["sessionKey"],
        story.alice.secret_access_key.as_str()
    );
    let login = query(run.stdout.trim());
    assert_eq!(value(&login, "SigninToken"), "user-token");
    assert_eq!(
        value(&login, "Destination"),
        "https://console.aws.amazon.com/console/home?region=us-east-1"
    );
}

#[test]
fn console_refuses_a_bad_service_or_region_before_asking_anything() {
    let world = World::start();
    world.seed_story();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"t"}"#);
    let env = [("ROLEHOP_FEDERATION_URL", federation.url.as_str())];
    let service = world
        .rolehop_with(
            &["console", "production", "--service", "s3/../iam", "--print"],
            &env,
            None,
        )
        .fails_with(3);
    assert!(
        service.stderr.starts_with("rolehop: service: "),
        "{service:?}"
    );
    let region = world
        .rolehop_with(
            &["console", "production", "--region", "eu west", "--print"],
            &env,
            None,
        )
        .fails_with(3);
    assert!(region.stderr.starts_with("rolehop: region: "), "{region:?}");
    assert!(
        federation.requests.try_recv().is_err(),
        "the endpoint was asked"
    );
}

#[test]
fn a_federation_endpoint_over_plain_http_to_another_host_is_refused_before_anything_is_sent() {
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    for url in [
        "http://example.com/federation",
        "ftp://127.0.0.1/federation",
    ] {
        let refused = world
            .rolehop_with(
                &["console", "production", "--print"],
                &[("ROLEHOP_FEDERATION_URL", url)],
                None,
            )
            .fails_with(3);
        assert!(
            refused.stderr.contains("ROLEHOP_FEDERATION_URL") && refused.stderr.contains(url),
            "{refused:?}"
        );
        assert!(refused.stdout.is_empty(), "{refused:?}");
    }
    // The same endpoint over https, or plain http to loopback (the stand-in), is taken.
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"t"}"#);
    assert!(
        federation.url.starts_with("http://127.0.0.1:"),
        "{}",
        federation.url
    );
    world
        .rolehop_with(
            &["console", "production", "--print"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url)],
            None,
        )
        .ok();
}

/// Issue 23, finding 3: a command line is readable by every local user
/// (`/proc/<pid>/cmdline`), and the sign-in URL signs anyone in. The browser is handed a
/// one-time loopback address instead. The stand-in browser (an `xdg-open` first on the
/// PATH) records what it was given, reads every process's command line while the flow
/// runs, and opens the address as a browser would (following it once).
#[test]
fn the_browser_gets_a_one_time_loopback_address_and_no_command_line_holds_the_token() {
    use std::os::unix::fs::PermissionsExt;

    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"argv-probe-token"}"#);
    let browser = tempfile::tempdir().expect("tempdir");
    let dir = browser.path().display().to_string();
    let script = browser.path().join("xdg-open");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
printf '%s\n' "$1" > '{dir}/opened'
for f in /proc/[0-9]*/cmdline; do tr '\000' ' ' < "$f" 2>/dev/null; echo; done > '{dir}/cmdlines'
python3 - "$1" > '{dir}/location' <<'PY'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(url.netloc, timeout=10)
c.request("GET", url.path)
r = c.getresponse()
print(r.status, r.getheader("Location") or "")
PY
"#
        ),
    )
    .expect("write the stand-in browser");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let run = world
        .rolehop_with(
            &["console", "production"],
            &[("ROLEHOP_FEDERATION_URL", &federation.url), ("PATH", &path)],
            None,
        )
        .ok();
    assert!(run.stdout.is_empty(), "{run:?}");

    let opened = std::fs::read_to_string(browser.path().join("opened")).expect("opened");
    let opened = opened.trim();
    assert!(opened.starts_with("http://127.0.0.1:"), "{opened}");
    assert!(!opened.contains("argv-probe-token"), "{opened}");
    let cmdlines = std::fs::read_to_string(browser.path().join("cmdlines")).expect("cmdlines");
    assert!(
        cmdlines.contains(opened),
        "the scan did not see the browser's own command line"
    );
    assert!(
        !cmdlines.contains("argv-probe-token") && !cmdlines.contains("SigninToken"),
        "a command line holds the sign-in token"
    );
    let location = std::fs::read_to_string(browser.path().join("location")).expect("location");
    let (status, signin) = location
        .trim()
        .split_once(' ')
        .expect("status and location");
    assert_eq!(status, "302", "{location}");
    let login = query(signin);
    assert_eq!(value(&login, "SigninToken"), "argv-probe-token");
    assert!(
        rolehop_e2e::federation::follow(opened).is_none(),
        "the address answered a second time"
    );
}
