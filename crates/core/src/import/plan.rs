//! The plan of an import: what each profile becomes, checked against a copy of the
//! workspace with every earlier step already in it, so the engine will accept it.
//!
//! A file may hold thousands of profiles, or a `source_profile` chain thousands deep:
//! profiles are looked up by name, every walk up a chain stops after
//! [`MAX_CHAIN_HOPS`], and a role further than that from its root is skipped before the
//! planner recurses into its source, so neither time nor stack grows with the file.

use std::collections::{HashMap, HashSet};

use super::ImportOptions;
use super::profiles::{AwsProfile, SsoSessionSection, StaticKeys};
use crate::awsfiles::dialect::FileRole;
use crate::engine::AccessKeys;
use crate::model::{
    ChainedRole, DEFAULT_USER_SESSION_SECONDS, IamUser, LoginSession, ProfileName, Session,
    SessionId, SessionKind, SsoRole,
};
use crate::sso::{Integration, IntegrationId, NewIntegration};
use crate::validate::Arn;
use crate::workspace::Workspace;

/// What the plan does with one profile.
pub(super) enum Step {
    AddUser {
        session: Session,
        keys: AccessKeys,
        keys_in: FileRole,
    },
    AddRole {
        session: Session,
        /// The profile (= session name) it chains from.
        parent: String,
    },
    /// An SSO role session of integration `integration` (by name; one the import adds,
    /// listed in [`Planner::new_integrations`], or one already there).
    AddSso {
        session: Session,
        integration: String,
    },
    /// A console sign-in session (`login_session`); its token is read at apply time.
    AddLogin {
        session: Session,
    },
    /// An existing console sign-in session for the same `login_session`: its token is
    /// taken again if the AWS CLI's is newer (the person ran `aws login` again).
    RetakeLogin {
        id: SessionId,
        login_session: String,
    },
    Unchanged {
        kind: &'static str,
        detail: String,
    },
    Skip {
        kind: Option<&'static str>,
        reason: String,
    },
}

/// Whether a profile ended up as a session others can chain from.
#[derive(Clone)]
enum Resolved {
    /// The session's id (in the trial workspace).
    Session(SessionId),
    /// Why it did not, phrased to follow "its source profile 'X' ".
    Unavailable(String),
}

/// The longest `source_profile` chain an import follows, in hops from the role to the
/// profile at its root. Deeper roles are skipped with that reason.
pub const MAX_CHAIN_HOPS: usize = 64;

/// Where following `source_profile` from a role profile leads.
enum Walk<'a> {
    /// To a profile without `role_arn`, within [`MAX_CHAIN_HOPS`].
    Root(&'a AwsProfile),
    /// Back to the start: `a → b → a`.
    Cycle(String),
    /// On for more than [`MAX_CHAIN_HOPS`].
    TooDeep,
    /// To a missing profile, one without `source_profile`, or into a cycle that does not
    /// pass through the start (the profiles on the way report those themselves).
    Broken,
}

pub(super) struct Planner<'a> {
    pub(super) profiles: &'a [AwsProfile],
    by_name: HashMap<&'a str, &'a AwsProfile>,
    /// Profile names in the order they were planned: every role after its source.
    pub(super) order: Vec<String>,
    pub(super) opts: ImportOptions,
    /// The workspace with every planned session added: later steps are checked against
    /// the earlier ones, exactly as the engine will check them.
    pub(super) trial: Workspace,
    resolved: HashMap<String, Resolved>,
    pub(super) steps: HashMap<String, Step>,
    /// For each IAM-user profile, the MFA device its chained roles name.
    pub(super) inherited_mfa: HashMap<String, String>,
    /// The config file's `[sso-session NAME]` sections.
    sso_sessions: HashMap<String, SsoSessionSection>,
    /// The integrations the import adds, in the order first needed.
    pub(super) new_integrations: Vec<Integration>,
}

pub(super) const ROLE: &str = "role";
pub(super) const SSO: &str = "sso-role";
pub(super) const LOGIN: &str = "login-session";

/// Start URLs that differ only by a trailing slash are the same portal.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}
pub(super) const USER: &str = "iam-user";

impl<'a> Planner<'a> {
    pub(super) fn new(
        profiles: &'a [AwsProfile],
        workspace: &Workspace,
        opts: ImportOptions,
    ) -> Self {
        let mut planner = Self {
            profiles,
            by_name: profiles.iter().map(|p| (p.name.as_str(), p)).collect(),
            order: Vec::with_capacity(profiles.len()),
            opts,
            trial: workspace.clone(),
            resolved: HashMap::new(),
            steps: HashMap::new(),
            inherited_mfa: HashMap::new(),
            sso_sessions: HashMap::new(),
            new_integrations: Vec::new(),
        };
        planner.inherited_mfa = planner.collect_inherited_mfa();
        planner
    }

