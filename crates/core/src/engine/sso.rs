//! IAM Identity Center on the engine: integrations added, edited and removed inside
//! locked workspace updates; the device login in two steps (begin: the code a person
//! approves; complete: the polling, which a caller may drop to cancel); logout; SSO role
//! sessions. The tokens go to the keychain only; the workspace keeps the login status.

use std::sync::Arc;

use chrono::Utc;
use serde::Deserialize;

use crate::error::{EngineError, Withdrawal};
use crate::events::EngineEvent;
use crate::model::{ProfileName, Session, SessionId, SessionKind, SessionView, SsoRole};
use crate::reference::IntegrationRef;
use crate::rotation::Clock;
use crate::sso::assignments::{Assignment, assignments};
use crate::sso::browser_login::{self, LoopbackListener, Pkce};
use crate::sso::login::{LoginError, poll_for_token};
use crate::sso::portal::{AuthorizeRequest, ClientRegistration, DeviceAuthorization, LoginFlow};
use crate::sso::{
    Integration, IntegrationChanges, IntegrationId, LoginStatus, NewIntegration, TokenError,
    apply_statuses,
};
use crate::sync::{NameTemplate, SyncEntry, SyncKey, SyncReport, SyncSource};
use crate::validate;

use super::forget::subtree;
use super::{Engine, Forget};

/// A new SSO role session. `sso` is an integration's name or id.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewSsoRole {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub sso: String,
    pub account_id: String,
    pub account_name: Option<String>,
    pub role_name: String,
    /// Where its console opens.
    #[serde(default)]
    pub console: rolehop_model::console::ConsoleSettings,
}

/// A device login waiting for a person: show `device`'s URL and code, then
/// [`Engine::complete_sso_login`].
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub integration: Integration,
    pub device: DeviceAuthorization,
    registration: ClientRegistration,
}

/// A browser login waiting for the person: open `authorize_url` (Rolehop's listener on
/// 127.0.0.1 waits for the portal's redirect), then
/// [`Engine::complete_sso_browser_login`]. Dropping it closes the listener.
pub struct PendingBrowserLogin {
    pub integration: Integration,
    /// The portal's `/authorize` URL for the person's browser.
    pub authorize_url: String,
    registration: ClientRegistration,
    listener: LoopbackListener,
    redirect_uri: String,
    pkce: Pkce,
    state: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for PendingBrowserLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingBrowserLogin")
            .field("integration", &self.integration.name)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

fn login_error(integration: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Login {
        integration: integration.to_owned(),
        message: e.to_string(),
    }
}

fn token_error(integration: &str, e: TokenError) -> EngineError {
    match e {
        TokenError::Keychain(k) => k.into(),
        other => login_error(integration, other),
    }
}

impl Engine {
    pub async fn integrations(&self) -> Result<Vec<Integration>, EngineError> {
        Ok(self.workspace().await?.integrations)
    }

    pub async fn integration(
        &self,
        integration: impl Into<IntegrationRef>,
    ) -> Result<Integration, EngineError> {
        let selector = integration.into();
        Ok(self.workspace().await?.integration(selector)?.clone())
    }

    pub async fn add_integration(&self, spec: NewIntegration) -> Result<Integration, EngineError> {
        let integration = spec.integration(IntegrationId::new())?;
        let added = integration.clone();
        self.update(move |ws| Ok(ws.add_integration(integration)?))
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(added)
    }

