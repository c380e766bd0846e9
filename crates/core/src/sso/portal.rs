//! The calls Rolehop makes to IAM Identity Center: SSO OIDC (`RegisterClient`,
//! `StartDeviceAuthorization`, `CreateToken`) through aws-sdk-ssooidc, and the access
//! portal (`GetRoleCredentials`, `ListAccounts`, `ListAccountRoles`, `Logout`) through
//! aws-sdk-sso.
//!
//! Built like the STS client ([`crate::sts`]): once, lazily, from aws-config without the
//! shared AWS files, with stated retries and timeouts; each call overrides only its
//! region (the integration's). Endpoints come from the SDKs' standard
//! `AWS_ENDPOINT_URL_SSO_OIDC` / `AWS_ENDPOINT_URL_SSO` (then `AWS_ENDPOINT_URL`), over
//! https or plain http to a loopback address. The SDK's standard retry mode retries
//! `TooManyRequestsException` and 5xx answers with backoff and jitter.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::display_text;
use crate::sts::{
    ATTEMPT_TIMEOUT, Attempts, CONNECT_TIMEOUT, MAX_ACCESS_KEY_ID_BYTES,
    MAX_SECRET_ACCESS_KEY_BYTES, MAX_SESSION_TOKEN_BYTES, ResponseSizeCap, StsError,
    describe_service_error, resolve_service_endpoint,
};

/// The environment variables of the OIDC endpoint, most specific first.
pub const OIDC_ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"];
/// The environment variables of the portal endpoint, most specific first.
pub const PORTAL_ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL"];

/// Attempts per portal call, the first included: a sync of a thousand accounts meets
/// `TooManyRequestsException`, and the standard mode's backoff spaces these out.
pub const PORTAL_MAX_ATTEMPTS: u32 = 5;

/// The OAuth grant types `CreateToken` takes.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_TOKEN_GRANT: &str = "refresh_token";

/// A failed portal or OIDC call: AWS's error code (`UnauthorizedException`,
/// `AuthorizationPendingException`...) or one of Rolehop's transport codes, and a message.
pub type PortalError = StsError;

/// A client registration (`RegisterClient`): reused for every login until it expires.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    #[serde(with = "crate::credentials::zeroizing_string")]
    pub client_secret: Zeroizing<String>,
    pub expires_at: DateTime<Utc>,
    /// The scopes it was registered for (a change of scopes needs a new one).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What `StartDeviceAuthorization` gave: what the person sees, and the device code.
#[derive(Clone)]
pub struct DeviceAuthorization {
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub user_code: String,
    pub expires_at: DateTime<Utc>,
    /// How long to wait between polls (the portal may ask for more with `slow_down`).
    pub interval: Duration,
    pub(crate) device_code: Zeroizing<String>,
}

impl std::fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("verification_uri", &self.verification_uri)
            .field("user_code", &self.user_code)
            .field("expires_at", &self.expires_at)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// A portal token (`CreateToken`): only ever in memory and the keychain.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct PortalToken {
    #[serde(with = "crate::credentials::zeroizing_string")]
    pub access_token: Zeroizing<String>,
    #[serde(default, with = "crate::credentials::opt_zeroizing_string")]
    pub refresh_token: Option<Zeroizing<String>>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for PortalToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalToken")
            .field("expires_at", &self.expires_at)
            .field("refreshable", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

/// One account the portal lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_id: String,
    pub account_name: String,
}

/// The shared OIDC and portal clients.
#[derive(Debug, Clone, Default)]
pub struct SsoPortal {
    built: std::sync::Arc<OnceCell<Built>>,
}

#[derive(Debug)]
struct Built {
    oidc: aws_sdk_ssooidc::Client,
    portal: aws_sdk_sso::Client,
}

/// Retries, timeouts and the response cap every portal client shares.
fn stated_limits() -> (RetryConfig, TimeoutConfig) {
    (
        RetryConfig::standard().with_max_attempts(PORTAL_MAX_ATTEMPTS),
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build(),
    )
}

