//! IAM Identity Center integrations: add, edit, remove, the device login, sync.

use rolehop_core::SessionId;
use rolehop_core::sso::{Integration, IntegrationChanges, IntegrationId, NewIntegration};
use rolehop_core::sync::SyncReport;

use super::{Ctx, Result, payload};
use crate::ipc::LoginPrompt;

pub async fn integrations(cx: Ctx<'_>) -> Result<Vec<Integration>> {
    cx.shell.engine.integrations().await.map_err(payload)
}

pub async fn add_integration(cx: Ctx<'_>, spec: NewIntegration) -> Result<Integration> {
    cx.shell.engine.add_integration(spec).await.map_err(payload)
}

pub async fn edit_integration(
    cx: Ctx<'_>,
    id: IntegrationId,
    changes: IntegrationChanges,
) -> Result<Integration> {
    cx.shell
        .engine
        .edit_integration(id, changes)
        .await
        .map_err(payload)
}

pub async fn remove_integration(
    cx: Ctx<'_>,
    id: IntegrationId,
    cascade: bool,
) -> Result<Vec<SessionId>> {
    cx.logins.cancel(id);
    let (_, removed) = cx
        .shell
        .engine
        .remove_integration(id, cascade)
        .await
        .map_err(payload)?;
    Ok(removed)
}

pub async fn sso_login_start(cx: Ctx<'_>, id: IntegrationId) -> Result<LoginPrompt> {
    cx.logins
        .start(&cx.shell.engine, &id.to_string())
        .await
        .map_err(payload)
}

pub async fn sso_login_wait(cx: Ctx<'_>, id: IntegrationId) -> Result<Integration> {
    cx.logins.wait(id).await
}

pub async fn sso_login_cancel(cx: Ctx<'_>, id: IntegrationId) -> Result<()> {
    cx.logins.cancel(id);
    Ok(())
}

pub async fn sso_logout(cx: Ctx<'_>, id: IntegrationId) -> Result<Integration> {
    cx.shell.engine.sso_logout(id).await.map_err(payload)
}

pub async fn sso_sync(
    cx: Ctx<'_>,
    id: IntegrationId,
    profile_template: Option<String>,
) -> Result<SyncReport> {
    cx.shell
        .engine
        .sso_sync(id, profile_template.as_deref())
        .await
        .map_err(payload)
}
