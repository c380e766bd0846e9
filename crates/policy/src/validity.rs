//! What IAM refuses to store, so that the evaluator says "invalid" instead of giving
//! such a policy a meaning.
//!
//! - A role trust policy may not use `NotPrincipal` ("You cannot use the NotPrincipal
//!   element in an IAM identity-based policy nor in an IAM role trust policy"), and
//!   `NotPrincipal` never goes with `"Effect": "Allow"` (AWS JSON policy elements:
//!   NotPrincipal).
//! - An identity policy names no principal (it is the identity it is attached to: AWS
//!   JSON policy elements: Principal) and each statement needs `Resource` or
//!   `NotResource` (AWS JSON policy elements: Resource).

use crate::document::{Effect, PolicyDocument, PolicyError, Statement};

fn label(index: usize, s: &Statement) -> String {
    match &s.sid {
        Some(sid) => format!("Statement[{index}] ('{sid}')"),
        None => format!("Statement[{index}]"),
    }
}

/// Each reason IAM would refuse `doc` as a role trust policy, naming the field.
pub fn trust_policy_problems(doc: &PolicyDocument) -> Vec<String> {
    let mut out = Vec::new();
    for (i, s) in doc.statement.iter().enumerate() {
        if s.not_principal.is_some() {
            let with_allow = if s.effect == Effect::Allow {
                ", and never with \"Effect\": \"Allow\""
            } else {
                ""
            };
            out.push(format!(
                "{}.NotPrincipal: IAM does not allow NotPrincipal in a role trust \
                 policy{with_allow}; use a Deny with ArnNotEquals on aws:PrincipalArn",
                label(i, s)
            ));
        }
    }
    out
}

/// Each reason IAM would refuse `doc` as an identity policy, naming the field.
pub fn identity_policy_problems(doc: &PolicyDocument) -> Vec<String> {
    let mut out = Vec::new();
    for (i, s) in doc.statement.iter().enumerate() {
        if s.principal.is_some() || s.not_principal.is_some() {
            out.push(format!(
                "{}.Principal: an identity policy names no principal",
                label(i, s)
            ));
        }
        if s.resource.is_none() && s.not_resource.is_none() {
            out.push(format!(
                "{}.Resource: an identity policy statement needs Resource or NotResource",
                label(i, s)
            ));
        }
    }
    out
}

/// `doc` as a role trust policy, or the first reason IAM would refuse it.
pub fn check_trust_policy(doc: &PolicyDocument) -> Result<(), PolicyError> {
    match trust_policy_problems(doc).into_iter().next() {
        Some(problem) => Err(PolicyError(problem)),
        None => Ok(()),
    }
}
