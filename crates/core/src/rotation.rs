//! Background work of a long-running host (the desktop app): refresh active sessions a
//! margin before they expire, and notice when another process (the CLI) changed the
//! workspace, turning both into engine events.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use tokio::sync::broadcast;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::events::EngineEvent;
use crate::model::{Failure, FailureCode, SessionId, SessionState};

/// How often the workspace file's stamp is checked for changes by another process.
/// A `stat` per second is negligible and needs no platform file watcher.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// The scheduler re-plans at least this often (settings may have changed).
const MAX_SLEEP: Duration = Duration::from_secs(30);
/// ...and at most this often, so a margin longer than a role's lifetime cannot spin.
const MIN_SLEEP: Duration = Duration::from_secs(1);

/// Where the scheduler reads the time and how it waits.
///
/// Expiry is wall-clock time (STS's `Expiration`), but tokio's timers run on a monotonic
/// clock that stops while the machine is suspended. So the scheduler never trusts one
/// long sleep: it waits at most [`MAX_SLEEP`] at a time and re-reads the wall clock
/// after every wait, and a laptop that slept past a session's margin refreshes it within
/// that bound of waking.
pub trait Clock: Send + Sync + 'static {
    /// The wall-clock time now.
    fn now(&self) -> DateTime<Utc>;
    /// Waits up to `wait` (it may return sooner: the scheduler re-reads [`Clock::now`]).
    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system's wall clock and tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(wait.min(MAX_SLEEP)))
    }
}

/// Background rotation's retries. A try that fails for a reason that may pass
/// ([`crate::model::FailureCode::is_transient`]: throttling, a 5xx, a timeout, no
/// connection, a cut-off answer) leaves the session active on its still-valid
/// credentials and is tried again after 30 s, 60 s, 120 s, then 240 s (exponential
/// backoff), each wait drawn at random from its upper half (equal jitter: 15–30 s,
/// 30–60 s...), so sessions that fail together do not retry in lockstep. A cycle makes
/// at most [`RETRY_TRIES`] tries, and none starts at or past the credentials' expiry:
/// the last failure fails the session and is announced once. Each try is the STS
/// client's own 3 attempts, so one session makes at most 15 requests per cycle.
pub const RETRY_TRIES: u32 = 5;
/// The wait before the first retry; each later one doubles.
pub const RETRY_FIRST_WAIT: Duration = Duration::from_secs(30);

/// The wait before retry number `failures` (1 for the first), with `unit` in [0, 1)
/// picking it within the upper half of the doubled wait.
pub fn retry_wait(failures: u32, unit: f64) -> Duration {
    let full = RETRY_FIRST_WAIT * 2u32.pow(failures.saturating_sub(1).min(8));
    full / 2 + full.mul_f64(unit.clamp(0.0, 1.0) / 2.0)
}

/// A uniform draw in [0, 1) from the OS's random source, for [`retry_wait`].
fn jitter_unit() -> f64 {
    let mut bytes = [0u8; 4];
    // Without randomness (never seen on a working OS) the waits are still backed off.
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// What the scheduler does after a try failed for a reason that may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFailure {
    /// Try again at this time (before the credentials expire).
    RetryAt(DateTime<Utc>),
    /// Stop: fail the session and tell the user, after this many tries.
    GiveUp { tries: u32 },
}

/// The sessions whose rotation failed this cycle, keyed by the credentials' expiry (a
/// session restarted or rotated by someone else starts a fresh cycle); and the
/// federated sessions waiting for a new sign-in, by the expiry they last until (the
/// user was told once; at that expiry the session ends).
#[derive(Debug, Default)]
struct Retries(HashMap<SessionId, Retrying>, HashMap<SessionId, Waiting>);

/// A federated session that could not get a new SAML response at its margin.
#[derive(Debug, Clone)]
struct Waiting {
    expires_at: DateTime<Utc>,
    failure: Failure,
}

#[derive(Debug, Clone, Copy)]
struct Retrying {
    expires_at: DateTime<Utc>,
    failures: u32,
    next_at: DateTime<Utc>,
}

