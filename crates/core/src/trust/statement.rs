//! What each role hop of a chain needs from IAM: the statement the target role's trust
//! policy must hold, and the statement the parent's identity policy must hold.
//!
//! A [`Hop`] is the `AssumeRole` request a hop makes, seen from IAM: who calls (the
//! parent, as IAM names it), on which role, sending what. The evaluator reads the same
//! facts, so what `trust show` says a policy needs is what `trust check` tests.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::chain::default_role_session_name;
use crate::model::{Session, SessionId, SessionKind};
use crate::trust::policy::{Principal, Statement, ValueList};
use crate::workspace::Workspace;

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const SET_SOURCE_IDENTITY: &str = "sts:SetSourceIdentity";
pub const TAG_SESSION: &str = "sts:TagSession";

/// Whether the caller of a hop is an IAM user or a role session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum CallerKind {
    IamUser,
    Role,
}

/// The parent of a hop as IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Caller {
    /// The parent session's id and name.
    pub id: SessionId,
    pub session: String,
    pub kind: CallerKind,
    /// The ARN a trust policy names: the IAM user's ARN, or the role's ARN (which
    /// admits every session of the role). `None` when it is not known (an IAM user
    /// whose name could not be asked of STS).
    pub arn: Option<String>,
    pub account_id: Option<String>,
    /// For a role: the ARN of the parent's own session
    /// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`).
    pub session_arn: Option<String>,
}

impl Caller {
    /// The principal a trust policy should name: the exact ARN, else the account root.
    pub fn principal(&self) -> Option<String> {
        self.arn.clone().or_else(|| {
            self.account_id
                .as_ref()
                .map(|a| format!("arn:aws:iam::{a}:root"))
        })
    }
}

/// One role hop: the `AssumeRole` request it makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Hop {
    /// The role session's name.
    pub session: String,
    pub role_arn: String,
    pub role_session_name: String,
    pub caller: Caller,
    pub external_id: Option<String>,
    /// The source identity the request carries: set by this hop, or by a hop above it
    /// (a source identity persists down a chain).
    pub source_identity: Option<String>,
    /// Whether the hop passes session tags (Rolehop passes none today).
    pub passes_tags: bool,
    /// Whether the credentials calling were obtained with MFA (the root IAM user has
    /// an MFA device; the MFA context carries down role chaining).
    pub mfa: bool,
}

impl Hop {
    /// The actions the request needs allowed.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut actions = vec![ASSUME_ROLE];
        if self.source_identity.is_some() {
            actions.push(SET_SOURCE_IDENTITY);
        }
        if self.passes_tags {
            actions.push(TAG_SESSION);
        }
        actions
    }

    pub fn role_account(&self) -> Option<&str> {
        self.role_arn.split(':').nth(4).filter(|a| !a.is_empty())
    }
}

/// What one hop needs, with notes for the reader.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct HopNeeds {
    pub hop: Hop,
    /// The statement the target role's trust policy needs.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub trust_statement: Statement,
    /// The statement the parent's identity policy needs.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub identity_statement: Statement,
    pub notes: Vec<String>,
}

/// Options of the derivation.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeedsOptions {
    /// Add `aws:MultiFactorAuthPresent = true` when MFA is in the chain.
    pub require_mfa: bool,
}

/// An IAM user's ARN as STS answered it, or why it could not be asked.
pub type UserArns = HashMap<SessionId, Result<String, String>>;

/// The role hops of the chain ending at `id`, root first. `users` holds what
/// `GetCallerIdentity` said of each IAM user's keys.
pub fn hops(ws: &Workspace, id: SessionId, users: &UserArns) -> Vec<Hop> {
    let chain = ws.chain(id);
    let mfa = matches!(chain.first().map(|s| &s.kind),
        Some(SessionKind::IamUser(u)) if u.mfa_serial.is_some());
    let mut out = Vec::new();
    let mut source_identity: Option<String> = None;
    for pair in chain.windows(2) {
        let (parent, child) = (pair[0], pair[1]);
        let SessionKind::Role(role) = &child.kind else {
            continue;
        };
        if role.source_identity.is_some() {
            source_identity = role.source_identity.clone();
        }
        out.push(Hop {
            session: child.name.clone(),
            role_arn: role.role_arn.clone(),
            role_session_name: role
                .role_session_name
                .clone()
                .unwrap_or_else(|| default_role_session_name(&child.name)),
            caller: caller(parent, users),
            external_id: role.external_id.clone(),
            source_identity: source_identity.clone(),
            passes_tags: false,
            mfa,
        });
    }
    out
}

