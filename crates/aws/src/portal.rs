//! The calls Rolehop makes to IAM Identity Center: SSO OIDC (`RegisterClient`,
//! `StartDeviceAuthorization`, `CreateToken`, and the browser's `/authorize` URL of
//! the authorization code grant with PKCE) through aws-sdk-ssooidc, and the access
//! portal (`GetRoleCredentials`, `ListAccounts`, `ListAccountRoles`, `Logout`) through
//! aws-sdk-sso.
//!
//! Both clients are built under the policy of every AWS client ([`crate`]): no
//! shared AWS file steers them, endpoints from `AWS_ENDPOINT_URL_SSO_OIDC` /
//! `AWS_ENDPOINT_URL_SSO` (then `AWS_ENDPOINT_URL`) over https or loopback http, stated
//! timeouts, and [`PORTAL_MAX_ATTEMPTS`] attempts, as the standard retry mode retries
//! `TooManyRequestsException` and 5xx answers with backoff. Each call names its region
//! (the integration's) and carries its token in the request: nothing signs it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder;
use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::sts::{MAX_ACCESS_KEY_ID_BYTES, MAX_SECRET_ACCESS_KEY_BYTES, MAX_SESSION_TOKEN_BYTES};
use crate::{AwsClient, AwsError};

pub use crate::SSO_MAX_ATTEMPTS as PORTAL_MAX_ATTEMPTS;

/// The OAuth grant types `CreateToken` takes.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const REFRESH_TOKEN_GRANT: &str = "refresh_token";
const AUTHORIZATION_CODE_GRANT: &str = "authorization_code";

/// The redirect URI a browser login registers, as the AWS CLI registers it: loopback,
/// no port (RFC 8252 §7.3: the port is picked at run time and may differ per login).
pub const LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback";

pub use rolehop_model::integration::LoginFlow;

/// A failed portal or OIDC call: AWS's error code (`UnauthorizedException`,
/// `AuthorizationPendingException`...) or one of Rolehop's transport codes, and a message.
pub type PortalError = AwsError;

/// A client registration (`RegisterClient`): reused for every login until it expires.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    #[serde(with = "crate::credentials::zeroizing_string")]
    pub client_secret: Zeroizing<String>,
    pub expires_at: DateTime<Utc>,
    /// The scopes it was registered for (a change of scopes needs a new one).
    pub scopes: Vec<String>,
    /// The flow it was registered for (registrations stored before browser logins
    /// existed were all for the device flow).
    #[serde(default)]
    pub flow: LoginFlow,
}

impl std::fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRegistration")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("flow", &self.flow)
            .finish()
    }
}

/// Whether a `CreateToken` may be retried: a device poll is paced by the login's loop
/// and a code is good once, so neither is.
#[derive(Debug, Clone, Copy)]
enum Retries {
    Standard,
    Never,
}

/// What the `/authorize` URL carries besides the client: where the browser comes
/// back to, the `state` it must bring back, and the PKCE challenge.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizeRequest<'a> {
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub code_challenge: &'a str,
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
    pub device_code: Zeroizing<String>,
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
    /// The flow whose client registration issued it (and refreshes it).
    #[serde(default)]
    pub flow: LoginFlow,
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

/// The shared OIDC and portal clients (clones share them), each built on its first call.
#[derive(Debug, Clone, Default)]
pub struct SsoPortal {
    oidc: AwsClient<aws_sdk_ssooidc::Client>,
    portal: AwsClient<aws_sdk_sso::Client>,
}

