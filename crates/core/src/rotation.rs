//! Background work of a long-running host (the desktop app): refresh active sessions a
//! margin before they expire, and notice when another process (the CLI) changed the
//! workspace, turning both into engine events.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::Engine;
use crate::events::EngineEvent;
use crate::model::{SessionId, SessionState};

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

/// Refreshes active sessions `rotation_margin_seconds` before they expire.
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
        tokio::spawn(async move {
            let mut events = engine.subscribe();
            loop {
                let wait = match Self::rotate_due(&engine, clock.now()).await {
                    Some(next) => next.clamp(MIN_SLEEP, MAX_SLEEP),
                    None => MAX_SLEEP,
                };
                // Wake early when something changes: a new start may expire sooner.
                tokio::select! {
                    _ = clock.sleep(wait) => {}
                    _ = events.recv() => tokio::time::sleep(MIN_SLEEP).await,
                }
            }
        })
    }

    /// Rotates every session that is due at `now` and returns how long until the next
    /// one is.
    async fn rotate_due(engine: &Engine, now: DateTime<Utc>) -> Option<Duration> {
        let ws = engine.workspace().await.ok()?;
        let margin = chrono::Duration::seconds(ws.settings.rotation_margin_seconds as i64);
        let active = ws.sessions.iter().filter_map(|s| match s.state {
            SessionState::Active { expires_at } => Some((s.session.id, expires_at)),
            _ => None,
        });
        let (due, next) = plan(active, margin, now);
        for id in due {
            // Failure is recorded on the session and announced as an event.
            let _ = engine.rotate(&id.to_string()).await;
        }
        next
    }
}

/// Which of the active sessions (id, expiry) are due at `now`, and how long until the
/// next of the others is.
fn plan(
    active: impl IntoIterator<Item = (SessionId, DateTime<Utc>)>,
    margin: chrono::Duration,
    now: DateTime<Utc>,
) -> (Vec<SessionId>, Option<Duration>) {
    let mut due_now = Vec::new();
    let mut next: Option<Duration> = None;
    for (id, expires_at) in active {
        let due = expires_at - margin;
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
    use super::*;

    #[test]
    fn a_clock_moved_past_the_margin_makes_the_session_due_at_once() {
        let id = SessionId(uuid::Uuid::new_v4());
        let start = Utc::now();
        let expires = start + chrono::Duration::hours(1);
        let margin = chrono::Duration::minutes(5);
        let (due, next) = plan([(id, expires)], margin, start);
        assert!(due.is_empty());
        assert_eq!(next, Some(Duration::from_secs(55 * 60)));
        // A suspend of two hours: on resume the wall clock is past expiry - margin.
        let (due, next) = plan([(id, expires)], margin, start + chrono::Duration::hours(2));
        assert_eq!(due, vec![id]);
        assert_eq!(next, None);
    }
}
