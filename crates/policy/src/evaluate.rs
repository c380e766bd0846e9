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

use crate::condition::{Tri, Unmet, conditions_hold};
use crate::document::{Effect, POLICY_VERSION, PolicyDocument, Statement, ValueList};
use crate::hop::CallerKind;
use crate::pattern::Pattern;
use crate::principal::{Named, names_caller};
pub use crate::request::{ObservedCaller, RequestContext};
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

/// The permissions that let a session read its own identity policies: inline and
/// attached, and for an IAM user its groups'.
pub fn identity_read_permissions(kind: CallerKind) -> &'static [&'static str] {
    match kind {
        CallerKind::IamUser => &[
            "iam:ListUserPolicies",
            "iam:GetUserPolicy",
            "iam:ListAttachedUserPolicies",
            "iam:ListGroupsForUser",
            "iam:ListGroupPolicies",
            "iam:GetGroupPolicy",
            "iam:ListAttachedGroupPolicies",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
        ],
        CallerKind::Role => &[
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
        ],
    }
}

/// How one statement fares for one action.
struct Fit {
    principal: Named,
    action: bool,
    resource: Tri,
    conditions: Tri,
    unmet: Vec<Unmet>,
    unknown: Vec<String>,
}

impl Fit {
    /// Whether it applies, naming the caller in any way.
    fn applies(&self) -> Tri {
        self.applies_as(self.principal.any())
    }

    fn applies_as(&self, named: Tri) -> Tri {
        named
            .and(Tri::from(self.action))
            .and(self.resource)
            .and(self.conditions)
    }
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
            "not read, and able to deny still: {read}permissions boundaries, session \
             policies, SCPs and RCPs"
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

/// Whether `${...}` are policy variables in `doc` (version 2012-10-17 only).
fn variables(doc: &PolicyDocument) -> bool {
    doc.version.as_deref() == Some(POLICY_VERSION)
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

fn push_once(lines: &mut Vec<String>, line: String) {
    if !lines.contains(&line) {
        lines.push(line);
    }
}

/// Why the identity policies matter and how Rolehop could read them.
fn unread_identity(ctx: &RequestContext, action: &str, same_account: Tri) -> String {
    let hop = ctx.hop;
    let why = match same_account {
        Tri::No => "across accounts IAM also needs",
        Tri::Yes => "the trust policy names the account, not the caller, so IAM also needs",
        Tri::Unknown => "unless the caller is in the role's account, IAM also needs",
    };
    format!(
        "cannot tell: {why} the identity policy of '{}' to allow {action} on {}, which \
         Rolehop has not read (reading it takes {}; `rolehop trust show {}` prints the \
         statement it needs)",
        hop.caller.session,
        hop.role_arn,
        identity_read_permissions(hop.caller.kind).join(", "),
        hop.session
    )
}

fn name(index: usize, s: &Statement) -> String {
    match &s.sid {
        Some(sid) => format!("statement '{sid}'"),
        None => format!("statement {}", index + 1),
    }
}

fn missing_identity(
    fits: &[(usize, &Statement, Fit)],
    action: &str,
    ctx: &RequestContext,
    missing: &mut Vec<String>,
) {
    let hop = ctx.hop;
    push_once(
        missing,
        format!(
            "no identity policy of '{}' allows {action} on {}: attach the identity \
             statement `rolehop trust show {}` prints",
            hop.caller.session, hop.role_arn, hop.session
        ),
    );
    unmet_lines(fits, ctx, missing);
}

fn explain_missing(
    fits: &[(usize, &Statement, Fit)],
    action: &str,
    ctx: &RequestContext,
    missing: &mut Vec<String>,
) {
    let allows: Vec<&Fit> = fits
        .iter()
        .filter(|(_, s, f)| s.effect == Effect::Allow && f.action && f.resource != Tri::No)
        .map(|(_, _, f)| f)
        .collect();
    if allows.is_empty() {
        missing.push(format!(
            "no Allow statement grants {action}: add it to Action"
        ));
        return;
    }
    let caller = &ctx.hop.caller;
    if allows.iter().all(|f| f.principal.any() == Tri::No) {
        let principal = ctx
            .caller_arn()
            .map(str::to_owned)
            .or_else(|| caller.principal())
            .unwrap_or_else(|| format!("the ARN of '{}'", caller.session));
        push_once(
            missing,
            format!(
                "the policy does not trust {principal} ('{}'): add it to Principal.AWS",
                caller.session
            ),
        );
        return;
    }
    unmet_lines(fits, ctx, missing);
}

/// One line per condition that kept an Allow from applying.
fn unmet_lines(fits: &[(usize, &Statement, Fit)], ctx: &RequestContext, missing: &mut Vec<String>) {
    let allows = fits
        .iter()
        .filter(|(_, s, f)| s.effect == Effect::Allow && f.principal.any() != Tri::No)
        .map(|(_, _, f)| f);
    for f in allows {
        for u in &f.unmet {
            let sent = match &u.actual {
                Some(v) => format!("this hop sends \"{v}\""),
                None => "this hop sends none".to_owned(),
            };
            let wanted = u
                .wanted
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            let hint = if u.key.eq_ignore_ascii_case("sts:ExternalId") && u.wanted.len() == 1 {
                format!(
                    " (rolehop session edit role {} --external-id {})",
                    ctx.hop.session, u.wanted[0]
                )
            } else {
                String::new()
            };
            push_once(
                missing,
                format!(
                    "the condition {} wants {} = {wanted}; {sent}{hint}",
                    u.operator, u.key
                ),
            );
        }
    }
}

/// How statement `s` fares for `action`; `identity` for an identity policy's (no
/// Principal: it names the caller it is attached to; a Resource is required).
fn fit(s: &Statement, action: &str, ctx: &RequestContext, variables: bool, identity: bool) -> Fit {
    let mut unknown = Vec::new();
    let principal = match (&s.principal, identity) {
        (_, true) => Named {
            direct: Tri::Yes,
            account: Tri::No,
        },
        (Some(p), false) => names_caller(p, ctx, &mut unknown),
        // A trust policy statement without a principal names nobody.
        (None, false) => Named {
            direct: Tri::No,
            account: Tri::No,
        },
    };
    let action_ok = match (&s.action, &s.not_action) {
        (Some(a), _) => a.iter().any(|p| glob(p, action, true)),
        (None, Some(na)) => !na.iter().any(|p| glob(p, action, true)),
        (None, None) => false,
    };
    let role = &ctx.hop.role_arn;
    let mut resource_matches = |patterns: &ValueList| {
        patterns.iter().fold(Tri::No, |acc, p| {
            let t = match Pattern::resolve(p, ctx, variables) {
                Ok(pattern) => Tri::from(pattern.matches(role, false)),
                Err(v) => {
                    unknown.push(format!("the policy variable {}", v.0));
                    Tri::Unknown
                }
            };
            acc.or(t)
        })
    };
    let resource = match (&s.resource, &s.not_resource) {
        (Some(r), _) => resource_matches(r),
        (None, Some(nr)) => resource_matches(nr).not(),
        (None, None) => Tri::Yes,
    };
    let mut unmet = Vec::new();
    let conditions = match &s.condition {
        Some(c) => conditions_hold(c, ctx, variables, &mut unmet, &mut unknown),
        None => Tri::Yes,
    };
    Fit {
        principal,
        action: action_ok,
        resource,
        conditions,
        unmet,
        unknown,
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