    /// The `[sso-session]` sections SSO profiles name.
    pub(super) fn with_sso_sessions(
        mut self,
        sections: HashMap<String, SsoSessionSection>,
    ) -> Self {
        self.sso_sessions = sections;
        self
    }

    fn profile(&self, name: &str) -> Option<&'a AwsProfile> {
        self.by_name.get(name).copied()
    }

    /// Follows `source_profile` from `start`, at most [`MAX_CHAIN_HOPS`] hops.
    fn walk(&self, start: &'a AwsProfile) -> Walk<'a> {
        let mut names = vec![start.name.as_str()];
        let mut seen = HashSet::from([start.name.as_str()]);
        let mut current = start;
        loop {
            if current.get("role_arn").is_none() {
                return Walk::Root(current);
            }
            if names.len() > MAX_CHAIN_HOPS {
                return Walk::TooDeep;
            }
            let Some(next) = current
                .get("source_profile")
                .filter(|s| *s != current.name)
                .and_then(|s| self.profile(s))
            else {
                return Walk::Broken;
            };
            if next.name == start.name {
                names.push(&next.name);
                return Walk::Cycle(names.join(" → "));
            }
            if !seen.insert(&next.name) {
                return Walk::Broken;
            }
            names.push(&next.name);
            current = next;
        }
    }

    /// The root profile of a role profile's chain (the first without `role_arn`).
    fn root_of(&self, start: &'a AwsProfile) -> Option<&'a AwsProfile> {
        match self.walk(start) {
            Walk::Root(root) => Some(root),
            Walk::Cycle(_) | Walk::TooDeep | Walk::Broken => None,
        }
    }

    fn collect_inherited_mfa(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for p in self.profiles {
            if let (Some(serial), Some(_)) = (p.get("mfa_serial"), p.get("role_arn"))
                && let Some(root) = self.root_of(p)
            {
                out.entry(root.name.clone())
                    .or_insert_with(|| serial.to_owned());
            }
        }
        out
    }

    /// Plans `name` (and, first, what it chains from). `visiting` catches cycles.
    /// Plans every profile, parents before the roles chained from them.
    pub(super) fn plan_all(&mut self) {
        for p in self.profiles {
            self.resolve(&p.name, &mut Vec::new());
        }
    }

    fn resolve(&mut self, name: &str, visiting: &mut Vec<String>) -> Resolved {
        if let Some(r) = self.resolved.get(name) {
            return r.clone();
        }
        let Some(profile) = self.profile(name) else {
            return Resolved::Unavailable("is not in the AWS files".into());
        };
        if visiting.iter().any(|v| v == name) {
            return Resolved::Unavailable("is part of a source_profile cycle".into());
        }
        visiting.push(name.to_owned());
        let step = self.plan_profile(profile, visiting);
        visiting.pop();
        let resolved = match &step {
            Step::AddUser { session, .. }
            | Step::AddRole { session, .. }
            | Step::AddSso { session, .. }
            | Step::AddLogin { session } => Resolved::Session(session.id),
            Step::RetakeLogin { id, .. } => Resolved::Session(*id),
            Step::Unchanged { .. } => match self.trial.find(name) {
                Ok(s) => Resolved::Session(s.session.id),
                Err(_) => Resolved::Unavailable("was not imported".into()),
            },
            Step::Skip { .. } => Resolved::Unavailable("was skipped".into()),
        };
        self.resolved.insert(name.to_owned(), resolved.clone());
        self.steps.insert(name.to_owned(), step);
        self.order.push(name.to_owned());
        resolved
    }

    /// An existing session named like the profile, of any kind: the profile was
    /// imported before (or the user made that session), so it is left as it is.
    fn existing_any(&self, name: &str) -> Option<Step> {
        let existing = self.trial.find(name).ok()?;
        let kind = existing.session.kind.label();
        self.existing(name, kind)
    }

    /// An existing session named like the profile: unchanged if it is of the same kind.
    fn existing(&self, name: &str, kind: &'static str) -> Option<Step> {
        let existing = self.trial.find(name).ok()?;
        let existing_kind = existing.session.kind.label();
        let phrase = |kind: &str| match kind {
            USER => "an IAM user",
            SSO => "an SSO role",
            LOGIN => "a console sign-in session",
            _ => "a role",
        };
        Some(if existing_kind == kind {
            Step::Unchanged {
                kind,
                detail: format!("already in Rolehop, as {} session '{name}'", phrase(kind)),
            }
        } else {
            Step::Skip {
                kind: Some(kind),
                reason: format!(
                    "a session named '{name}' already exists and is {}; rename it to import \
                     this profile",
                    phrase(existing_kind)
                ),
            }
        })
    }

    fn plan_profile(&mut self, p: &'a AwsProfile, visiting: &mut Vec<String>) -> Step {
        let skip = |kind: Option<&'static str>, reason: String| Step::Skip { kind, reason };
        if ["sso_session", "sso_start_url", "sso_account_id"]
            .iter()
            .any(|k| p.get(k).is_some())
        {
            return self.plan_sso(p);
        }
        if let Some(arn) = p.get("login_session") {
            return self.plan_login(p, arn);
        }
        if p.get("credential_process").is_some() {
            return match self.existing_any(&p.name) {
                Some(step) => step,
                None => skip(
                    None,
                    "it gets its credentials from a credential_process; nothing to import".into(),
                ),
            };
        }
        if p.get("web_identity_token_file").is_some() {
            return skip(
                None,
                "web identity (OIDC) profiles are not supported".into(),
            );
        }
        if let Some(role_arn) = p.get("role_arn") {
            return self.plan_role(p, role_arn, visiting);
        }
        if let Some(keys) = &p.keys {
            return self.plan_user(p, keys);
        }
        if p.has_session_token {
            return skip(
                None,
                "it holds temporary credentials (aws_session_token); nothing long-lived to import"
                    .into(),
            );
        }
        if let Some(step) = self.existing_any(&p.name) {
            return step;
        }
        skip(
            None,
            "it has no credentials (no role_arn, no static keys)".into(),
        )
    }

    /// A session of `kind` named and bound after profile `p`, in its region, added to
    /// the trial workspace; else why not.
    fn add_to_trial(&mut self, p: &AwsProfile, kind: SessionKind) -> Result<Session, String> {
        let session = Session {
            id: SessionId::new(),
            name: p.name.clone(),
            profile: ProfileName::parse(&p.name).map_err(|e| e.to_string())?,
            region: p.get("region").map(str::to_owned),
            kind,
            console: Default::default(),
        };
        self.trial
            .add_session(session.clone())
            .map_err(|e| e.to_string())?;
        Ok(session)
    }

    /// A console sign-in profile (`login_session = <ARN>`, written by `aws login`).
    fn plan_login(&mut self, p: &AwsProfile, arn: &str) -> Step {
        let skip = |reason: String| Step::Skip {
            kind: Some(LOGIN),
            reason,
        };
        let arn = arn.trim();
        if let Ok(existing) = self.trial.find(&p.name) {
            return match &existing.session.kind {
                SessionKind::LoginSession(l) if l.login_session == arn => Step::RetakeLogin {
                    id: existing.session.id,
                    login_session: arn.to_owned(),
                },
                _ => self
                    .existing(&p.name, LOGIN)
                    .expect("a session of that name exists"),
            };
        }
        let account_id = match Arn::parse("login_session", arn) {
            Ok(parsed) => parsed.account_id().map(str::to_owned),
            Err(e) => return skip(e.to_string()),
        };
        let kind = SessionKind::LoginSession(LoginSession {
            login_session: arn.to_owned(),
            account_id,
        });
        let session = match self.add_to_trial(p, kind) {
            Ok(session) => session,
            Err(reason) => return skip(reason),
        };
        Step::AddLogin { session }
    }

    /// An IAM Identity Center profile: `sso_session` naming an `[sso-session]` section,
    /// or the legacy layout with `sso_start_url` and `sso_region` in the profile; both
    /// with `sso_account_id` and `sso_role_name`. Its integration is the one of that
    /// name (or, legacy, of that start URL and region) already in Rolehop, else a new one.
    fn plan_sso(&mut self, p: &AwsProfile) -> Step {
        let skip = |reason: String| Step::Skip {
            kind: Some(SSO),
            reason,
        };
        let (Some(account_id), Some(role_name)) = (p.get("sso_account_id"), p.get("sso_role_name"))
        else {
            return skip(
                "it names no sso_account_id and sso_role_name: an IAM Identity Center login \
                 for tools, not a role to import"
                    .into(),
            );
        };
        let integration = match p.get("sso_session") {
            Some(name) => {
                let Some(section) = self.sso_sessions.get(name) else {
                    return skip(format!(
                        "its sso_session '{name}' has no [sso-session {name}] section"
                    ));
                };
                let (Some(url), Some(region)) =
                    (section.get("sso_start_url"), section.get("sso_region"))
                else {
                    return skip(format!(
                        "[sso-session {name}] needs sso_start_url and sso_region for IAM \
                         Identity Center"
                    ));
                };
                let (url, region) = (url.to_owned(), region.to_owned());
                let scopes = section
                    .get("sso_registration_scopes")
                    .map(|s| {
                        s.split(',')
                            .map(|x| x.trim().to_owned())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                self.integration_for(name, &url, &region, scopes)
            }
            None => match (p.get("sso_start_url"), p.get("sso_region")) {
                (Some(url), Some(region)) => {
                    let name = self.legacy_integration_name(url, region);
                    self.integration_for(&name, url, region, Vec::new())
                }
                _ => Err(
                    "it has sso_account_id but no sso_session, or no sso_start_url and \
                          sso_region (IAM Identity Center)"
                        .into(),
                ),
            },
        };
        let integration = match integration {
            Ok(i) => i,
            Err(reason) => return skip(reason),
        };
        if let Some(step) = self.existing(&p.name, SSO) {
            return step;
        }
        let kind = SessionKind::SsoRole(SsoRole {
            integration: integration.id,
            account_id: account_id.to_owned(),
            account_name: None,
            role_name: role_name.to_owned(),
        });
        let session = match self.add_to_trial(p, kind) {
            Ok(session) => session,
            Err(reason) => return skip(reason),
        };
        Step::AddSso {
            session,
            integration: integration.name,
        }
    }

    /// The integration named `name`: the trial workspace's (it must have the same start
    /// URL and region), else a new one, planned.
    fn integration_for(
        &mut self,
        name: &str,
        start_url: &str,
        region: &str,
        scopes: Vec<String>,
    ) -> Result<Integration, String> {
        if let Ok(i) = self.trial.integration(name) {
            return if same_url(&i.start_url, start_url) && i.region == region {
                Ok(i.clone())
            } else {
                Err(format!(
                    "an IAM Identity Center integration named '{name}' already exists with \
                     another start URL or region"
                ))
            };
        }
        let spec = NewIntegration {
            name: name.to_owned(),
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes,
        };
        let i = spec
            .integration(IntegrationId::new())
            .map_err(|e| format!("its IAM Identity Center settings: {e}"))?;
        self.trial
            .add_integration(i.clone())
            .map_err(|e| e.to_string())?;
        self.new_integrations.push(i.clone());
        Ok(i)
    }

    /// For a legacy profile: the integration with its start URL and region if there is
    /// one, else a free name from the portal's host (`corp` for `corp.awsapps.com`).
    fn legacy_integration_name(&self, start_url: &str, region: &str) -> String {
        if let Some(i) = self
            .trial
            .integrations
            .iter()
            .find(|i| same_url(&i.start_url, start_url) && i.region == region)
        {
            return i.name.clone();
        }
        let host = url::Url::parse(start_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let base: String = host
            .split('.')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .take(56)
            .collect();
        let base = if base.is_empty() {
            "sso".to_owned()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while self.trial.integration(&name).is_ok() {
            name = format!("{base}-{n}");
            n += 1;
        }
        name
    }

    fn plan_user(&mut self, p: &AwsProfile, keys: &StaticKeys) -> Step {
        if p.has_session_token {
            return Step::Skip {
                kind: None,
                reason: "its keys are temporary (aws_session_token); nothing long-lived to import"
                    .into(),
            };
        }
        if let Some(step) = self.existing(&p.name, USER) {
            return step;
        }
        if !self.opts.import_keys {
            return Step::Skip {
                kind: Some(USER),
                reason: "it has static keys, which stay in your file; pass --import-keys to \
                         copy them into the keychain and import this IAM user"
                    .into(),
            };
        }
        let mfa_serial = p
            .get("mfa_serial")
            .map(str::to_owned)
            .or_else(|| self.inherited_mfa.get(&p.name).cloned());
        let session = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: p.name.clone(),
            profile: match ProfileName::parse(&p.name) {
                Ok(n) => n,
                Err(e) => {
                    return Step::Skip {
                        kind: Some(USER),
                        reason: e.to_string(),
                    };
                }
            },
            region: p.get("region").map(str::to_owned),
            kind: SessionKind::IamUser(IamUser {
                account_id: mfa_serial
                    .as_deref()
                    .and_then(Arn::account_of)
                    .map(str::to_owned),
                mfa_serial,
                session_duration: DEFAULT_USER_SESSION_SECONDS,
            }),
        };
        let access_keys = AccessKeys {
            access_key_id: keys.access_key_id.clone(),
            secret_access_key: keys.secret_access_key.clone(),
        };
        let checked = crate::validate::access_key_id("aws_access_key_id", &keys.access_key_id)
            .and_then(|()| {
                crate::validate::secret_access_key("aws_secret_access_key", &keys.secret_access_key)
            });
        if let Err(e) = checked {
            return Step::Skip {
                kind: Some(USER),
                reason: e.to_string(),
            };
        }
        if let Err(e) = self.trial.add_session(session.clone()) {
            return Step::Skip {
                kind: Some(USER),
                reason: e.to_string(),
            };
        }
        Step::AddUser {
            session,
            keys: access_keys,
            keys_in: keys.file,
        }
    }

    fn plan_role(&mut self, p: &'a AwsProfile, role_arn: &str, visiting: &mut Vec<String>) -> Step {
        let skip = |reason: String| Step::Skip {
            kind: Some(ROLE),
            reason,
        };
        if let Some(source) = p.get("credential_source") {
            return skip(format!(
                "credential_source = {source} is not supported; Rolehop chains roles from a \
                 source_profile"
            ));
        }
        let Some(source) = p.get("source_profile") else {
            return skip("it has role_arn but no source_profile".into());
        };
        if source == p.name {
            return skip(
                "it is its own source_profile (keys and role in one profile); split it into \
                 a profile with the keys and one with the role to import it"
                    .into(),
            );
        }
        if let Some(step) = self.existing(&p.name, ROLE) {
            return step;
        }
        // Checked before recursing into the source: the recursion stays within
        // MAX_CHAIN_HOPS frames however deep the file's chain is.
        match self.walk(p) {
            Walk::Cycle(cycle) => {
                return skip(format!("its source_profile chain is a cycle ({cycle})"));
            }
            Walk::TooDeep => {
                return skip(format!(
                    "its source_profile chain is longer than {MAX_CHAIN_HOPS} hops; Rolehop \
                     imports roles at most {MAX_CHAIN_HOPS} hops from their root profile"
                ));
            }
            Walk::Root(_) | Walk::Broken => {}
        }
        let parent = match self.resolve(source, visiting) {
            Resolved::Session(id) => id,
            Resolved::Unavailable(why) => {
                return skip(format!("its source profile '{source}' {why}"));
            }
        };
        let duration = match p.get("duration_seconds").map(str::parse::<u32>) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => return skip("duration_seconds is not a number of seconds".into()),
        };
        let profile = match ProfileName::parse(&p.name) {
            Ok(n) => n,
            Err(e) => return skip(e.to_string()),
        };
        let session = Session {
            console: Default::default(),
            id: SessionId::new(),
            name: p.name.clone(),
            profile,
            region: p.get("region").map(str::to_owned),
            kind: SessionKind::Role(ChainedRole {
                parent,
                role_arn: role_arn.to_owned(),
                role_session_name: p.get("role_session_name").map(str::to_owned),
                external_id: p.get("external_id").map(str::to_owned),
                duration,
                source_identity: None,
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            }),
        };
        if let Err(e) = self.trial.add_session(session.clone()) {
            return skip(e.to_string());
        }
        Step::AddRole {
            session,
            parent: source.to_owned(),
        }
    }

    /// A note for role profiles whose `mfa_serial` is not the one Rolehop will ask for.
    pub(super) fn mfa_note(&self, p: &'a AwsProfile) -> Option<String> {
        let serial = p.get("mfa_serial")?;
        p.get("role_arn")?;
        let root = self.root_of(p)?;
        let user = self.trial.find(&root.name).ok()?;
        match &user.session.kind {
            SessionKind::IamUser(u) if u.mfa_serial.as_deref() == Some(serial) => None,
            SessionKind::IamUser(u) => Some(match &u.mfa_serial {
                Some(other) => format!(
                    "its mfa_serial {serial} differs from the IAM user's device {other}, \
                     which is the one Rolehop asks a code for"
                ),
                None => format!(
                    "its mfa_serial {serial} is not set on the IAM user '{}'; add it with \
                     `rolehop session edit iam-user {} --mfa-serial {serial}`",
                    root.name, root.name
                ),
            }),
            SessionKind::Role(_)
            | SessionKind::SsoRole(_)
            | SessionKind::Saml(_)
            | SessionKind::LoginSession(_) => None,
        }
    }
}
