//! The workspace's vocabulary: profiles, sessions of each kind, their state, settings.
//!
//! These types are plain data (serde, and TypeScript bindings with the `ts` feature for
//! the desktop UI). They hold no secret: access keys and tokens live in the keychain.
//! Rules about them live in [`crate::validate`]; constructors here only parse.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::console::ConsoleSettings;
use crate::explanation::TrustExplanation;
use crate::validate::{self, Arn, ValidationError};

/// An integration's stable identity; its name may change, its id never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export, type = "string"))]
#[serde(transparent)]
pub struct IntegrationId(pub Uuid);

impl IntegrationId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for IntegrationId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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
    /// Where and how its AWS console opens (`rolehop console`, the window's Console).
    #[serde(default)]
    pub console: ConsoleSettings,
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
    /// A role in an account, reached through an IAM Identity Center integration
    /// (`GetRoleCredentials` with the integration's portal token).
    SsoRole(SsoRole),
    /// A role reached through a SAML 2.0 identity provider (`AssumeRoleWithSAML` with
    /// the assertion the provider posts to AWS). The assertion is a secret of one start:
    /// it is never stored.
    Saml(SamlRole),
    /// An AWS console sign-in session made by `aws login` (a profile's
    /// `login_session`): its token, refreshed through the `signin` service, is in the
    /// keychain under the session id.
    LoginSession(LoginSession),
}

impl SessionKind {
    pub fn label(&self) -> &'static str {
        match self {
            SessionKind::IamUser(_) => "iam-user",
            SessionKind::Role(_) => "role",
            SessionKind::SsoRole(_) => "sso-role",
            SessionKind::Saml(_) => "saml",
            SessionKind::LoginSession(_) => "login-session",
        }
    }

    /// The session this one's credentials are made from, for chained roles.
    pub fn parent(&self) -> Option<SessionId> {
        match self {
            SessionKind::Role(r) => Some(r.parent),
            SessionKind::IamUser(_)
            | SessionKind::SsoRole(_)
            | SessionKind::Saml(_)
            | SessionKind::LoginSession(_) => None,
        }
    }
}

/// A console sign-in session (`aws login`): who signed in, as the profile's
/// `login_session` names them. No MFA prompt: the console sign-in was the second factor
/// (passkeys included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct LoginSession {
    /// The `login_session` ARN (`arn:aws:iam::123456789012:user/alice`), which also
    /// names the AWS CLI's cache file of the token.
    pub login_session: String,
    /// The account signed in to, when known (from the ARN or the token).
    pub account_id: Option<String>,
}

/// An account and role reached through an IAM Identity Center integration. No MFA
/// prompt: the portal login was the second factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SsoRole {
    pub integration: IntegrationId,
    pub account_id: String,
    /// The account's name in the portal, when known (sync and import fill it).
    pub account_name: Option<String>,
    /// The permission set's role name (`AdministratorAccess`).
    pub role_name: String,
}

/// A role reached through a SAML 2.0 identity provider: the person signs in on the
/// provider's page, which posts a SAML response listing the roles they may take;
/// `AssumeRoleWithSAML` turns the pair (`role_arn`, `principal_arn`) into credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SamlRole {
    /// The provider's IdP-initiated sign-in URL for the AWS app.
    pub idp_url: String,
    /// `arn:aws:iam::123456789012:role/Name`.
    pub role_arn: String,
    /// The SAML provider in IAM: `arn:aws:iam::123456789012:saml-provider/Name`.
    pub principal_arn: String,
    /// Seconds asked of `AssumeRoleWithSAML` (900–43200; one hour when unset), capped
    /// by the assertion's `SessionDuration`.
    pub duration: Option<u32>,
}

impl SamlRole {
    /// The role's account id, from its ARN.
    pub fn account_id(&self) -> Option<&str> {
        Arn::account_of(&self.role_arn)
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
    /// Session tags passed to `AssumeRole` (for attribute-based access control).
    #[serde(default)]
    pub tags: Vec<SessionTag>,
    /// Keys of [`Self::tags`] that pass on to the roles chained from this one.
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
}

/// A session tag (`Tags.member.N` of `AssumeRole`): rules in `validate::session_tags`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SessionTag {
    pub key: String,
    pub value: String,
}

impl ChainedRole {
    /// The account the role lives in, from its ARN.
    pub fn account_id(&self) -> Option<&str> {
        Arn::account_of(&self.role_arn)
    }
}