impl SsoPortal {
    /// `RegisterClient`: a public client named `rolehop` for `scopes` and `flow`. For
    /// the authorization code flow, as the AWS CLI registers: the grant types
    /// `authorization_code` and `refresh_token`, the loopback redirect URI
    /// ([`LOOPBACK_REDIRECT_URI`]) and the start URL as issuer URL.
    pub async fn register_client(
        &self,
        region: &str,
        scopes: &[String],
        flow: LoginFlow,
        start_url: &str,
    ) -> Result<ClientRegistration, PortalError> {
        let out = self
            .oidc
            .call("RegisterClient", Some(region), None, |oidc, call| {
                let mut request = oidc
                    .register_client()
                    .client_name("rolehop")
                    .client_type("public")
                    .set_scopes(Some(scopes.to_vec()));
                if flow == LoginFlow::AuthorizationCode {
                    request = request
                        .grant_types(AUTHORIZATION_CODE_GRANT)
                        .grant_types(REFRESH_TOKEN_GRANT)
                        .redirect_uris(LOOPBACK_REDIRECT_URI)
                        .issuer_url(start_url);
                }
                request.customize().config_override(call).send()
            })
            .await?;
        let (Some(id), Some(secret)) = (out.client_id(), out.client_secret()) else {
            return Err(AwsError::invalid_response(
                "RegisterClient returned no client id or secret",
            ));
        };
        Ok(ClientRegistration {
            client_id: id.to_owned(),
            client_secret: Zeroizing::new(secret.to_owned()),
            expires_at: epoch_seconds(out.client_secret_expires_at()),
            scopes: scopes.to_vec(),
            flow,
        })
    }

    /// The browser's URL for the authorization code grant with PKCE: the OIDC
    /// service's `/authorize` (an operation no SDK models, on the endpoint the SDK's
    /// calls go to) with `response_type=code`, the client, `redirect_uri`, `state`, the
    /// S256 `code_challenge` and the space-separated `scopes`, as the AWS CLI asks.
    pub async fn authorize_url(
        &self,
        region: &str,
        client: &ClientRegistration,
        request: &AuthorizeRequest<'_>,
    ) -> Result<String, PortalError> {
        let base = match self.oidc.endpoint().await? {
            Some(url) => url,
            None => format!("https://oidc.{region}.amazonaws.com"),
        };
        let mut url = url::Url::parse(&base)
            .map_err(|e| AwsError::invalid_response(format!("the OIDC endpoint: {e}")))?;
        url.set_path(&format!("{}/authorize", url.path().trim_end_matches('/')));
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("state", request.state)
            .append_pair("code_challenge_method", "S256")
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("scopes", &client.scopes.join(" "));
        Ok(url.into())
    }

