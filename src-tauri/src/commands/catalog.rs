//! Team catalogs: preview a change (follow, bind, sync), make it, remove a catalog, and
//! whether one moved on. One engine call each.

use rolehop_core::catalog::{CatalogChange, CatalogNews, CatalogSyncReport, CatalogView};
use rolehop_core::sync::SyncReport;

use super::{Ctx, Result, payload};

pub async fn catalogs(cx: Ctx<'_>) -> Result<Vec<CatalogView>> {
    cx.shell.engine.catalogs().await.map_err(payload)
}

pub async fn catalog_preview(cx: Ctx<'_>, change: CatalogChange) -> Result<CatalogSyncReport> {
    cx.shell
        .engine
        .catalog_preview(change)
        .await
        .map_err(payload)
}

pub async fn catalog_confirm(
    cx: Ctx<'_>,
    change: CatalogChange,
    previewed: Option<String>,
) -> Result<CatalogSyncReport> {
    cx.shell
        .engine
        .catalog_confirm(change, previewed)
        .await
        .map_err(payload)
}

pub async fn catalog_remove(cx: Ctx<'_>, name: String) -> Result<SyncReport> {
    cx.shell.engine.catalog_remove(&name).await.map_err(payload)
}

pub async fn catalog_news(cx: Ctx<'_>) -> Result<Vec<CatalogNews>> {
    cx.shell.engine.catalog_news().await.map_err(payload)
}