    /// Edits an integration; a new start URL, region or scopes drop its login (the
    /// tokens and registration were issued for the old ones).
    pub async fn edit_integration(
        &self,
        integration: impl Into<IntegrationRef>,
        changes: IntegrationChanges,
    ) -> Result<Integration, EngineError> {
        let selector = integration.into();
        let (selector, delivery) = (selector.to_owned(), self.delivery.clone());
        let (integration, ended) = self
            .update(move |ws| {
                let (integration, reissue) = ws.edit_integration(&selector, changes)?;
                // The login is for another portal now: it ends as a logout does.
                let ended = reissue.then(|| {
                    let (stopped, failed) = stop_reached_through(ws, integration.id, &*delivery);
                    (stopped, failed, ws.clone())
                });
                Ok((integration, ended))
            })
            .await?;
        let mut failed = None;
        if let Some((stopped, withdraw_failed, ws)) = ended {
            let forgotten = self
                .forget_copies(Forget::LoggedOut {
                    ws: &ws,
                    integration: integration.id,
                    registration: true,
                })
                .await;
            self.announce(&ws, stopped);
            failed = withdraw_failed.or_else(|| forgotten.error());
        }
        self.events.publish(EngineEvent::WorkspaceChanged);
        match failed {
            Some(e) => Err(e),
            None => Ok(integration),
        }
    }

