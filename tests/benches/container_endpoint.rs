//! The container credentials endpoint under load: `rolehop serve production` on a
//! started session (cached credentials), 10 concurrent clients each making 100 GETs
//! over one keep-alive connection (as an SDK does), every answer checked. Prints p50,
//! p90, p99 and max per request, and the requests per second; then the same for one
//! client alone (the cost of a request without queueing behind nine others).
//!
//! Run: `cargo build -p rolehop-cli && cargo test -p rolehop-e2e --bench
//! container_endpoint` (debug build), or `cargo build --release -p rolehop-cli &&
//! cargo bench -p rolehop-e2e --bench container_endpoint`. Goal: p50 under 1 ms, no error.
//! `ROLEHOP_BENCH_BIN=target/release/rolehop cargo bench --profile dev -p rolehop-e2e
//! --bench container_endpoint` serves from the release CLI with a debug-built harness.

#[allow(dead_code)] // the suites use the rest of it
#[path = "../tests/e2e/cli.rs"]
mod cli;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli::World;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rolehop_e2e::binaries::bench_bin;
use rolehop_e2e::timing::ms;

const CLIENTS: usize = 10;
const REQUESTS_PER_CLIENT: usize = 100;

async fn client(addr: String, token: String, requests: usize) -> Vec<Duration> {
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut took = Vec::with_capacity(requests);
    for _ in 0..requests {
        let request = hyper::Request::get("/")
            .header("Host", &addr)
            .header("Authorization", &token)
            .body(Empty::<Bytes>::new())
            .expect("request");
        sender.ready().await.expect("connection ready");
        let start = Instant::now();
        let response = sender.send_request(request).await.expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        took.push(start.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let creds: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert!(creds["AccessKeyId"].is_string(), "{creds}");
    }
    took
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes; nothing to list
    }
    let world = World::start();
    world.seed_story();
    world
        .rolehop(&["session", "start", "production", "--mfa-code", "123456"])
        .ok();
    let rolehop = bench_bin();
    let mut serve = Command::new(rolehop)
        .env_clear()
        .envs(world.env())
        .args(["serve", "production"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rolehop serve runs");
    let mut lines = BufReader::new(serve.stdout.take().expect("stdout")).lines();
    let mut value = || {
        let line = lines.next().expect("a line").expect("text");
        line.split_once('=').expect("NAME=VALUE").1.to_owned()
    };
    let url = value();
    let token = value();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // One warm-up request fills the engine's memory cache from the keychain.
    runtime.block_on(async {
        let _ = tokio::spawn(client_once(addr.clone(), token.clone())).await;
    });
    let start = Instant::now();
    let mut took: Vec<Duration> = runtime.block_on(async {
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| tokio::spawn(client(addr.clone(), token.clone(), REQUESTS_PER_CLIENT)))
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        all
    });
    let wall = start.elapsed();
    report(
        &format!("{} requests from {CLIENTS} concurrent clients", took.len()),
        &mut took,
        wall,
    );
    let start = Instant::now();
    let mut alone = runtime.block_on(client(addr.clone(), token.clone(), 500));
    report("500 requests from one client", &mut alone, start.elapsed());
    serve.kill().expect("stop serve");
    serve.wait().expect("reaped");
}

fn report(what: &str, took: &mut [Duration], wall: Duration) {
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!("container endpoint, {what}, 0 errors:");
    println!(
        "  p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  max {:.3} ms  ({:.0} requests/s)",
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(*took.last().expect("samples")),
        took.len() as f64 / wall.as_secs_f64()
    );
}

async fn client_once(addr: String, token: String) {
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = hyper::Request::get("/")
        .header("Host", &addr)
        .header("Authorization", &token)
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200);
}
