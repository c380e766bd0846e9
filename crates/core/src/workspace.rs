//! The workspace: profiles, sessions (with their last known state) and settings, and
//! every mutation of them. Each mutation checks all of its rules before it changes
//! anything, so a refused edit leaves the workspace exactly as it was.
//! Persistence is [`crate::store`]'s job; this module is plain data and rules.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::claim::Claim;
use crate::model::{
    ChainedRole, DEFAULT_ROLE_SECONDS, Profile, ProfileName, Session, SessionId, SessionKind,
    SessionState, SessionView, Settings,
};
use crate::reference::SessionRef;
use crate::validate::{self, ValidationError};
use rolehop_model::console::ConsoleSettings;
use rolehop_model::integration::Integration;
use rolehop_model::origin::SyncOrigin;

/// A session's console choices, each error naming its `console_*` field.
fn check_console(console: &ConsoleSettings) -> std::result::Result<(), ValidationError> {
    validate::console_browser(
        ["console_browser_profile", "console_container"],
        &console.browser,
    )?;
    if let Some(d) = &console.destination {
        validate::console_destination("console_destination", d)?;
    }
    if let Some(r) = &console.region {
        validate::region("console_region", r)?;
    }
    Ok(())
}

/// The schema version written by this build; older files are migrated on load.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    #[serde(flatten)]
    pub session: Session,
    #[serde(default)]
    pub state: SessionState,
    /// The start in flight, while the session is pending (see [`crate::claims`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    /// Which sync made this session, and what it last gave it (see [`crate::sync`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SyncOrigin>,
    /// While active: which credentials this very start (or its last rotation) was given,
    /// as a fingerprint of their access key id ([`crate::kernel_cache::fingerprint`]).
    /// The kernel-keyring copy answers only for exactly those credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub schema_version: u32,
    #[serde(default)]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub sessions: Vec<StoredSession>,
    #[serde(default)]
    pub settings: Settings,
    /// When each session was last started or run with `exec` (the CLI picker shows the
    /// most recent first). Not secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub last_used: BTreeMap<SessionId, DateTime<Utc>>,
    /// IAM Identity Center integrations (see [`crate::sso`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<Integration>,
    /// When the desktop app last asked for a newer version (see [`crate::updates`]).
    /// Not secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_check: Option<DateTime<Utc>>,
    /// Which session Rolehop last signed the console in as, per browser profile or
    /// container (`default`, `chrome (profile Work)`...): the one to sign out before
    /// signing in as another (see [`crate::console`]). Not secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub console_sign_ins: BTreeMap<String, SessionId>,
    /// Team catalogs the user follows (see [`crate::catalog`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalogs: Vec<rolehop_model::catalog::Followed>,
    /// Federated (SAML) integrations (see [`crate::saml`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saml_integrations: Vec<rolehop_model::federation::SamlIntegration>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            profiles: Vec::new(),
            sessions: Vec::new(),
            settings: Settings::default(),
            last_used: BTreeMap::new(),
            integrations: Vec::new(),
            last_update_check: None,
            console_sign_ins: BTreeMap::new(),
            catalogs: Vec::new(),
            saml_integrations: Vec::new(),
        }
    }
}

/// Errors of workspace mutations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no session named or with id '{0}'")]
    NoSuchSession(String),
    #[error("no profile named '{0}'")]
    NoSuchProfile(String),
    #[error("no IAM Identity Center integration named or with id '{0}'")]
    NoSuchIntegration(String),
    #[error(
        "integration '{integration}' is used by sessions {sessions}; remove them first or ask for a cascade"
    )]
    IntegrationInUse {
        integration: String,
        sessions: String,
    },
    #[error(
        "session '{session}' is the parent of {children}; remove those first or ask for a cascade"
    )]
    SessionInUse { session: String, children: String },
    #[error(
        "profile '{profile}' is used by sessions {sessions}; reassign them to another profile first"
    )]
    ProfileInUse { profile: String, sessions: String },
    #[error(
        "profile '{profile}' has {state} session '{session}'; stop it before {action} the profile"
    )]
    ProfileLive {
        profile: String,
        session: String,
        state: &'static str,
        action: &'static str,
    },
}

type Result<T> = std::result::Result<T, WorkspaceError>;

