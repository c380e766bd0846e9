//! Soak: two simulated hours of background rotation for 20 sessions through mitmdump
//! failing 10 % of the requests to moto at random (seeded), on the scheduler's stepped
//! clock (in-memory: no peer can make hours pass in minutes; the proxy moves STS's
//! `<Expiration>` with it, moto having no clock to move).
//!
//! Each session is a role lasting 900 s behind one IAM user, rotated with a 780 s
//! margin: a 120 s cycle, so 60 cycles in the two hours, and room for all five tries of
//! the retry schedule (15–30 s, 30–60 s, 60–120 s, 120–240 s) in a cycle. The faults are
//! those STS gives under load: throttling (400 and bare 429), 500, 503 and a cut-off
//! answer (a hung connection or a refused one would make the soak wait on real
//! timeouts; sts_faults pins those). At the end no session is stuck (every one is
//! active on credentials valid past the clock's end, or failed and reported), nothing
//! prompted, and every failed session was reported exactly once. The figures are
//! printed: cycles, rotations, requests, faults injected, failures reported, retries.
//!
//! A 10 % fault rate rarely exhausts five tries, so the soak then takes STS down for
//! good (every request a 503) for half a simulated hour: every session gives up within
//! its cycle, before its credentials expire, and is reported exactly once; started
//! again once STS is back, each works without a prompt.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::engine::{peers, runtime};
use crate::sts;
use rolehop_core::model::SessionState;
use rolehop_core::rotation::{RETRY_TRIES, RotationScheduler, RotationTally};
use rolehop_core::{Engine, EngineEvent, NewRole, StartOptions};
use rolehop_e2e::clock::SteppedClock;
use rolehop_e2e::fault_proxy::{Fault, FaultProxy};
use tokio::sync::broadcast::error::RecvError;

const SESSIONS: usize = 20;
const DURATION_S: u32 = 900;
const MARGIN_S: u32 = 780;
const SIMULATED: chrono::Duration = chrono::Duration::hours(2);
const FAULT_RATE: f64 = 0.10;
const SEED: u64 = 20_261_130;
/// STS down for good after the soak: long enough for every session's last cycle.
const OUTAGE: chrono::Duration = chrono::Duration::minutes(30);

/// What the engine announced during the soak.
#[derive(Default)]
struct Counts {
    /// Sessions made active (each rotation).
    rotations: usize,
    /// Times each session went failed.
    failed: HashMap<String, usize>,
    /// Times each session's failure was reported.
    reported: HashMap<String, usize>,
}

impl Counts {
    fn add(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::SessionState { name, state, .. } => match state {
                SessionState::Active { .. } => self.rotations += 1,
                SessionState::Failed(_) => *self.failed.entry(name).or_default() += 1,
                other => panic!("{name} went {other:?} during rotation"),
            },
            EngineEvent::RotationFailed { name, .. } | EngineEvent::SignInNeeded { name, .. } => {
                *self.reported.entry(name).or_default() += 1
            }
            // No catalog is followed here.
            EngineEvent::WorkspaceChanged | EngineEvent::CatalogMovedOn { .. } => {}
        }
    }
}

