//! Closing and quitting: what the window's close button does (the tray where a tray
//! host shows the icon, else the person's choice, asked once), and Quit (`Ctrl+Q`, the
//! window's Quit action, the tray's "Quit Rolehop").

use rolehop_core::EngineError;
use rolehop_core::model::{CloseChoice, CloseOutcome};
use tauri::{AppHandle, Manager, WebviewWindow};
use tauri_plugin_window_state::AppHandleExt;

use crate::ipc::UiEvent;
use crate::shell::Shell;

/// The window's close button was pressed (its close is already prevented): decides off
/// the UI thread, since asking the bus for a tray host blocks.
pub fn close_requested(window: WebviewWindow) {
    tauri::async_runtime::spawn(async move {
        let tray_host = tauri::async_runtime::spawn_blocking(crate::tray_host::present)
            .await
            .unwrap_or(false);
        let app = window.app_handle().clone();
        let shell = app.state::<Shell>();
        let choice = match shell.engine.settings().await {
            Ok(settings) => settings.close_without_tray,
            Err(e) => {
                // An unreadable workspace: ask rather than guess.
                tracing::warn!("cannot read the close setting: {e}");
                CloseChoice::Ask
            }
        };
        let outcome = choice.on_close(tray_host);
        tracing::info!(tray_host, ?outcome, "window closed");
        match outcome {
            CloseOutcome::HideToTray | CloseOutcome::HideInBackground => hide(&window),
            CloseOutcome::Quit => app.exit(0),
            CloseOutcome::Ask => shell.ui.send(UiEvent::CloseAsked),
        }
    });
}

/// The answer to [`UiEvent::CloseAsked`]: kept as the setting, then acted on.
pub async fn choose(app: &AppHandle, choice: CloseChoice) -> Result<(), EngineError> {
    let engine = &app.state::<Shell>().engine;
    let mut settings = engine.settings().await?;
    settings.close_without_tray = choice;
    engine.update_settings(settings).await?;
    match choice {
        CloseChoice::Quit => app.exit(0),
        CloseChoice::KeepRunning => {
            if let Some(window) = app.get_webview_window(crate::MAIN_WINDOW) {
                hide(&window);
            }
        }
        // "Ask" again next time: the window stays.
        CloseChoice::Ask => {}
    }
    Ok(())
}

/// Hides the window, keeping its place first: the app may never see a clean quit
/// (logout ends it).
fn hide(window: &WebviewWindow) {
    let _ = window.app_handle().save_window_state(crate::REMEMBERED);
    let _ = window.hide();
}
