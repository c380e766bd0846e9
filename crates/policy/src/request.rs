//! One `AssumeRole` request as IAM's evaluator sees it: the hop's facts plus the clock,
//! what the engine could learn of the caller (its real ARN, its identity policies),
//! and the value each condition key takes in it (or that Rolehop cannot know it).

use chrono::{DateTime, Utc};

use crate::arn::{self, PrincipalArn};
use crate::document::PolicyDocument;
use crate::hop::{CallerKind, Hop};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    Absent,
    Value(String),
    Unknown,
}

/// What `sts:GetCallerIdentity` (and, for a role's path, `iam:GetRole`) said of the
/// caller, for a parent the workspace cannot name: an IAM Identity Center session
/// acts as `AWSReservedSSO_<permission set>_<suffix>`, a role only AWS names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObservedCaller {
    /// GetCallerIdentity's `Arn`: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, or
    /// an IAM user's ARN.
    pub arn: String,
    /// GetCallerIdentity's `UserId` (`AROA…:SESSION` or `AIDA…`): `aws:userid`.
    pub user_id: Option<String>,
    /// The role's ARN with its path, as `iam:GetRole` gives it
    /// (`arn:aws:iam::ACCOUNT:role/aws-reserved/sso.amazonaws.com/REGION/AWSReservedSSO_…`):
    /// `aws:PrincipalArn`. `None` when it could not be read.
    pub role_arn: Option<String>,
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

/// The request as IAM's evaluator sees it: the hop's facts plus the clock.
#[derive(Debug, Clone)]
pub struct RequestContext<'a> {
    pub hop: &'a Hop,
    pub now: DateTime<Utc>,
    /// `aws:PrincipalOrgID`, when known.
    pub principal_org_id: Option<String>,
    /// The caller as AWS named it, when the engine asked.
    pub observed: Option<ObservedCaller>,
    /// The caller's identity policies (inline, attached, and for an IAM user its
    /// groups'), when the engine could read them; `None` when it could not.
    pub identity_policies: Option<Vec<PolicyDocument>>,
    /// When the MFA code behind the caller's credentials was entered
    /// (`aws:MultiFactorAuthAge`), when known.
    pub mfa_authenticated_at: Option<DateTime<Utc>>,
}

impl<'a> RequestContext<'a> {
    pub fn new(hop: &'a Hop, now: DateTime<Utc>) -> Self {
        Self {
            hop,
            now,
            principal_org_id: None,
            observed: None,
            identity_policies: None,
            mfa_authenticated_at: None,
        }
    }

    /// The same request, with the caller's identity policies read from IAM.
    pub fn with_identity_policies(mut self, policies: Vec<PolicyDocument>) -> Self {
        self.identity_policies = Some(policies);
        self
    }

    /// The same request, with what GetCallerIdentity (and GetRole) said of the caller.
    pub fn with_observed_caller(mut self, observed: ObservedCaller) -> Self {
        self.observed = Some(observed);
        self
    }

    /// The ARN a trust policy names the caller by: the IAM user's, or the role's with
    /// its path (`aws:PrincipalArn`).
    pub fn caller_arn(&self) -> Option<&str> {
        let observed = self.observed.as_ref();
        self.hop
            .caller
            .arn
            .as_deref()
            .or_else(|| match self.hop.caller.kind {
                CallerKind::IamUser => observed.map(|o| o.arn.as_str()),
                CallerKind::Role => observed.and_then(|o| o.role_arn.as_deref()),
            })
    }

    /// For a role: the ARN of the caller's own session.
    pub fn caller_session_arn(&self) -> Option<&str> {
        let observed = self.observed.as_ref().map(|o| o.arn.as_str());
        match self.hop.caller.kind {
            CallerKind::IamUser => None,
            CallerKind::Role => self.hop.caller.session_arn.as_deref().or(observed),
        }
    }

    /// The caller's role name, from its role ARN or its session ARN.
    pub fn caller_role_name(&self) -> Option<&str> {
        if self.hop.caller.kind != CallerKind::Role {
            return None;
        }
        let from_role = self.caller_arn().and_then(arn::parse);
        let from_session = self.caller_session_arn().and_then(arn::parse);
        from_role
            .and_then(|a| a.role_name())
            .or_else(|| from_session.and_then(|a| a.assumed_role_name()))
    }

    /// The caller's partition: its ARNs', else the role's.
    pub fn partition(&self) -> Option<&str> {
        [
            self.caller_arn(),
            self.caller_session_arn(),
            Some(self.hop.role_arn.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(|a| arn::parse(a).map(|a| a.partition))
    }

    /// A context key's value in this request.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let hop = self.hop;
        let caller = &hop.caller;
        let known = |v: Option<&str>| match v {
            Some(v) => Lookup::Value(v.to_owned()),
            None => Lookup::Absent,
        };
        let or_unknown = |v: Option<&str>| match v {
            Some(v) => Lookup::Value(v.to_owned()),
            None => Lookup::Unknown,
        };
        let lower = key.to_ascii_lowercase();
        match lower.as_str() {
            "sts:externalid" => known(hop.external_id.as_deref()),
            "sts:sourceidentity" => known(hop.source_identity.as_deref()),
            // The source identity already on the caller's session: present only when a
            // hop above set it, which this hop's facts do not say apart from this hop
            // setting it.
            "aws:sourceidentity" => match hop.source_identity {
                Some(_) => Lookup::Unknown,
                None => Lookup::Absent,
            },
            "sts:rolesessionname" => known(Some(&hop.role_session_name)),
            // The parent always calls with temporary credentials (GetSessionToken or
            // AssumeRole), for which the key is present: true only with MFA.
            "aws:multifactorauthpresent" => known(Some(if hop.mfa { "true" } else { "false" })),
            // Present only when MFA was used; its value is the seconds since.
            "aws:multifactorauthage" if !hop.mfa => Lookup::Absent,
            "aws:multifactorauthage" => match self.mfa_authenticated_at {
                Some(at) => Lookup::Value((self.now - at).num_seconds().max(0).to_string()),
                None => Lookup::Unknown,
            },
            "aws:principalarn" => or_unknown(self.caller_arn()),
            "aws:principalaccount" => or_unknown(caller.account_id.as_deref()),
            "aws:principaltype" => known(Some(match caller.kind {
                CallerKind::IamUser => "User",
                CallerKind::Role => "AssumedRole",
            })),
            "aws:principalisawsservice" => Lookup::Value("false".into()),
            "aws:principalservicename" => Lookup::Absent,
            // The friendly name of an IAM user; absent for a role session.
            "aws:username" => match caller.kind {
                CallerKind::IamUser => or_unknown(
                    self.caller_arn()
                        .and_then(arn::parse)
                        .and_then(|a| a.resource.strip_prefix("user/"))
                        .map(|p| p.rsplit('/').next().unwrap_or(p)),
                ),
                CallerKind::Role => Lookup::Absent,
            },
            "aws:userid" => or_unknown(self.observed.as_ref().and_then(|o| o.user_id.as_deref())),
            "aws:principalorgid" => or_unknown(self.principal_org_id.as_deref()),
            "aws:currenttime" => Lookup::Value(self.now.to_rfc3339()),
            "aws:epochtime" => Lookup::Value(self.now.timestamp().to_string()),
            // Rolehop passes no session tags.
            "aws:tagkeys" | "sts:transitivetagkeys" => Lookup::Absent,
            k if k.starts_with("aws:requesttag/") => Lookup::Absent,
            // The principal's tags, its IP, its VPC...: not read.
            _ => Lookup::Unknown,
        }
    }
}