#[test]
fn twenty_sessions_rotate_for_two_simulated_hours_through_ten_percent_faults() {
    let peers = peers();
    let proxy = Arc::new(FaultProxy::start(&peers.moto().endpoint()).unwrap());
    let prompt = sts::no_prompt();
    runtime().block_on(async {
        let engine = Arc::new(sts::open_engine(&peers, proxy.endpoint(), prompt.clone()).await);
        sts::add_user(&engine, &peers, "ops").await;
        let mut settings = engine.settings().await.unwrap();
        settings.rotation_margin_seconds = MARGIN_S;
        engine.update_settings(settings).await.unwrap();
        let names: Vec<String> = (0..SESSIONS).map(|i| format!("r{i:02}")).collect();
        for name in &names {
            engine
                .add_role(NewRole {
                    name: name.clone(),
                    profile: format!("soak-{name}"),
                    parent: "ops".into(),
                    role_arn: format!("arn:aws:iam::222222222222:role/Soak{name}"),
                    duration: Some(DURATION_S),
                    ..Default::default()
                })
                .await
                .unwrap();
            engine.start(name, StartOptions::default()).await.unwrap();
        }

        let moved = proxy.clone();
        let clock = Arc::new(SteppedClock::with_on_move(SIMULATED, move |lead| {
            moved.shift_time(lead.num_seconds())
        }));
        let end = rolehop_core::rotation::Clock::now(clock.as_ref()) + SIMULATED;
        proxy.set_random(
            FAULT_RATE,
            SEED,
            &[
                Fault::Throttling,
                Fault::TooManyRequests,
                Fault::InternalError,
                Fault::Unavailable,
                Fault::TruncatedBody,
            ],
        );
        let Run {
            counts: Counts {
                rotations,
                failed,
                reported,
            },
            tally,
            wall,
            sessions,
        } = run_scheduler(&engine, clock).await;

        let tries = tally.tries.load(Ordering::Relaxed);
        let retries = tally.retries.load(Ordering::Relaxed);
        let given_up = tally.given_up.load(Ordering::Relaxed);
        eprintln!(
            "figures: soak simulated={}s cycles={} sessions={SESSIONS} rotations={rotations} tries={tries} retries={retries} requests={} faults_injected={} failures_reported={} wall={wall:?}",
            SIMULATED.num_seconds(),
            SIMULATED.num_seconds() / i64::from(DURATION_S - MARGIN_S),
            proxy.requests(),
            proxy.faults_injected(),
            reported.values().sum::<usize>(),
        );

        assert_eq!(prompt.count(), 0, "rotation never prompts");
        assert!(proxy.faults_injected() > 0, "the proxy injected faults");
        assert_eq!(failed, reported, "every failed session reported, each once");
        assert!(reported.values().all(|n| *n == 1), "{reported:?}");
        assert_eq!(given_up as usize, reported.values().sum::<usize>());
        for view in sessions.iter().filter(|s| s.session.name != "ops") {
            match &view.state {
                SessionState::Active { expires_at } => assert!(
                    *expires_at > end,
                    "{} stopped rotating: its credentials expire at {expires_at}, before the \
                     clock's end {end}",
                    view.session.name
                ),
                SessionState::Failed(f) => assert!(
                    reported.contains_key(&view.session.name),
                    "{} failed unreported: {}",
                    view.session.name,
                    f.message
                ),
                other => panic!("{} is stuck {other:?}", view.session.name),
            }
        }
        // Every cycle of every session rotated (or was given up), nothing storms.
        let cycles = (SIMULATED.num_seconds() / i64::from(DURATION_S - MARGIN_S)) as u64;
        // Every failed try was retried or given up and reported: none swallowed (a
        // session may be between a failed try and its retry at the end).
        let failed_tries = tries - rotations as u64;
        assert!(
            (retries + given_up..=retries + given_up + SESSIONS as u64).contains(&failed_tries),
            "failed tries={failed_tries} retries={retries} given up={given_up}"
        );
        // A retried cycle starts the next one later: a session may fit one cycle less.
        assert!(tries >= (cycles - 2) * SESSIONS as u64, "tries={tries}");
        assert!(
            tries <= (cycles + 1) * SESSIONS as u64 * u64::from(RETRY_TRIES),
            "tries={tries}: a retry storm"
        );

        // Then STS fails every request from the clock's end on: each session gives up
        // within its next cycle and is reported once; restarted, each works again.
        let moved = proxy.clone();
        let clock = Arc::new(SteppedClock::starting_at(end, OUTAGE, move |lead| {
            moved.shift_time(lead.num_seconds())
        }));
        proxy.set(Fault::Unavailable);
        let outage = run_scheduler(&engine, clock).await;
        let tries = outage.tally.tries.load(Ordering::Relaxed);
        let reported = &outage.counts.reported;
        eprintln!(
            "figures: outage simulated={}s tries={tries} retries={} requests={} failures_reported={} wall={:?}",
            OUTAGE.num_seconds(),
            outage.tally.retries.load(Ordering::Relaxed),
            proxy.requests(),
            reported.values().sum::<usize>(),
            outage.wall,
        );
        assert_eq!(reported.len(), SESSIONS, "every session reported: {reported:?}");
        assert!(reported.values().all(|n| *n == 1), "each once: {reported:?}");
        assert_eq!(outage.counts.failed, *reported);
        assert_eq!(outage.counts.rotations, 0);
        assert!(tries <= (SESSIONS as u64) * u64::from(RETRY_TRIES), "tries={tries}");
        assert!(proxy.requests() as u64 <= 3 * tries, "3 attempts a try at most");
        for view in outage.sessions.iter().filter(|s| s.session.name != "ops") {
            let SessionState::Failed(f) = &view.state else {
                panic!("{} is {:?} after the outage", view.session.name, view.state)
            };
            assert!(
                f.message.contains("STS answered 503 Service Unavailable")
                    && f.message.contains("gave up refreshing after"),
                "{}",
                f.message
            );
        }
        proxy.set(Fault::None);
        proxy.shift_time(0);
        for name in &names {
            let view = engine.start(name, StartOptions::default()).await.unwrap();
            assert!(matches!(view.state, SessionState::Active { .. }), "{name}: {:?}", view.state);
        }
        assert_eq!(prompt.count(), 0, "nothing prompted");
    });
}

/// What one run of the scheduler to its clock's end did.
struct Run {
    counts: Counts,
    tally: RotationTally,
    wall: Duration,
    sessions: Vec<rolehop_core::SessionView>,
}

/// Runs a scheduler on `clock` until the clock's end, counting every event (the bus
/// keeps 1024: a lagging watcher could not tell that each failure was reported once).
async fn run_scheduler(engine: &Arc<Engine>, clock: Arc<SteppedClock>) -> Run {
    let mut events = engine.subscribe();
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    let watcher = tokio::spawn(async move {
        let mut counts = Counts::default();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => counts.add(event),
                    Err(RecvError::Lagged(n)) => panic!("the watcher missed {n} events"),
                    Err(RecvError::Closed) => break,
                },
                _ = stopped.notified() => break,
            }
        }
        while let Ok(event) = events.try_recv() {
            counts.add(event);
        }
        counts
    });
    let tally = Arc::new(RotationTally::default());
    let started = Instant::now();
    let scheduler = RotationScheduler::spawn_tallied(engine.clone(), clock.clone(), tally.clone());
    // A guard against a hang only; the figures print the time taken.
    tokio::time::timeout(Duration::from_secs(1800), clock.reached_end())
        .await
        .expect("the scheduler ran the clock to its end");
    let wall = started.elapsed();
    scheduler.abort();
    let _ = scheduler.await;
    let sessions = engine.sessions().await.unwrap();
    stop.notify_one();
    let counts = watcher.await.unwrap();
    let tally = Arc::try_unwrap(tally).expect("the scheduler is gone");
    Run {
        counts,
        tally,
        wall,
        sessions,
    }
}
