//! IAM Identity Center integrations: add, edit, remove, the login (browser or device
//! code), sync.

use rolehop_core::SessionId;
use rolehop_core::sso::{
    Integration, IntegrationChanges, IntegrationId, LoginFlow, NewIntegration,
};
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

/// A browser login opens the portal's page at once (as `rolehop sso login` does); a
/// device login waits for "Open browser", since the code may be confirmed elsewhere.
pub async fn sso_login_start(
    cx: Ctx<'_>,
    id: IntegrationId,
    flow: LoginFlow,
) -> Result<LoginPrompt> {
    let prompt = cx
        .logins
        .start(&cx.shell.engine, &id.to_string(), flow)
        .await
        .map_err(payload)?;
    if flow == LoginFlow::AuthorizationCode
        && let Err(e) = super::browser::open_url(cx.app, &prompt.verification_uri)
    {
        // The page's address is in the dialog, and "Open browser" tries again.
        tracing::warn!("could not open the sign-in page: {}", e.message);
    }
    Ok(prompt)
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
