//! Quit, and the answer to "quit or keep running?" when the window closes with no tray.

use rolehop_core::model::CloseChoice;

use super::{Ctx, Result, payload};

pub async fn quit_app(cx: Ctx<'_>) -> Result<()> {
    cx.app.exit(0);
    Ok(())
}

pub async fn choose_close(cx: Ctx<'_>, choice: CloseChoice) -> Result<()> {
    crate::window::choose(cx.app, choice).await.map_err(payload)
}
