//! Federated (SAML) integrations: list, add, and the role picker's sign-in, pick and
//! forget; and "Sign in again" for an active federated session. The captured response
//! stays in the shell ([`SamlResponses`], the start): the UI holds at most a one-time
//! handle.

use rolehop_core::error::ErrorKind;
use rolehop_core::model::SessionView;
use rolehop_core::saml::integration::{
    NewSamlIntegration, SamlIntegration, SamlPick, SamlSyncReport, find,
};
use rolehop_core::{ErrorPayload, SessionId};
use tauri::Manager;

use super::{Ctx, Result, payload};
use crate::saml_login::{self, SamlLogins};
use crate::saml_picker::{SamlHandle, SamlOffers, SamlResponses};

pub async fn saml_integrations(cx: Ctx<'_>) -> Result<Vec<SamlIntegration>> {
    cx.shell.engine.saml_integrations().await.map_err(payload)
}

pub async fn add_saml_integration(
    cx: Ctx<'_>,
    spec: NewSamlIntegration,
) -> Result<SamlIntegration> {
    cx.shell
        .engine
        .add_saml_integration(spec)
        .await
        .map_err(payload)
}

pub async fn saml_sign_in(cx: Ctx<'_>, name: String) -> Result<SamlOffers> {
    let engine = &cx.shell.engine;
    let integration = {
        let ws = engine.workspace().await.map_err(payload)?;
        find(&ws, &name).map_err(payload)?.clone()
    };
    let logins = cx.app.state::<SamlLogins>();
    let response = logins
        .sign_in_for_offers(cx.app, &integration.name, &integration.idp_url)
        .await?;
    let offers = engine
        .saml_offers(&integration.name, &response)
        .await
        .map_err(payload)?;
    let handle = cx
        .app
        .state::<SamlResponses>()
        .hold(&integration.name, response);
    Ok(SamlOffers {
        handle,
        integration: integration.name,
        offers,
    })
}

pub async fn saml_pick(
    cx: Ctx<'_>,
    handle: SamlHandle,
    roles: Vec<String>,
) -> Result<SamlSyncReport> {
    let held = cx
        .app
        .state::<SamlResponses>()
        .take(handle)
        .ok_or_else(|| ErrorPayload {
            kind: ErrorKind::Invalid,
            message: "the sign-in's roles are no longer held (used or closed): sign in again"
                .into(),
            field: Some("handle".into()),
        })?;
    cx.shell
        .engine
        .saml_sync(&held.integration, &held.response, SamlPick::Roles(roles))
        .await
        .map_err(payload)
}

pub async fn saml_forget(cx: Ctx<'_>, handle: SamlHandle) -> Result<()> {
    cx.app.state::<SamlResponses>().forget(handle);
    Ok(())
}

pub async fn saml_renew(cx: Ctx<'_>, session: SessionId) -> Result<SessionView> {
    let engine = cx.shell.engine.clone();
    saml_login::renew(cx.app, &engine, session.into()).await
}
