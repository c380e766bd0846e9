//! How one statement fares for one action of one request: whether its Principal names
//! the caller (and how), whether its Action and Resource match, and whether its
//! conditions hold, each in three-valued logic. An identity policy's statement names
//! no principal: it is about the identity it is attached to.

use crate::condition::{Tri, Unmet, conditions_hold};
use crate::document::{POLICY_VERSION, PolicyDocument, Statement, ValueList};
use crate::pattern::{Pattern, glob};
use crate::principal::{Named, names_caller};
use crate::request::RequestContext;

/// How one statement fares for one action.
pub(crate) struct Fit {
    pub(crate) principal: Named,
    pub(crate) action: bool,
    pub(crate) resource: Tri,
    pub(crate) conditions: Tri,
    pub(crate) unmet: Vec<Unmet>,
    pub(crate) unknown: Vec<String>,
}

impl Fit {
    /// Whether it applies, naming the caller in any way.
    pub(crate) fn applies(&self) -> Tri {
        self.applies_as(self.principal.any())
    }

    pub(crate) fn applies_as(&self, named: Tri) -> Tri {
        named
            .and(Tri::from(self.action))
            .and(self.resource)
            .and(self.conditions)
    }
}

/// Whether `${...}` are policy variables in `doc` (version 2012-10-17 only).
pub(crate) fn variables(doc: &PolicyDocument) -> bool {
    doc.version.as_deref() == Some(POLICY_VERSION)
}

/// How statement `s` fares for `action`; `identity` for an identity policy's (no
/// Principal: it names the caller it is attached to; a Resource is required).
pub(crate) fn fit(
    s: &Statement,
    action: &str,
    ctx: &RequestContext,
    variables: bool,
    identity: bool,
) -> Fit {
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
