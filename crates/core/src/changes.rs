//! An edit of a session as a patch: every field left out keeps its value, an explicit
//! `null` clears it, a value sets it. The CLI (`session edit --region ""`) and the
//! desktop dialogs send one, so a field a caller does not know about (a dialog written
//! before the field existed) can never be erased by an edit.
//!
//! Applying a patch only builds the new definition; the workspace checks it against
//! every rule inside the locked update that stores it ([`crate::engine::Engine::edit_session`]).

use serde::{Deserialize, Deserializer};

use rolehop_model::console::ConsoleBrowser;

use crate::model::{DEFAULT_USER_SESSION_SECONDS, ProfileName, Session, SessionKind, SessionTag};
use crate::validate::{self, ValidationError};
use crate::workspace::Workspace;

/// Changes to one session. Fields that cannot be cleared (`name`, `profile`, `parent`,
/// `role_arn`) are plain options: absent (or `null`) keeps them. The others are double
/// options: absent keeps, `null` clears, a value sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(deny_unknown_fields)]
pub struct SessionChanges {
    /// The kind of session the caller means to edit (a kind-specific dialog or CLI
    /// command): an edit of the other kind is refused rather than half applied.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub kind: Option<KindOfSession>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub profile: Option<String>,
    /// `null` falls back to the workspace's default region.
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub region: Option<Option<String>>,

    // IAM users.
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub mfa_serial: Option<Option<String>>,
    /// `null` goes back to the default (12 hours).
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub session_duration: Option<Option<u32>>,

    // Chained roles.
    /// The parent session's name or id.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub parent: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub role_arn: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub role_session_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub external_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub duration: Option<Option<u32>>,
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub source_identity: Option<Option<String>>,
    /// A role's session tags, replaced whole when given (`[]` clears them).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tags: Option<Vec<SessionTag>>,
    /// A role's transitive tag keys, replaced whole when given.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub transitive_tag_keys: Option<Vec<String>>,

    // Every kind: where the console opens.
    /// The console's browser, with its profile or container, replaced whole.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub console_browser: Option<ConsoleBrowser>,
    /// A service or console path; `null` goes back to the console's home page.
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub console_destination: Option<Option<String>>,
    /// `null` goes back to the session's effective region.
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub console_region: Option<Option<String>>,
}

/// The kinds of session, by the names [`crate::model::SessionKind`] is tagged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum KindOfSession {
    IamUser,
    Role,
    SsoRole,
    Saml,
    LoginSession,
}

impl KindOfSession {
    fn of(kind: &SessionKind) -> Self {
        match kind {
            SessionKind::IamUser(_) => Self::IamUser,
            SessionKind::Role(_) => Self::Role,
            SessionKind::SsoRole(_) => Self::SsoRole,
            SessionKind::Saml(_) => Self::Saml,
            SessionKind::LoginSession(_) => Self::LoginSession,
        }
    }

    fn article(self) -> &'static str {
        match self {
            Self::IamUser => "an IAM user",
            Self::Role => "a role",
            Self::SsoRole => "an SSO role",
            Self::Saml => "a federated role",
            Self::LoginSession => "a console sign-in session",
        }
    }
}

