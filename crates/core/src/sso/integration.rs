//! The integration entity: one IAM Identity Center instance (its access portal's start
//! URL, the region it runs in, the OAuth scopes asked for) and its non-secret login
//! status. Its tokens and client registration are in the keychain ([`super::tokens`]);
//! the workspace only says until when they are good.

use uuid::Uuid;

pub use rolehop_model::integration::{
    DEFAULT_SCOPE, Integration, IntegrationChanges, LoginStatus, NewIntegration,
};

use crate::model::{IntegrationId, SessionId, SessionKind};
use crate::reference::IntegrationRef;
use crate::validate::ValidationError;
use crate::workspace::{Workspace, WorkspaceError};

/// The integration a selector (name or id) names.
fn not_found(selector: &str) -> WorkspaceError {
    WorkspaceError::NoSuchIntegration(selector.to_owned())
}

impl Workspace {
    /// Finds an integration: by its id, or as typed (an id, else a name).
    pub fn integration(
        &self,
        integration: impl Into<IntegrationRef>,
    ) -> Result<&Integration, WorkspaceError> {
        match integration.into() {
            IntegrationRef::Id(id) => self
                .integration_by_id(id)
                .ok_or_else(|| not_found(&id.to_string())),
            IntegrationRef::Typed(text) => {
                let by_id = text.parse::<Uuid>().ok().map(IntegrationId);
                self.integrations
                    .iter()
                    .find(|i| Some(i.id) == by_id)
                    .or_else(|| self.integrations.iter().find(|i| i.name == text))
                    .ok_or_else(|| not_found(&text))
            }
        }
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
        selector: impl Into<IntegrationRef>,
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
        selector: impl Into<IntegrationRef>,
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
                removed.extend(trial.remove_session(id, true)?);
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
    use chrono::Utc;

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
            console: Default::default(),
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
            console: Default::default(),
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
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
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
