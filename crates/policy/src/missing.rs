//! What a policy lacks for a hop, in sentences a user can act on: the principal to add,
//! the condition that wants another value, the identity statement to attach, or the
//! identity policies Rolehop would need to read.

use crate::condition::Tri;
use crate::document::{Effect, Statement};
use crate::fit::Fit;
use crate::request::{RequestContext, identity_read_permissions};

/// Adds `line` unless it is there already (one sentence per need, however many
/// actions or statements lead to it).
pub(crate) fn push_once(lines: &mut Vec<String>, line: String) {
    if !lines.contains(&line) {
        lines.push(line);
    }
}

/// Why the identity policies matter and how Rolehop could read them.
pub(crate) fn unread_identity(ctx: &RequestContext, action: &str, same_account: Tri) -> String {
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

pub(crate) fn missing_identity(
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

pub(crate) fn explain_missing(
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
