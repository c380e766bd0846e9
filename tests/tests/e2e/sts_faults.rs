//! STS faults and the wall clock: Rolehop's STS client behind a fault-injecting proxy in
//! front of moto (mitmdump with tests/peers/fault_addon.py, started by tests/src/fault_proxy.rs), a real private gnome-keyring, and the real
//! AWS files delivery.
//!
//! For each fault a start fails that session only, with a message naming the hop and the
//! cause; the proxy's request count is the retry policy (3 attempts for what the SDK's
//! standard mode retries, 1 for what it does not: no retry storm), and the user's AWS
//! files keep every byte. Each test prints its figures (requests seen, time to a clear
//! failure, bytes changed); the time is printed, never asserted.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::engine::{peers, runtime};
use crate::sts::{self, aws_files, bytes_changed};
use chrono::{DateTime, Utc};
use rolehop_core::model::SessionState;
use rolehop_core::rotation::{Clock, RotationScheduler};
use rolehop_core::{Engine, EngineError, EngineEvent, NewRole, StartOptions};
use rolehop_e2e::Peers;
use rolehop_e2e::clock::SteppedClock;
use rolehop_e2e::fault_proxy::{Fault, FaultProxy, refused_endpoint};

const ACCOUNT: &str = "222222222222";

/// An engine whose STS is `endpoint` with IAM users alice and bob and alice's role
/// deploy.
async fn engine(peers: &Peers, endpoint: String) -> Engine {
    let engine = sts::open_engine(peers, endpoint, sts::no_prompt()).await;
    for name in ["alice", "bob"] {
        sts::add_user(&engine, peers, name).await;
    }
    engine
        .add_role(NewRole {
            name: "deploy".into(),
            profile: "production".into(),
            parent: "alice".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/Deploy"),
            duration: Some(3600),
            ..Default::default()
        })
        .await
        .unwrap();
    engine
}

fn state_of(sessions: &[rolehop_core::SessionView], name: &str) -> SessionState {
    sessions
        .iter()
        .find(|s| s.session.name == name)
        .unwrap_or_else(|| panic!("no session {name}"))
        .state
        .clone()
}

/// Starts bob cleanly, switches `fault` on, and starts deploy: it fails naming alice
/// (the hop whose call failed) and `cause`, the proxy saw `attempts` requests, bob is
/// still active and the AWS files are as bob's start left them.
fn a_fault_fails_that_session_only(fault: Fault, cause: &str, attempts: usize) {
    let peers = peers();
    let proxy = FaultProxy::start(&peers.moto().endpoint()).unwrap();
    runtime().block_on(async {
        let engine = engine(&peers, proxy.endpoint()).await;
        let bob = engine.start("bob", StartOptions::default()).await.unwrap();
        let before = aws_files(&peers);

        proxy.set(fault);
        let started = Instant::now();
        let err = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        let EngineError::SessionFailed { failure, .. } = &err else {
            panic!("{err}")
        };
        let changed = bytes_changed(&before, &aws_files(&peers));
        eprintln!(
            "figures: fault={fault:?} requests={} time_to_failure={elapsed:?} bytes_changed={changed} message={:?}",
            proxy.requests(),
            failure.message
        );
        assert!(
            failure.message.starts_with("via 'alice': "),
            "{}",
            failure.message
        );
        assert!(failure.message.contains(cause), "{}", failure.message);
        assert_eq!(proxy.requests(), attempts, "the retry policy, no more");
        assert_eq!(changed, 0, "the AWS files keep every byte");
        let sessions = engine.sessions().await.unwrap();
        assert!(matches!(
            state_of(&sessions, "deploy"),
            SessionState::Failed(_)
        ));
        assert_eq!(state_of(&sessions, "bob"), bob.state, "bob is untouched");
    });
}

#[test]
fn throttling_fails_after_three_attempts_naming_the_hop() {
    a_fault_fails_that_session_only(
        Fault::Throttling,
        "STS throttled the request after 3 attempts",
        3,
    );
}

#[test]
fn a_bare_429_is_not_retried_and_says_throttled() {
    // The SDK's standard mode retries by error code and by 500/502/503/504; a 429
    // without a code is answered once.
    a_fault_fails_that_session_only(
        Fault::TooManyRequests,
        "STS throttled the request after 1 attempt",
        1,
    );
}

#[test]
fn a_500_fails_after_three_attempts() {
    a_fault_fails_that_session_only(
        Fault::InternalError,
        "STS answered 500 Internal Server Error after 3 attempts",
        3,
    );
}

#[test]
fn a_503_fails_after_three_attempts() {
    a_fault_fails_that_session_only(
        Fault::Unavailable,
        "STS answered 503 Service Unavailable after 3 attempts",
        3,
    );
}

#[test]
fn a_hung_sts_times_out_after_three_attempts() {
    a_fault_fails_that_session_only(
        Fault::Hang,
        "STS did not answer within 10 s after 3 attempts",
        3,
    );
}

#[test]
fn a_truncated_answer_fails_clearly() {
    a_fault_fails_that_session_only(Fault::TruncatedBody, "STS's answer was cut off", 3);
}

