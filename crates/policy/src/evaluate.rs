//! IAM's evaluation of a trust policy for one hop's `AssumeRole` request.
//!
//! The rules, from AWS's policy-evaluation logic: an explicit Deny wins over any
//! Allow; without an Allow the request is implicitly denied. A statement applies when
//! its Principal (or NotPrincipal), its Action (or NotAction), its Resource (if any)
//! and every condition match ([`crate::condition`]). A key Rolehop cannot know
//! (the principal's tags, its organization, the caller's IP...) makes the answer
//! "cannot tell", never a guess.

use serde::Serialize;

pub use crate::condition::glob;
use crate::condition::{Tri, Unmet, conditions_hold};
use crate::document::{Effect, PolicyDocument, Principal, Statement};
use crate::hop::CallerKind;
pub use crate::request::RequestContext;

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

/// How one statement fares for one action.
struct Fit {
    principal: Tri,
    action: bool,
    resource: bool,
    conditions: Tri,
    unmet: Vec<Unmet>,
    unknown: Vec<String>,
}

impl Fit {
    fn applies(&self) -> Tri {
        self.principal
            .and(Tri::from(self.action && self.resource))
            .and(self.conditions)
    }
}

/// Evaluates `policy` for the hop's request.
pub fn evaluate(policy: &PolicyDocument, ctx: &RequestContext) -> Evaluation {
    let mut verdicts = Vec::new();
    let mut missing = Vec::new();
    let mut details = Vec::new();
    for action in ctx.hop.actions() {
        let fits: Vec<(usize, &Statement, Fit)> = policy
            .statement
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s, fit(s, action, ctx)))
            .collect();
        let of = |effect: Effect, t: Tri| {
            fits.iter()
                .filter(move |(_, s, f)| s.effect == effect && f.applies() == t)
        };
        for (i, s, _) in of(Effect::Deny, Tri::Yes) {
            details.push(format!("{} denies {action}", name(*i, s)));
        }
        for (_, _, f) in of(Effect::Deny, Tri::Unknown).chain(of(Effect::Allow, Tri::Unknown)) {
            for key in &f.unknown {
                let line =
                    format!("cannot tell: the policy tests {key}, which Rolehop cannot know");
                if !details.contains(&line) {
                    details.push(line);
                }
            }
        }
        let verdict = if of(Effect::Deny, Tri::Yes).next().is_some() {
            Verdict::ExplicitDeny
        } else if let Some((i, s, _)) = of(Effect::Allow, Tri::Yes).next() {
            if of(Effect::Deny, Tri::Unknown).next().is_some() {
                Verdict::CannotTell
            } else {
                details.push(format!("{} allows {action}", name(*i, s)));
                Verdict::Admitted
            }
        } else if of(Effect::Allow, Tri::Unknown).next().is_some() {
            Verdict::CannotTell
        } else {
            explain_missing(&fits, action, ctx, &mut missing);
            Verdict::NotAdmitted
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
    let hop = ctx.hop;
    if verdict == Verdict::Admitted && hop.role_account() != hop.caller.account_id.as_deref() {
        // Across accounts both sides must allow; the caller's side is not read here.
        details.push(format!(
            "across accounts IAM also needs the identity policy of '{}' to allow {} on {} \
             (not checked: `rolehop trust show {}` prints that statement)",
            hop.caller.session,
            hop.actions().join(", "),
            hop.role_arn,
            hop.session
        ));
    }
    Evaluation {
        verdict,
        missing,
        details,
    }
}

fn name(index: usize, s: &Statement) -> String {
    match &s.sid {
        Some(sid) => format!("statement '{sid}'"),
        None => format!("statement {}", index + 1),
    }
}

fn explain_missing(
    fits: &[(usize, &Statement, Fit)],
    action: &str,
    ctx: &RequestContext,
    missing: &mut Vec<String>,
) {
    let allows: Vec<&Fit> = fits
        .iter()
        .filter(|(_, s, f)| s.effect == Effect::Allow && f.action && f.resource)
        .map(|(_, _, f)| f)
        .collect();
    if allows.is_empty() {
        missing.push(format!(
            "no Allow statement grants {action}: add it to Action"
        ));
        return;
    }
    let caller = &ctx.hop.caller;
    if allows.iter().all(|f| f.principal == Tri::No) {
        let principal = caller
            .principal()
            .unwrap_or_else(|| format!("the ARN of '{}'", caller.session));
        let line = format!(
            "the policy does not trust {principal} ('{}'): add it to Principal.AWS",
            caller.session
        );
        if !missing.contains(&line) {
            missing.push(line);
        }
        return;
    }
    for f in allows.iter().filter(|f| f.principal != Tri::No) {
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
            let line = format!(
                "the condition {} wants {} = {wanted}; {sent}{hint}",
                u.operator, u.key
            );
            if !missing.contains(&line) {
                missing.push(line);
            }
        }
    }
}

