//! Background work of a long-running host (the desktop app): refresh active sessions a
//! margin before they expire, and notice when another process (the CLI) changed the
//! workspace, turning both into engine events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

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

/// Refreshes active sessions `rotation_margin_seconds` before they expire.
pub struct RotationScheduler;

impl RotationScheduler {
    /// Runs until the returned task is aborted.
    pub fn spawn(engine: Arc<Engine>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut events = engine.subscribe();
            loop {
                let wait = match Self::rotate_due(&engine).await {
                    Some(next) => next.clamp(MIN_SLEEP, MAX_SLEEP),
                    None => MAX_SLEEP,
                };
                // Wake early when something changes: a new start may expire sooner.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = events.recv() => tokio::time::sleep(MIN_SLEEP).await,
                }
            }
        })
    }

    /// Rotates every session that is due and returns how long until the next one is.
    async fn rotate_due(engine: &Engine) -> Option<Duration> {
        let ws = engine.workspace().await.ok()?;
        let margin = chrono::Duration::seconds(ws.settings.rotation_margin_seconds as i64);
        let now = Utc::now();
        let mut next: Option<Duration> = None;
        for s in &ws.sessions {
            let SessionState::Active { expires_at } = s.state else {
                continue;
            };
            let due = expires_at - margin;
            if due <= now {
                // Failure is recorded on the session and announced as an event.
                let _ = engine.rotate(&s.session.id.to_string()).await;
            } else {
                let d = (due - now).to_std().unwrap_or_default();
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        }
        next
    }
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
