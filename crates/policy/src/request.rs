//! One `AssumeRole` request as IAM's evaluator sees it: the hop's facts plus the clock,
//! and the value each condition key takes in it (or that Rolehop cannot know it).

use chrono::{DateTime, Utc};

use crate::hop::{CallerKind, Hop};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    Absent,
    Value(String),
    Unknown,
}

/// The request as IAM's evaluator sees it: the hop's facts plus the clock.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub hop: &'a Hop,
    pub now: DateTime<Utc>,
    /// `aws:PrincipalOrgID`, when known.
    pub principal_org_id: Option<String>,
}

impl<'a> RequestContext<'a> {
    pub fn new(hop: &'a Hop, now: DateTime<Utc>) -> Self {
        Self {
            hop,
            now,
            principal_org_id: None,
        }
    }

    /// A context key's value in this request.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let hop = self.hop;
        let known = |v: Option<&str>| match v {
            Some(v) => Lookup::Value(v.to_owned()),
            None => Lookup::Absent,
        };
        let lower = key.to_ascii_lowercase();
        match lower.as_str() {
            "sts:externalid" => known(hop.external_id.as_deref()),
            "sts:sourceidentity" => known(hop.source_identity.as_deref()),
            "sts:rolesessionname" => known(Some(&hop.role_session_name)),
            // The parent always calls with temporary credentials (GetSessionToken or
            // AssumeRole), for which the key is present: true only with MFA.
            "aws:multifactorauthpresent" => known(Some(if hop.mfa { "true" } else { "false" })),
            "aws:principalarn" => match &hop.caller.arn {
                Some(arn) => Lookup::Value(arn.clone()),
                None => Lookup::Unknown,
            },
            "aws:principalaccount" => match &hop.caller.account_id {
                Some(a) => Lookup::Value(a.clone()),
                None => Lookup::Unknown,
            },
            "aws:principaltype" => known(Some(match hop.caller.kind {
                CallerKind::IamUser => "User",
                CallerKind::Role => "AssumedRole",
            })),
            "aws:principalorgid" => match &self.principal_org_id {
                Some(o) => Lookup::Value(o.clone()),
                None => Lookup::Unknown,
            },
            "aws:currenttime" => Lookup::Value(self.now.to_rfc3339()),
            "aws:epochtime" => Lookup::Value(self.now.timestamp().to_string()),
            // Rolehop passes no session tags.
            "aws:tagkeys" | "sts:transitivetagkeys" => Lookup::Absent,
            k if k.starts_with("aws:requesttag/") => Lookup::Absent,
            _ => Lookup::Unknown,
        }
    }
}