fn fit(s: &Statement, action: &str, ctx: &RequestContext) -> Fit {
    let mut unknown = Vec::new();
    let principal = match (&s.principal, &s.not_principal) {
        (Some(p), _) => principal_matches(p, ctx, &mut unknown),
        (None, Some(np)) => not_principal_applies(np, ctx, &mut unknown),
        // A trust policy statement without a principal names nobody.
        (None, None) => Tri::No,
    };
    let action_ok = match (&s.action, &s.not_action) {
        (Some(a), _) => a.iter().any(|p| glob(p, action, true)),
        (None, Some(na)) => !na.iter().any(|p| glob(p, action, true)),
        (None, None) => false,
    };
    let role = &ctx.hop.role_arn;
    let resource = match (&s.resource, &s.not_resource) {
        (Some(r), _) => r.iter().any(|p| glob(p, role, false)),
        (None, Some(nr)) => !nr.iter().any(|p| glob(p, role, false)),
        (None, None) => true,
    };
    let mut unmet = Vec::new();
    let conditions = match &s.condition {
        Some(c) => conditions_hold(c, ctx, &mut unmet, &mut unknown),
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

/// Whether one `Principal` entry names the caller.
fn entry_names_caller(entry: &str, ctx: &RequestContext, unknown: &mut Vec<String>) -> Tri {
    let caller = &ctx.hop.caller;
    if entry == "*" {
        return Tri::Yes;
    }
    let account_entry = if entry.len() == 12 && entry.bytes().all(|b| b.is_ascii_digit()) {
        Some(entry)
    } else {
        entry
            .strip_prefix("arn:aws:iam::")
            .and_then(|rest| rest.strip_suffix(":root"))
    };
    if let Some(account) = account_entry {
        // The account root delegates to the account: any of its principals whose own
        // identity policy allows the call.
        return match &caller.account_id {
            Some(a) => Tri::from(a == account),
            None => {
                unknown.push(format!("the account of '{}'", caller.session));
                Tri::Unknown
            }
        };
    }
    if caller.arn.as_deref() == Some(entry) || caller.session_arn.as_deref() == Some(entry) {
        return Tri::Yes;
    }
    let same_account = caller
        .account_id
        .as_deref()
        .is_some_and(|a| entry.split(':').nth(4) == Some(a));
    if caller.arn.is_none() && same_account && entry.contains(":user/") {
        unknown.push(format!("the IAM user name behind '{}'", caller.session));
        return Tri::Unknown;
    }
    Tri::No
}

fn principal_matches(p: &Principal, ctx: &RequestContext, unknown: &mut Vec<String>) -> Tri {
    p.aws_entries().into_iter().fold(Tri::No, |acc, e| {
        acc.or(entry_names_caller(e, ctx, unknown))
    })
}

/// `NotPrincipal` spares the caller only when every name IAM evaluates for it is
/// listed: the user and its account; or the role session and its account (AWS's
/// documentation says to list all of them, or the statement still applies).
fn not_principal_applies(np: &Principal, ctx: &RequestContext, unknown: &mut Vec<String>) -> Tri {
    let caller = &ctx.hop.caller;
    let entries = np.aws_entries();
    let listed = |name: Option<&str>, unknown: &mut Vec<String>| match name {
        Some(n) => Tri::from(entries.iter().any(|e| *e == "*" || *e == n)),
        None => {
            if entries.contains(&"*") {
                Tri::Yes
            } else {
                unknown.push(format!("the ARN of '{}'", caller.session));
                Tri::Unknown
            }
        }
    };
    let own = match caller.kind {
        CallerKind::IamUser => caller.arn.as_deref(),
        CallerKind::Role => caller.session_arn.as_deref(),
    };
    let root = caller
        .account_id
        .as_ref()
        .map(|a| format!("arn:aws:iam::{a}:root"));
    let account_listed = match &caller.account_id {
        Some(a) => Tri::from(
            entries
                .iter()
                .any(|e| *e == "*" || *e == a || Some(*e) == root.as_deref()),
        ),
        None => listed(None, unknown),
    };
    listed(own, unknown).and(account_listed).not()
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
