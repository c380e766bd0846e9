//! The notification of a federated session waiting for a sign-in
//! ([`rolehop_core::EngineEvent::SignInNeeded`]), and its click: "Sign in again" opens
//! the visible login window on the session's provider, whose sign-in renews it
//! ([`saml_login::renew_from_notice`]).
//!
//! On Linux the notification goes straight to the desktop's notification server over
//! D-Bus (notify-rust), with a default action (a click on the notification) and a
//! visible "Sign in again" action: the notification plugin gives desktop Linux no click
//! callback. The server's answer is waited for on a thread of its own (notify-rust's
//! wait blocks), bounded by the notification's own timeout, the credentials' expiry,
//! after which a click could renew nothing. Elsewhere (macOS, Windows: unproven) the
//! plugin's plain notification is shown, and the window's button is the way to sign in.

use chrono::{DateTime, Utc};
use rolehop_core::SessionId;
use tauri::AppHandle;

/// The action key of the visible "Sign in again" button (`default` is the click on the
/// notification itself); both open the login window.
pub const SIGN_IN_ACTION: &str = "sign-in";

/// The notification's actions, (key, label), as the notification server shows them.
pub const ACTIONS: [(&str, &str); 2] = [("default", "Sign in"), (SIGN_IN_ACTION, "Sign in again")];

/// What a click on a sign-in notification renews: the session, and the expiry of the
/// credentials it waits on (a click after a renewal or a stop opens nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInClick {
    pub session: SessionId,
    pub expires_at: DateTime<Utc>,
}

/// Whether `action`, as the notification server reports it, asks for the sign-in.
pub fn is_sign_in(action: &str) -> bool {
    ACTIONS.iter().any(|(key, _)| *key == action)
}

/// Shows the clickable notification, whose click runs the renewal on the app's
/// runtime; `true` once it is handed to its own thread (a thread that cannot start is
/// logged). `false` where no notification can be clicked: the caller shows the plain one.
#[cfg(target_os = "linux")]
pub fn show(app: &AppHandle, title: &str, body: &str, click: SignInClick) -> bool {
    let (app, title, body) = (app.clone(), title.to_owned(), body.to_owned());
    let spawned = std::thread::Builder::new()
        .name("sign-in-notice".into())
        .spawn(move || {
            let mut notification = notify_rust::Notification::new();
            notification.appname("Rolehop").summary(&title).body(&body);
            for (key, label) in ACTIONS {
                notification.action(key, label);
            }
            // The server closes it at the expiry, which ends this thread's wait.
            let left = (click.expires_at - Utc::now()).num_milliseconds();
            let left = u32::try_from(left.max(1000)).unwrap_or(u32::MAX);
            notification.timeout(notify_rust::Timeout::Milliseconds(left));
            let handle = match notification.show() {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!("cannot show a notification: {e}");
                    return;
                }
            };
            handle.wait_for_action(|action| {
                if !is_sign_in(action) {
                    return;
                }
                tracing::info!(action, "the sign-in notice was clicked");
                let app = app.clone();
                tauri::async_runtime::spawn(async move { renew(app, click).await });
            });
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot show a notification: {e}");
    }
    true
}

/// Elsewhere (macOS, Windows) the plugin gives no click: the caller shows the plain
/// notification.
#[cfg(not(target_os = "linux"))]
pub fn show(_app: &AppHandle, _title: &str, _body: &str, _click: SignInClick) -> bool {
    false
}

#[cfg(target_os = "linux")]
async fn renew(app: AppHandle, click: SignInClick) {
    use tauri::Manager;
    let Some(shell) = app.try_state::<crate::shell::Shell>() else {
        return;
    };
    let engine = shell.engine.clone();
    crate::saml_login::renew_from_notice(&app, &engine, click.session, click.expires_at).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part4_a_click_on_the_notice_or_its_button_asks_for_the_sign_in_and_a_close_does_not() {
        assert!(is_sign_in("default"));
        assert!(is_sign_in(SIGN_IN_ACTION));
        assert!(!is_sign_in("__closed"));
        assert!(!is_sign_in(""));
    }
}
