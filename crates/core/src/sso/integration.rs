//! The integration entity: one IAM Identity Center instance (its access portal's start
//! URL, the region it runs in, the OAuth scopes asked for) and its non-secret login
//! status. Its tokens and client registration are in the keychain ([`super::tokens`]);
//! the workspace only says until when they are good.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{IntegrationId, SessionId, SessionKind};
use crate::validate::{self, ValidationError};
use crate::workspace::{Workspace, WorkspaceError};

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
    fn same_issuer(&self, other: &Integration) -> bool {
        self.start_url == other.start_url
            && self.region == other.region
            && self.scopes == other.scopes
    }
}

/// The integration a selector (name or id) names.
fn not_found(selector: &str) -> WorkspaceError {
    WorkspaceError::NoSuchIntegration(selector.to_owned())
}

impl Workspace {
    /// Finds an integration by id or by name.
    pub fn integration(&self, selector: &str) -> Result<&Integration, WorkspaceError> {
        let by_id = selector.parse::<Uuid>().ok().map(IntegrationId);
        self.integrations
            .iter()
            .find(|i| Some(i.id) == by_id)
            .or_else(|| self.integrations.iter().find(|i| i.name == selector))
            .ok_or_else(|| not_found(selector))
    }

    pub fn integration_by_id(&self, id: IntegrationId) -> Option<&Integration> {
        self.integrations.iter().find(|i| i.id == id)
    }

    pub(crate) fn integration_mut(&mut self, id: IntegrationId) -> Option<&mut Integration> {
        self.integrations.iter_mut().find(|i| i.id == id)
    }

    /// The sessions that reach AWS through integration `id`.
    pub fn sessions_of(&self, id: IntegrationId) -> Vec<SessionId> {
        self.sessions
            .iter()
            .filter(|s| matches!(&s.session.kind, SessionKind::SsoRole(r) if r.integration == id))
            .map(|s| s.session.id)
            .collect()
    }

    fn check_integration_name(&self, i: &Integration) -> Result<(), WorkspaceError> {
        if self
            .integrations
            .iter()
            .any(|o| o.name == i.name && o.id != i.id)
        {
            return Err(ValidationError::new(
                "name",
                format!("an integration named '{}' already exists", i.name),
            )
            .into());
        }
        if i.name.parse::<Uuid>().is_ok() {
            return Err(ValidationError::new("name", "must not look like an id").into());
        }
        Ok(())
    }

    pub fn add_integration(&mut self, i: Integration) -> Result<(), WorkspaceError> {
        i.check()?;
        self.check_integration_name(&i)?;
        if self.integration_by_id(i.id).is_some() {
            return Err(ValidationError::new("id", "is already taken").into());
        }
        self.integrations.push(i);
        Ok(())
    }

    /// Applies `changes`; returns the integration after, and whether its tokens no
    /// longer match it (start URL, region or scopes changed: the login is dropped).
    pub fn edit_integration(
        &mut self,
        selector: &str,
        changes: IntegrationChanges,
    ) -> Result<(Integration, bool), WorkspaceError> {
        let current = self.integration(selector)?.clone();
        let mut next = current.clone();
        if let Some(n) = changes.name {
            next.name = n.trim().to_owned();
        }
        if let Some(u) = changes.start_url {
            next.start_url = u.trim().to_owned();
        }
        if let Some(r) = changes.region {
            next.region = r.trim().to_owned();
        }
        if let Some(s) = changes.scopes {
            next.scopes = if s.is_empty() {
                vec![DEFAULT_SCOPE.to_owned()]
            } else {
                s
            };
        }
        next.check()?;
        self.check_integration_name(&next)?;
        let reissue = !current.same_issuer(&next);
        if reissue {
            next.login = LoginStatus::LoggedOut;
        }
        *self.integration_mut(current.id).expect("found above") = next.clone();
        Ok((next, reissue))
    }