fn caller(parent: &Session, users: &UserArns) -> Caller {
    match &parent.kind {
        SessionKind::IamUser(user) => {
            let arn = users.get(&parent.id).and_then(|r| r.as_ref().ok()).cloned();
            let account_id = arn
                .as_deref()
                .and_then(arn_account)
                .or_else(|| user.account_id.clone())
                .or_else(|| user.mfa_serial.as_deref().and_then(arn_account));
            Caller {
                id: parent.id,
                session: parent.name.clone(),
                kind: CallerKind::IamUser,
                arn,
                account_id,
                session_arn: None,
            }
        }
        SessionKind::Role(role) => {
            let session_name = role
                .role_session_name
                .clone()
                .unwrap_or_else(|| default_role_session_name(&parent.name));
            let account_id = role.account_id().map(str::to_owned);
            let role_name = role.role_arn.rsplit('/').next().unwrap_or_default();
            Caller {
                id: parent.id,
                session: parent.name.clone(),
                kind: CallerKind::Role,
                arn: Some(role.role_arn.clone()),
                session_arn: account_id
                    .as_ref()
                    .map(|a| format!("arn:aws:sts::{a}:assumed-role/{role_name}/{session_name}")),
                account_id,
            }
        }
        // The portal's role is `AWSReservedSSO_<permission set>_<suffix>`, whose suffix
        // only AWS knows: the account is what a trust policy can name.
        SessionKind::SsoRole(sso) => Caller {
            id: parent.id,
            session: parent.name.clone(),
            kind: CallerKind::Role,
            arn: None,
            session_arn: None,
            account_id: Some(sso.account_id.clone()),
        },
    }
}

