//! What each role hop of a chain needs from IAM: the statement the target role's trust
//! policy must hold, and the statement the parent's identity policy must hold.
//!
//! A [`Hop`] is the `AssumeRole` request a hop makes, seen from IAM: who calls (the
//! parent, as IAM names it), on which role, sending what. The evaluator reads the same
//! facts, so what `trust show` says a policy needs is what `trust check` tests.
//! The hop's data and the derivation of its statements are rolehop-policy's
//! (`hop`); this module builds the hops of a workspace's chain.

pub use rolehop_policy::hop::*;

use crate::chain::default_role_session_name;
use crate::model::{Session, SessionId, SessionKind};
use crate::workspace::Workspace;

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
            passes_tags: !role.tags.is_empty(),
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
        // only AWS knows: `trust check` asks GetCallerIdentity for it (`caller.rs`).
        SessionKind::SsoRole(sso) => Caller::sso_role(parent.id, &parent.name, &sso.account_id),
        // Its session name is the provider's `RoleSessionName`, known only from the
        // SAML response of each sign-in: the session ARN is left unknown.
        SessionKind::Saml(role) => Caller {
            id: parent.id,
            session: parent.name.clone(),
            kind: CallerKind::Role,
            arn: Some(role.role_arn.clone()),
            account_id: role.account_id().map(str::to_owned),
            session_arn: None,
        },
        // Whom the console session signed in as is its ARN: an IAM user's acts as that
        // user (a root session's as the account).
        SessionKind::LoginSession(login) => Caller {
            id: parent.id,
            session: parent.name.clone(),
            kind: CallerKind::IamUser,
            arn: Some(login.login_session.clone()),
            account_id: login
                .account_id
                .clone()
                .or_else(|| arn_account(&login.login_session)),
            session_arn: None,
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::{ChainedRole, IamUser, ProfileName};

    pub(crate) fn story(external_id: Option<&str>, source_identity: Option<&str>) -> Workspace {
        let mut ws = Workspace::default();
        let alice = Session {
            console: Default::default(),
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
            console: Default::default(),
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
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
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
