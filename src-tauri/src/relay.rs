//! Engine events to the UI: one task turns everything the engine publishes into
//! [`UiEvent`]s on the web view's channel, refreshes the tray, and raises a desktop
//! notification when a session cannot be refreshed. The UI never polls.

use std::sync::{Arc, Mutex};

use rolehop_core::{Engine, EngineEvent};
use tauri::AppHandle;
use tauri::ipc::Channel;
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::ipc::UiEvent;
use crate::prompt::DialogPrompt;
use crate::{shell, tray};

/// The web view's end of the event stream. The UI hands a fresh channel over each time
/// it (re)loads; events sent while no UI listens are dropped: its next snapshot has them.
#[derive(Default)]
pub struct UiChannel {
    channel: Mutex<Option<Channel<UiEvent>>>,
}

impl UiChannel {
    pub fn attach(&self, channel: Channel<UiEvent>) {
        *self.channel.lock().expect("ui channel") = Some(channel);
    }

    pub fn send(&self, event: UiEvent) {
        let mut slot = self.channel.lock().expect("ui channel");
        if let Some(channel) = slot.as_ref()
            && channel.send(event).is_err()
        {
            *slot = None;
        }
    }
}

/// Relays the engine's events until the engine goes away.
pub fn spawn(app: AppHandle, engine: Arc<Engine>, prompt: Arc<DialogPrompt>, ui: Arc<UiChannel>) {
    let mut events = engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            // Take everything already queued as one batch, so a burst (the CLI editing
            // many sessions) costs one snapshot and one tray rebuild.
            let mut batch = Vec::new();
            let mut lagged = false;
            match events.recv().await {
                Ok(event) => batch.push(event),
                Err(RecvError::Lagged(_)) => lagged = true,
                Err(RecvError::Closed) => break,
            }
            loop {
                match events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(TryRecvError::Lagged(_)) => lagged = true,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
            // Missed events cannot be replayed; a fresh snapshot replaces them.
            let mut workspace_changed = lagged;
            for event in batch {
                match &event {
                    EngineEvent::WorkspaceChanged => workspace_changed = true,
                    EngineEvent::RotationFailed { name, message, .. } => {
                        notify_rotation_failed(&app, name, message);
                    }
                    EngineEvent::SessionState { .. } => {}
                }
                if !matches!(event, EngineEvent::WorkspaceChanged) {
                    ui.send(UiEvent::Engine { event });
                }
            }
            if let Ok(ws) = engine.workspace().await {
                tray::refresh(&app, &ws.sessions);
                if workspace_changed {
                    let snapshot = shell::snapshot_of(ws, &prompt);
                    ui.send(UiEvent::Workspace { snapshot });
                }
            }
        }
    });
}

fn notify_rotation_failed(app: &AppHandle, name: &str, message: &str) {
    let shown = app
        .notification()
        .builder()
        .title(format!("Rolehop could not refresh '{name}'"))
        .body(message)
        .show();
    if let Err(e) = shown {
        tracing::warn!("cannot show a notification: {e}");
    }
}
