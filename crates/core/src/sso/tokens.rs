//! An integration's secrets, only ever in the keychain: its client registrations, one
//! per login flow (`sso-client:<id>` for the device flow, `sso-client:<id>:auth-code`
//! for the browser's authorization code flow: a registration for one set of grant
//! types is never used for the other), and its portal token (`sso-token:<id>`, access +
//! refresh token, with the flow whose registration refreshes it).
//! [`SsoAccess`] hands out an access token good for a while yet, refreshing it with the
//! refresh token before it expires (single-flight per integration, never prompting),
//! and notes each integration's new [`LoginStatus`] for the engine to store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::keychain::{Keychain, KeychainError};

use super::export::AwsCliTokenCache;
use super::integration::{Integration, LoginStatus};
use super::portal::{ClientRegistration, LoginFlow, PortalError, PortalToken, SsoPortal};
use crate::model::IntegrationId;

/// Keychain account of an integration's client registration for `flow`.
pub fn client_account(id: IntegrationId, flow: LoginFlow) -> String {
    match flow {
        LoginFlow::DeviceCode => format!("sso-client:{id}"),
        LoginFlow::AuthorizationCode => format!("sso-client:{id}:auth-code"),
    }
}

/// Keychain account of an integration's portal token.
pub fn token_account(id: IntegrationId) -> String {
    format!("sso-token:{id}")
}

/// A token expiring sooner than this is refreshed before use (botocore's window).
pub const REFRESH_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// A registration expiring sooner than this is replaced before a login.
const REGISTRATION_MARGIN: chrono::Duration = chrono::Duration::hours(1);

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    /// A person must log in (again): never logged in, logged out, or the refresh failed.
    #[error("{0}")]
    LoginRequired(String),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The portal could not be reached to refresh, and the token has expired.
    #[error("{}: {}", .0.code, .0.message)]
    Portal(PortalError),
}

/// The OIDC errors after which a refresh token is no good: a new login is needed.
const REFRESH_REFUSED: [&str; 6] = [
    "InvalidGrantException",
    "ExpiredTokenException",
    "AccessDeniedException",
    "InvalidClientException",
    "UnauthorizedClientException",
    "InvalidRequestException",
];

/// Portal tokens for integrations, through the keychain and the portal.
#[derive(Clone)]
pub struct SsoAccess {
    portal: SsoPortal,
    keychain: Keychain,
    locks: Arc<Mutex<HashMap<IntegrationId, Arc<tokio::sync::Mutex<()>>>>>,
    statuses: Arc<Mutex<HashMap<IntegrationId, LoginStatus>>>,
}

impl SsoAccess {
    pub fn new(portal: SsoPortal, keychain: Keychain) -> Self {
        Self {
            portal,
            keychain,
            locks: Arc::default(),
            statuses: Arc::default(),
        }
    }

    pub fn portal(&self) -> &SsoPortal {
        &self.portal
    }

    /// The statuses learnt since the last call, for the engine to store.
    pub fn take_statuses(&self) -> Vec<(IntegrationId, LoginStatus)> {
        self.statuses.lock().expect("statuses").drain().collect()
    }

    pub(crate) fn note(&self, id: IntegrationId, status: LoginStatus) {
        self.statuses.lock().expect("statuses").insert(id, status);
    }

    async fn read<T: serde::de::DeserializeOwned>(
        &self,
        account: String,
    ) -> Result<Option<T>, KeychainError> {
        let found = self
            .keychain
            .get_many_async(&[account])
            .await?
            .pop()
            .flatten();
        // An entry that does not parse is as good as none (a new login replaces it).
        Ok(found.and_then(|json| serde_json::from_str(&json).ok()))
    }

    async fn write<T: serde::Serialize>(
        &self,
        account: String,
        value: &T,
    ) -> Result<(), KeychainError> {
        let json = Zeroizing::new(serde_json::to_string(value).expect("serializes"));
        self.keychain.set_async(&account, json).await
    }

    /// The client registration for `i` and `flow`: the stored one while it is good for
    /// another hour and was made for `i`'s scopes and that flow, else a new
    /// `RegisterClient` (stored).
    pub async fn registration(
        &self,
        i: &Integration,
        flow: LoginFlow,
        now: DateTime<Utc>,
    ) -> Result<ClientRegistration, TokenError> {
        if let Some(reg) = self
            .read::<ClientRegistration>(client_account(i.id, flow))
            .await?
            && reg.expires_at - REGISTRATION_MARGIN > now
            && reg.scopes == i.scopes
            && reg.flow == flow
        {
            return Ok(reg);
        }
        let reg = self
            .portal
            .register_client(&i.region, &i.scopes, flow, &i.start_url)
            .await
            .map_err(TokenError::Portal)?;
        self.write(client_account(i.id, flow), &reg).await?;
        Ok(reg)
    }