    /// `CreateToken` with an authorization code and its PKCE verifier, at the redirect
    /// URI the code was sent to. Never retried: a code is good once.
    pub async fn create_token_from_code(
        &self,
        region: &str,
        client: &ClientRegistration,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalToken, PortalError> {
        self.create_token(region, client, Retries::Never, now, |request| {
            request
                .grant_type(AUTHORIZATION_CODE_GRANT)
                .code(code)
                .code_verifier(code_verifier)
                .redirect_uri(redirect_uri)
        })
        .await
    }

    /// `StartDeviceAuthorization` for the portal at `start_url`.
    pub async fn start_device_authorization(
        &self,
        region: &str,
        client: &ClientRegistration,
        start_url: &str,
        now: DateTime<Utc>,
    ) -> Result<DeviceAuthorization, PortalError> {
        let out = self
            .oidc
            .call(
                "StartDeviceAuthorization",
                Some(region),
                None,
                |oidc, call| {
                    oidc.start_device_authorization()
                        .client_id(&client.client_id)
                        .client_secret(client.client_secret.as_str())
                        .start_url(start_url)
                        .customize()
                        .config_override(call)
                        .send()
                },
            )
            .await?;
        let (Some(device_code), Some(user_code), Some(uri)) =
            (out.device_code(), out.user_code(), out.verification_uri())
        else {
            return Err(AwsError::invalid_response(
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
        self.create_token(region, client, Retries::Never, now, |request| {
            request
                .grant_type(DEVICE_CODE_GRANT)
                .device_code(device.device_code.as_str())
        })
        .await
    }

    /// `CreateToken` with the refresh token: a new access token without asking anyone.
    pub async fn refresh_token(
        &self,
        region: &str,
        client: &ClientRegistration,
        refresh_token: &str,
        now: DateTime<Utc>,
    ) -> Result<PortalToken, PortalError> {
        let mut token = self
            .create_token(region, client, Retries::Standard, now, |request| {
                request
                    .grant_type(REFRESH_TOKEN_GRANT)
                    .refresh_token(refresh_token)
            })
            .await?;
        // A portal that does not rotate refresh tokens keeps the one it gave.
        if token.refresh_token.is_none() {
            token.refresh_token = Some(Zeroizing::new(refresh_token.to_owned()));
        }
        Ok(token)
    }

    /// One `CreateToken` of `client`, the grant filled in by `grant`; the token is
    /// marked as the flow of the registration that issued it (and refreshes it).
    async fn create_token(
        &self,
        region: &str,
        client: &ClientRegistration,
        retries: Retries,
        now: DateTime<Utc>,
        grant: impl FnOnce(CreateTokenFluentBuilder) -> CreateTokenFluentBuilder,
    ) -> Result<PortalToken, PortalError> {
        let out = self
            .oidc
            .call("CreateToken", Some(region), None, |oidc, call| {
                let call = match retries {
                    Retries::Standard => call,
                    Retries::Never => call.retry_config(RetryConfig::disabled()),
                };
                grant(
                    oidc.create_token()
                        .client_id(&client.client_id)
                        .client_secret(client.client_secret.as_str()),
                )
                .customize()
                .config_override(call)
                .send()
            })
            .await?;
        let mut token = token_of(
            out.access_token(),
            out.refresh_token(),
            out.expires_in(),
            now,
        )?;
        token.flow = client.flow;
        Ok(token)
    }

    /// `Logout`: the portal forgets the token.
    pub async fn logout(&self, region: &str, access_token: &str) -> Result<(), PortalError> {
        self.portal
            .call("Logout", Some(region), None, |portal, call| {
                portal
                    .logout()
                    .access_token(access_token)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await
            .map(|_| ())
    }

    /// `GetRoleCredentials`: temporary credentials for `role_name` in `account_id`.
    pub async fn role_credentials(
        &self,
        region: &str,
        access_token: &str,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, PortalError> {
        let out = self
            .portal
            .call("GetRoleCredentials", Some(region), None, |portal, call| {
                portal
                    .get_role_credentials()
                    .access_token(access_token)
                    .account_id(account_id)
                    .role_name(role_name)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await?;
        let c = out.role_credentials().ok_or_else(|| {
            AwsError::invalid_response("GetRoleCredentials returned no credentials")
        })?;
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
                return Err(AwsError::invalid_response(format!(
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
        let send = |portal: &aws_sdk_sso::Client, call, next| {
            portal
                .list_accounts()
                .access_token(access_token)
                .max_results(100)
                .set_next_token(next)
                .customize()
                .config_override(call)
                .send()
        };
        let listed = self
            .portal
            .all_pages("ListAccounts", Some(region), None, send, |out| {
                (out.account_list.unwrap_or_default(), out.next_token)
            })
            .await?;
        Ok(listed
            .into_iter()
            .filter_map(|a| {
                Some(Account {
                    account_name: a.account_name.unwrap_or_default(),
                    account_id: a.account_id?,
                })
            })
            .collect())
    }

    /// `ListAccountRoles` for one account, every page (100 roles a page, the API's
    /// largest, so one call for nearly every account).
    pub async fn account_roles(
        &self,
        region: &str,
        access_token: &str,
        account_id: &str,
    ) -> Result<Vec<String>, PortalError> {
        let send = |portal: &aws_sdk_sso::Client, call, next| {
            portal
                .list_account_roles()
                .access_token(access_token)
                .account_id(account_id)
                .max_results(100)
                .set_next_token(next)
                .customize()
                .config_override(call)
                .send()
        };
        let roles = self
            .portal
            .all_pages("ListAccountRoles", Some(region), None, send, |out| {
                (out.role_list.unwrap_or_default(), out.next_token)
            })
            .await?;
        Ok(roles.into_iter().filter_map(|r| r.role_name).collect())
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
        .ok_or_else(|| AwsError::invalid_response("CreateToken returned no access token"))?;
    Ok(PortalToken {
        access_token: Zeroizing::new(access.to_owned()),
        refresh_token: refresh
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_owned())),
        expires_at: now + chrono::Duration::seconds(expires_in.max(0) as i64),
        flow: LoginFlow::DeviceCode,
    })
}
