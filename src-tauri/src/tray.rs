//! The system tray: the sessions that matter right now with quick start/stop, "Open
//! Rolehop" and "Quit". The window's close button hides it; the tray keeps the app.

use std::sync::Arc;

use rolehop_core::SessionState;
use rolehop_core::engine::ClickAction;
use rolehop_core::workspace::StoredSession;
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};

use crate::shell::Shell;

const TRAY_ID: &str = "rolehop";
/// A tray menu is for quick access, not a second list: the live sessions first, then
/// the rest by name, up to this many.
const MAX_SESSIONS: usize = 12;
const SESSION_PREFIX: &str = "session:";

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Rolehop")
        .menu(&menu(app, &[])?)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event);
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Rebuilds the menu from the sessions' current states.
pub fn refresh(app: &AppHandle, sessions: &[StoredSession]) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    match menu(app, sessions) {
        Ok(menu) => {
            if let Err(e) = tray.set_menu(Some(menu)) {
                tracing::warn!("cannot update the tray menu: {e}");
            }
        }
        Err(e) => tracing::warn!("cannot build the tray menu: {e}"),
    }
}

fn rank(state: &SessionState) -> u8 {
    match state {
        SessionState::Active { .. } => 0,
        SessionState::Pending => 1,
        SessionState::Failed(_) => 2,
        SessionState::Inactive => 3,
    }
}

/// A session's menu item: its state, name and profile, and what a click does (the
/// core's [`ClickAction`], which the engine's toggle and the window's list obey too).
fn label(s: &StoredSession) -> String {
    let mark = match s.state {
        SessionState::Active { .. } => "●",
        SessionState::Pending => "◌",
        SessionState::Failed(_) => "✕",
        SessionState::Inactive => "○",
    };
    let verb = ClickAction::for_state(&s.state).verb();
    format!("{mark} {} ({}) — {verb}", s.session.name, s.session.profile)
}

fn menu(app: &AppHandle, sessions: &[StoredSession]) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    let mut shown: Vec<&StoredSession> = sessions.iter().collect();
    shown.sort_by(|a, b| (rank(&a.state), &a.session.name).cmp(&(rank(&b.state), &b.session.name)));
    for s in shown.iter().take(MAX_SESSIONS) {
        let id = format!("{SESSION_PREFIX}{}", s.session.id);
        menu.append(&MenuItem::with_id(app, id, label(s), true, None::<&str>)?)?;
    }
    if !shown.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
    }
    menu.append(&MenuItem::with_id(
        app,
        "open",
        "Open Rolehop",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        "quit",
        "Quit Rolehop",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        "open" => crate::show_main_window(app),
        "quit" => app.exit(0),
        id => {
            let Some(session) = id.strip_prefix(SESSION_PREFIX) else {
                return;
            };
            let engine = Arc::clone(&app.state::<Shell>().engine);
            let session = session.to_owned();
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                // The engine's one toggle (through the login window for a federated
                // start); the outcome arrives as engine events (failures are shown on
                // the session).
                let _ = crate::saml_login::toggle(&app, &engine, session.as_str().into()).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use rolehop_core::model::{Failure, FailureCode, SessionId};

    use super::*;

    fn stored(state: SessionState) -> StoredSession {
        let mut s: StoredSession = serde_json::from_value(serde_json::json!({
            "id": SessionId::new(),
            "name": "codebuild",
            "profile": "ci",
            "region": null,
            "kind": {"type": "iam-user", "mfa_serial": null, "session_duration": 3600, "account_id": null},
        }))
        .unwrap();
        s.state = state;
        s
    }

    /// The window's table of clicks, as committed (`ui/src/bindings/clickActions.ts`):
    /// state → action.
    fn window_clicks() -> Vec<(String, String)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ui/src/bindings/clickActions.ts"
        );
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|line| {
                let (state, action) = line.trim().trim_end_matches(',').split_once(": ")?;
                let unquote = |s: &str| s.strip_prefix('"')?.strip_suffix('"').map(str::to_owned);
                Some((unquote(state)?, unquote(action)?))
            })
            .collect()
    }

    #[test]
    fn the_tray_and_the_window_offer_the_same_click_in_every_state() {
        let states = [
            SessionState::Inactive,
            SessionState::Pending,
            SessionState::Active {
                expires_at: chrono::Utc::now(),
            },
            SessionState::Failed(Failure::new(FailureCode::MfaCancelled, "cancelled")),
        ];
        let window = window_clicks();
        assert_eq!(window.len(), states.len(), "{window:?}");
        for state in states {
            let tray = label(&stored(state.clone()));
            let (_, verb) = tray.rsplit_once(" — ").unwrap();
            let (_, shown) = window
                .iter()
                .find(|(kind, _)| kind == state.label())
                .unwrap_or_else(|| panic!("the window has no click for {}", state.label()));
            assert_eq!(verb, shown, "a {} session", state.label());
            assert_eq!(verb, ClickAction::for_state(&state).verb());
        }
    }

    #[test]
    fn a_pending_session_offers_stop_as_the_engines_toggle_does() {
        assert_eq!(
            label(&stored(SessionState::Pending)),
            "◌ codebuild (ci) — stop"
        );
    }
}