/// A present field, `null` included, is `Some`: serde's `Option` alone would turn an
/// explicit `null` into "absent" and an edit could not clear anything.
fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `Some(v)` replaces, `None` keeps; an empty text clears (the CLI's `--region ""`).
fn text(change: &Option<Option<String>>, old: &Option<String>) -> Option<String> {
    match change {
        Some(new) => new.clone().filter(|v| !v.is_empty()),
        None => old.clone(),
    }
}

impl SessionChanges {
    /// The session as it would be after this patch. A field of the other kind of
    /// session is refused by name; the workspace rules are checked when it is stored.
    pub fn apply(&self, ws: &Workspace, current: &Session) -> Result<Session, ValidationError> {
        let actual = KindOfSession::of(&current.kind);
        if let Some(expected) = self.kind.filter(|k| *k != actual) {
            return Err(ValidationError::new(
                "kind",
                format!(
                    "'{}' is {}, not {}",
                    current.name,
                    actual.article(),
                    expected.article()
                ),
            ));
        }
        let mut next = current.clone();
        if let Some(name) = &self.name {
            next.name = name.clone();
        }
        if let Some(profile) = &self.profile {
            next.profile = ProfileName::parse(profile)?;
        }
        next.region = text(&self.region, &current.region);
        if let Some(browser) = &self.console_browser {
            next.console.browser = browser.clone();
        }
        next.console.destination = text(&self.console_destination, &current.console.destination);
        next.console.region = text(&self.console_region, &current.console.region);
        match &mut next.kind {
            SessionKind::IamUser(user) => {
                self.refuse_fields_of(KindOfSession::Role, &current.name)?;
                if let Some(serial) = &self.mfa_serial {
                    user.mfa_serial = serial.clone().filter(|s| !s.is_empty());
                    if let Some(s) = &user.mfa_serial {
                        validate::mfa_serial("mfa_serial", s)?;
                        // The device's account is the user's; a cleared serial keeps
                        // whatever account was known (an import may have set it).
                        if let Some(account) = validate::Arn::account_of(s) {
                            user.account_id = Some(account.to_owned());
                        }
                    }
                }
                if let Some(seconds) = self.session_duration {
                    user.session_duration = seconds.unwrap_or(DEFAULT_USER_SESSION_SECONDS);
                }
            }
            SessionKind::Role(role) => {
                self.refuse_fields_of(KindOfSession::IamUser, &current.name)?;
                if let Some(parent) = &self.parent {
                    role.parent = ws
                        .find(parent)
                        .map_err(|_| {
                            ValidationError::new(
                                "parent",
                                format!("no session named or with id '{parent}'"),
                            )
                        })?
                        .session
                        .id;
                }
                if let Some(arn) = &self.role_arn {
                    role.role_arn = arn.clone();
                }
                role.role_session_name = text(&self.role_session_name, &role.role_session_name);
                role.external_id = text(&self.external_id, &role.external_id);
                role.source_identity = text(&self.source_identity, &role.source_identity);
                if let Some(tags) = &self.tags {
                    role.tags = tags.clone();
                }
                if let Some(keys) = &self.transitive_tag_keys {
                    role.transitive_tag_keys = keys.clone();
                }
                if let Some(seconds) = self.duration {
                    role.duration = seconds;
                }
            }
            // Its account and role are what the portal assigned: a name, profile and
            // region are all a person may change on it.
            // Who signed in is the token's: a new one comes from a new `aws login`.
            SessionKind::SsoRole(_) | SessionKind::LoginSession(_) => {
                self.refuse_fields_of(KindOfSession::Role, &current.name)?;
                self.refuse_fields_of(KindOfSession::IamUser, &current.name)?;
            }
            // Its role and duration may change; the rest of a chained role's fields
            // are the provider's to set (the session name) or do not exist for it.
            SessionKind::Saml(role) => {
                self.refuse_fields_of(KindOfSession::IamUser, &current.name)?;
                self.refuse_fields_of(KindOfSession::Saml, &current.name)?;
                if let Some(arn) = &self.role_arn {
                    role.role_arn = arn.clone();
                }
                if let Some(seconds) = self.duration {
                    role.duration = seconds;
                }
            }
        }
        Ok(next)
    }

    /// Refuses the fields of `other`, the kind `session` is not.
    fn refuse_fields_of(&self, other: KindOfSession, session: &str) -> Result<(), ValidationError> {
        let given = match other {
            KindOfSession::Role => vec![
                ("parent", self.parent.is_some()),
                ("role_arn", self.role_arn.is_some()),
                ("role_session_name", self.role_session_name.is_some()),
                ("external_id", self.external_id.is_some()),
                ("duration", self.duration.is_some()),
                ("source_identity", self.source_identity.is_some()),
                ("tags", self.tags.is_some()),
                ("transitive_tag_keys", self.transitive_tag_keys.is_some()),
            ],
            KindOfSession::IamUser => vec![
                ("mfa_serial", self.mfa_serial.is_some()),
                ("session_duration", self.session_duration.is_some()),
            ],
            KindOfSession::SsoRole | KindOfSession::LoginSession => vec![],
            // The chained role's fields a federated role has not.
            KindOfSession::Saml => vec![
                ("parent", self.parent.is_some()),
                ("role_session_name", self.role_session_name.is_some()),
                ("external_id", self.external_id.is_some()),
                ("source_identity", self.source_identity.is_some()),
                ("tags", self.tags.is_some()),
                ("transitive_tag_keys", self.transitive_tag_keys.is_some()),
            ],
        };
        match given.iter().find(|(_, present)| *present) {
            Some((field, _)) if other == KindOfSession::Saml => Err(ValidationError::new(
                field,
                format!("does not apply to '{session}', a federated role"),
            )),
            Some((field, _)) => Err(ValidationError::new(
                field,
                format!(
                    "does not apply to '{session}', which is not {}",
                    other.article()
                ),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChainedRole, IamUser, SessionId};

    fn workspace() -> (Workspace, Session, Session) {
        let mut ws = Workspace::default();
        let user = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: "alice".into(),
            profile: ProfileName::parse("staging").unwrap(),
            region: Some("eu-west-1".into()),
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: Some("111111111111".into()),
            }),
        };
        let role = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: "deploy".into(),
            profile: ProfileName::parse("production").unwrap(),
            region: None,
            kind: SessionKind::Role(ChainedRole {
                parent: user.id,
                role_arn: "arn:aws:iam::222222222222:role/Deploy".into(),
                role_session_name: Some("deployer".into()),
                external_id: Some("ext-1".into()),
                duration: Some(1800),
                source_identity: Some("alice-ci".into()),
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            }),
        };
        ws.add_session(user.clone()).unwrap();
        ws.add_session(role.clone()).unwrap();
        (ws, user, role)
    }

    fn role_of(s: &Session) -> &ChainedRole {
        match &s.kind {
            SessionKind::Role(r) => r,
            _ => panic!("not a role"),
        }
    }

    fn user_of(s: &Session) -> &IamUser {
        match &s.kind {
            SessionKind::IamUser(u) => u,
            _ => panic!("not a user"),
        }
    }

    #[test]
    fn absent_fields_keep_their_values() {
        let (ws, _, role) = workspace();
        let changes: SessionChanges = serde_json::from_str(r#"{"name": "deploy-2"}"#).unwrap();
        let next = changes.apply(&ws, &role).unwrap();
        assert_eq!(next.name, "deploy-2");
        assert_eq!(role_of(&next), role_of(&role), "every role field is kept");
        assert_eq!(next.profile, role.profile);
    }

    #[test]
    fn explicit_null_clears_and_a_value_sets() {
        let (ws, _, role) = workspace();
        let changes: SessionChanges = serde_json::from_str(
            r#"{"source_identity": null, "external_id": "ext-2", "duration": null, "region": "us-east-1"}"#,
        )
        .unwrap();
        assert_eq!(changes.source_identity, Some(None));
        let next = changes.apply(&ws, &role).unwrap();
        let r = role_of(&next);
        assert_eq!(r.source_identity, None);
        assert_eq!(r.external_id.as_deref(), Some("ext-2"));
        assert_eq!(r.duration, None);
        assert_eq!(r.role_session_name.as_deref(), Some("deployer"));
        assert_eq!(next.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn session_tags_absent_keep_given_replace_and_an_iam_user_refuses_them() {
        let (ws, user, role) = workspace();
        let tagged: SessionChanges = serde_json::from_str(
            r#"{"tags": [{"key": "team", "value": "a"}], "transitive_tag_keys": ["team"]}"#,
        )
        .unwrap();
        let next = tagged.apply(&ws, &role).unwrap();
        let r = role_of(&next);
        assert_eq!(r.tags.len(), 1);
        assert_eq!(r.transitive_tag_keys, ["team"]);
        let kept = SessionChanges::default().apply(&ws, &next).unwrap();
        assert_eq!(role_of(&kept).tags, r.tags, "absent keeps");
        let err = tagged.apply(&ws, &user).unwrap_err();
        assert_eq!(err.field, "tags");
    }

    #[test]
    fn a_field_of_the_other_kind_is_refused_by_name() {
        let (ws, user, role) = workspace();
        let err = SessionChanges {
            source_identity: Some(Some("x".into())),
            ..Default::default()
        }
        .apply(&ws, &user)
        .unwrap_err();
        assert_eq!(err.field, "source_identity");
        let err = SessionChanges {
            mfa_serial: Some(None),
            ..Default::default()
        }
        .apply(&ws, &role)
        .unwrap_err();
        assert_eq!(err.field, "mfa_serial");
    }

    #[test]
    fn an_edit_meant_for_the_other_kind_is_refused_by_kind() {
        let (ws, _, role) = workspace();
        let changes: SessionChanges =
            serde_json::from_str(r#"{"kind": "iam-user", "name": "x"}"#).unwrap();
        let err = changes.apply(&ws, &role).unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.message.contains("is a role"), "{err}");
    }

    #[test]
    fn a_new_mfa_serial_gives_the_account_and_clearing_it_keeps_the_known_one() {
        let (ws, user, _) = workspace();
        let set = SessionChanges {
            mfa_serial: Some(Some("arn:aws:iam::333333333333:mfa/alice".into())),
            ..Default::default()
        }
        .apply(&ws, &user)
        .unwrap();
        assert_eq!(user_of(&set).account_id.as_deref(), Some("333333333333"));
        let cleared = SessionChanges {
            mfa_serial: Some(None),
            session_duration: Some(None),
            ..Default::default()
        }
        .apply(&ws, &set)
        .unwrap();
        let u = user_of(&cleared);
        assert_eq!(u.mfa_serial, None);
        assert_eq!(u.account_id.as_deref(), Some("333333333333"));
        assert_eq!(u.session_duration, DEFAULT_USER_SESSION_SECONDS);
    }

    #[test]
    fn unknown_fields_and_unknown_parents_are_refused() {
        let (ws, _, role) = workspace();
        assert!(serde_json::from_str::<SessionChanges>(r#"{"sourceIdentity": "x"}"#).is_err());
        let err = SessionChanges {
            parent: Some("nobody".into()),
            ..Default::default()
        }
        .apply(&ws, &role)
        .unwrap_err();
        assert_eq!(err.field, "parent");
    }
}
