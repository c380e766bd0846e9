//! IAM's evaluation of one hop's `AssumeRole` request: the role's trust policy, and the
//! caller's identity policies where IAM needs them.
//!
//! The rules, from AWS's policy-evaluation logic: an explicit Deny in any policy wins
//! over any Allow; without an Allow the request is implicitly denied. A statement
//! applies when its Principal, its Action (or NotAction), its Resource (if any) and
//! every condition match ([`crate::condition`]). Which side must allow:
//! - across accounts, both: the trust policy must name the caller or its account, and
//!   the caller's identity policy must allow the actions on the role ("Cross-account
//!   policy evaluation logic");
//! - in one account, the trust policy naming the caller's own ARN is enough (identity-
//!   and resource-based permissions are a union: "Policy evaluation logic"), but one
//!   naming only the account delegates to the account, so the identity policy must
//!   allow too ("AWS account principals").
//!
//! Identity policies Rolehop could not read leave "cannot tell" where they must allow,
//! and name the permissions that would let Rolehop read them. Their Denies, and those
//! of permissions boundaries, SCPs and RCPs, which Rolehop never reads, are said in the
//! details. A key Rolehop cannot know makes the answer "cannot tell", never a guess;
//! a policy IAM would refuse (`NotPrincipal` in a trust policy) is said to be invalid,
//! never given a meaning.

use serde::Serialize;

use crate::condition::Tri;
use crate::document::{Effect, PolicyDocument, Statement};
use crate::fit::{Fit, fit, variables};
use crate::missing::{explain_missing, missing_identity, push_once, unread_identity};
use crate::principal::Named;
pub use crate::request::{ObservedCaller, RequestContext, identity_read_permissions};
use crate::validity::{identity_policy_problems, trust_policy_problems};

pub use crate::pattern::glob;
pub use rolehop_model::explanation::Verdict;

/// The verdict and what explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Evaluation {
    pub verdict: Verdict,
    /// What the policy lacks for this hop, one sentence each (the principal to add, the
    /// external id a condition wants...).
    pub missing: Vec<String>,
    /// Which statements decided, and the condition keys Rolehop cannot know.
    pub details: Vec<String>,
}

/// What one policy (or set of policies) says of one action.
#[derive(Debug, Clone, Copy)]
struct Side {
    deny: Tri,
    /// An Allow naming the caller's own ARN (for identity policies: any Allow).
    direct: Tri,
    /// An Allow naming only the caller's account.
    account: Tri,
}

