//! What the engine tells its observers: every session state change and every change to
//! the workspace. The desktop UI is driven by these, never by polling.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::model::{SessionId, SessionState};

/// One thing that happened in the engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EngineEvent {
    /// A session moved to a new state.
    SessionState {
        session: SessionId,
        name: String,
        state: SessionState,
    },
    /// Profiles, sessions or settings changed (here or in another process).
    WorkspaceChanged,
    /// An active session could not be refreshed before it expired.
    RotationFailed {
        session: SessionId,
        name: String,
        message: String,
    },
    /// A federated session's rotation could not get a new SAML response without the
    /// person (its provider's own session ended): it stays active on its credentials
    /// until `expires_at`, and a sign-in in the visible login window renews it. Published
    /// once per expiry, instead of a [`EngineEvent::RotationFailed`].
    SignInNeeded {
        session: SessionId,
        name: String,
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        expires_at: DateTime<Utc>,
        message: String,
    },
    /// A followed catalog's source holds a version (`latest`: a commit, or a file's
    /// content hash) its last sync did not read: preview and sync it.
    CatalogMovedOn { catalog: String, latest: String },
}

/// The engine's event channel. Slow receivers miss old events (and are told so by
/// `broadcast`), they never block the engine.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<EngineEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    pub fn publish(&self, event: EngineEvent) {
        // No receiver is fine: nobody is watching.
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.sender.subscribe()
    }
}
