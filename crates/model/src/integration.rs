//! An IAM Identity Center integration as the workspace keeps it: its portal, its
//! region and scopes, and whether a login is usable (the tokens themselves live in the
//! keychain). The workspace's rules on integrations (unique names, cascades) and the
//! login live in rolehop-core's `sso`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::session::IntegrationId;
use crate::validate::{self, ValidationError};

/// The scope every integration asks for unless told otherwise: it is what lets the
/// portal issue refresh tokens and list accounts.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// An IAM Identity Center integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    /// The AWS access portal's URL (`https://my-org.awsapps.com/start`).
    pub start_url: String,
    /// The region IAM Identity Center runs in (where its OIDC and portal APIs are).
    pub region: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub login: LoginStatus,
}

/// How a person logs in to IAM Identity Center, and so the grant types a client
/// registration is for: a registration made for one is never used for the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum LoginFlow {
    /// The device authorization grant (a code the person confirms, from any device):
    /// a registration naming no grant types, which the portal reads as device code +
    /// refresh token. Registrations stored before browser logins existed are these.
    #[default]
    DeviceCode,
    /// The authorization code grant with PKCE, the browser sent back to a listener on
    /// 127.0.0.1 (the default, as in the AWS CLI since 2.22).
    AuthorizationCode,
}

/// Whether the integration holds a usable portal token, as far as the workspace knows
/// (the token itself is in the keychain). Serialised `{"status": "logged-in", ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum LoginStatus {
    #[default]
    LoggedOut,
    LoggedIn {
        /// When the access token expires (it is refreshed before, without asking).
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        expires_at: DateTime<Utc>,
        /// Whether the portal gave a refresh token.
        refreshable: bool,
    },
    /// The token expired or was revoked and could not be refreshed: a person must log in
    /// again. `message` is why (the portal's words).
    LoginAgain { message: String },
}

impl LoginStatus {
    pub fn label(&self) -> &'static str {
        match self {
            Self::LoggedOut => "logged out",
            Self::LoggedIn { .. } => "logged in",
            Self::LoginAgain { .. } => "log in again",
        }
    }
}

/// What `sso add` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewIntegration {
    pub name: String,
    pub start_url: String,
    pub region: String,
    /// Empty: [`DEFAULT_SCOPE`].
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl NewIntegration {
    /// The integration, checked field by field (the workspace checks the name is free).
    pub fn integration(self, id: IntegrationId) -> Result<Integration, ValidationError> {
        let scopes = if self.scopes.is_empty() {
            vec![DEFAULT_SCOPE.to_owned()]
        } else {
            self.scopes
        };
        let integration = Integration {
            id,
            name: self.name.trim().to_owned(),
            start_url: self.start_url.trim().to_owned(),
            region: self.region.trim().to_owned(),
            scopes,
            login: LoginStatus::LoggedOut,
        };
        integration.check()?;
        Ok(integration)
    }
}

/// An edit of an integration: absent fields keep their values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct IntegrationChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub start_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub scopes: Option<Vec<String>>,
}

impl Integration {
    /// Every rule on the integration's own fields.
    pub fn check(&self) -> Result<(), ValidationError> {
        validate::integration_name("name", &self.name)?;
        validate::start_url("start_url", &self.start_url)?;
        validate::sso_region("region", &self.region)?;
        validate::scopes("scopes", &self.scopes)
    }

    /// Whether the edit changes what the tokens were issued for (a new login is needed).
    pub fn same_issuer(&self, other: &Integration) -> bool {
        self.start_url == other.start_url
            && self.region == other.region
            && self.scopes == other.scopes
    }
}
