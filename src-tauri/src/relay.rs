//! Engine events to the UI: one task turns everything the engine publishes into
//! [`UiEvent`]s on the web view's channel, refreshes the tray, and raises a desktop
//! notification when a session cannot be refreshed. The UI never polls.

use std::sync::Arc;

use rolehop_core::display_text::for_notification;
use rolehop_core::{Engine, EngineEvent};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::ipc::UiEvent;
use crate::prompt::DialogPrompt;
use crate::sign_in_notice::{self, SignInClick};
use crate::ui_channel::UiChannel;
use crate::{shell, tray};

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
                if let Some(notice) = Notice::for_event(&event) {
                    notice.show(&app);
                }
                if matches!(event, EngineEvent::WorkspaceChanged) {
                    workspace_changed = true;
                } else {
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

/// A desktop notification, its text already escaped: notification servers read markup
/// in the body, and the name and message hold text from AWS and the AWS files.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Notice {
    title: String,
    body: String,
    /// A session waiting for a sign-in: the notification's click renews it
    /// ([`sign_in_notice`]).
    sign_in: Option<SignInClick>,
}

impl Notice {
    /// The notification an event calls for: only a session that could not be refreshed
    /// (the user is not looking at the window, and its credentials are about to lapse).
    fn for_event(event: &EngineEvent) -> Option<Self> {
        match event {
            EngineEvent::RotationFailed { name, message, .. } => Some(Self {
                title: for_notification(&format!("Rolehop could not refresh '{name}'")),
                body: for_notification(message),
                sign_in: None,
            }),
            EngineEvent::SignInNeeded {
                session,
                name,
                expires_at,
                message,
            } => Some(Self {
                title: for_notification(&format!(
                    "Rolehop could not refresh '{name}': sign in again"
                )),
                body: for_notification(message),
                sign_in: Some(SignInClick {
                    session: *session,
                    expires_at: *expires_at,
                }),
            }),
            EngineEvent::SessionState { .. }
            | EngineEvent::WorkspaceChanged
            // Shown in the window (the Catalogs button), where its preview and sync are.
            | EngineEvent::CatalogMovedOn { .. } => None,
        }
    }

    fn show(self, app: &AppHandle) {
        // One line per notification (its title, never the message): what the desktop
        // tests count.
        tracing::info!(title = %self.title, "notification");
        if let Some(click) = self.sign_in
            && sign_in_notice::show(app, &self.title, &self.body, click)
        {
            return;
        }
        let shown = app
            .notification()
            .builder()
            .title(self.title)
            .body(self.body)
            .show();
        if let Err(e) = shown {
            tracing::warn!("cannot show a notification: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use rolehop_core::SessionId;
    use rolehop_core::model::SessionState;

    use super::*;

    #[test]
    fn a_failed_rotation_is_notified_with_its_reason() {
        let event = EngineEvent::RotationFailed {
            session: SessionId::new(),
            name: "prod-deploy".into(),
            message: "ExpiredToken: The security token included in the request is expired".into(),
        };
        assert_eq!(
            Notice::for_event(&event),
            Some(Notice {
                title: "Rolehop could not refresh 'prod-deploy'".into(),
                body: "ExpiredToken: The security token included in the request is expired".into(),
                sign_in: None,
            })
        );
    }

    #[test]
    fn other_events_raise_no_notification() {
        let stopped = EngineEvent::SessionState {
            session: SessionId::new(),
            name: "prod".into(),
            state: SessionState::Inactive,
        };
        assert_eq!(Notice::for_event(&stopped), None);
        assert_eq!(Notice::for_event(&EngineEvent::WorkspaceChanged), None);
    }

    #[test]
    fn notification_text_from_aws_cannot_inject_markup_or_escapes() {
        let event = EngineEvent::RotationFailed {
            session: SessionId::new(),
            name: "a<b>".into(),
            message: "<a href=\"https://evil.example\">renew</a> & \x1b]0;pwned\x07".into(),
        };
        let notice = Notice::for_event(&event).expect("a notification");
        assert_eq!(notice.title, "Rolehop could not refresh 'a&lt;b&gt;'");
        assert_eq!(
            notice.body,
            "&lt;a href=\"https://evil.example\"&gt;renew&lt;/a&gt; &amp; \\e]0;pwned\\x07"
        );
    }

    #[test]
    fn part4_a_sign_in_needed_notice_carries_its_click_and_escapes_markup() {
        let session = SessionId::new();
        let expires_at = chrono::Utc::now();
        let event = EngineEvent::SignInNeeded {
            session,
            name: "a<b>".into(),
            expires_at,
            message: "<b>no response</b> & (its credentials last until 14:05:00 UTC)".into(),
        };
        let notice = Notice::for_event(&event).expect("a notification");
        assert_eq!(
            notice.title,
            "Rolehop could not refresh 'a&lt;b&gt;': sign in again"
        );
        assert_eq!(
            notice.body,
            "&lt;b&gt;no response&lt;/b&gt; &amp; (its credentials last until 14:05:00 UTC)"
        );
        assert_eq!(
            notice.sign_in,
            Some(SignInClick {
                session,
                expires_at
            })
        );
        // A click on the notification itself is its default action.
        assert!(
            sign_in_notice::ACTIONS
                .iter()
                .any(|(key, _)| *key == "default")
        );
    }
}