    /// Removes an integration. While sessions use it, refused unless `cascade`, which
    /// removes them too (and the roles chained from them); returns the removed
    /// sessions, deepest first, so their deliveries and secrets can be cleaned up.
    pub fn remove_integration(
        &mut self,
        selector: &str,
        cascade: bool,
    ) -> Result<(Integration, Vec<SessionId>), WorkspaceError> {
        let integration = self.integration(selector)?.clone();
        let users = self.sessions_of(integration.id);
        if !users.is_empty() && !cascade {
            let names: Vec<String> = users
                .iter()
                .filter_map(|id| self.get(*id).map(|s| format!("'{}'", s.session.name)))
                .collect();
            return Err(WorkspaceError::IntegrationInUse {
                integration: integration.name.clone(),
                sessions: names.join(", "),
            });
        }
        let mut trial = self.clone();
        let mut removed = Vec::new();
        for id in users {
            if trial.get(id).is_some() {
                removed.extend(trial.remove_session(&id.to_string(), true)?);
            }
        }
        trial.integrations.retain(|i| i.id != integration.id);
        *self = trial;
        Ok((integration, removed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> NewIntegration {
        NewIntegration {
            name: name.into(),
            start_url: "https://my-org.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: vec![],
        }
    }

    #[test]
    fn a_new_integration_asks_for_the_account_access_scope_by_default() {
        let i = spec("my-sso").integration(IntegrationId::new()).unwrap();
        assert_eq!(i.scopes, [DEFAULT_SCOPE]);
        assert_eq!(i.login, LoginStatus::LoggedOut);
    }

    #[test]
    fn bad_fields_are_named_and_change_nothing() {
        let mut ws = Workspace::default();
        ws.add_integration(spec("a").integration(IntegrationId::new()).unwrap())
            .unwrap();
        let before = ws.clone();
        let mut bad = spec("b");
        bad.start_url = "http://my-org.awsapps.com/start".into();
        assert_eq!(
            bad.integration(IntegrationId::new()).unwrap_err().field,
            "start_url"
        );
        let mut bad = spec("b");
        bad.region = "eu-west-9".into();
        assert_eq!(
            bad.integration(IntegrationId::new()).unwrap_err().field,
            "region"
        );
        let dup = spec("a").integration(IntegrationId::new()).unwrap();
        let err = ws.add_integration(dup).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "name"),
            "{err}"
        );
        let err = ws
            .edit_integration(
                "a",
                IntegrationChanges {
                    region: Some("nowhere".into()),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "region"),
            "{err}"
        );
        assert_eq!(ws, before);
    }

    fn sso_session(ws: &Workspace, name: &str) -> crate::model::Session {
        crate::model::Session {
            id: SessionId::new(),
            name: name.into(),
            profile: crate::model::ProfileName::parse(name).unwrap(),
            region: None,
            kind: SessionKind::SsoRole(crate::model::SsoRole {
                integration: ws.integrations[0].id,
                account_id: "111111111111".into(),
                account_name: Some("prod".into()),
                role_name: "Admin".into(),
            }),
        }
    }

    #[test]
    fn removing_an_integration_in_use_is_refused_or_says_what_it_removes() {
        let mut ws = Workspace::default();
        ws.add_integration(spec("a").integration(IntegrationId::new()).unwrap())
            .unwrap();
        let admin = sso_session(&ws, "admin");
        ws.add_session(admin.clone()).unwrap();
        let mut chained = crate::model::Session {
            id: SessionId::new(),
            name: "deploy".into(),
            profile: crate::model::ProfileName::parse("deploy").unwrap(),
            region: None,
            kind: SessionKind::Role(crate::model::ChainedRole {
                parent: admin.id,
                role_arn: "arn:aws:iam::222222222222:role/Deploy".into(),
                role_session_name: None,
                external_id: None,
                duration: Some(7200),
                source_identity: None,
            }),
        };
        // An SSO role's credentials are role credentials: a role chained from them is
        // capped at an hour, as AWS caps it.
        let err = ws.add_session(chained.clone()).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "duration"),
            "{err}"
        );
        chained.kind = match chained.kind {
            SessionKind::Role(mut r) => {
                r.duration = None;
                SessionKind::Role(r)
            }
            other => other,
        };
        ws.add_session(chained.clone()).unwrap();
        let before = ws.clone();
        let err = ws.remove_integration("a", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "integration 'a' is used by sessions 'admin'; remove them first or ask for a cascade"
        );
        assert_eq!(ws, before);
        let (gone, removed) = ws.remove_integration("a", true).unwrap();
        assert_eq!(gone.name, "a");
        assert_eq!(removed, [chained.id, admin.id]);
        assert!(ws.sessions.is_empty() && ws.integrations.is_empty());
    }

    #[test]
    fn an_sso_session_needs_an_existing_integration_and_a_real_account() {
        let mut ws = Workspace::default();
        ws.add_integration(spec("a").integration(IntegrationId::new()).unwrap())
            .unwrap();
        let mut s = sso_session(&ws, "admin");
        if let SessionKind::SsoRole(r) = &mut s.kind {
            r.account_id = "1234".into();
        }
        let err = ws.add_session(s).unwrap_err();
        assert!(matches!(err, WorkspaceError::Invalid(ref v) if v.field == "account_id"));
        let mut s = sso_session(&ws, "admin");
        if let SessionKind::SsoRole(r) = &mut s.kind {
            r.integration = IntegrationId::new();
        }
        let err = ws.add_session(s).unwrap_err();
        assert!(matches!(err, WorkspaceError::Invalid(ref v) if v.field == "sso"));
        assert!(ws.sessions.is_empty());
    }

    #[test]
    fn changing_where_tokens_come_from_drops_the_login() {
        let mut ws = Workspace::default();
        let mut i = spec("a").integration(IntegrationId::new()).unwrap();
        i.login = LoginStatus::LoggedIn {
            expires_at: Utc::now(),
            refreshable: true,
        };
        ws.add_integration(i).unwrap();
        let (renamed, reissue) = ws
            .edit_integration(
                "a",
                IntegrationChanges {
                    name: Some("b".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(!reissue);
        assert!(matches!(renamed.login, LoginStatus::LoggedIn { .. }));
        let (moved, reissue) = ws
            .edit_integration(
                "b",
                IntegrationChanges {
                    region: Some("us-east-1".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(reissue);
        assert_eq!(moved.login, LoginStatus::LoggedOut);
    }
}
