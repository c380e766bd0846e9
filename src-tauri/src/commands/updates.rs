//! "Check for updates" and installing what it offered (see [`crate::updates`]).

use rolehop_core::updates::UpdateCheck;
use tauri::Manager;

use rolehop_core::ErrorPayload;
use rolehop_core::error::ErrorKind;

use super::{Ctx, Result, browser, payload};
use crate::updates::{self, UpdateStatus, Updates};

/// `on_demand`: the person asked; otherwise the window's launch check, which the core
/// allows once a day.
pub async fn check_for_updates(cx: Ctx<'_>, on_demand: bool) -> Result<UpdateStatus> {
    let kind = if on_demand {
        UpdateCheck::OnDemand
    } else {
        UpdateCheck::Automatic
    };
    let state = cx.app.state::<Updates>();
    updates::check(cx.app, &cx.shell.engine, &state, kind)
        .await
        .map_err(payload)
}

pub async fn install_update(cx: Ctx<'_>) -> Result<UpdateStatus> {
    Ok(updates::install(&cx.app.state::<Updates>()).await)
}

/// Opens the offered version's package URL in the browser (an app built from source).
pub async fn open_update_download(cx: Ctx<'_>) -> Result<()> {
    let url = updates::download_url(&cx.app.state::<Updates>())
        .await
        .ok_or_else(|| ErrorPayload {
            kind: ErrorKind::NotFound,
            message: "no update is waiting: check for updates first".into(),
            field: None,
        })?;
    browser::open_url(cx.app, &url)
}