#[test]
fn a_refused_connection_names_the_endpoint() {
    let peers = peers();
    let endpoint = refused_endpoint().unwrap();
    runtime().block_on(async {
        let engine = engine(&peers, endpoint.clone()).await;
        let before = aws_files(&peers);
        let started = Instant::now();
        let err = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        let EngineError::SessionFailed { failure, .. } = &err else {
            panic!("{err}")
        };
        let changed = bytes_changed(&before, &aws_files(&peers));
        eprintln!(
            "figures: fault=ConnectionRefused requests=n/a time_to_failure={elapsed:?} bytes_changed={changed} message={:?}",
            failure.message
        );
        let expected = format!("via 'alice': could not connect to STS at {endpoint}");
        assert!(
            failure.message.starts_with(&expected),
            "{}",
            failure.message
        );
        assert_eq!(changed, 0);
    });
}

/// An in-memory clock: no real peer can suspend the machine or move the wall clock, so
/// the test moves this one. Its sleep ends when the clock is moved.
struct MovableClock {
    offset: Mutex<chrono::Duration>,
    moved: tokio::sync::Notify,
}

impl MovableClock {
    fn move_to(&self, at: DateTime<Utc>) {
        *self.offset.lock().unwrap() = at - Utc::now();
        self.moved.notify_one();
    }
}

impl Clock for MovableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap()
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.moved.notified() => {}
            }
        })
    }
}

#[test]
fn a_clock_moved_past_the_margin_rotates_at_once() {
    let peers = peers();
    let proxy = FaultProxy::start(&peers.moto().endpoint()).unwrap();
    runtime().block_on(async {
        let engine = Arc::new(engine(&peers, proxy.endpoint()).await);
        let view = engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        let SessionState::Active { expires_at: first } = view.state else {
            panic!("{:?}", view.state)
        };
        let margin = engine.settings().await.unwrap().rotation_margin_seconds;
        let clock = Arc::new(MovableClock {
            offset: Mutex::new(chrono::Duration::zero()),
            moved: tokio::sync::Notify::new(),
        });
        let mut events = engine.subscribe();
        let scheduler = RotationScheduler::spawn_with_clock(engine.clone(), clock.clone());
        proxy.set(Fault::None);
        // The machine wakes from a suspend one second past deploy's margin.
        clock.move_to(first - chrono::Duration::seconds(margin as i64 - 1));
        // A guard against a hang, far beyond the scheduler's 30 s re-plan bound.
        let rotated = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                if let Ok(EngineEvent::SessionState {
                    name,
                    state: SessionState::Active { expires_at },
                    ..
                }) = events.recv().await
                    && name == "deploy"
                    && expires_at != first
                {
                    break expires_at;
                }
            }
        })
        .await
        .expect("the scheduler rotated deploy");
        scheduler.abort();
        eprintln!(
            "figures: clock moved past the margin; STS requests for the rotation={}",
            proxy.requests()
        );
        assert!(rotated >= first);
        assert!(proxy.requests() >= 1, "the rotation called STS");
    });
}

#[test]
fn a_failing_background_rotation_retries_with_backoff_and_is_reported_once() {
    let peers = peers();
    let proxy = FaultProxy::start(&peers.moto().endpoint()).unwrap();
    runtime().block_on(async {
        let engine = Arc::new(engine(&peers, proxy.endpoint()).await);
        engine
            .start("deploy", StartOptions::default())
            .await
            .unwrap();
        let before = aws_files(&peers);
        // deploy's credentials last an hour; the clock runs on to an hour past that.
        let clock = Arc::new(SteppedClock::new(chrono::Duration::hours(2)));
        let mut events = engine.subscribe();
        proxy.set(Fault::Unavailable);
        let started = Instant::now();
        let scheduler = RotationScheduler::spawn_with_clock(engine.clone(), clock.clone());
        // A guard against a hang: the simulated two hours take seconds.
        tokio::time::timeout(Duration::from_secs(600), clock.reached_end())
            .await
            .expect("the scheduler ran the clock to its end");
        let elapsed = started.elapsed();
        scheduler.abort();

        let (mut reported, mut states) = (Vec::new(), Vec::new());
        while let Ok(event) = events.try_recv() {
            match event {
                EngineEvent::RotationFailed { name, message, .. } => reported.push((name, message)),
                EngineEvent::SessionState { name, state, .. } if name == "deploy" => {
                    states.push(state)
                }
                _ => {}
            }
        }
        let changed = bytes_changed(&before, &aws_files(&peers));
        eprintln!(
            "figures: background rotation against a 503: requests={} time_to_failure={elapsed:?} bytes_changed={changed} reported={reported:?}",
            proxy.requests()
        );
        assert_eq!(reported.len(), 1, "the user is told once: {reported:?}");
        let (name, message) = &reported[0];
        assert_eq!(name, "deploy");
        // The failing call is deploy's own AssumeRole (alice's token is cached), so no
        // "via" hop: the event (and the notification's title) name deploy.
        let cause =
            "STS answered 503 Service Unavailable after 3 attempts (gave up refreshing after ";
        assert!(message.starts_with(cause), "{message}");
        let tries: usize = message[cause.len()..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count of tries in {message}"));
        // The default 5 min margin fits 4 or 5 tries, by the jitter drawn.
        assert!((4..=5).contains(&tries), "{message}");
        assert_eq!(
            proxy.requests(),
            3 * tries,
            "each try is the STS client's 3 attempts, and nothing follows the last"
        );
        // Active on its valid credentials while retrying: the one change is the failure.
        assert!(
            matches!(states.as_slice(), [SessionState::Failed(f)] if &f.message == message),
            "{states:?}"
        );
        assert_eq!(changed, 0, "the AWS files keep every byte");
    });
}