impl Retries {
    /// When a session active until `expires_at` is next due.
    fn due_at(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        margin: chrono::Duration,
    ) -> DateTime<Utc> {
        if self.waiting(id, expires_at) {
            return expires_at;
        }
        match self.0.get(&id) {
            Some(r) if r.expires_at == expires_at => r.next_at,
            _ => expires_at - margin,
        }
    }

    /// Whether the session waits for a new sign-in on credentials expiring at `expires_at`.
    fn waiting(&self, id: SessionId, expires_at: DateTime<Utc>) -> bool {
        self.1.get(&id).is_some_and(|w| w.expires_at == expires_at)
    }

    /// Records that the session waits for a new sign-in; `true` the first time for
    /// these credentials (the one time the user is told).
    fn wait_for_sign_in(
        &mut self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        failure: Failure,
    ) -> bool {
        self.0.remove(&id);
        let first = !self.waiting(id, expires_at);
        self.1.insert(
            id,
            Waiting {
                expires_at,
                failure,
            },
        );
        first
    }

    /// Whether the session's try due now is a retry.
    fn retrying(&self, id: SessionId, expires_at: DateTime<Utc>) -> bool {
        self.0.get(&id).is_some_and(|r| r.expires_at == expires_at)
    }

    /// Forgets sessions no longer active on the credentials they failed to refresh.
    fn keep_only(&mut self, active: &[(SessionId, DateTime<Utc>)]) {
        self.0.retain(|id, r| active.contains(&(*id, r.expires_at)));
        self.1.retain(|id, w| active.contains(&(*id, w.expires_at)));
    }

    fn forget(&mut self, id: SessionId) {
        self.0.remove(&id);
    }

    /// Records a failed try at `now`; `unit` is the jitter draw.
    fn failed(
        &mut self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        unit: f64,
    ) -> AfterFailure {
        let failures = match self.0.get(&id) {
            Some(r) if r.expires_at == expires_at => r.failures + 1,
            _ => 1,
        };
        let next_at = now + retry_wait(failures, unit);
        if failures >= RETRY_TRIES || next_at >= expires_at {
            self.0.remove(&id);
            return AfterFailure::GiveUp { tries: failures };
        }
        self.0.insert(
            id,
            Retrying {
                expires_at,
                failures,
                next_at,
            },
        );
        AfterFailure::RetryAt(next_at)
    }

    /// How long from `now` until the earliest retry.
    fn next_wait(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.0
            .values()
            .map(|r| (r.next_at - now).to_std().unwrap_or_default())
            .min()
    }
}

/// What a scheduler did since it started: for logs and the soak's figures.
#[derive(Debug, Default)]
pub struct RotationTally {
    /// Rotations tried, retries included.
    pub tries: AtomicU64,
    /// Tries after a failure that might pass.
    pub retries: AtomicU64,
    /// Cycles that ended with the session failed and the user told.
    pub given_up: AtomicU64,
}

/// Refreshes active sessions `rotation_margin_seconds` before they expire, retrying
/// failures while the credentials are valid (see [`RETRY_TRIES`]).
pub struct RotationScheduler;

impl RotationScheduler {
    /// Runs on the system clock until the returned task is aborted.
    pub fn spawn(engine: Arc<Engine>) -> tokio::task::JoinHandle<()> {
        Self::spawn_with_clock(engine, Arc::new(SystemClock))
    }

    /// Runs on `clock` until the returned task is aborted.
    pub fn spawn_with_clock(
        engine: Arc<Engine>,
        clock: Arc<dyn Clock>,
    ) -> tokio::task::JoinHandle<()> {
        Self::spawn_tallied(engine, clock, Arc::default())
    }

