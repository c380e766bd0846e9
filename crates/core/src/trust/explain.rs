//! Why AWS refused a hop's `AssumeRole`, said in trust-policy terms: which hop (the
//! role and the parent that called), the principal the role's trust policy must admit
//! (the statement `trust show` prints), and, when the role's policy can be read, what
//! IAM's rules make of it (`trust check`'s evaluation).
//!
//! The explanation rides on the session's [`crate::model::Failure`] as a typed value,
//! so the CLI, `session list --json` and the desktop read its fields, never a message's
//! words. It is worked out only after a start failed with `AccessDenied` on a role hop,
//! and within [`EXPLAIN_BOUND`]: a start that succeeds never waits for it.

use std::time::Duration;

use serde::Serialize;

use crate::chain::{ChainError, ChainFailure};
use crate::model::SessionKind;
pub use rolehop_model::explanation::{PolicyReading, TrustExplanation};

use crate::trust::evaluate::{Evaluation, Verdict};
use crate::trust::statement::HopNeeds;
use crate::workspace::Workspace;

/// How long explaining a refused start may take, all told (asking STS for the IAM
/// user's ARN, the reader's credentials, `iam:GetRole`). Past it the explanation keeps
/// what needs no network: the hop, the principal, the statements.
pub const EXPLAIN_BOUND: Duration = Duration::from_secs(5);

/// The AWS error code of a refused call.
const ACCESS_DENIED: &str = "AccessDenied";

/// What the evaluator said of a policy read by `source`.
pub fn evaluated(source: String, evaluation: Evaluation) -> PolicyReading {
    PolicyReading::Evaluated {
        source,
        verdict: evaluation.verdict,
        missing: evaluation.missing,
        details: evaluation.details,
    }
}

fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("a statement serializes")
}

/// The explanation of `needs`' hop, given what was found of its policy.
pub fn explanation(needs: &HopNeeds, policy: PolicyReading) -> TrustExplanation {
    let hop = &needs.hop;
    let principal = hop.caller.principal();
    let who = principal
        .clone()
        .unwrap_or_else(|| format!("the ARN of '{}'", hop.caller.session));
    let actions = hop.actions().join(", ");
    let mut summary = format!(
        "AWS refused {actions} on {} by '{}' (the hop to '{}'): the trust policy of {} must \
         admit {who}",
        hop.role_arn, hop.caller.session, hop.session, hop.role_arn
    );
    if let Some(x) = &hop.external_id {
        summary.push_str(&format!(" with sts:ExternalId \"{x}\""));
    }
    let reading = match &policy {
        PolicyReading::Evaluated {
            source,
            verdict,
            missing,
            details,
        } => match verdict {
            Verdict::NotAdmitted => format!("; it does not ({source}): {}", missing.join("; ")),
            Verdict::ExplicitDeny => {
                format!(
                    "; it explicitly denies it ({source}): {}",
                    details.join("; ")
                )
            }
            Verdict::CannotTell => format!(
                "; whether it does depends on what Rolehop cannot know ({source}): {}",
                details.join("; ")
            ),
            Verdict::Admitted => format!(
                "; it does ({source}), so the refusal is on the caller's side: the identity \
                 policy of '{}' must allow {actions} on {} (or a permissions boundary or SCP \
                 denies it)",
                hop.caller.session, hop.role_arn
            ),
        },
        PolicyReading::Unread { reason } => {
            format!("; its trust policy could not be read: {reason}")
        }
    };
    summary.push_str(&reading);
    summary.push_str(&format!(
        " (`rolehop trust show {}` prints the statements)",
        hop.session
    ));
    TrustExplanation {
        session: hop.session.clone(),
        role_arn: hop.role_arn.clone(),
        parent: hop.caller.session.clone(),
        principal,
        trust_statement: pretty(&needs.trust_statement),
        identity_statement: pretty(&needs.identity_statement),
        policy,
        summary,
    }
}

