//! Rolehop's desktop shell: a Tauri window over [`rolehop_core::Engine`].
//!
//! The shell is thin by design: [`commands`] translate IPC calls into engine calls,
//! [`relay`] turns engine events into UI events, [`prompt`] is the MFA dialog as the
//! engine's prompt, [`tray`] is the system tray. Every rule lives in the core.
//!
//! The modules form layers, each importing only those below it: [`ui_channel`] (the
//! web view's end of the event stream), [`tray_host`] and [`updates`] (the update
//! check, without the `updater` feature a stub) at the bottom, then
//! [`prompt`], then [`shell`] (the state commands share), then [`tray`], [`window`]
//! (close and quit) and [`saml_login`] (the federated login window), then [`sign_in_notice`], with [`relay`] and [`commands`] on top.

pub mod commands;
pub mod delivery;
pub mod ipc;
pub mod logging;
pub mod prompt;
pub mod relay;
pub mod saml_login;
pub mod saml_picker;
pub mod shell;
pub mod sign_in_notice;
pub mod sso_login;
pub mod tray;
pub mod tray_host;
pub mod ui_channel;
pub mod updates;
pub mod window;

use std::sync::Arc;

use rolehop_core::{Engine, EngineConfig, RunningEngine};
use tauri::{AppHandle, Manager, WebviewWindowBuilder, WindowEvent};
use tauri_plugin_window_state::StateFlags;

use crate::prompt::DialogPrompt;
use crate::shell::Shell;
use crate::ui_channel::UiChannel;

pub(crate) const MAIN_WINDOW: &str = "main";

/// What of the window is remembered between launches: where it was and how big. Not
/// its visibility: a window last hidden to the tray must still open on a plain launch.
pub(crate) const REMEMBERED: StateFlags = StateFlags::SIZE
    .union(StateFlags::POSITION)
    .union(StateFlags::MAXIMIZED);

/// `rolehop-desktop --minimized` (e.g. the login item) starts in the tray, window hidden.
const MINIMIZED: &str = "--minimized";

/// Whether `args` (without the program's name) ask for [`MINIMIZED`].
fn start_minimized(mut args: impl Iterator<Item = String>) -> bool {
    args.any(|a| a == MINIMIZED)
}

/// Shows, unminimises and focuses the main window (tray "Open", a second launch).
pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Opens the engine on `ROLEHOP_HOME` with its background work (rotation, the
/// workspace watcher, the MFA channel on which the CLI asks this app's dialog for
/// codes), and runs the app until "Quit".
pub fn run() -> anyhow::Result<()> {
    limit_malloc_arenas();
    web_view_without_jit();
    logging::install();
    let builder = tauri::Builder::default();
    // The update manifest's reader and signature check (see `updates.rs`); not in a
    // build for distributions that update their packages themselves.
    #[cfg(feature = "updater")]
    let builder = builder.plugin(updates::plugin());
    builder
        // First, so a second launch only focuses the running app.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_main_window(app)
        }))
        .plugin(tauri_plugin_notification::init())
        // Opens console sign-in URLs from Rust only: no permission of it is granted to
        // the web view (capabilities/main.json), which never sees the URL.
        .plugin(tauri_plugin_opener::init())
        // Restores the window's size and position when it is created (in the platform
        // config directory, `.window-state.json`); saved on quit and on hiding to the tray.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(REMEMBERED)
                .build(),
        )
        // "Start at login" in Settings: the entry starts the app in the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![MINIMIZED]),
        ))
        .invoke_handler(commands::handler())
        .setup(|app| {
            let ui = Arc::new(UiChannel::default());
            let prompt = Arc::new(DialogPrompt::new(ui.clone()));
            let mut config = EngineConfig::from_env();
            config.mfa_timeout = prompt::timeout_from_env(config.mfa_timeout);
            let (running, workspace) = tauri::async_runtime::block_on(async {
                let running = Engine::builder(config, prompt.clone())
                    .aws_files(delivery::cli_for_credential_process())
                    .sign_in_window(Arc::new(saml_login::ChannelSignIn(app.handle().clone())))
                    .saml_sign_in(Arc::new(saml_login::HiddenSignIn {
                        app: app.handle().clone(),
                        wait: saml_login::silent_wait_from_env(),
                    }))
                    .run()
                    .await?;
                let workspace = running.engine().workspace().await?;
                Ok::<_, rolehop_core::EngineError>((running, workspace))
            })?;
            let engine = running.engine().clone();
            // The background work stops, and the MFA channel closes (socket and secret
            // file removed), on quit.
            app.manage(running);
            relay::spawn(
                app.handle().clone(),
                engine.clone(),
                prompt.clone(),
                ui.clone(),
            );
            app.manage(Shell { engine, prompt, ui });
            app.manage(sso_login::SsoLogins::default());
            app.manage(saml_login::SamlLogins::default());
            app.manage(saml_picker::SamlResponses::default());
            app.manage(updates::Updates::default());
            tray::create(app.handle())?;
            // The tray lists the sessions from launch, not from the first change.
            tray::refresh(app.handle(), &workspace.sessions);
            let config = app
                .config()
                .app
                .windows
                .first()
                .cloned()
                .unwrap_or_default();
            WebviewWindowBuilder::from_config(app.handle(), &config)?
                .visible(!start_minimized(std::env::args().skip(1)))
                .build()?;
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window hides it to the tray where a tray shows the icon, else
            // does what the person chose (asked once): see `window.rs`. A login window
            // (`saml_login.rs`) just closes.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label() == MAIN_WINDOW
                && let Some(window) = window.app_handle().get_webview_window(window.label())
            {
                api.prevent_close();
                window::close_requested(window);
            }
        })
        .build(tauri::tauri_build_context!())?
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(running) = app.try_state::<RunningEngine>()
            {
                running.shut_down();
            }
        });
    Ok(())
}