    /// Stores a fresh token (a login or a refresh) and notes the status.
    pub async fn store(
        &self,
        i: &Integration,
        token: &PortalToken,
    ) -> Result<LoginStatus, KeychainError> {
        self.write(token_account(i.id), token).await?;
        let status = LoginStatus::LoggedIn {
            expires_at: token.expires_at,
            refreshable: token.refresh_token.is_some(),
        };
        self.note(i.id, status.clone());
        Ok(status)
    }

    /// Rewrites the copy `--export-token` wrote, if it holds `old`, with `fresh`.
    async fn refresh_export(&self, i: &Integration, old: &PortalToken, fresh: &PortalToken) {
        let (i, old, fresh) = (i.clone(), old.access_token.clone(), fresh.clone());
        let written = tokio::task::spawn_blocking(move || {
            AwsCliTokenCache::in_home()?.refresh(&i, &old, &fresh)
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!("the exported SSO token could not be refreshed: {e}");
        }
    }

    /// The stored token, as it is (for logout).
    pub async fn stored_token(
        &self,
        id: IntegrationId,
    ) -> Result<Option<PortalToken>, KeychainError> {
        self.read(token_account(id)).await
    }

    /// Deletes the token (logout); with `registration`, the client registrations too.
    /// The copy `--export-token` wrote to the AWS CLI's cache under `exported_as` (the
    /// integration's name) goes first, if it still holds this token.
    pub async fn forget(
        &self,
        id: IntegrationId,
        exported_as: Option<&str>,
        registration: bool,
    ) -> Result<(), KeychainError> {
        if let Some(name) = exported_as
            && let Some(token) = self.stored_token(id).await?
        {
            let name = name.to_owned();
            let removed = tokio::task::spawn_blocking(move || {
                AwsCliTokenCache::in_home()?.remove(&name, &token.access_token)
            })
            .await;
            match removed {
                Ok(Ok(true)) => tracing::info!("the exported SSO token left the AWS CLI's cache"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!("the exported SSO token could not be deleted: {e}"),
                Err(e) => tracing::warn!("the exported SSO token could not be deleted: {e}"),
            }
        }
        self.keychain.delete_async(&token_account(id)).await?;
        if registration {
            for flow in [LoginFlow::DeviceCode, LoginFlow::AuthorizationCode] {
                self.keychain
                    .delete_async(&client_account(id, flow))
                    .await?;
            }
        }
        Ok(())
    }

    /// An access token for `i`, good for longer than [`REFRESH_WINDOW`] when it can be:
    /// a token nearer its end is refreshed first, without asking anyone. When the
    /// refresh is refused, the integration needs a new login (and is noted so).
    pub async fn access_token(&self, i: &Integration) -> Result<Zeroizing<String>, TokenError> {
        let lock = self
            .locks
            .lock()
            .expect("token locks")
            .entry(i.id)
            .or_default()
            .clone();
        let _flight = lock.lock().await;
        let login_again = |why: String| {
            let message = format!(
                "IAM Identity Center integration '{}' needs a new login ({why}); run `rolehop sso login {}`",
                i.name, i.name
            );
            self.note(i.id, LoginStatus::LoginAgain { message: why });
            TokenError::LoginRequired(message)
        };
        let Some(token) = self.read::<PortalToken>(token_account(i.id)).await? else {
            return Err(TokenError::LoginRequired(format!(
                "IAM Identity Center integration '{}' is not logged in; run `rolehop sso login {}`",
                i.name, i.name
            )));
        };
        let now = Utc::now();
        if token.expires_at - REFRESH_WINDOW > now {
            return Ok(token.access_token);
        }
        let still_good = token.expires_at > now + chrono::Duration::seconds(30);
        let Some(refresh) = token.refresh_token.as_ref() else {
            return if still_good {
                Ok(token.access_token)
            } else {
                Err(login_again(
                    "its token expired and the portal gave no refresh token".into(),
                ))
            };
        };
        let reg = match self
            .read::<ClientRegistration>(client_account(i.id, token.flow))
            .await?
        {
            Some(reg) if reg.expires_at > now && reg.flow == token.flow => reg,
            _ if still_good => return Ok(token.access_token),
            _ => return Err(login_again("its client registration expired".into())),
        };
        match self
            .portal
            .refresh_token(&i.region, &reg, refresh, now)
            .await
        {
            Ok(fresh) => {
                self.store(i, &fresh).await?;
                self.refresh_export(i, &token, &fresh).await;
                tracing::info!(integration = %i.name, "portal token refreshed");
                Ok(fresh.access_token)
            }
            Err(e) if REFRESH_REFUSED.contains(&e.code.as_str()) => {
                if still_good {
                    Ok(token.access_token)
                } else {
                    Err(login_again(format!(
                        "the refresh was refused: {}: {}",
                        e.code, e.message
                    )))
                }
            }
            // The portal could not be reached: the token may still do for now.
            Err(_) if still_good => Ok(token.access_token),
            Err(e) => Err(TokenError::Portal(e)),
        }
    }
}
