//! The evaluator's table: each row of `fixtures/evaluation-table.json` is a trust
//! policy, a hop, and IAM's answer, with the AWS documentation page (or rule) it encodes
//! in `source`. The same file feeds the `policy_lint` end-to-end suite, which runs
//! parliament over every policy in it.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use serde::Deserialize;

use super::*;
use crate::document::Statement;
use crate::hop::{Caller, CallerKind, Hop};
use rolehop_model::session::SessionId;

const TABLE: &str = include_str!("../fixtures/evaluation-table.json");

const USER: &str = "arn:aws:iam::123456789012:user/alice";
const ROLE: &str = "arn:aws:iam::123456789012:role/CodeBuildRole";
const SESSION: &str = "arn:aws:sts::123456789012:assumed-role/CodeBuildRole/rolehop-codebuild";
const TARGET: &str = "arn:aws:iam::210987654321:role/ResourceDeployCAR";
const LOCAL: &str = "arn:aws:iam::123456789012:role/LocalDeploy";
const SSO_ROLE: &str = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_Admin_0123456789abcdef";
const SSO_SESSION: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com";

#[derive(Deserialize)]
struct Table {
    rows: Vec<Row>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    name: String,
    source: String,
    caller: From,
    #[serde(default)]
    role: Target,
    #[serde(default)]
    partition: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    mfa: bool,
    #[serde(default)]
    mfa_age: Option<i64>,
    #[serde(default)]
    source_identity: Option<String>,
    /// Absent: an identity policy allowing the hop; `null`: not read.
    #[serde(default = "identity_allows")]
    identity: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    policy: serde_json::Value,
    verdict: Verdict,
    /// Text one of the `missing` lines must hold.
    #[serde(default)]
    says: Option<String>,
    /// Text one of the `details` lines must hold.
    #[serde(default)]
    tells: Option<String>,
    /// The parliament findings the `policy_lint` suite expects of this row, and why.
    #[serde(default)]
    lint: BTreeMap<String, String>,
}

/// The marker for "an identity policy allowing the hop's actions on its role".
fn identity_allows() -> Option<Vec<serde_json::Value>> {
    Some(vec![serde_json::Value::String("allows".into())])
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum From {
    User,
    UnknownUser,
    Role,
    Sso,
    SsoObserved,
    SsoSession,
}

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "kebab-case")]
enum Target {
    #[default]
    Cross,
    Same,
}

fn caller(from: From) -> Caller {
    let user = |arn: Option<&str>| Caller {
        id: SessionId::new(),
        session: "alice".into(),
        kind: CallerKind::IamUser,
        arn: arn.map(str::to_owned),
        account_id: Some("123456789012".into()),
        session_arn: None,
    };
    match from {
        From::User => user(Some(USER)),
        From::UnknownUser => user(None),
        From::Role => Caller {
            id: SessionId::new(),
            session: "codebuild".into(),
            kind: CallerKind::Role,
            arn: Some(ROLE.into()),
            account_id: Some("123456789012".into()),
            session_arn: Some(SESSION.into()),
        },
        // What the engine builds for an IAM Identity Center parent: no ARN.
        From::Sso | From::SsoObserved | From::SsoSession => {
            Caller::sso_role(SessionId::new(), "admin", "123456789012")
        }
    }
}

impl Row {
    fn in_partition(&self, arn: &str) -> String {
        match &self.partition {
            Some(p) => arn.replacen("arn:aws:", &format!("arn:{p}:"), 1),
            None => arn.to_owned(),
        }
    }

    fn hop(&self) -> Hop {
        let mut caller = caller(self.caller);
        caller.arn = caller.arn.map(|a| self.in_partition(&a));
        caller.session_arn = caller.session_arn.map(|a| self.in_partition(&a));
        let role = match self.role {
            Target::Cross => TARGET,
            Target::Same => LOCAL,
        };
        Hop {
            session: "production".into(),
            role_arn: self.in_partition(role),
            role_session_name: "rolehop-production".into(),
            caller,
            external_id: self.external_id.clone(),
            source_identity: self.source_identity.clone(),
            passes_tags: false,
            mfa: self.mfa,
        }
    }

    fn identity(&self, hop: &Hop) -> Option<Vec<PolicyDocument>> {
        let docs = self.identity.as_ref()?;
        Some(
            docs.iter()
                .map(|d| match d {
                    serde_json::Value::String(s) if s == "allows" => {
                        PolicyDocument::new(vec![Statement {
                            action: Some(crate::document::ValueList(
                                hop.actions().into_iter().map(str::to_owned).collect(),
                            )),
                            resource: Some(crate::document::ValueList::one(&hop.role_arn)),
                            ..Statement::allow()
                        }])
                    }
                    d => PolicyDocument::parse(&d.to_string())
                        .unwrap_or_else(|e| panic!("{}: identity policy: {e}", self.name)),
                })
                .collect(),
        )
    }

