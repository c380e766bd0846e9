//! What callers hand the engine: new sessions of each kind, access keys, start options.
//! The desktop shell deserialises the first two straight from the web UI (with the `ts`
//! feature they have TypeScript bindings), so no copy of them can drift.

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::EngineError;
use rolehop_model::console::ConsoleSettings;

use crate::model::{
    ChainedRole, DEFAULT_USER_SESSION_SECONDS, IamUser, ProfileName, SamlRole, Session, SessionId,
    SessionKind, SessionTag,
};
use crate::validate::{self, ValidationError};
use crate::workspace::Workspace;

/// A new IAM user session (its keys come apart, as [`AccessKeys`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewIamUser {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub mfa_serial: Option<String>,
    pub session_duration: Option<u32>,
    /// Where its console opens (the default browser, home page, its region when left out).
    #[serde(default)]
    pub console: ConsoleSettings,
}

/// A new chained role session. `parent` is a session name or id.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewRole {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub parent: String,
    pub role_arn: String,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<u32>,
    pub source_identity: Option<String>,
    /// Session tags passed to `AssumeRole` (none when left out).
    #[serde(default)]
    pub tags: Vec<SessionTag>,
    /// Keys of `tags` passed on down the chain.
    #[serde(default)]
    pub transitive_tag_keys: Vec<String>,
    /// Where its console opens.
    #[serde(default)]
    pub console: ConsoleSettings,
}

/// A new federated (SAML) role session.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewSamlRole {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    /// The identity provider's IdP-initiated sign-in URL for the AWS app.
    pub idp_url: String,
    pub role_arn: String,
    /// The SAML provider's ARN in IAM.
    pub principal_arn: String,
    pub duration: Option<u32>,
}

/// An IAM user's long-lived keys, as entered. Goes to the keychain and nowhere else.
#[derive(Clone)]
pub struct AccessKeys {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeys(<redacted>)")
    }
}

/// How to start a session.
#[derive(Clone, Default)]
pub struct StartOptions {
    /// An MFA code given up front (`--mfa-code`); else the engine's prompt is asked.
    pub mfa_code: Option<Zeroizing<String>>,
    /// Replace a profile section the user wrote themselves, until the session stops.
    pub take_over: bool,
    /// A SAML response (base64, as an identity provider posts it to AWS) for a
    /// federated session, or a role chained from one (`--assertion-file`).
    pub saml_assertion: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for StartOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A one-time code is still a secret while it is valid: say only whether one came.
        f.debug_struct("StartOptions")
            .field("mfa_code", &self.mfa_code.as_ref().map(|_| "<redacted>"))
            .field("take_over", &self.take_over)
            .field(
                "saml_assertion",
                &self.saml_assertion.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

impl NewIamUser {
    /// The session this spec describes, under `id`.
    pub(crate) fn session(&self, id: SessionId) -> Result<Session, EngineError> {
        if let Some(serial) = &self.mfa_serial {
            validate::mfa_serial("mfa_serial", serial)?;
        }
        let account_id = self
            .mfa_serial
            .as_deref()
            .and_then(validate::Arn::account_of)
            .map(str::to_owned);
        Ok(Session {
            console: self.console.clone(),
            id,
            name: self.name.clone(),
            profile: ProfileName::parse(&self.profile)?,
            region: non_empty(&self.region),
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: non_empty(&self.mfa_serial),
                session_duration: self
                    .session_duration
                    .unwrap_or(DEFAULT_USER_SESSION_SECONDS),
                account_id,
            }),
        })
    }
}

impl NewRole {
    /// The session this spec describes, under `id`, its parent found in `ws`.
    pub(crate) fn session(&self, ws: &Workspace, id: SessionId) -> Result<Session, EngineError> {
        let parent = ws
            .find(&self.parent)
            .map_err(|_| {
                ValidationError::new(
                    "parent",
                    format!("no session named or with id '{}'", self.parent),
                )
            })?
            .session
            .id;
        Ok(Session {
            console: self.console.clone(),
            id,
            name: self.name.clone(),
            profile: ProfileName::parse(&self.profile)?,
            region: non_empty(&self.region),
            kind: SessionKind::Role(ChainedRole {
                parent,
                role_arn: self.role_arn.clone(),
                role_session_name: non_empty(&self.role_session_name),
                external_id: non_empty(&self.external_id),
                duration: self.duration,
                source_identity: non_empty(&self.source_identity),
                tags: self.tags.clone(),
                transitive_tag_keys: self.transitive_tag_keys.clone(),
            }),
        })
    }
}

impl NewSamlRole {
    /// The session this spec describes, under `id` (the workspace checks its fields).
    pub(crate) fn session(&self, id: SessionId) -> Result<Session, EngineError> {
        Ok(Session {
            id,
            name: self.name.clone(),
            profile: ProfileName::parse(&self.profile)?,
            region: non_empty(&self.region),
            kind: SessionKind::Saml(SamlRole {
                idp_url: self.idp_url.trim().to_owned(),
                role_arn: self.role_arn.trim().to_owned(),
                principal_arn: self.principal_arn.trim().to_owned(),
                duration: self.duration,
            }),
            console: ConsoleSettings::default(),
        })
    }
}

impl AccessKeys {
    /// Checks the keys and gives the keychain's form of them.
    pub(crate) fn sealed(&self) -> Result<Zeroizing<String>, EngineError> {
        validate::access_key_id("access_key_id", &self.access_key_id)?;
        validate::secret_access_key("secret_access_key", &self.secret_access_key)?;
        let stored = Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: None,
            expiration: None,
        };
        Ok(Zeroizing::new(
            serde_json::to_string(&stored).expect("keys serialize"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_options_never_print_the_mfa_code() {
        let opts = StartOptions {
            mfa_code: Some(Zeroizing::new("493817".into())),
            take_over: true,
            saml_assertion: Some(Zeroizing::new("PHNhbWxwOlJlc3BvbnNl".into())),
        };
        let printed = format!("{opts:?} {opts:#?}");
        assert!(!printed.contains("493817"), "{printed}");
        assert!(!printed.contains("PHNhbWxw"), "{printed}");
        assert!(printed.contains("<redacted>") && printed.contains("take_over"));
    }

    #[test]
    fn access_keys_never_print_the_secret() {
        let keys = AccessKeys {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Zeroizing::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into()),
        };
        assert!(!format!("{keys:?}").contains("EXAMPLEKEY"));
    }
}