/// The role hop whose `AssumeRole` AWS refused with `AccessDenied`, if that is what
/// `error` is: an STS error at a hop that is a role session.
pub fn refused_role_hop<'a>(ws: &'a Workspace, error: &ChainError) -> Option<&'a str> {
    let ChainFailure::Sts(e) = &error.cause else {
        return None;
    };
    if e.code != ACCESS_DENIED {
        return None;
    }
    let stored = ws.find(&error.hop).ok()?;
    matches!(stored.session.kind, SessionKind::Role(_)).then_some(stored.session.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sts::StsError;
    use crate::trust::statement::tests::{alice_known, story};
    use crate::trust::statement::{NeedsOptions, UserArns, hops, needs};

    fn needs_of(ws: &Workspace, session: &str, users: &UserArns) -> HopNeeds {
        let id = ws.find(session).unwrap().session.id;
        needs(
            &hops(ws, id, users).pop().unwrap(),
            users,
            NeedsOptions::default(),
        )
    }

    fn evaluated(verdict: Verdict, missing: &[&str], details: &[&str]) -> PolicyReading {
        PolicyReading::Evaluated {
            source: "iam:GetRole as 'codebuild'".into(),
            verdict,
            missing: missing.iter().map(|s| s.to_string()).collect(),
            details: details.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_missing_principal_names_the_hop_the_principal_and_what_to_add() {
        let ws = story(None, None);
        let n = needs_of(&ws, "production", &alice_known(&ws));
        let missing = "the policy does not trust arn:aws:iam::123456789012:role/CodeBuildRole \
                       ('codebuild'): add it to Principal.AWS";
        let e = explanation(&n, evaluated(Verdict::NotAdmitted, &[missing], &[]));
        assert_eq!(e.session, "production");
        assert_eq!(e.parent, "codebuild");
        assert_eq!(
            e.principal.as_deref(),
            Some("arn:aws:iam::123456789012:role/CodeBuildRole")
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&e.trust_statement).unwrap(),
            serde_json::to_value(&n.trust_statement).unwrap(),
            "the statement is trust show's"
        );
        assert!(
            e.summary.starts_with(
                "AWS refused sts:AssumeRole on arn:aws:iam::210987654321:role/ResourceDeployCAR \
                 by 'codebuild' (the hop to 'production'): the trust policy of \
                 arn:aws:iam::210987654321:role/ResourceDeployCAR must admit \
                 arn:aws:iam::123456789012:role/CodeBuildRole; it does not (iam:GetRole as \
                 'codebuild'): the policy does not trust"
            ),
            "{}",
            e.summary
        );
        assert!(
            e.summary
                .ends_with("(`rolehop trust show production` prints the statements)")
        );
    }

    #[test]
    fn an_external_id_the_hop_sends_is_part_of_what_the_policy_must_admit() {
        let ws = story(Some("deploy-42"), None);
        let n = needs_of(&ws, "production", &alice_known(&ws));
        let e = explanation(
            &n,
            PolicyReading::Unread {
                reason: "no session can read it".into(),
            },
        );
        assert!(
            e.summary
                .contains("must admit arn:aws:iam::123456789012:role/CodeBuildRole with sts:ExternalId \"deploy-42\"; its trust policy could not be read: no session can read it"),
            "{}",
            e.summary
        );
        assert!(
            e.trust_statement
                .contains("\"sts:ExternalId\": \"deploy-42\"")
        );
    }

    #[test]
    fn each_verdict_reads_as_its_own_reason() {
        let ws = story(None, None);
        let n = needs_of(&ws, "production", &alice_known(&ws));
        let cases = [
            (
                evaluated(
                    Verdict::NotAdmitted,
                    &[
                        "the condition StringEquals wants sts:ExternalId = \"x\"; this hop sends none",
                    ],
                    &[],
                ),
                "it does not (iam:GetRole as 'codebuild'): the condition StringEquals wants sts:ExternalId",
            ),
            (
                evaluated(
                    Verdict::ExplicitDeny,
                    &[],
                    &["statement 'NoOne' denies sts:AssumeRole"],
                ),
                "it explicitly denies it (iam:GetRole as 'codebuild'): statement 'NoOne' denies",
            ),
            (
                evaluated(
                    Verdict::CannotTell,
                    &[],
                    &[
                        "cannot tell: the policy tests aws:PrincipalTag/team, which Rolehop cannot know",
                    ],
                ),
                "depends on what Rolehop cannot know (iam:GetRole as 'codebuild'): cannot tell: the policy tests aws:PrincipalTag/team",
            ),
            (
                evaluated(
                    Verdict::Admitted,
                    &[],
                    &["statement 1 allows sts:AssumeRole"],
                ),
                "so the refusal is on the caller's side: the identity policy of 'codebuild' must allow sts:AssumeRole on arn:aws:iam::210987654321:role/ResourceDeployCAR",
            ),
        ];
        for (reading, expected) in cases {
            let e = explanation(&n, reading);
            assert!(e.summary.contains(expected), "{expected}\n{}", e.summary);
        }
    }

    #[test]
    fn an_unknown_iam_user_is_explained_with_its_account_root() {
        let ws = story(None, None);
        let n = needs_of(&ws, "codebuild", &UserArns::new());
        let e = explanation(
            &n,
            PolicyReading::Unread {
                reason: "took longer than 5 s".into(),
            },
        );
        assert_eq!(e.parent, "alice");
        assert_eq!(
            e.principal.as_deref(),
            Some("arn:aws:iam::123456789012:root")
        );
        assert!(
            e.summary
                .contains("must admit arn:aws:iam::123456789012:root")
        );
    }

    #[test]
    fn only_an_access_denied_at_a_role_hop_is_explained() {
        let ws = story(None, None);
        let error = |hop: &str, code: &str| ChainError {
            hop: hop.into(),
            cause: ChainFailure::Sts(StsError {
                code: code.into(),
                message: "refused".into(),
            }),
        };
        assert_eq!(
            refused_role_hop(&ws, &error("production", "AccessDenied")),
            Some("production")
        );
        assert_eq!(
            refused_role_hop(&ws, &error("codebuild", "AccessDenied")),
            Some("codebuild")
        );
        // GetSessionToken refused for the IAM user: no trust policy is involved.
        assert_eq!(refused_role_hop(&ws, &error("alice", "AccessDenied")), None);
        assert_eq!(
            refused_role_hop(&ws, &error("production", "ExpiredToken")),
            None
        );
        let missing_keys = ChainError {
            hop: "production".into(),
            cause: ChainFailure::MissingKeys,
        };
        assert_eq!(refused_role_hop(&ws, &missing_keys), None);
    }

    #[test]
    fn a_failure_without_an_explanation_reads_as_round_1_stored_it() {
        let stored = serde_json::json!({"code": "AccessDenied", "message": "no"});
        let failure: crate::model::Failure = serde_json::from_value(stored).unwrap();
        assert_eq!(failure.trust, None);
        assert!(
            !serde_json::to_string(&failure).unwrap().contains("trust"),
            "an unexplained failure is written as before"
        );
    }
}