impl SsoPortal {
    async fn built(&self) -> Result<&Built, PortalError> {
        self.built
            .get_or_try_init(|| async {
                let env = |name: &str| std::env::var(name).ok();
                let oidc_endpoint = resolve_service_endpoint(&OIDC_ENDPOINT_VARIABLES, None, env)?;
                let portal_endpoint =
                    resolve_service_endpoint(&PORTAL_ENDPOINT_VARIABLES, None, env)?;
                let no_profiles = EnvConfigFiles::builder()
                    .with_contents(EnvConfigFileKind::Config, "")
                    .build();
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .no_credentials()
                    .profile_files(no_profiles)
                    .region(Region::new(crate::sts::FALLBACK_REGION))
                    .load()
                    .await;
                let (retry, timeout) = stated_limits();
                let mut oidc = aws_sdk_ssooidc::config::Builder::from(&sdk);
                oidc.set_endpoint_url(oidc_endpoint);
                let oidc = oidc
                    .retry_config(retry.clone())
                    .timeout_config(timeout.clone())
                    .interceptor(ResponseSizeCap)
                    .build();
                let mut portal = aws_sdk_sso::config::Builder::from(&sdk);
                portal.set_endpoint_url(portal_endpoint);
                let portal = portal
                    .retry_config(retry)
                    .timeout_config(timeout)
                    .interceptor(ResponseSizeCap)
                    .build();
                Ok(Built {
                    oidc: aws_sdk_ssooidc::Client::from_conf(oidc),
                    portal: aws_sdk_sso::Client::from_conf(portal),
                })
            })
            .await
    }

    fn oidc_call(region: &str, attempts: &Attempts) -> aws_sdk_ssooidc::config::Builder {
        aws_sdk_ssooidc::config::Builder::default()
            .interceptor(attempts.clone())
            .region(Region::new(region.to_owned()))
    }

    fn portal_call(region: &str, attempts: &Attempts) -> aws_sdk_sso::config::Builder {
        aws_sdk_sso::config::Builder::default()
            .interceptor(attempts.clone())
            .region(Region::new(region.to_owned()))
    }