impl Workspace {
    /// Finds a session: by its id, or as typed (an id, else a name).
    pub fn find(&self, session: impl Into<SessionRef>) -> Result<&StoredSession> {
        match session.into() {
            SessionRef::Id(id) => self
                .get(id)
                .ok_or_else(|| WorkspaceError::NoSuchSession(id.to_string())),
            SessionRef::Typed(text) => {
                let by_id = text.parse::<SessionId>().ok();
                self.sessions
                    .iter()
                    .find(|s| Some(s.session.id) == by_id)
                    .or_else(|| self.sessions.iter().find(|s| s.session.name == text))
                    .ok_or(WorkspaceError::NoSuchSession(text))
            }
        }
    }

    pub fn get(&self, id: SessionId) -> Option<&StoredSession> {
        self.sessions.iter().find(|s| s.session.id == id)
    }

    pub(crate) fn get_mut(&mut self, id: SessionId) -> Option<&mut StoredSession> {
        self.sessions.iter_mut().find(|s| s.session.id == id)
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name.as_str() == name)
    }

    /// The chain from the root IAM user down to `id` (root first).
    pub fn chain(&self, id: SessionId) -> Vec<&Session> {
        let mut chain = Vec::new();
        let mut next = Some(id);
        while let Some(id) = next {
            let Some(s) = self.get(id) else { break };
            if chain.iter().any(|c: &&Session| c.id == id) {
                break; // a cycle cannot be stored, but never loop on a hand-edited file
            }
            chain.push(&s.session);
            next = s.session.kind.parent();
        }
        chain.reverse();
        chain
    }

    /// The view of a session that UIs show.
    pub fn view(&self, stored: &StoredSession) -> SessionView {
        let chain = self.chain(stored.session.id);
        let account_id = chain.iter().rev().find_map(|s| match &s.kind {
            SessionKind::Role(r) => r.account_id().map(str::to_owned),
            SessionKind::IamUser(u) => u.account_id.clone(),
            SessionKind::SsoRole(r) => Some(r.account_id.clone()),
            SessionKind::Saml(r) => r.account_id().map(str::to_owned),
            SessionKind::LoginSession(l) => l.account_id.clone(),
        });
        let integration = chain.first().and_then(|root| match &root.kind {
            SessionKind::SsoRole(r) => self
                .integration_by_id(r.integration)
                .map(|i| i.name.clone()),
            _ => None,
        });
        SessionView {
            session: stored.session.clone(),
            state: stored.state.clone(),
            account_id,
            account_name: stored
                .origin
                .as_ref()
                .map(|o| o.account_name.clone())
                .or_else(|| match &stored.session.kind {
                    SessionKind::SsoRole(r) => r.account_name.clone(),
                    _ => None,
                }),
            effective_region: self.region_of(&stored.session),
            chain: chain.iter().map(|s| s.name.clone()).collect(),
            integration,
        }
    }

    pub fn region_of(&self, session: &Session) -> Option<String> {
        session
            .region
            .clone()
            .or_else(|| self.settings.default_region.clone())
    }

    pub fn views(&self) -> Vec<SessionView> {
        self.sessions.iter().map(|s| self.view(s)).collect()
    }

    pub fn add_profile(&mut self, name: &str) -> Result<Profile> {
        let name = ProfileName::parse(name)?;
        if self.profile(name.as_str()).is_some() {
            return Err(ValidationError::new(
                "profile",
                format!("a profile named '{name}' already exists"),
            )
            .into());
        }
        let profile = Profile { name };
        self.profiles.push(profile.clone());
        Ok(profile)
    }

    /// Makes sure a profile exists (sessions may name a profile not yet declared).
    pub(crate) fn ensure_profile(&mut self, name: &ProfileName) {
        if self.profile(name.as_str()).is_none() {
            self.profiles.push(Profile { name: name.clone() });
        }
    }

    /// Refuses to `action` profile `name` while one of its sessions is active or
    /// pending: its credentials are (or are about to be) under that name in the AWS files.
    fn refuse_if_live(&self, name: &str, action: &'static str) -> Result<()> {
        match self.live_session_on(name) {
            Some(s) => Err(WorkspaceError::ProfileLive {
                profile: name.to_owned(),
                session: s.session.name.clone(),
                state: if s.state == SessionState::Pending {
                    "a starting"
                } else {
                    "an active"
                },
                action,
            }),
            None => Ok(()),
        }
    }

    pub fn rename_profile(&mut self, old: &str, new: &str) -> Result<()> {
        let new_name = ProfileName::parse(new)?;
        if self.profile(old).is_none() {
            return Err(WorkspaceError::NoSuchProfile(old.to_owned()));
        }
        if old != new {
            self.refuse_if_live(old, "renaming")?;
        }
        if old != new && self.profile(new).is_some() {
            return Err(ValidationError::new(
                "profile",
                format!("a profile named '{new}' already exists"),
            )
            .into());
        }
        for p in &mut self.profiles {
            if p.name.as_str() == old {
                p.name = new_name.clone();
            }
        }
        for s in &mut self.sessions {
            if s.session.profile.as_str() == old {
                s.session.profile = new_name.clone();
            }
        }
        Ok(())
    }

    /// Removes a profile; its sessions move to `reassign_to`, or the removal is refused.
    pub fn remove_profile(&mut self, name: &str, reassign_to: Option<&str>) -> Result<()> {
        if self.profile(name).is_none() {
            return Err(WorkspaceError::NoSuchProfile(name.to_owned()));
        }
        self.refuse_if_live(name, "removing")?;
        let users: Vec<&str> = self
            .sessions
            .iter()
            .filter(|s| s.session.profile.as_str() == name)
            .map(|s| s.session.name.as_str())
            .collect();
        if !users.is_empty() {
            let Some(target) = reassign_to else {
                return Err(WorkspaceError::ProfileInUse {
                    profile: name.to_owned(),
                    sessions: users.join(", "),
                });
            };
            let target = ProfileName::parse(target)?;
            if target.as_str() == name {
                return Err(ValidationError::new("reassign_to", "must be another profile").into());
            }
            self.ensure_profile(&target);
            for s in &mut self.sessions {
                if s.session.profile.as_str() == name {
                    s.session.profile = target.clone();
                }
            }
        }
        self.profiles.retain(|p| p.name.as_str() != name);
        Ok(())
    }

    /// Adds a session after checking every rule; `session.id` must be fresh.
    pub fn add_session(&mut self, session: Session) -> Result<()> {
        self.check_session(&session, None)?;
        self.ensure_profile(&session.profile);
        self.sessions.push(StoredSession {
            session,
            state: SessionState::Inactive,
            claim: None,
            origin: None,
            issued: None,
        });
        Ok(())
    }

    /// Replaces a session's definition (same id), keeping its state. The profile of an
    /// active or pending session cannot change: its credentials are under the old one,
    /// where a stop would no longer look for them.
    pub fn replace_session(&mut self, session: Session) -> Result<()> {
        let id = session.id;
        let Some(current) = self.get(id) else {
            return Err(WorkspaceError::NoSuchSession(id.to_string()));
        };
        if current.session.profile != session.profile
            && matches!(
                current.state,
                SessionState::Active { .. } | SessionState::Pending
            )
        {
            return Err(ValidationError::new(
                "profile",
                format!(
                    "session '{}' is {} under profile '{}'; stop it before moving it to another profile",
                    current.session.name,
                    current.state.label(),
                    current.session.profile
                ),
            )
            .into());
        }
        self.check_session(&session, Some(id))?;
        // Children's duration caps depend on this session's kind: re-check them.
        let mut trial = self.clone();
        trial.get_mut(id).expect("checked above").session = session.clone();
        for child in trial.children(id) {
            trial.check_session(&child.session, Some(child.session.id))?;
        }
        self.ensure_profile(&session.profile);
        self.get_mut(id).expect("checked above").session = session;
        Ok(())
    }

    fn children(&self, id: SessionId) -> Vec<StoredSession> {
        self.sessions
            .iter()
            .filter(|s| matches!(&s.session.kind, SessionKind::Role(r) if r.parent == id))
            .cloned()
            .collect()
    }

    /// All sessions below `id`, deepest first.
    fn descendants(&self, id: SessionId) -> Vec<SessionId> {
        let mut out = Vec::new();
        for child in self.children(id) {
            out.extend(self.descendants(child.session.id));
            out.push(child.session.id);
        }
        out
    }

    /// Removes a session; with `cascade`, its descendants too. Returns the removed ids
    /// (deepest first) so their secrets and deliveries can be cleaned up.
    pub fn remove_session(
        &mut self,
        session: impl Into<SessionRef>,
        cascade: bool,
    ) -> Result<Vec<SessionId>> {
        let id = self.find(session)?.session.id;
        let below = self.descendants(id);
        if !below.is_empty() && !cascade {
            let names: Vec<String> = below
                .iter()
                .filter_map(|c| self.get(*c).map(|s| format!("'{}'", s.session.name)))
                .collect();
            return Err(WorkspaceError::SessionInUse {
                session: self
                    .get(id)
                    .map(|s| s.session.name.clone())
                    .unwrap_or_default(),
                children: names.join(", "),
            });
        }
        let mut removed = below;
        removed.push(id);
        self.sessions.retain(|s| !removed.contains(&s.session.id));
        Ok(removed)
    }

    /// Sets a session's state; a new state forgets which credentials it was active with
    /// (an active state is given them with [`Workspace::set_issued`]).
    pub fn set_state(&mut self, id: SessionId, state: SessionState) -> Option<&StoredSession> {
        let s = self.get_mut(id)?;
        s.state = state;
        s.issued = None;
        Some(s)
    }

    /// Records which credentials an active session was given (see [`StoredSession::issued`]).
    pub(crate) fn set_issued(&mut self, id: SessionId, fingerprint: String) {
        if let Some(s) = self.get_mut(id) {
            s.issued = Some(fingerprint);
        }
    }

    /// Every rule a session must satisfy against the rest of the workspace.
    fn check_session(&self, s: &Session, replacing: Option<SessionId>) -> Result<()> {
        validate::session_name("name", &s.name)?;
        validate::profile_name("profile", s.profile.as_str())?;
        if let Some(r) = &s.region {
            validate::region("region", r)?;
        }
        check_console(&s.console)?;
        if self
            .sessions
            .iter()
            .any(|o| o.session.name == s.name && Some(o.session.id) != replacing)
        {
            return Err(ValidationError::new(
                "name",
                format!("a session named '{}' already exists", s.name),
            )
            .into());
        }
        if replacing.is_none() && self.get(s.id).is_some() {
            return Err(ValidationError::new("id", "is already taken").into());
        }
        if s.name.parse::<SessionId>().is_ok() {
            return Err(ValidationError::new("name", "must not look like a session id").into());
        }
        match &s.kind {
            SessionKind::IamUser(u) => {
                if let Some(serial) = &u.mfa_serial {
                    validate::mfa_serial("mfa_serial", serial)?;
                }
                validate::user_session_duration("session_duration", u.session_duration)?;
            }
            SessionKind::Role(r) => self.check_role(s.id, r)?,
            SessionKind::Saml(r) => {
                validate::idp_url("idp_url", &r.idp_url)?;
                validate::role_arn("role_arn", &r.role_arn)?;
                validate::saml_provider_arn("principal_arn", &r.principal_arn)?;
                validate::saml_duration("duration", r.duration.unwrap_or(DEFAULT_ROLE_SECONDS))?;
            }
            SessionKind::LoginSession(l) => {
                validate::Arn::parse("login_session", &l.login_session)?;
            }
            SessionKind::SsoRole(r) => {
                validate::account_id("account_id", &r.account_id)?;
                validate::sso_role_name("role_name", &r.role_name)?;
                if self.integration_by_id(r.integration).is_none() {
                    return Err(ValidationError::new(
                        "sso",
                        format!("no integration with id {}", r.integration),
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    fn check_role(&self, id: SessionId, r: &ChainedRole) -> Result<()> {
        validate::role_arn("role_arn", &r.role_arn)?;
        if let Some(n) = &r.role_session_name {
            validate::role_session_name("role_session_name", n)?;
        }
        if let Some(x) = &r.external_id {
            validate::external_id("external_id", x)?;
        }
        if let Some(x) = &r.source_identity {
            validate::source_identity("source_identity", x)?;
        }
        validate::session_tags(&r.tags, &r.transitive_tag_keys)?;
        let Some(parent) = self.get(r.parent) else {
            return Err(
                ValidationError::new("parent", format!("no session with id {}", r.parent)).into(),
            );
        };
        // Walk up from the parent: meeting `id` again means a cycle.
        let mut cursor = Some(parent);
        let mut steps = 0;
        while let Some(p) = cursor {
            if p.session.id == id {
                return Err(
                    ValidationError::new("parent", "would make a cycle in the role chain").into(),
                );
            }
            steps += 1;
            if steps > self.sessions.len() {
                break;
            }
            cursor = p.session.kind.parent().and_then(|pp| self.get(pp));
        }
        // SSO and federated roles' credentials are role credentials too: AWS caps a
        // role assumed from them at one hour.
        let parent_is_role = matches!(
            parent.session.kind,
            SessionKind::Role(_) | SessionKind::SsoRole(_) | SessionKind::Saml(_)
        );
        validate::role_duration(
            "duration",
            r.duration.unwrap_or(DEFAULT_ROLE_SECONDS),
            parent_is_role,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FailureCode;
    use crate::model::IamUser;

    fn user(name: &str) -> Session {
        Session {
            console: Default::default(),
            id: SessionId::new(),
            name: name.into(),
            profile: ProfileName::parse(&format!("{name}-p")).unwrap(),
            region: Some("eu-west-1".into()),
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        }
    }

    fn role(name: &str, parent: SessionId) -> Session {
        Session {
            console: Default::default(),
            id: SessionId::new(),
            name: name.into(),
            profile: ProfileName::parse(&format!("{name}-p")).unwrap(),
            region: None,
            kind: SessionKind::Role(ChainedRole {
                parent,
                role_arn: "arn:aws:iam::123456789012:role/R".into(),
                role_session_name: None,
                external_id: None,
                duration: None,
                source_identity: None,
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            }),
        }
    }

    #[test]
    fn refused_mutations_change_nothing() {
        let mut ws = Workspace::default();
        let u = user("u");
        ws.add_session(u.clone()).unwrap();
        let before = ws.clone();
        let mut bad = role("r", u.id);
        if let SessionKind::Role(r) = &mut bad.kind {
            r.role_arn = "arn:aws:iam::123:role/R".into();
        }
        let err = ws.add_session(bad).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "role_arn"),
            "{err}"
        );
        assert_eq!(ws, before);
        let err = ws.add_session(role("x", SessionId::new())).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "parent"),
            "{err}"
        );
        let err = ws.add_session(user("u")).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "name"),
            "{err}"
        );
        assert_eq!(ws, before);
    }

    #[test]
    fn cycles_are_refused() {
        let mut ws = Workspace::default();
        let u = user("u");
        let a = role("a", u.id);
        let b = role("b", a.id);
        ws.add_session(u).unwrap();
        ws.add_session(a.clone()).unwrap();
        ws.add_session(b.clone()).unwrap();
        let before = ws.clone();
        let mut a2 = a.clone();
        if let SessionKind::Role(r) = &mut a2.kind {
            r.parent = b.id;
        }
        let err = ws.replace_session(a2).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "parent" && v.message.contains("cycle")),
            "{err}"
        );
        let mut self_parent = a;
        if let SessionKind::Role(r) = &mut self_parent.kind {
            r.parent = self_parent.id;
        }
        assert!(ws.replace_session(self_parent).is_err());
        assert_eq!(ws, before);
    }

    #[test]
    fn chained_role_duration_is_capped_at_one_hour() {
        let mut ws = Workspace::default();
        let u = user("u");
        let mut a = role("a", u.id);
        if let SessionKind::Role(r) = &mut a.kind {
            r.duration = Some(43_200);
        }
        ws.add_session(u).unwrap();
        ws.add_session(a.clone()).unwrap(); // from a user: 12 h allowed
        let mut b = role("b", a.id);
        if let SessionKind::Role(r) = &mut b.kind {
            r.duration = Some(7_200);
        }
        let err = ws.add_session(b).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "duration"),
            "{err}"
        );
    }

    #[test]
    fn removing_a_parent_needs_a_cascade() {
        let mut ws = Workspace::default();
        let u = user("u");
        let a = role("a", u.id);
        let b = role("b", a.id);
        for s in [u.clone(), a.clone(), b.clone()] {
            ws.add_session(s).unwrap();
        }
        let err = ws.remove_session("u", false).unwrap_err();
        assert!(matches!(err, WorkspaceError::SessionInUse { .. }), "{err}");
        assert_eq!(ws.sessions.len(), 3);
        let removed = ws.remove_session("u", true).unwrap();
        assert_eq!(removed, vec![b.id, a.id, u.id]);
        assert!(ws.sessions.is_empty());
    }

    #[test]
    fn profiles_rename_and_reassign() {
        let mut ws = Workspace::default();
        ws.add_session(user("u")).unwrap();
        assert!(ws.add_profile("u-p").is_err());
        ws.rename_profile("u-p", "prod").unwrap();
        assert_eq!(ws.sessions[0].session.profile.as_str(), "prod");
        assert!(matches!(
            ws.remove_profile("prod", None),
            Err(WorkspaceError::ProfileInUse { .. })
        ));
        ws.remove_profile("prod", Some("staging")).unwrap();
        assert_eq!(ws.sessions[0].session.profile.as_str(), "staging");
        assert!(ws.profile("prod").is_none());
        assert!(ws.add_profile("bad]name").is_err());
    }

    #[test]
    fn a_profile_with_a_live_session_cannot_be_renamed_or_removed() {
        let mut ws = Workspace::default();
        let u = user("u");
        ws.add_session(u.clone()).unwrap();
        ws.set_state(u.id, SessionState::Pending);
        let before = ws.clone();
        for err in [
            ws.rename_profile("u-p", "other").unwrap_err(),
            ws.remove_profile("u-p", Some("other")).unwrap_err(),
        ] {
            assert!(
                matches!(err, WorkspaceError::ProfileLive { ref session, .. } if session == "u"),
                "{err}"
            );
        }
        assert_eq!(ws, before);
        ws.set_state(u.id, SessionState::Inactive);
        ws.rename_profile("u-p", "other").unwrap();
    }

    #[test]
    fn the_profile_of_a_live_session_cannot_change_but_its_other_fields_can() {
        let mut ws = Workspace::default();
        let u = user("u");
        ws.add_session(u.clone()).unwrap();
        ws.set_state(
            u.id,
            SessionState::Active {
                expires_at: chrono::Utc::now(),
            },
        );
        let mut moved = u.clone();
        moved.profile = ProfileName::parse("elsewhere").unwrap();
        let err = ws.replace_session(moved).unwrap_err();
        assert!(
            matches!(err, WorkspaceError::Invalid(ref v) if v.field == "profile" && v.message.contains("stop it")),
            "{err}"
        );
        let mut renamed = u.clone();
        renamed.name = "u2".into();
        ws.replace_session(renamed).unwrap();
        assert_eq!(ws.get(u.id).unwrap().session.profile.as_str(), "u-p");
    }

    #[test]
    fn views_show_chain_and_account() {
        let mut ws = Workspace::default();
        let u = user("u");
        let a = role("a", u.id);
        ws.add_session(u).unwrap();
        ws.add_session(a.clone()).unwrap();
        let v = ws.view(ws.get(a.id).unwrap());
        assert_eq!(v.chain, vec!["u".to_string(), "a".to_string()]);
        assert_eq!(v.account_id.as_deref(), Some("123456789012"));
    }

    #[test]
    fn a_round_one_workspace_reads_its_string_codes_into_variants() {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/workspace/round1-failed-sessions.json"
        ));
        let ws: Workspace = serde_json::from_str(text).unwrap();
        let codes: Vec<(&str, FailureCode)> = ws
            .sessions
            .iter()
            .map(|s| match &s.state {
                SessionState::Failed(f) => (s.session.name.as_str(), f.code.clone()),
                other => panic!("{}: {other:?}", s.session.name),
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("alice", FailureCode::MfaCancelled),
                (
                    "production",
                    FailureCode::Aws {
                        code: "AccessDenied".into()
                    }
                ),
                ("sandbox", FailureCode::ProfileOwnedByUser),
            ]
        );
        // Written back in this version's shape, and read again unchanged.
        let again: Workspace = serde_json::from_str(&serde_json::to_string(&ws).unwrap()).unwrap();
        assert_eq!(again, ws);
        let state = serde_json::to_value(&ws.sessions[1].state).unwrap();
        assert_eq!(
            state["code"],
            serde_json::json!({ "type": "Aws", "code": "AccessDenied" })
        );
    }
}
