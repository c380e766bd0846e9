//! The shell's state, shared by commands, the event relay and the tray: the engine, the
//! MFA dialog queue and the channel to the UI.

use std::sync::Arc;

use rolehop_core::workspace::Workspace;
use rolehop_core::{Engine, EngineError};

use crate::ipc::Snapshot;
use crate::prompt::DialogPrompt;
use crate::ui_channel::UiChannel;

pub struct Shell {
    pub engine: Arc<Engine>,
    pub prompt: Arc<DialogPrompt>,
    pub ui: Arc<UiChannel>,
}

impl Shell {
    /// The workspace as the UI shows it, read once from the engine.
    pub async fn snapshot(&self) -> Result<Snapshot, EngineError> {
        snapshot(&self.engine, &self.prompt).await
    }
}

pub async fn snapshot(engine: &Engine, prompt: &DialogPrompt) -> Result<Snapshot, EngineError> {
    Ok(snapshot_of(engine.workspace().await?, prompt))
}

pub fn snapshot_of(ws: Workspace, prompt: &DialogPrompt) -> Snapshot {
    Snapshot {
        sessions: ws.views(),
        profiles: ws.profiles,
        settings: ws.settings,
        mfa_requests: prompt.pending(),
    }
}