/// Why a session failed: the AWS error code (or Rolehop's own) and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
    /// When AWS refused a role hop's `AssumeRole`: why, in trust-policy terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub trust: Option<Box<TrustExplanation>>,
}

impl Failure {
    /// A failure with no trust explanation.
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            trust: None,
        }
    }

    /// `; <the trust explanation>` when there is one, else nothing: what follows the
    /// message and code wherever a failure is one line.
    pub fn trust_suffix(&self) -> String {
        self.trust
            .as_ref()
            .map(|t| format!("; {t}"))
            .unwrap_or_default()
    }
}

/// Reads a failure as this version writes it, and as round 1 did: a plain string code.
impl<'de> Deserialize<'de> for Failure {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum StoredCode {
            Typed(FailureCode),
            Round1(String),
        }
        #[derive(Deserialize)]
        struct Stored {
            code: StoredCode,
            message: String,
            #[serde(default)]
            trust: Option<Box<TrustExplanation>>,
        }
        let stored = Stored::deserialize(d)?;
        Ok(Self {
            code: match stored.code {
                StoredCode::Typed(code) => code,
                StoredCode::Round1(code) => FailureCode::from_code(&code),
            },
            message: stored.message,
            trust: stored.trust,
        })
    }
}

/// What made a session fail: one of Rolehop's own reasons, or the error code AWS gave.
///
/// Serialised as `{"type": "MfaCancelled"}` or `{"type": "Aws", "code": "AccessDenied"}`:
/// the tags keep the spelling round 1 stored and showed, which is AWS's own style, so a
/// code reads the same in the CLI, the UI and AWS's documentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type")]
pub enum FailureCode {
    /// An MFA code was needed and nobody could be asked (no terminal, background work).
    MfaRequired,
    /// The person asked for an MFA code cancelled.
    MfaCancelled,
    /// Nobody answered the MFA prompt in time.
    MfaTimeout,
    /// The MFA code given was not six digits.
    InvalidMfaCode,
    /// The OS keychain refused or is not there.
    KeychainError,
    /// The IAM user at the root of the chain has no access keys in the keychain.
    MissingAccessKeys,
    /// A role's parent session was removed.
    MissingParent,
    /// The profile holds keys the user wrote; Rolehop will not overwrite them unasked.
    ProfileOwnedByUser,
    /// The credentials could not be written to the AWS files.
    DeliveryFailed,
    /// STS answered without credentials.
    InvalidResponse,
    /// STS did not answer in time.
    StsTimeout,
    /// STS could not be reached (network, DNS, TLS).
    StsUnreachable,
    /// The SDK failed before or after the call for a reason it gives no code for.
    StsError,
    /// The process running the start was interrupted (Ctrl-C, SIGTERM) before it
    /// finished: nothing was delivered.
    Interrupted,
    /// The session's IAM Identity Center integration needs a person to log in (again):
    /// never logged in, logged out, or its token could not be refreshed.
    SsoLoginRequired,
    /// A federated session needs a (new) SAML response from its identity provider: none
    /// was given, or the one given does not grant its role (the message says why).
    SamlSignInRequired,
    /// A console sign-in session (`aws login`) has ended or its token was refused: the
    /// person must run `aws login` again and import it.
    ConsoleLoginRequired,
    /// AWS refused the call: its error code (`AccessDenied`, `ExpiredToken`...).
    Aws { code: String },
}

