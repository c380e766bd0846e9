//! The system tray: the sessions that matter right now with quick start/stop, "Open
//! Rolehop" and "Quit". The window's close button hides it; the tray keeps the app.

use std::sync::Arc;

use rolehop_core::SessionState;
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

fn menu(app: &AppHandle, sessions: &[StoredSession]) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(app)?;
    let mut shown: Vec<&StoredSession> = sessions.iter().collect();
    shown.sort_by(|a, b| (rank(&a.state), &a.session.name).cmp(&(rank(&b.state), &b.session.name)));
    for s in shown.iter().take(MAX_SESSIONS) {
        let mark = match s.state {
            SessionState::Active { .. } => "●",
            SessionState::Pending => "◌",
            SessionState::Failed(_) => "✕",
            SessionState::Inactive => "○",
        };
        // What the engine's toggle will do.
        let verb = match s.state {
            SessionState::Active { .. } | SessionState::Pending => "stop",
            SessionState::Inactive | SessionState::Failed(_) => "start",
        };
        let label = format!("{mark} {} ({}) — {verb}", s.session.name, s.session.profile);
        let id = format!("{SESSION_PREFIX}{}", s.session.id);
        menu.append(&MenuItem::with_id(app, id, label, true, None::<&str>)?)?;
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
            tauri::async_runtime::spawn(async move {
                // The engine's one toggle; the outcome arrives as engine events
                // (failures are shown on the session).
                let _ = engine.toggle(&session).await;
            });
        }
    }
}