    /// Removes an integration, its tokens and registration. While sessions use it,
    /// refused unless `cascade`, which removes them (and roles chained from them) as
    /// `session remove --cascade` does. Returns the removed sessions.
    pub async fn remove_integration(
        &self,
        integration: impl Into<IntegrationRef>,
        cascade: bool,
    ) -> Result<(Integration, Vec<SessionId>), EngineError> {
        let selector = integration.into();
        let (selector, delivery) = (selector.to_owned(), self.delivery.clone());
        let (integration, removed, users, failed) = self
            .update(move |ws| {
                let before = ws.clone();
                let (integration, removed) = ws.remove_integration(&selector, cascade)?;
                let (users, failed) =
                    super::sessions::withdraw_removed(&before, &removed, &*delivery);
                Ok((integration, removed, users, failed))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        let mut failed = failed;
        let removed_with = Forget::IntegrationRemoved(integration.id, &integration.name, &removed);
        if let Err(e) = self.forget_removed(removed_with, &users).await {
            failed.get_or_insert(e);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok((integration, removed)),
        }
    }

    /// Step 1 of a login: the client registration (reused while it is good), then
    /// `StartDeviceAuthorization`. Show the person `device.verification_uri` and
    /// `device.user_code`.
    pub async fn begin_sso_login(
        &self,
        integration: impl Into<IntegrationRef>,
    ) -> Result<PendingLogin, EngineError> {
        let selector = integration.into();
        let integration = self.integration(selector).await?;
        let now = Utc::now();
        let sso = self.resolver.sso();
        let registration = sso
            .registration(&integration, LoginFlow::DeviceCode, now)
            .await
            .map_err(|e| token_error(&integration.name, e))?;
        let device = sso
            .portal()
            .start_device_authorization(
                &integration.region,
                &registration,
                &integration.start_url,
                now,
            )
            .await
            .map_err(|e| login_error(&integration.name, format!("{}: {}", e.code, e.message)))?;
        Ok(PendingLogin {
            integration,
            device,
            registration,
        })
    }

    /// Step 2 of a login: polls until the person approves (paced by `clock`), stores
    /// the tokens in the keychain and the status in the workspace. Dropping the future
    /// cancels the login and changes nothing.
    pub async fn complete_sso_login(
        &self,
        pending: PendingLogin,
        clock: &dyn Clock,
    ) -> Result<Integration, EngineError> {
        let PendingLogin {
            integration,
            device,
            registration,
        } = pending;
        let portal = self.resolver.sso().portal();
        let token = poll_for_token(clock, &device, |now| {
            portal.create_token_from_device(&integration.region, &registration, &device, now)
        })
        .await
        .map_err(|e: LoginError| login_error(&integration.name, e))?;
        self.resolver.sso().store(&integration, &token).await?;
        // The sessions' cached credentials came from the old login; a new one may
        // bring other assignments, so they are fetched again.
        self.store_sso_statuses().await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        self.integration(integration.id).await
    }

    /// Step 1 of a browser login (the authorization code grant with PKCE, the default):
    /// the listener on 127.0.0.1 (`redirect_port`, else a free port), the client
    /// registration for this flow (reused while it is good), a fresh PKCE pair and
    /// `state`, and the portal's `/authorize` URL for the person's browser.
    pub async fn begin_sso_browser_login(
        &self,
        integration: impl Into<IntegrationRef>,
        redirect_port: Option<u16>,
    ) -> Result<PendingBrowserLogin, EngineError> {
        let selector = integration.into();
        let integration = self.integration(selector).await?;
        let listener = LoopbackListener::bind(redirect_port)
            .await
            .map_err(|e| login_error(&integration.name, e))?;
        let redirect_uri = listener.redirect_uri();
        let sso = self.resolver.sso();
        let registration = sso
            .registration(&integration, LoginFlow::AuthorizationCode, Utc::now())
            .await
            .map_err(|e| token_error(&integration.name, e))?;
        let random = |e: getrandom::Error| {
            login_error(
                &integration.name,
                format!("no random bytes for the login: {e}"),
            )
        };
        let pkce = Pkce::new().map_err(random)?;
        let state = browser_login::new_state().map_err(random)?;
        let request = AuthorizeRequest {
            redirect_uri: &redirect_uri,
            state: &state,
            code_challenge: &pkce.challenge,
        };
        let authorize_url = sso
            .portal()
            .authorize_url(&integration.region, &registration, &request)
            .await
            .map_err(|e| login_error(&integration.name, format!("{}: {}", e.code, e.message)))?;
        Ok(PendingBrowserLogin {
            integration,
            authorize_url,
            registration,
            listener,
            redirect_uri,
            pkce,
            state,
        })
    }

    /// Step 2 of a browser login: waits (at most `timeout`) for the portal's redirect
    /// to the listener, checks its `state`, redeems the code with the verifier, and
    /// stores the tokens in the keychain and the status in the workspace. A timeout, a
    /// refusal, a wrong `state` or a refused code store nothing. Dropping the future
    /// cancels the login and changes nothing.
    pub async fn complete_sso_browser_login(
        &self,
        pending: PendingBrowserLogin,
        timeout: std::time::Duration,
    ) -> Result<Integration, EngineError> {
        let PendingBrowserLogin {
            integration,
            registration,
            listener,
            redirect_uri,
            pkce,
            state,
            ..
        } = pending;
        let code = listener
            .wait_for_code(&state, timeout)
            .await
            .map_err(|e| login_error(&integration.name, e))?;
        let token = self
            .resolver
            .sso()
            .portal()
            .create_token_from_code(
                &integration.region,
                &registration,
                &code,
                &pkce.verifier,
                &redirect_uri,
                Utc::now(),
            )
            .await
            .map_err(|e| {
                login_error(
                    &integration.name,
                    format!(
                        "the portal refused the authorization code: {}: {}; nothing was stored",
                        e.code, e.message
                    ),
                )
            })?;
        self.resolver.sso().store(&integration, &token).await?;
        self.store_sso_statuses().await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        self.integration(integration.id).await
    }

    /// `sso login --export-token`: copies the stored token to the AWS CLI's own SSO
    /// cache ([`crate::sso::export`]) for tools that read it; gives the file's path and
    /// when the token in it expires. The file holds a bearer token: say so.
    pub async fn export_sso_token(
        &self,
        integration: impl Into<IntegrationRef>,
    ) -> Result<(std::path::PathBuf, chrono::DateTime<Utc>), EngineError> {
        let selector = integration.into();
        let integration = self.integration(selector).await?;
        let Some(token) = self.resolver.sso().stored_token(integration.id).await? else {
            return Err(login_error(
                &integration.name,
                "not logged in: nothing to export",
            ));
        };
        let expires_at = token.expires_at;
        let name = integration.name.clone();
        let written = tokio::task::spawn_blocking(move || {
            crate::sso::export::AwsCliTokenCache::in_home()?.write(&integration, &token)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        let path = written.map_err(|e| {
            login_error(
                &name,
                format!("the token could not be written to the AWS CLI's SSO cache: {e}"),
            )
        })?;
        Ok((path, expires_at))
    }

    /// Logs out: the portal's `Logout`; then, in one locked update, the integration is
    /// logged out and the live sessions that reach AWS through it (its SSO roles and
    /// the roles chained below them) are stopped, their credentials withdrawn from the
    /// AWS files; then the tokens leave the keychain with every cached copy of those
    /// sessions' credentials (a start, or `credential-process`, then needs a new
    /// login). The tokens and copies go even when the portal cannot be reached or a
    /// withdraw fails; that is reported after.
    pub async fn sso_logout(
        &self,
        integration: impl Into<IntegrationRef>,
    ) -> Result<Integration, EngineError> {
        let selector = integration.into();
        let integration = self.integration(selector).await?;
        let sso = self.resolver.sso();
        let mut failed = None;
        if let Some(token) = sso.stored_token(integration.id).await?
            && token.expires_at > Utc::now()
            && let Err(e) = sso
                .portal()
                .logout(&integration.region, &token.access_token)
                .await
        {
            failed = Some(login_error(
                &integration.name,
                format!(
                    "the tokens were deleted, but the portal's Logout failed: {}: {}",
                    e.code, e.message
                ),
            ));
        }
        let (id, delivery) = (integration.id, self.delivery.clone());
        let updated = self
            .update(move |ws| {
                let i = ws.integration_mut(id).ok_or_else(|| {
                    crate::workspace::WorkspaceError::NoSuchIntegration(id.to_string())
                })?;
                i.login = LoginStatus::LoggedOut;
                let after = i.clone();
                let (stopped, withdraw_failed) = stop_reached_through(ws, id, &*delivery);
                Ok((after, stopped, withdraw_failed, ws.clone()))
            })
            .await;
        // The copies go even when the update could not be made.
        let ws = match &updated {
            Ok((.., ws)) => ws.clone(),
            Err(_) => self.workspace().await?,
        };
        let forgotten = self
            .forget_copies(Forget::LoggedOut {
                ws: &ws,
                integration: id,
                registration: false,
            })
            .await;
        let (after, stopped, withdraw_failed, ws) = updated?;
        self.announce(&ws, stopped);
        self.events.publish(EngineEvent::WorkspaceChanged);
        match failed.or(withdraw_failed).or_else(|| forgotten.error()) {
            Some(e) => Err(e),
            None => Ok(after),
        }
    }

    /// Adds an SSO role session (an account and role of an integration).
    pub async fn add_sso_role(&self, spec: NewSsoRole) -> Result<SessionView, EngineError> {
        let view = self
            .update(move |ws| {
                let integration = ws
                    .integration(&spec.sso)
                    .map_err(|_| {
                        validate::ValidationError::new(
                            "sso",
                            format!("no IAM Identity Center integration named '{}'", spec.sso),
                        )
                    })?
                    .id;
                let session = Session {
                    console: spec.console.clone(),
                    id: SessionId::new(),
                    name: spec.name.trim().to_owned(),
                    profile: ProfileName::parse(spec.profile.trim())?,
                    region: spec.region.clone().filter(|r| !r.is_empty()),
                    kind: SessionKind::SsoRole(SsoRole {
                        integration,
                        account_id: spec.account_id.trim().to_owned(),
                        account_name: spec.account_name.clone().filter(|n| !n.is_empty()),
                        role_name: spec.role_name.trim().to_owned(),
                    }),
                };
                let id = session.id;
                ws.add_session(session)?;
                Ok(ws.view(ws.get(id).expect("just added")))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(view)
    }

    /// Syncs an integration: one SSO role session per account and role the portal
    /// lists, named from `template` (default `{account_name}-{role_name}`); re-syncing
    /// keeps what the user changed, adds new assignments and removes vanished ones
    /// (never an active one or a parent: those are kept and reported).
    pub async fn sso_sync(
        &self,
        integration: impl Into<IntegrationRef>,
        template: Option<&str>,
    ) -> Result<SyncReport, EngineError> {
        let selector = integration.into();
        let template = match template {
            Some(t) => NameTemplate::parse("profile_template", t)?,
            None => NameTemplate::default(),
        };
        let integration = self.integration(selector).await?;
        let sso = self.resolver.sso();
        let token = sso.access_token(&integration).await;
        self.store_sso_statuses().await?;
        let token = token.map_err(|e| token_error(&integration.name, e))?;
        let listed = assignments(sso.portal(), &integration.region, &token)
            .await
            .map_err(|e| login_error(&integration.name, format!("{}: {}", e.code, e.message)))?;
        let entries = listed
            .into_iter()
            .flat_map(|a| {
                let Assignment { account, roles } = a;
                let id = integration.id;
                roles.into_iter().map(move |role_name| SyncEntry {
                    key: SyncKey {
                        account_id: account.account_id.clone(),
                        role_name: role_name.clone(),
                    },
                    account_name: account.account_name.clone(),
                    region: None,
                    kind: SessionKind::SsoRole(SsoRole {
                        integration: id,
                        account_id: account.account_id.clone(),
                        account_name: Some(account.account_name.clone()).filter(|n| !n.is_empty()),
                        role_name,
                    }),
                    declared: None,
                })
            })
            .collect();
        let source = SyncSource::SsoIntegration {
            integration: integration.id,
        };
        self.sync(source, template, entries).await
    }

    /// Stores what the token service learnt about logins (a refresh's new expiry, a
    /// login needed again) in one locked update, when it learnt anything.
    pub(super) async fn store_sso_statuses(&self) -> Result<(), EngineError> {
        let statuses = self.resolver.sso().take_statuses();
        if statuses.is_empty() {
            return Ok(());
        }
        let statuses = Arc::new(statuses);
        self.update(move |ws| {
            apply_statuses(ws, &statuses);
            Ok(())
        })
        .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(())
    }
}

/// Stops the live sessions that reach AWS through `integration` (its SSO roles and the
/// roles chained below them), inside the locked update of a logout: their credentials
/// leave the AWS files. Gives the sessions stopped and the first withdraw that failed
/// (every session is stopped all the same: the login is over).
fn stop_reached_through(
    ws: &mut crate::workspace::Workspace,
    integration: IntegrationId,
    delivery: &dyn crate::delivery::Delivery,
) -> (Vec<SessionId>, Option<EngineError>) {
    let roots = ws.sessions_of(integration);
    stop_below(ws, &roots, delivery)
}

/// Stops the live sessions among `roots` and every session chained below them, as a
/// logout does: each released and its credentials withdrawn from the AWS files. The
/// stopped sessions, and the first withdraw that failed.
pub(super) fn stop_below(
    ws: &mut crate::workspace::Workspace,
    roots: &[SessionId],
    delivery: &dyn crate::delivery::Delivery,
) -> (Vec<SessionId>, Option<EngineError>) {
    let mut stopped = Vec::new();
    let mut failed = None;
    for id in subtree(ws, roots) {
        let Some(s) = ws.get(id) else { continue };
        if !matches!(
            s.state,
            crate::model::SessionState::Active { .. } | crate::model::SessionState::Pending
        ) {
            continue;
        }
        let (name, profile) = (s.session.name.clone(), s.session.profile.clone());
        let withdrawn = match ws.release(id) {
            Ok(true) => delivery
                .withdraw(&profile)
                .map_err(|source| EngineError::NotWithdrawn {
                    session: name,
                    profile: profile.to_string(),
                    after: Withdrawal::Logout,
                    source: Box::new(source),
                }),
            Ok(false) => Ok(()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = withdrawn {
            failed.get_or_insert(e);
        }
        stopped.push(id);
    }
    (stopped, failed)
}