/// Evaluates the hop's request under the role's trust `policy` (and the caller's
/// identity policies, when `ctx` has them).
pub fn evaluate(policy: &PolicyDocument, ctx: &RequestContext) -> Evaluation {
    let problems = trust_policy_problems(policy);
    if !problems.is_empty() {
        return invalid(problems, "the trust policy");
    }
    if let Some(docs) = &ctx.identity_policies {
        let problems: Vec<String> = docs.iter().flat_map(identity_policy_problems).collect();
        if !problems.is_empty() {
            return invalid(problems, "an identity policy of the caller");
        }
    }
    let hop = ctx.hop;
    let caller = &hop.caller;
    let same_account = match (caller.account_id.as_deref(), hop.role_account()) {
        (Some(a), Some(b)) => Tri::from(a == b),
        _ => Tri::Unknown,
    };
    let mut verdicts = Vec::new();
    let mut missing = Vec::new();
    let mut details = Vec::new();
    for action in hop.actions() {
        let fits: Vec<(usize, &Statement, Fit)> = policy
            .statement
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s, fit(s, action, ctx, variables(policy), false)))
            .collect();
        let trust = side(&fits, action, "", &mut details);
        let identity = ctx.identity_policies.as_ref().map(|docs| {
            let fits: Vec<(usize, &Statement, Fit)> = docs
                .iter()
                .flat_map(|d| d.statement.iter().map(move |s| (d, s)))
                .enumerate()
                .map(|(i, (d, s))| (i, s, fit(s, action, ctx, variables(d), true)))
                .collect();
            let side = side(&fits, action, "identity ", &mut details);
            (side, fits)
        });
        // Unread identity policies cannot allow; their Denies are said below.
        let id_allows = identity.as_ref().map_or(Tri::Unknown, |(s, _)| s.direct);
        let id_denies = identity.as_ref().map_or(Tri::No, |(s, _)| s.deny);
        let on_own = same_account.and(trust.direct);
        let with_identity = same_account
            .and(trust.account)
            .or(same_account.not().and(trust.direct.or(trust.account)))
            .and(id_allows);
        let allowed = on_own.or(with_identity);
        let denied = trust.deny.or(id_denies);
        let verdict = if denied == Tri::Yes {
            Verdict::ExplicitDeny
        } else if allowed == Tri::No {
            if trust.direct.or(trust.account) == Tri::No {
                explain_missing(&fits, action, ctx, &mut missing);
            } else if let Some((_, fits)) = &identity {
                missing_identity(fits, action, ctx, &mut missing);
            }
            Verdict::NotAdmitted
        } else if allowed == Tri::Yes && denied == Tri::No {
            Verdict::Admitted
        } else {
            if identity.is_none() && with_identity != Tri::No && on_own != Tri::Yes {
                push_once(&mut details, unread_identity(ctx, action, same_account));
            }
            Verdict::CannotTell
        };
        verdicts.push(verdict);
    }
    let verdict = [
        Verdict::ExplicitDeny,
        Verdict::NotAdmitted,
        Verdict::CannotTell,
    ]
    .into_iter()
    .find(|v| verdicts.contains(v))
    .unwrap_or(Verdict::Admitted);
    if verdict == Verdict::Admitted {
        let read = if ctx.identity_policies.is_some() {
            ""
        } else {
            "the identity policies of the caller, "
        };
        details.push(format!(
            "not read, and able to deny still: {read}permissions boundaries, SCPs and RCPs"
        ));
    }
    Evaluation {
        verdict,
        missing,
        details,
    }
}

/// A policy IAM would refuse: said, not evaluated.
fn invalid(problems: Vec<String>, which: &str) -> Evaluation {
    Evaluation {
        verdict: Verdict::CannotTell,
        missing: problems
            .iter()
            .map(|p| format!("{which} is not one IAM accepts: {p}"))
            .collect(),
        details: vec![format!(
            "invalid policy: IAM refuses {which} as written, so no verdict is given for it"
        )],
    }
}

/// A policy's Deny and Allow for one action, with the deciding statements in `details`.
fn side(
    fits: &[(usize, &Statement, Fit)],
    action: &str,
    kind: &str,
    details: &mut Vec<String>,
) -> Side {
    let of = |effect: Effect, t: Tri| {
        fits.iter()
            .filter(move |(_, s, f)| s.effect == effect && f.applies() == t)
    };
    for (i, s, _) in of(Effect::Deny, Tri::Yes) {
        details.push(format!("{kind}{} denies {action}", name(*i, s)));
    }
    for (_, _, f) in of(Effect::Deny, Tri::Unknown).chain(of(Effect::Allow, Tri::Unknown)) {
        for key in &f.unknown {
            push_once(
                details,
                format!("cannot tell: the {kind}policy tests {key}, which Rolehop cannot know"),
            );
        }
    }
    let allow = |pick: fn(&Named) -> Tri| {
        fits.iter()
            .filter(|(_, s, _)| s.effect == Effect::Allow)
            .fold(Tri::No, |acc, (_, _, f)| {
                acc.or(f.applies_as(pick(&f.principal)))
            })
    };
    let side = Side {
        deny: fits
            .iter()
            .filter(|(_, s, _)| s.effect == Effect::Deny)
            .fold(Tri::No, |acc, (_, _, f)| acc.or(f.applies())),
        direct: allow(|n| n.direct),
        account: allow(|n| n.account),
    };
    if let Some((i, s, _)) = of(Effect::Allow, Tri::Yes).next()
        && side.deny == Tri::No
    {
        details.push(format!("{kind}{} allows {action}", name(*i, s)));
    }
    side
}

fn name(index: usize, s: &Statement) -> String {
    match &s.sid {
        Some(sid) => format!("statement '{sid}'"),
        None => format!("statement {}", index + 1),
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