/// At most two glibc malloc arenas in this process. By default every thread that
/// allocates (tokio's workers and blocking pool, GTK's, WebKit's UI-side threads) may get
/// an arena of its own, each keeping freed memory for itself: measured with 1,000
/// sessions, the app process's PSS drops by about 2.5 MiB (`cargo xtask bench`, desktop
/// memory). The allocations of an idle desktop app are few, so two arenas do not
/// contend. Called first in `main`, before any thread exists (mallopt is not
/// thread-safe against a first allocation on another thread).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The variable that turns JavaScriptCore's JIT off in WebKitGTK's web process, which
/// inherits this process's environment.
pub(crate) const JIT_VAR: &str = "JSC_useJIT";

/// Whether this process set [`JIT_VAR`] (rather than the user): programs it starts
/// for the user (the browser) are started without it.
static JIT_VAR_OURS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(crate) fn jit_var_is_ours() -> bool {
    JIT_VAR_OURS.load(std::sync::atomic::Ordering::Relaxed)
}

/// The web view runs its JavaScript in JavaScriptCore's interpreter, with no JIT
/// compiler (Linux: WebKitGTK reads `JSC_useJIT` in the web process it starts with this
/// process's environment). Why:
/// - security: the window shows text that comes from AWS and the AWS files; without a
///   JIT the web process has no memory that is both writable and executable, and the
///   JIT's compilers (the usual place of WebKit's exploitable bugs) never run. Apple's
///   Lockdown Mode and Edge's enhanced security mode turn the JIT off for the same reason;
/// - memory: measured with 1,000 sessions, the web process's PSS drops by about 7 MiB
///   (`cargo xtask bench`, desktop);
/// - this UI does not need it: one keystroke's filter over 5,000 sessions stays about
///   6 ms (5 ms with the JIT), launch to list painted unchanged.
///
/// A `JSC_useJIT` the user set is kept. Called first in `main`, before any thread.
fn web_view_without_jit() {
    #[cfg(target_os = "linux")]
    if std::env::var_os(JIT_VAR).is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var(JIT_VAR, "false") };
        JIT_VAR_OURS.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::start_minimized;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn only_the_minimized_flag_starts_in_the_tray() {
        assert!(start_minimized(args(&["--minimized"])));
        assert!(!start_minimized(args(&[])));
        assert!(!start_minimized(args(&["--minimised", "minimized"])));
    }
}
