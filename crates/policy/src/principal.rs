//! Whether a trust policy's `Principal` names the caller, and how: by its own ARN (the
//! IAM user, the role, the role session, or `"*"`), which is enough on the role's side;
//! or by its account (an account id or `arn:PARTITION:iam::ACCOUNT:root`), which
//! delegates to the account: IAM then also needs the caller's identity policy to allow
//! the call (AWS's "AWS account principals": "This delegates authority to the account").
//!
//! Role principals are matched as IAM stores them: a role ARN in a trust policy stands
//! for the role (IAM keeps its unique id), whatever its path; role names are unique
//! within an account, so a role ARN of the caller's account naming the caller's role
//! name names the caller. A caller Rolehop cannot name (an IAM Identity Center session
//! whose real ARN was not asked) is "cannot tell" against a principal of its account,
//! never "not admitted".

use crate::arn::{self, Arn, PrincipalArn, is_account_id};
use crate::condition::Tri;
use crate::document::Principal;
use crate::hop::CallerKind;
use crate::request::RequestContext;

/// How a `Principal` names the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Named {
    /// By the caller's own ARN (or `"*"`).
    pub(crate) direct: Tri,
    /// By the caller's account.
    pub(crate) account: Tri,
}

impl Named {
    const NO: Named = Named {
        direct: Tri::No,
        account: Tri::No,
    };

    /// Named at all.
    pub(crate) fn any(self) -> Tri {
        self.direct.or(self.account)
    }

    fn or(self, other: Named) -> Named {
        Named {
            direct: self.direct.or(other.direct),
            account: self.account.or(other.account),
        }
    }
}

/// How `p`'s `AWS` entries name the caller; what Rolehop could not know goes to
/// `unknown`.
pub(crate) fn names_caller(
    p: &Principal,
    ctx: &RequestContext,
    unknown: &mut Vec<String>,
) -> Named {
    p.aws_entries()
        .into_iter()
        .fold(Named::NO, |acc, e| acc.or(entry(e, ctx, unknown)))
}

fn entry(entry: &str, ctx: &RequestContext, unknown: &mut Vec<String>) -> Named {
    let caller = &ctx.hop.caller;
    let direct = |t: Tri| Named {
        direct: t,
        account: Tri::No,
    };
    if entry == "*" {
        return direct(Tri::Yes);
    }
    let arn = arn::parse(entry);
    let account_entry = if is_account_id(entry) {
        Some(entry)
    } else {
        arn.and_then(|a| a.account_root())
    };
    if let Some(account) = account_entry {
        let partition_ok = arn.is_none_or(|a| Some(a.partition) == ctx.partition());
        let t = match &caller.account_id {
            Some(a) => Tri::from(partition_ok && a == account),
            None => {
                unknown.push(format!("the account of '{}'", caller.session));
                Tri::Unknown
            }
        };
        return Named {
            direct: Tri::No,
            account: t,
        };
    }
    if ctx.caller_arn() == Some(entry) || ctx.caller_session_arn() == Some(entry) {
        return direct(Tri::Yes);
    }
    let Some(arn) = arn else {
        return Named::NO;
    };
    if Some(arn.partition) != ctx.partition() {
        return Named::NO;
    }
    match caller.account_id.as_deref() {
        Some(a) if a != arn.account => return Named::NO,
        Some(_) => {}
        None => {
            unknown.push(format!("the account of '{}'", caller.session));
            return direct(Tri::Unknown);
        }
    }
    match caller.kind {
        CallerKind::IamUser if ctx.caller_arn().is_none() && arn.resource.starts_with("user/") => {
            unknown.push(format!("the IAM user name behind '{}'", caller.session));
            direct(Tri::Unknown)
        }
        CallerKind::IamUser => Named::NO,
        CallerKind::Role => role_entry(arn, ctx, unknown),
    }
}

/// A role or role-session principal of the caller's account, against a role caller.
fn role_entry(arn: Arn, ctx: &RequestContext, unknown: &mut Vec<String>) -> Named {
    let t = match (
        arn.role_name(),
        arn.assumed_role_name(),
        ctx.caller_role_name(),
    ) {
        // Role names are unique in an account, whatever the path.
        (Some(name), _, Some(own)) => Tri::from(name == own),
        // Another session of the caller's role, or another role's session.
        (_, Some(_), Some(_)) if ctx.caller_session_arn().is_some() => Tri::No,
        (Some(_), _, None) | (_, Some(_), _) => {
            unknown.push(format!(
                "the role behind '{}' (an IAM Identity Center session is named by \
                 sts:GetCallerIdentity; its path by iam:GetRole)",
                ctx.hop.caller.session
            ));
            Tri::Unknown
        }
        _ => Tri::No,
    };
    Named {
        direct: t,
        account: Tri::No,
    }
}
