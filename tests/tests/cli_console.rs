//! `rolehop console SESSION`: the federation sign-in flow. Real AWS is out of reach
//! here and no emulator serves the federation endpoint, so `ROLEHOP_FEDERATION_URL`
//! points it at a stand-in in this test: a loopback HTTP server that records the
//! `getSigninToken` request and answers as AWS documents it.

mod cli;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use cli::World;

/// The stand-in federation endpoint: answers one request with `status` and `body`, and
/// sends the request's path and query back to the test.
struct Federation {
    url: String,
    requests: mpsc::Receiver<String>,
}

impl Federation {
    fn answering(status: &'static str, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/federation", listener.local_addr().expect("addr"));
        let (sent, requests) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                // The rest of the head, up to the blank line.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let _ = sent.send(target);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, requests }
    }
}

/// The query of a URL or request target, decoded, as (name, value) pairs.
fn query(url: &str) -> Vec<(String, String)> {
    let (_, query) = url
        .split_once('?')
        .unwrap_or_else(|| panic!("no query: {url}"));
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} in {pairs:?}");
    found[0]
}

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

#[test]
fn console_refuses_an_iam_user_and_a_bad_service_before_asking_anything() {
    let world = World::start();
    world.seed_story();
    let federation = Federation::answering("200 OK", r#"{"SigninToken":"t"}"#);
    let env = [("ROLEHOP_FEDERATION_URL", federation.url.as_str())];
    let user = world
        .rolehop_with(&["console", "alice", "--print"], &env, None)
        .fails_with(3);
    assert!(user.stderr.contains("IAM user"), "{user:?}");
    let service = world
        .rolehop_with(
            &["console", "production", "--service", "s3/../iam", "--print"],
            &env,
            None,
        )
        .fails_with(3);
    assert!(service.stderr.contains("service"), "{service:?}");
    assert!(
        federation.requests.try_recv().is_err(),
        "the endpoint was asked"
    );
}