    fn check(&self) -> Result<(), String> {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let hop = self.hop();
        let policy = PolicyDocument::parse(&self.policy.to_string())
            .map_err(|e| format!("the policy does not parse: {e}"))?;
        let mut ctx = RequestContext::new(&hop, now);
        ctx.principal_org_id = self.org_id.clone();
        ctx.mfa_authenticated_at = self.mfa_age.map(|s| now - Duration::seconds(s));
        ctx.identity_policies = self.identity(&hop);
        let observed = |role_arn: Option<&str>| ObservedCaller {
            arn: SSO_SESSION.into(),
            user_id: self.user_id.clone(),
            role_arn: role_arn.map(str::to_owned),
        };
        ctx.observed = match self.caller {
            From::SsoObserved => Some(observed(Some(SSO_ROLE))),
            From::SsoSession => Some(observed(None)),
            _ => None,
        };
        let got = evaluate(&policy, &ctx);
        if got.verdict != self.verdict {
            return Err(format!("wanted {:?}, got {got:?}", self.verdict));
        }
        if let Some(says) = &self.says
            && !got.missing.iter().any(|m| m.contains(says.as_str()))
        {
            return Err(format!("no missing line says {says:?}: {got:?}"));
        }
        if let Some(tells) = &self.tells
            && !got.details.iter().any(|d| d.contains(tells.as_str()))
        {
            return Err(format!("no details line tells {tells:?}: {got:?}"));
        }
        Ok(())
    }
}

fn table() -> Vec<Row> {
    serde_json::from_str::<Table>(TABLE)
        .expect("fixtures/evaluation-table.json parses")
        .rows
}

#[test]
fn the_evaluator_answers_like_iam_on_every_documented_row() {
    let failures: Vec<String> = table()
        .iter()
        .filter_map(|row| {
            row.check()
                .err()
                .map(|e| format!("{} [{}]: {e}", row.name, row.source))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_row_names_the_aws_documentation_it_encodes_and_why_a_lint_finding_is_expected() {
    let rows = table();
    for row in &rows {
        assert!(
            row.source.contains("https://docs.aws.amazon.com/"),
            "{}: its source names no AWS documentation page: {:?}",
            row.name,
            row.source
        );
        for (issue, why) in &row.lint {
            assert!(
                why.split_whitespace().count() >= 5,
                "{}: the expected parliament finding {issue} needs a reason",
                row.name
            );
        }
    }
    let mut names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), rows.len(), "row names must be unique");
}

#[test]
fn the_table_covers_every_verdict_and_operator_family() {
    let rows = table();
    for verdict in [
        Verdict::Admitted,
        Verdict::ExplicitDeny,
        Verdict::NotAdmitted,
        Verdict::CannotTell,
    ] {
        assert!(rows.iter().any(|r| r.verdict == verdict), "{verdict:?}");
    }
    let text = TABLE;
    for operator in [
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThanEquals",
        "NumericNotEquals",
        "DateGreaterThanEquals",
        "DateNotEquals",
        "ArnEquals",
        "ArnNotLike",
        "aws:MultiFactorAuthAge",
        "sts:SourceIdentity",
        "aws:SourceIdentity",
    ] {
        assert!(text.contains(operator), "no row tests {operator}");
    }
}

#[test]
fn a_cross_account_hop_without_identity_policies_names_the_permissions_to_read_them() {
    let row = table()
        .into_iter()
        .find(|r| r.name == "across accounts the identity side is needed")
        .expect("the row exists");
    let hop = row.hop();
    let policy = PolicyDocument::parse(&row.policy.to_string()).unwrap();
    let got = evaluate(&policy, &RequestContext::new(&hop, Utc::now()));
    assert_eq!(got.verdict, Verdict::CannotTell);
    for permission in identity_read_permissions(CallerKind::Role) {
        assert!(
            got.details.iter().any(|d| d.contains(permission)),
            "{permission}: {got:?}"
        );
    }
}

#[test]
fn an_admission_says_what_was_not_read() {
    let hop = table()
        .into_iter()
        .find(|r| r.name == "same account, the role's ARN is enough")
        .expect("the row exists")
        .hop();
    let policy = PolicyDocument::parse(
        &serde_json::json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
            "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}})
        .to_string(),
    )
    .unwrap();
    let got = evaluate(&policy, &RequestContext::new(&hop, Utc::now()));
    assert_eq!(got.verdict, Verdict::Admitted);
    assert!(
        got.details
            .iter()
            .any(|d| d.contains("permissions boundaries") && d.contains("SCPs")),
        "{got:?}"
    );
}

#[test]
fn a_not_principal_trust_policy_is_refused_naming_the_field() {
    let doc = PolicyDocument::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
            {"Sid":"Others","Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"*"}]}"#,
    )
    .unwrap();
    let err = crate::validity::check_trust_policy(&doc).unwrap_err();
    assert!(
        err.0.contains("Statement[1] ('Others').NotPrincipal"),
        "{err}"
    );
}

#[test]
fn wildcards_match_like_iam() {
    for (p, t, want) in [
        ("sts:*", "sts:AssumeRole", true),
        ("sts:Assume?ole", "sts:AssumeRole", true),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        (
            "arn:aws:iam::*:role/Deploy",
            "arn:aws:iam::1:role/Deployer",
            false,
        ),
    ] {
        assert_eq!(glob(p, t, false), want, "{p} vs {t}");
    }
}