impl FailureCode {
    /// A code as a single word: Rolehop's own by name, else AWS's. This is how STS errors
    /// carry theirs and how round 1 stored them.
    pub fn from_code(code: &str) -> Self {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, MapDeserializer};
        // Rolehop's own codes are the unit variants' tags: let serde match the name, so
        // the list of codes is written once (in the enum).
        let tagged = MapDeserializer::<_, Error>::new(std::iter::once((
            "type".into_deserializer(),
            code.into_deserializer(),
        )));
        Self::deserialize(tagged).unwrap_or_else(|_| Self::Aws {
            code: code.to_owned(),
        })
    }

    /// Whether trying again later may succeed: STS was slow, unreachable, throttling,
    /// failing on its side (a 5xx, or an answer without an error code) or cut its answer
    /// off. Everything else (a refusal, a missing MFA code, the keychain, the disk) needs
    /// the user, and background rotation reports it at once.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::StsTimeout | Self::StsUnreachable | Self::InvalidResponse => true,
            Self::Aws { code } => {
                code.contains("Throttl")
                    || matches!(
                        code.as_str(),
                        "TooManyRequestsException"
                            | "RequestLimitExceeded"
                            | "InternalFailure"
                            | "InternalError"
                            | "ServiceUnavailable"
                            | "Unknown"
                    )
            }
            _ => false,
        }
    }

    /// The code as users see it: `MfaCancelled`, or AWS's `AccessDenied`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::MfaRequired => "MfaRequired",
            Self::MfaCancelled => "MfaCancelled",
            Self::MfaTimeout => "MfaTimeout",
            Self::InvalidMfaCode => "InvalidMfaCode",
            Self::KeychainError => "KeychainError",
            Self::MissingAccessKeys => "MissingAccessKeys",
            Self::MissingParent => "MissingParent",
            Self::ProfileOwnedByUser => "ProfileOwnedByUser",
            Self::DeliveryFailed => "DeliveryFailed",
            Self::InvalidResponse => "InvalidResponse",
            Self::StsTimeout => "StsTimeout",
            Self::StsUnreachable => "StsUnreachable",
            Self::StsError => "StsError",
            Self::Interrupted => "Interrupted",
            Self::SsoLoginRequired => "SsoLoginRequired",
            Self::SamlSignInRequired => "SamlSignInRequired",
            Self::ConsoleLoginRequired => "ConsoleLoginRequired",
            Self::Aws { code } => code,
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// Whether an active IAM user's session (its MFA session token, valid 12 to 36 h) is
    /// copied to the kernel keyring for `credential-process`, like roles' credentials
    /// (one system call instead of a Secret Service read). Off keeps those tokens in the
    /// keychain alone.
    #[serde(default = "yes")]
    pub mfa_sessions_in_kernel_keyring: bool,
    /// What closing the desktop window does where no tray shows Rolehop's icon.
    #[serde(default)]
    pub close_without_tray: CloseChoice,
    /// Whether the desktop app asks Rolehop's update server for a newer version (once a
    /// day and when asked). Off, it never does.
    #[serde(default = "yes")]
    pub check_for_updates: bool,
}

/// What closing the desktop window does on a desktop with no tray host: ask (once,
/// the answer becoming the setting), keep running in the background, or quit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum CloseChoice {
    #[default]
    Ask,
    KeepRunning,
    Quit,
}

/// What a close of the desktop window comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    /// Hide the window; the tray icon brings it back.
    HideToTray,
    /// Hide the window with no icon to bring it back: a second launch shows it.
    HideInBackground,
    Quit,
    /// Ask the person, whose answer becomes [`Settings::close_without_tray`].
    Ask,
}

impl CloseChoice {
    /// The tray wins where a tray host shows the icon (nothing is lost: the icon
    /// reopens the window); elsewhere the person's choice decides.
    pub fn on_close(self, tray_host: bool) -> CloseOutcome {
        match (tray_host, self) {
            (true, _) => CloseOutcome::HideToTray,
            (false, Self::Ask) => CloseOutcome::Ask,
            (false, Self::KeepRunning) => CloseOutcome::HideInBackground,
            (false, Self::Quit) => CloseOutcome::Quit,
        }
    }
}

fn yes() -> bool {
    true
}

impl Settings {
    /// The rotation margin: how long credentials must stay valid to be reused.
    pub fn rotation_margin(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::from(self.rotation_margin_seconds))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            delivery_mode: DeliveryMode::default(),
            rotation_margin_seconds: 300,
            default_region: None,
            mfa_sessions_in_kernel_keyring: true,
            close_without_tray: CloseChoice::Ask,
            check_for_updates: true,
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
    /// The account's name, for sessions a sync made (an organization's, an SSO
    /// integration's): searchable like the account id.
    pub account_name: Option<String>,
    /// Effective region (session's, else the workspace default).
    pub effective_region: Option<String>,
    /// Names from the root IAM user down to this session.
    pub chain: Vec<String>,
    /// The IAM Identity Center integration at the root of the chain, by name.
    #[serde(default)]
    pub integration: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_on_stss_side_are_worth_retrying() {
        for code in [
            "Throttling",
            "ThrottlingException",
            "TooManyRequestsException",
            "InternalFailure",
            "ServiceUnavailable",
            "Unknown",
        ] {
            assert!(FailureCode::from_code(code).is_transient(), "{code}");
        }
        for code in [
            FailureCode::StsTimeout,
            FailureCode::StsUnreachable,
            FailureCode::InvalidResponse,
        ] {
            assert!(code.is_transient(), "{code}");
        }
        for code in [
            "AccessDenied",
            "ExpiredToken",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "MfaRequired",
            "KeychainError",
            "DeliveryFailed",
            "Interrupted",
        ] {
            assert!(!FailureCode::from_code(code).is_transient(), "{code}");
        }
    }