/// The account id field of an ARN.
pub fn arn_account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// The two statements `hop` needs, and notes on what they assume.
pub fn needs(hop: &Hop, users: &UserArns, options: NeedsOptions) -> HopNeeds {
    let mut notes = Vec::new();
    let principal = hop.caller.principal();
    if hop.caller.arn.is_none() {
        let why = match users.get(&hop.caller.id) {
            Some(Err(e)) => format!(" ({e})"),
            _ => String::new(),
        };
        match &principal {
            Some(root) => notes.push(format!(
                "the IAM user behind '{}' is unknown offline{why}: the account root {root} \
                 stands in, which admits every principal of that account whose own identity \
                 policy allows sts:AssumeRole on the role",
                hop.caller.session
            )),
            None => notes.push(format!(
                "neither the IAM user behind '{}' nor its account is known{why}: put its \
                 ARN (arn:aws:iam::ACCOUNT:user/NAME) in Principal.AWS",
                hop.caller.session
            )),
        }
    }
    if hop.caller.kind == CallerKind::Role {
        notes.push(format!(
            "the role ARN admits every session of the role; IAM shows this hop's caller as {}",
            hop.caller
                .session_arn
                .as_deref()
                .unwrap_or("an assumed-role session")
        ));
    }
    let actions = ValueList(hop.actions().into_iter().map(str::to_owned).collect());
    let mut condition: BTreeMap<String, BTreeMap<String, ValueList>> = BTreeMap::new();
    if let Some(x) = &hop.external_id {
        condition
            .entry("StringEquals".into())
            .or_default()
            .insert("sts:ExternalId".into(), ValueList::one(x));
    }
    if options.require_mfa {
        if hop.mfa {
            condition
                .entry("Bool".into())
                .or_default()
                .insert("aws:MultiFactorAuthPresent".into(), ValueList::one("true"));
        } else {
            notes.push(
                "--require-mfa: no MFA device is in this chain, so no MFA condition was added"
                    .into(),
            );
        }
    }
    let trust_statement = Statement {
        principal: Some(Principal::aws(principal.as_deref().unwrap_or("*"))),
        action: Some(actions.clone()),
        condition: (!condition.is_empty()).then_some(condition),
        ..Statement::allow()
    };
    let identity_statement = Statement {
        action: Some(actions),
        resource: Some(ValueList::one(&hop.role_arn)),
        ..Statement::allow()
    };
    HopNeeds {
        hop: hop.clone(),
        trust_statement,
        identity_statement,
        notes,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ChainedRole, IamUser, ProfileName};

    pub(crate) fn story(external_id: Option<&str>, source_identity: Option<&str>) -> Workspace {
        let mut ws = Workspace::default();
        let alice = Session {
            id: SessionId::new(),
            name: "alice".into(),
            profile: ProfileName::parse("staging").unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: Some("arn:aws:iam::123456789012:mfa/alice".into()),
                session_duration: 3600,
                account_id: None,
            }),
        };
        let role = |name: &str, parent: SessionId, arn: &str| Session {
            id: SessionId::new(),
            name: name.into(),
            profile: ProfileName::parse(name).unwrap(),
            region: None,
            kind: SessionKind::Role(ChainedRole {
                parent,
                role_arn: arn.into(),
                role_session_name: None,
                external_id: None,
                duration: None,
                source_identity: None,
            }),
        };
        let codebuild = role(
            "codebuild",
            alice.id,
            "arn:aws:iam::123456789012:role/CodeBuildRole",
        );
        let mut production = role(
            "production",
            codebuild.id,
            "arn:aws:iam::210987654321:role/ResourceDeployCAR",
        );
        if let SessionKind::Role(r) = &mut production.kind {
            r.external_id = external_id.map(str::to_owned);
            r.source_identity = source_identity.map(str::to_owned);
        }
        for s in [alice, codebuild, production] {
            ws.add_session(s).unwrap();
        }
        ws
    }

    pub(crate) fn alice_known(ws: &Workspace) -> UserArns {
        let alice = ws.find("alice").unwrap().session.id;
        UserArns::from([(alice, Ok("arn:aws:iam::123456789012:user/alice".to_owned()))])
    }

    #[test]
    fn each_hop_trusts_its_parent_as_iam_names_it() {
        let ws = story(None, None);
        let users = alice_known(&ws);
        let id = ws.find("production").unwrap().session.id;
        let hops = hops(&ws, id, &users);
        assert_eq!(hops.len(), 2);
        let first = needs(&hops[0], &users, NeedsOptions::default());
        assert_eq!(
            serde_json::to_value(&first.trust_statement).unwrap(),
            serde_json::json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"},
                "Action": "sts:AssumeRole"})
        );
        let second = needs(&hops[1], &users, NeedsOptions::default());
        assert_eq!(
            serde_json::to_value(&second.trust_statement).unwrap(),
            serde_json::json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/CodeBuildRole"},
                "Action": "sts:AssumeRole"})
        );
        assert_eq!(
            serde_json::to_value(&second.identity_statement).unwrap(),
            serde_json::json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                "Resource": "arn:aws:iam::210987654321:role/ResourceDeployCAR"})
        );
        assert_eq!(
            hops[1].caller.session_arn.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/CodeBuildRole/rolehop-codebuild")
        );
    }

    #[test]
    fn what_a_hop_sends_becomes_actions_and_conditions() {
        let ws = story(Some("deploy-42"), Some("alice"));
        let users = alice_known(&ws);
        let id = ws.find("production").unwrap().session.id;
        let hop = hops(&ws, id, &users).pop().unwrap();
        let n = needs(&hop, &users, NeedsOptions { require_mfa: true });
        assert_eq!(
            serde_json::to_value(&n.trust_statement).unwrap(),
            serde_json::json!({"Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/CodeBuildRole"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                              "StringEquals": {"sts:ExternalId": "deploy-42"}}})
        );
        let without = needs(&hop, &users, NeedsOptions::default());
        assert!(
            !serde_json::to_string(&without.trust_statement)
                .unwrap()
                .contains("MultiFactor")
        );
    }

    #[test]
    fn an_unknown_user_falls_back_to_the_account_root_with_a_note() {
        let ws = story(None, None);
        let alice = ws.find("alice").unwrap().session.id;
        let users = UserArns::from([(alice, Err("STS could not be reached".to_owned()))]);
        let id = ws.find("codebuild").unwrap().session.id;
        let hop = hops(&ws, id, &users).pop().unwrap();
        let n = needs(&hop, &users, NeedsOptions::default());
        assert_eq!(
            n.trust_statement.principal.unwrap().aws_entries(),
            ["arn:aws:iam::123456789012:root"]
        );
        assert!(
            n.notes[0].contains("unknown offline") && n.notes[0].contains("STS could not"),
            "{:?}",
            n.notes
        );
    }
}