    /// Runs on `clock` until the returned task is aborted, counting into `tally`.
    pub fn spawn_tallied(
        engine: Arc<Engine>,
        clock: Arc<dyn Clock>,
        tally: Arc<RotationTally>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut events = engine.subscribe();
            let mut retries = Retries::default();
            loop {
                let wait =
                    match Self::rotate_due(&engine, clock.as_ref(), &mut retries, &tally).await {
                        Some(next) => next.clamp(MIN_SLEEP, MAX_SLEEP),
                        None => MAX_SLEEP,
                    };
                // Wake early when something changes: a new start may expire sooner.
                tokio::select! {
                    _ = clock.sleep(wait) => {}
                    _ = events.recv() => {
                        // One re-plan for a burst (this scheduler's own rotations too).
                        while !matches!(
                            events.try_recv(),
                            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
                        ) {}
                        clock.sleep(MIN_SLEEP).await;
                    }
                }
            }
        })
    }

    /// Tries every session that is due at the clock's now (all at once: one slow STS
    /// answer delays no other session) and returns how long until the next one is.
    async fn rotate_due(
        engine: &Engine,
        clock: &dyn Clock,
        retries: &mut Retries,
        tally: &RotationTally,
    ) -> Option<Duration> {
        let ws = engine.workspace().await.ok()?;
        let margin = ws.settings.rotation_margin();
        let active: Vec<(SessionId, DateTime<Utc>)> = ws
            .sessions
            .iter()
            .filter_map(|s| match s.state {
                SessionState::Active { expires_at } => Some((s.session.id, expires_at)),
                _ => None,
            })
            .collect();
        retries.keep_only(&active);
        let due_times = active
            .iter()
            .map(|&(id, expires_at)| (id, retries.due_at(id, expires_at, margin)));
        let (due, next) = plan(due_times, clock.now());
        // Inside this task, not spawned: nothing outlives the scheduler when it stops.
        // Federated sessions that waited for a sign-in until their expiry end now.
        let (ending, due): (Vec<SessionId>, Vec<SessionId>) = due.into_iter().partition(|id| {
            active
                .iter()
                .any(|(a, expires_at)| a == id && retries.waiting(*id, *expires_at))
        });
        for id in ending {
            let Some(w) = retries.1.remove(&id) else {
                continue;
            };
            let failure = Failure {
                message: format!(
                    "{} (the credentials expired at {})",
                    w.failure.message,
                    w.expires_at.format("%H:%M:%S UTC")
                ),
                ..w.failure
            };
            let _ = engine.end_at_expiry(id, w.expires_at, failure).await;
        }
        let tries = due.into_iter().filter_map(|id| {
            let (_, expires_at) = *active.iter().find(|(a, _)| *a == id)?;
            tally.tries.fetch_add(1, Ordering::Relaxed);
            if retries.retrying(id, expires_at) {
                tally.retries.fetch_add(1, Ordering::Relaxed);
            }
            Some(async move { (id, expires_at, engine.try_rotate(id).await) })
        });
        for (id, expires_at, outcome) in futures_util::future::join_all(tries).await {
            let failure = match outcome {
                Err(EngineError::SessionFailed { failure, .. })
                    if failure.code == FailureCode::SamlSignInRequired =>
                {
                    // Active until its expiry; told once per expiry, not once per tick.
                    if retries.wait_for_sign_in(id, expires_at, failure.clone()) {
                        let _ = engine.sign_in_needed(id, expires_at, &failure).await;
                    }
                    continue;
                }
                Err(EngineError::SessionFailed { failure, .. }) if failure.code.is_transient() => {
                    failure
                }
                // Refreshed, or failed for good (the engine failed and announced it).
                _ => {
                    retries.forget(id);
                    continue;
                }
            };
            if let AfterFailure::GiveUp { tries } =
                retries.failed(id, expires_at, clock.now(), jitter_unit())
            {
                let failure = Failure {
                    message: format!(
                        "{} (gave up refreshing after {tries} {}; the credentials expire at {})",
                        failure.message,
                        if tries == 1 { "try" } else { "tries" },
                        expires_at.format("%H:%M:%S UTC")
                    ),
                    ..failure
                };
                // Announced once, by the engine; a session stopped meanwhile is left be.
                if let Ok(true) = engine.give_up_rotation(id, expires_at, failure).await {
                    tally.given_up.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let retry = retries.next_wait(clock.now());
        match (next, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Which sessions (id, time due) are due at `now`, and how long until the next of the
/// others is.
fn plan(
    due_times: impl IntoIterator<Item = (SessionId, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> (Vec<SessionId>, Option<Duration>) {
    let mut due_now = Vec::new();
    let mut next: Option<Duration> = None;
    for (id, due) in due_times {
        if due <= now {
            due_now.push(id);
        } else {
            let d = (due - now).to_std().unwrap_or_default();
            next = Some(next.map_or(d, |n| n.min(d)));
        }
    }
    (due_now, next)
}

/// Turns changes another process made to the workspace file into events.
pub struct WorkspaceWatcher;

impl WorkspaceWatcher {
    pub fn spawn(engine: Arc<Engine>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut known: HashMap<SessionId, SessionState> = HashMap::new();
            if let Ok(ws) = engine.workspace().await {
                known = ws
                    .sessions
                    .iter()
                    .map(|s| (s.session.id, s.state.clone()))
                    .collect();
            }
            let mut seen = engine.workspace_external_changes();
            loop {
                tokio::time::sleep(WATCH_INTERVAL).await;
                // A change not read yet, or one that another read of this engine (a
                // command, the scheduler) found before this watcher looked.
                if !engine.workspace_changed_on_disk()
                    && engine.workspace_external_changes() == seen
                {
                    continue;
                }
                let Ok(ws) = engine.workspace().await else {
                    continue;
                };
                seen = engine.workspace_external_changes();
                for s in &ws.sessions {
                    if known.get(&s.session.id) != Some(&s.state) {
                        engine.events().publish(EngineEvent::SessionState {
                            session: s.session.id,
                            name: s.session.name.clone(),
                            state: s.state.clone(),
                        });
                    }
                }
                known = ws
                    .sessions
                    .iter()
                    .map(|s| (s.session.id, s.state.clone()))
                    .collect();
                engine.events().publish(EngineEvent::WorkspaceChanged);
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An in-memory clock: no real peer can suspend the machine or move time, so the
    /// tests move this one. A sleep moves it forward at once by the wait asked for.
    struct SteppedClock(Mutex<DateTime<Utc>>);

    impl Clock for SteppedClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }

        fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
            *self.0.lock().unwrap() += chrono::Duration::from_std(wait).unwrap();
            Box::pin(std::future::ready(()))
        }
    }

    fn id() -> SessionId {
        SessionId(uuid::Uuid::new_v4())
    }

    #[test]
    fn a_clock_moved_past_the_margin_makes_the_session_due_at_once() {
        let id = id();
        let start = Utc::now();
        let expires = start + chrono::Duration::hours(1);
        let margin = chrono::Duration::minutes(5);
        let (due, next) = plan([(id, expires - margin)], start);
        assert!(due.is_empty());
        assert_eq!(next, Some(Duration::from_secs(55 * 60)));
        // A suspend of two hours: on resume the wall clock is past expiry - margin.
        let (due, next) = plan([(id, expires - margin)], start + chrono::Duration::hours(2));
        assert_eq!(due, vec![id]);
        assert_eq!(next, None);
    }

    #[test]
    fn retry_waits_double_within_their_upper_half() {
        assert_eq!(retry_wait(1, 0.0), Duration::from_secs(15));
        assert_eq!(retry_wait(1, 0.5), Duration::from_millis(22_500));
        assert_eq!(retry_wait(2, 0.0), Duration::from_secs(30));
        assert_eq!(retry_wait(3, 0.0), Duration::from_secs(60));
        assert_eq!(retry_wait(4, 0.0), Duration::from_secs(120));
        assert!(retry_wait(4, 0.999_999) < Duration::from_secs(240));
    }

    /// Drives one session's cycle on `clock` as the scheduler does, every try failing:
    /// the times of the tries and the number of give-ups.
    fn failing_cycle(
        clock: &SteppedClock,
        expires_at: DateTime<Utc>,
        margin: chrono::Duration,
        unit: f64,
    ) -> (Vec<DateTime<Utc>>, usize) {
        let id = id();
        let mut retries = Retries::default();
        let (mut tries, mut give_ups) = (Vec::new(), 0);
        while clock.now() < expires_at + chrono::Duration::hours(1) {
            let due_at = retries.due_at(id, expires_at, margin);
            let (due, next) = plan([(id, due_at)], clock.now());
            if due.is_empty() {
                // SteppedClock's sleep moves it at once: nothing needs polling.
                drop(clock.sleep(next.unwrap()));
                continue;
            }
            if give_ups > 0 {
                break; // the session failed: the scheduler no longer sees it as active
            }
            tries.push(clock.now());
            if let AfterFailure::GiveUp { tries: n } =
                retries.failed(id, expires_at, clock.now(), unit)
            {
                assert_eq!(n as usize, tries.len());
                give_ups += 1;
            }
        }
        (tries, give_ups)
    }

    #[test]
    fn a_failing_rotation_is_tried_at_most_five_times_before_expiry_and_given_up_once() {
        let start = Utc::now();
        let clock = SteppedClock(Mutex::new(start));
        let expires_at = start + chrono::Duration::hours(1);
        for unit in [0.0, 0.5, 0.999] {
            *clock.0.lock().unwrap() = start;
            let margin = chrono::Duration::minutes(10);
            let (tries, give_ups) = failing_cycle(&clock, expires_at, margin, unit);
            assert_eq!(tries.len(), RETRY_TRIES as usize, "unit {unit}");
            assert_eq!(give_ups, 1);
            assert_eq!(tries[0], expires_at - margin);
            assert!(tries.iter().all(|t| *t < expires_at));
            // Backed off: each wait at least doubles the first retry's lower bound.
            for (n, pair) in tries.windows(2).enumerate() {
                let waited = (pair[1] - pair[0]).to_std().unwrap();
                assert_eq!(waited, retry_wait(n as u32 + 1, unit));
            }
        }
    }

    #[test]
    fn a_short_margin_gives_up_before_the_credentials_expire() {
        let start = Utc::now();
        let clock = SteppedClock(Mutex::new(start));
        let expires_at = start + chrono::Duration::minutes(15);
        // 60 s, the shortest margin: 15–30 s, then 30–60 s would reach the expiry.
        let (tries, give_ups) =
            failing_cycle(&clock, expires_at, chrono::Duration::seconds(60), 0.999);
        assert_eq!(tries.len(), 2);
        assert_eq!(give_ups, 1);
        assert!(tries.iter().all(|t| *t < expires_at));
    }

    #[test]
    fn sessions_failing_together_do_not_retry_in_lockstep() {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::minutes(5);
        let mut retries = Retries::default();
        let mut next: Vec<DateTime<Utc>> = (0..20)
            .map(
                |_| match retries.failed(id(), expires_at, now, jitter_unit()) {
                    AfterFailure::RetryAt(at) => at,
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        next.sort();
        next.dedup();
        assert!(
            next.len() >= 10,
            "20 draws gave {} distinct times",
            next.len()
        );
        assert!(next.iter().all(|at| *at >= now + RETRY_FIRST_WAIT / 2));
    }

    #[test]
    fn a_session_restarted_or_rotated_elsewhere_starts_a_fresh_cycle() {
        let now = Utc::now();
        let (id, first) = (id(), now + chrono::Duration::minutes(4));
        let margin = chrono::Duration::minutes(5);
        let mut retries = Retries::default();
        let AfterFailure::RetryAt(at) = retries.failed(id, first, now, 0.0) else {
            panic!()
        };
        assert_eq!(retries.due_at(id, first, margin), at);
        // New credentials (another process rotated it): due by their own expiry.
        let second = now + chrono::Duration::hours(1);
        retries.keep_only(&[(id, second)]);
        assert_eq!(retries.due_at(id, second, margin), second - margin);
        assert_eq!(retries.next_wait(now), None);
    }
}