    /// Every code Rolehop makes itself, for the round trips below.
    const OWN: [FailureCode; 17] = [
        FailureCode::MfaRequired,
        FailureCode::MfaCancelled,
        FailureCode::MfaTimeout,
        FailureCode::InvalidMfaCode,
        FailureCode::KeychainError,
        FailureCode::MissingAccessKeys,
        FailureCode::MissingParent,
        FailureCode::ProfileOwnedByUser,
        FailureCode::DeliveryFailed,
        FailureCode::InvalidResponse,
        FailureCode::StsTimeout,
        FailureCode::StsUnreachable,
        FailureCode::StsError,
        FailureCode::Interrupted,
        FailureCode::SsoLoginRequired,
        FailureCode::SamlSignInRequired,
        FailureCode::ConsoleLoginRequired,
    ];

    #[test]
    fn failure_codes_serialise_as_a_tagged_object_named_as_shown() {
        for code in OWN {
            let json = serde_json::to_value(&code).unwrap();
            assert_eq!(json, serde_json::json!({ "type": code.as_str() }));
            assert_eq!(serde_json::from_value::<FailureCode>(json).unwrap(), code);
            assert_eq!(FailureCode::from_code(code.as_str()), code);
        }
        let aws = FailureCode::Aws {
            code: "AccessDenied".into(),
        };
        let json = serde_json::to_value(&aws).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "type": "Aws", "code": "AccessDenied" })
        );
        assert_eq!(serde_json::from_value::<FailureCode>(json).unwrap(), aws);
        assert_eq!(aws.to_string(), "AccessDenied");
    }

    #[test]
    fn codes_rolehop_does_not_make_are_aws_codes() {
        for code in [
            "AccessDenied",
            "ExpiredToken",
            "Unknown",
            "Aws",
            "mfa-cancelled",
        ] {
            assert_eq!(
                FailureCode::from_code(code),
                FailureCode::Aws { code: code.into() },
                "{code}"
            );
        }
    }

    #[test]
    fn a_role_names_its_account_from_its_arn() {
        let mut role = ChainedRole {
            parent: SessionId::new(),
            role_arn: "arn:aws-cn:iam::123456789012:role/path/Deploy".into(),
            role_session_name: None,
            external_id: None,
            duration: None,
            source_identity: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
        };
        assert_eq!(role.account_id(), Some("123456789012"));
        role.role_arn = "not an arn".into();
        assert_eq!(role.account_id(), None);
    }

    #[test]
    fn close_hides_to_the_tray_only_with_a_tray_host_else_follows_the_choice() {
        use CloseOutcome::*;
        for choice in [
            CloseChoice::Ask,
            CloseChoice::KeepRunning,
            CloseChoice::Quit,
        ] {
            assert_eq!(choice.on_close(true), HideToTray, "{choice:?}");
        }
        assert_eq!(CloseChoice::Ask.on_close(false), Ask);
        assert_eq!(CloseChoice::KeepRunning.on_close(false), HideInBackground);
        assert_eq!(CloseChoice::Quit.on_close(false), Quit);
    }

    #[test]
    fn a_workspace_written_before_the_close_setting_reads_as_ask() {
        let settings: Settings = serde_json::from_value(serde_json::json!({
            "delivery_mode": "credentials-file",
            "rotation_margin_seconds": 300,
            "default_region": null,
        }))
        .unwrap();
        assert_eq!(settings.close_without_tray, CloseChoice::Ask);
    }

    #[test]
    fn part4_a_workspace_written_before_the_update_setting_checks_for_updates() {
        let settings: Settings = serde_json::from_value(serde_json::json!({
            "delivery_mode": "credentials-file",
            "rotation_margin_seconds": 300,
            "default_region": null,
        }))
        .unwrap();
        assert!(settings.check_for_updates);
    }
}
