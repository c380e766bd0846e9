//! What the shell opens in the user's browser: URLs Rust holds, never one the web view
//! names.

use std::sync::Arc;

use rolehop_core::Problem as _;
use rolehop_core::console::ConsoleTarget;
use rolehop_core::sso::IntegrationId;
use rolehop_core::{ErrorPayload, SessionId};
use tauri::AppHandle;
use tauri_plugin_opener::OpenerExt;

use super::{Ctx, Result};

/// As `rolehop console` does: in the session's browser, profile or container, after
/// signing out the session last signed in there; the sign-in URL goes from Rust to a
/// one-time loopback address the browser is handed (a command line, xdg-open's or a
/// cold-started browser's, is readable by every local user, and the URL signs anyone in).
pub async fn open_console(cx: Ctx<'_>, id: SessionId) -> Result<()> {
    let app = cx.app.clone();
    let mut opening = cx
        .shell
        .engine
        .open_console(
            id,
            &ConsoleTarget::default(),
            None,
            Arc::new(move |url: &str| open_url(&app, url).map_err(|e| e.message)),
        )
        .await
        .map_err(|e| e.payload())?;
    tauri::async_runtime::spawn(async move {
        if !opening.redirected().await {
            tracing::warn!("the browser never opened the console's sign-in address");
        }
    });
    Ok(())
}

pub async fn sso_open_browser(cx: Ctx<'_>, id: IntegrationId) -> Result<()> {
    open_url(cx.app, &cx.logins.url(id)?)
}

/// Opens `url` in the user's browser. On Linux, when this process turned the web
/// view's JIT off through the environment ([`crate::JIT_VAR`]), the browser is started
/// by `xdg-open` without that variable (a WebKitGTK browser would inherit it); if
/// `xdg-open` cannot be started, the opener plugin tries its other launchers.
pub(super) fn open_url(app: &AppHandle, url: &str) -> Result<()> {
    #[cfg(target_os = "linux")]
    if crate::jit_var_is_ours() {
        use std::process::{Command, Stdio};
        let started = Command::new("xdg-open")
            .arg(url)
            .env_remove(crate::JIT_VAR)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = started {
            // Reaped on a thread of its own: xdg-open hands over to the browser and exits.
            std::thread::spawn(move || child.wait());
            return Ok(());
        }
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| ErrorPayload {
            kind: rolehop_core::error::ErrorKind::Browser,
            message: format!("could not open a browser: {e}"),
            field: None,
        })
}