    /// `RegisterClient`: a public client named `rolehop` for `scopes`.
    pub async fn register_client(
        &self,
        region: &str,
        scopes: &[String],
    ) -> Result<ClientRegistration, PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .oidc
            .register_client()
            .client_name("rolehop")
            .client_type("public")
            .set_scopes(Some(scopes.to_vec()))
            .customize()
            .config_override(Self::oidc_call(region, &attempts))
            .send()
            .await;
        let out = logged("RegisterClient", started, &attempts, out)?;
        let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
            return Err(invalid("RegisterClient returned no client id or secret"));
        };
        Ok(ClientRegistration {
            client_id: id.to_owned(),
            client_secret: Zeroizing::new(secret.to_owned()),
            expires_at: epoch_seconds(out.client_secret_expires_at()),
            scopes: scopes.to_vec(),
        })
    }

    /// `StartDeviceAuthorization` for the portal at `start_url`.
    pub async fn start_device_authorization(
        &self,
        region: &str,
        client: &ClientRegistration,
        start_url: &str,
        now: DateTime<Utc>,
    ) -> Result<DeviceAuthorization, PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .oidc
            .start_device_authorization()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.as_str())
            .start_url(start_url)
            .customize()
            .config_override(Self::oidc_call(region, &attempts))
            .send()
            .await;
        let out = logged("StartDeviceAuthorization", started, &attempts, out)?;
        let (Some(device_code), Some(user_code), Some(uri)) =
            (out.device_code(), out.user_code(), out.verification_uri())
        else {
            return Err(invalid(
                "StartDeviceAuthorization returned no device code, user code or URL",
            ));
        };
        Ok(DeviceAuthorization {
            verification_uri: uri.to_owned(),
            verification_uri_complete: out.verification_uri_complete().map(str::to_owned),
            user_code: user_code.to_owned(),
            expires_at: now + chrono::Duration::seconds(out.expires_in().max(0) as i64),
            // RFC 8628: 5 s when the server names no interval.
            interval: Duration::from_secs(match out.interval() {
                n if n > 0 => n as u64,
                _ => 5,
            }),
            device_code: Zeroizing::new(device_code.to_owned()),
        })
    }

    /// One `CreateToken` with the device code: the token once the person approved, else
    /// the portal's `AuthorizationPendingException`, `SlowDownException`... as an error.
    /// Never retried here: the poll loop ([`super::login`]) paces it.
    pub async fn create_token_from_device(
        &self,
        region: &str,
        client: &ClientRegistration,
        device: &DeviceAuthorization,
        now: DateTime<Utc>,
    ) -> Result<PortalToken, PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .oidc
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.as_str())
            .grant_type(DEVICE_CODE_GRANT)
            .device_code(device.device_code.as_str())
            .customize()
            .config_override(
                Self::oidc_call(region, &attempts).retry_config(RetryConfig::disabled()),
            )
            .send()
            .await;
        let out = logged("CreateToken", started, &attempts, out)?;
        token_of(
            out.access_token(),
            out.refresh_token(),
            out.expires_in(),
            now,
        )
    }

    /// `CreateToken` with the refresh token: a new access token without asking anyone.
    pub async fn refresh_token(
        &self,
        region: &str,
        client: &ClientRegistration,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalToken, PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .oidc
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.as_str())
            .grant_type(REFRESH_TOKEN_GRANT)
            .refresh_token(refresh_token)
            .customize()
            .config_override(Self::oidc_call(region, &attempts))
            .send()
            .await;
        let out = logged("CreateToken", started, &attempts, out)?;
        let mut token = token_of(
            out.access_token(),
            out.refresh_token(),
            out.expires_in(),
            now,
        )?;
        // A portal that does not rotate refresh tokens keeps the one it gave.
        if token.refresh_token.is_none() {
            token.refresh_token = Some(Zeroizing::new(refresh_token.to_owned()));
        }
        Ok(token)
    }

    /// `Logout`: the portal forgets the token.
    pub async fn logout(&self, region: &str, access_token: &str) -> Result<(), PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .portal
            .logout()
            .access_token(access_token)
            .customize()
            .config_override(Self::portal_call(region, &attempts))
            .send()
            .await;
        logged("Logout", started, &attempts, out).map(|_| ())
    }

    /// `GetRoleCredentials`: temporary credentials for `role_name` in `account_id`.
    pub async fn role_credentials(
        &self,
        region: &str,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, PortalError> {
        let built = self.built().await?;
        let (started, attempts) = (Instant::now(), Attempts::default());
        let out = built
            .portal
            .get_role_credentials()
            .access_token(access_token)
            .account_id(account_id)
            .role_name(role_name)
            .customize()
            .config_override(Self::portal_call(region, &attempts))
            .send()
            .await;
        let out = logged("GetRoleCredentials", started, &attempts, out)?;
        let c = out
            .role_credentials()
            .ok_or_else(|| invalid("GetRoleCredentials returned no credentials"))?;
        let fields = [
            ("accessKeyId", c.access_key_id(), MAX_ACCESS_KEY_ID_BYTES),
            (
                "secretAccessKey",
                c.secret_access_key(),
                MAX_SECRET_ACCESS_KEY_BYTES,
            ),
            ("sessionToken", c.session_token(), MAX_SESSION_TOKEN_BYTES),
        ];
        for (field, value, max) in fields {
            let len = value.map_or(0, str::len);
            // The size only: never the value, which is a secret.
            if len == 0 || len > max {
                return Err(invalid(&format!(
                    "the portal returned a {field} of {len} bytes; Rolehop accepts 1 to {max}"
                )));
            }
        }
        let millis = c.expiration();
        Ok(Credentials {
            access_key_id: c.access_key_id().unwrap_or_default().to_owned(),
            secret_access_key: Zeroizing::new(c.secret_access_key().unwrap_or_default().to_owned()),
            session_token: c.session_token().map(|t| Zeroizing::new(t.to_owned())),
            expiration: DateTime::<Utc>::from_timestamp_millis(millis),
        })
    }

    /// `ListAccounts`, every page.
    pub async fn accounts(
        &self,
        region: &str,
        access_token: &str,
    ) -> Result<Vec<Account>, PortalError> {
        let built = self.built().await?;
        every_page(|next| async move {
            let (started, attempts) = (Instant::now(), Attempts::default());
            let out = built
                .portal
                .list_accounts()
                .access_token(access_token)
                .max_results(100)
                .set_next_token(next)
                .customize()
                .config_override(Self::portal_call(region, &attempts))
                .send()
                .await;
            let out = logged("ListAccounts", started, &attempts, out)?;
            let accounts = out
                .account_list()
                .iter()
                .filter_map(|a| {
                    Some(Account {
                        account_id: a.account_id()?.to_owned(),
                        account_name: a.account_name().unwrap_or_default().to_owned(),
                    })
                })
                .collect();
            Ok((accounts, out.next_token().map(str::to_owned)))
        })
        .await
    }

    /// `ListAccountRoles` for one account, every page (100 roles a page, the API's
    /// largest, so one call for nearly every account).
    pub async fn account_roles(
        &self,
        region: &str,
        access_token: &str,
        account_id: &str,
    ) -> Result<Vec<String>, PortalError> {
        let built = self.built().await?;
        every_page(|next| async move {
            let (started, attempts) = (Instant::now(), Attempts::default());
            let out = built
                .portal
                .list_account_roles()
                .access_token(access_token)
                .account_id(account_id)
                .max_results(100)
                .set_next_token(next)
                .customize()
                .config_override(Self::portal_call(region, &attempts))
                .send()
                .await;
            let out = logged("ListAccountRoles", started, &attempts, out)?;
            let roles = out
                .role_list()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_owned))
                .collect();
            Ok((roles, out.next_token().map(str::to_owned)))
        })
        .await
    }
}

