//! The workspace's vocabulary: profiles, sessions of each kind, their state, settings.
//!
//! These types are plain data (serde, and TypeScript bindings with the `ts` feature for
//! the desktop UI). They hold no secret: access keys and tokens live in the keychain.
//! Rules about them live in [`crate::validate`]; constructors here only parse.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validate::{self, ValidationError};

/// A session's stable identity (a UUID); its name may change, its id never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
#[serde(transparent)]
pub struct SessionId(pub Uuid);

impl SessionId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for SessionId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// An AWS CLI profile name, checked so that it cannot inject INI into the AWS files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
#[serde(transparent)]
pub struct ProfileName(String);

impl ProfileName {
    /// Parses a profile name; the error names the field `profile`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        validate::profile_name("profile", name)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ProfileName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProfileName::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A named profile sessions are bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Profile {
    pub name: ProfileName,
}

/// A session: something that can produce credentials for one named profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Session {
    pub id: SessionId,
    pub name: String,
    pub profile: ProfileName,
    /// Region for STS calls and for the profile's `region`; the workspace default when unset.
    pub region: Option<String>,
    pub kind: SessionKind,
}

/// The kinds of session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SessionKind {
    /// Long-lived access keys (in the keychain), started with `GetSessionToken`.
    IamUser(IamUser),
    /// A role assumed from a parent session's credentials.
    Role(ChainedRole),
}

impl SessionKind {
    pub fn label(&self) -> &'static str {
        match self {
            SessionKind::IamUser(_) => "iam-user",
            SessionKind::Role(_) => "role",
        }
    }
}

/// An IAM user: its keys are in the keychain under the session id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct IamUser {
    /// ARN of the MFA device (`arn:aws:iam::123456789012:mfa/name`), when MFA is required.
    pub mfa_serial: Option<String>,
    /// Lifetime asked of `GetSessionToken`, seconds (900–129600).
    pub session_duration: u32,
    /// Account id, when known (from the MFA ARN, or an import).
    pub account_id: Option<String>,
}

/// Default `GetSessionToken` lifetime: 12 hours, so a day's role chains ask for MFA once.
pub const DEFAULT_USER_SESSION_SECONDS: u32 = 43_200;
/// Default `AssumeRole` lifetime: one hour, which AWS allows for chained roles too.
pub const DEFAULT_ROLE_SECONDS: u32 = 3_600;

/// A role assumed from its parent session's credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ChainedRole {
    pub parent: SessionId,
    /// `arn:aws:iam::123456789012:role/path/Name`.
    pub role_arn: String,
    /// `RoleSessionName`; `rolehop-<session name>` when unset.
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    /// Seconds; 3600 when unset.
    pub duration: Option<u32>,
    pub source_identity: Option<String>,
}

impl ChainedRole {
    /// The account the role lives in, from its ARN.
    pub fn account_id(&self) -> Option<&str> {
        self.role_arn.split(':').nth(4)
    }
}

/// Why a session failed: the AWS error code (or Rolehop's own) and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Failure {
    pub code: String,
    pub message: String,
}

/// A session's state. Every change is published as an [`crate::events::EngineEvent`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum SessionState {
    #[default]
    Inactive,
    Pending,
    Active {
        #[cfg_attr(feature = "ts", ts(type = "string"))]
        expires_at: DateTime<Utc>,
    },
    Failed(Failure),
}

impl SessionState {
    pub fn label(&self) -> &'static str {
        match self {
            SessionState::Inactive => "inactive",
            SessionState::Pending => "pending",
            SessionState::Active { .. } => "active",
            SessionState::Failed(_) => "failed",
        }
    }
}

/// How started sessions reach the tools that read the AWS files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryMode {
    /// Temporary keys under the profile in the shared credentials file.
    #[default]
    CredentialsFile,
    /// `credential_process = rolehop credential-process <id>` in the config file.
    CredentialProcess,
}

/// Workspace-wide settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Settings {
    pub delivery_mode: DeliveryMode,
    /// Refresh active sessions this many seconds before they expire.
    pub rotation_margin_seconds: u32,
    /// Region for sessions that set none.
    pub default_region: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            delivery_mode: DeliveryMode::default(),
            rotation_margin_seconds: 300,
            default_region: None,
        }
    }
}

/// A session as shown to users: the session, its state, and what the UI derives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    pub state: SessionState,
    /// Account id the session acts in, when known.
    pub account_id: Option<String>,
    /// Effective region (session's, else the workspace default).
    pub effective_region: Option<String>,
    /// Names from the root IAM user down to this session.
    pub chain: Vec<String>,
}