/// Every item of a paginated call: `page(next_token)` gives one page's items and the
/// next token; an absent or empty token ends the walk.
async fn every_page<T, F, Fut>(mut page: F) -> Result<Vec<T>, PortalError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>), PortalError>>,
{
    let mut items = Vec::new();
    let mut next = None;
    loop {
        let (found, token) = page(next.take()).await?;
        items.extend(found);
        match token.filter(|t| !t.is_empty()) {
            Some(t) => next = Some(t),
            None => return Ok(items),
        }
    }
}

fn invalid(message: &str) -> PortalError {
    PortalError {
        code: "InvalidResponse".into(),
        message: message.to_owned(),
    }
}

fn epoch_seconds(secs: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn token_of(
    access: Option<&str>,
    refresh: Option<&str>,
    expires_in: i32,
    now: DateTime<Utc>,
) -> Result<PortalToken, PortalError> {
    let access = access
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("CreateToken returned no access token"))?;
    Ok(PortalToken {
        access_token: Zeroizing::new(access.to_owned()),
        refresh_token: refresh
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_owned())),
        expires_at: now + chrono::Duration::seconds(expires_in.max(0) as i64),
    })
}

/// Logs one call (action, duration, attempts, outcome; never the request or answer,
/// which hold tokens and credentials) and turns a failure into a [`PortalError`].
fn logged<O, E>(
    action: &'static str,
    started: Instant,
    attempts: &Attempts,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<O, PortalError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let duration = started.elapsed();
    let (count, endpoint) = attempts.seen();
    let service = if action.starts_with("Create")
        || action.starts_with("Register")
        || action.starts_with("StartDevice")
    {
        "SSO OIDC"
    } else {
        "the SSO portal"
    };
    let result = result.map_err(|e| {
        let StsError { code, message } = describe_service_error(service, e, count, &endpoint);
        PortalError {
            code: display_text::capped(code),
            message: display_text::capped(message),
        }
    });
    match &result {
        Ok(_) => tracing::info!(action, ?duration, attempts = count, "SSO call"),
        Err(e) => {
            tracing::info!(action, ?duration, attempts = count, error = %e, "SSO call failed")
        }
    }
    result
}
