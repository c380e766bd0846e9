//! A role hop as IAM sees it, and what it needs: the `AssumeRole` request a hop makes
//! ([`Hop`]: who calls, on which role, sending what), and the statement the target
//! role's trust policy and the parent's identity policy must hold ([`needs`]). The
//! evaluator reads the same facts, so what `trust show` says a policy needs is what
//! `trust check` tests. Building hops from a workspace's chain is the engine's
//! (rolehop-core's `trust::statement`).

use std::collections::{BTreeMap, HashMap};

use rolehop_model::session::SessionId;
use serde::Serialize;

use crate::arn::Arn;
use crate::document::{Principal, Statement, ValueList};

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const SET_SOURCE_IDENTITY: &str = "sts:SetSourceIdentity";
pub const TAG_SESSION: &str = "sts:TagSession";

/// Whether the caller of a hop is an IAM user or a role session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum CallerKind {
    IamUser,
    Role,
}

/// The parent of a hop as IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Caller {
    /// The parent session's id and name.
    pub id: SessionId,
    pub session: String,
    pub kind: CallerKind,
    /// The ARN a trust policy names: the IAM user's ARN, or the role's ARN (which
    /// admits every session of the role). `None` when it is not known (an IAM user
    /// whose name could not be asked of STS).
    pub arn: Option<String>,
    pub account_id: Option<String>,
    /// For a role: the ARN of the parent's own session
    /// (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`).
    pub session_arn: Option<String>,
}

impl Caller {
    /// An IAM Identity Center session as the workspace knows it: its account, and no ARN
    /// (its role, `AWSReservedSSO_<permission set>_<suffix>`, only AWS names; the
    /// evaluator takes it from an `ObservedCaller` when the engine asked).
    pub fn sso_role(id: SessionId, session: &str, account_id: &str) -> Self {
        Self {
            id,
            session: session.to_owned(),
            kind: CallerKind::Role,
            arn: None,
            account_id: Some(account_id.to_owned()),
            session_arn: None,
        }
    }

    /// The principal a trust policy should name: the exact ARN, else the account root.
    pub fn principal(&self) -> Option<String> {
        self.arn.clone().or_else(|| {
            self.account_id
                .as_ref()
                .map(|a| format!("arn:aws:iam::{a}:root"))
        })
    }
}

/// One role hop: the `AssumeRole` request it makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct Hop {
    /// The role session's name.
    pub session: String,
    pub role_arn: String,
    pub role_session_name: String,
    pub caller: Caller,
    pub external_id: Option<String>,
    /// The source identity the request carries: set by this hop, or by a hop above it
    /// (a source identity persists down a chain).
    pub source_identity: Option<String>,
    /// Whether the hop passes session tags (then the trust policy must allow
    /// `sts:TagSession`).
    pub passes_tags: bool,
    /// Whether the credentials calling were obtained with MFA (the root IAM user has
    /// an MFA device; the MFA context carries down role chaining).
    pub mfa: bool,
}

impl Hop {
    /// The actions the request needs allowed.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut actions = vec![ASSUME_ROLE];
        if self.source_identity.is_some() {
            actions.push(SET_SOURCE_IDENTITY);
        }
        if self.passes_tags {
            actions.push(TAG_SESSION);
        }
        actions
    }

    pub fn role_account(&self) -> Option<&str> {
        Arn::account_of(&self.role_arn)
    }
}

/// What one hop needs, with notes for the reader.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct HopNeeds {
    pub hop: Hop,
    /// The statement the target role's trust policy needs.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub trust_statement: Statement,
    /// The statement the parent's identity policy needs.
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub identity_statement: Statement,
    pub notes: Vec<String>,
}

/// Options of the derivation.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeedsOptions {
    /// Add `aws:MultiFactorAuthPresent = true` when MFA is in the chain.
    pub require_mfa: bool,
}

/// An IAM user's ARN as STS answered it, or why it could not be asked.
pub type UserArns = HashMap<SessionId, Result<String, String>>;

/// The account id field of an ARN.
pub fn arn_account(arn: &str) -> Option<String> {
    Arn::account_of(arn).map(str::to_owned)
}

/// The two statements `hop` needs, and notes on what they assume.
pub fn needs(hop: &Hop, users: &UserArns, options: NeedsOptions) -> HopNeeds {
    let mut notes = Vec::new();
    let principal = hop.caller.principal();
    if hop.caller.arn.is_none() {
        let why = match users.get(&hop.caller.id) {
            Some(Err(e)) => format!(" ({e})"),
            _ => String::new(),
        };
        match &principal {
            Some(root) => notes.push(format!(
                "the IAM user behind '{}' is unknown offline{why}: the account root {root} \
                 stands in, which admits every principal of that account whose own identity \
                 policy allows sts:AssumeRole on the role",
                hop.caller.session
            )),
            None => notes.push(format!(
                "neither the IAM user behind '{}' nor its account is known{why}: put its \
                 ARN (arn:aws:iam::ACCOUNT:user/NAME) in Principal.AWS",
                hop.caller.session
            )),
        }
    }
    if hop.caller.kind == CallerKind::Role {
        notes.push(format!(
            "the role ARN admits every session of the role; IAM shows this hop's caller as {}",
            hop.caller
                .session_arn
                .as_deref()
                .unwrap_or("an assumed-role session")
        ));
    }
    let actions = ValueList(hop.actions().into_iter().map(str::to_owned).collect());
    let mut condition: BTreeMap<String, BTreeMap<String, ValueList>> = BTreeMap::new();
    if let Some(x) = &hop.external_id {
        condition
            .entry("StringEquals".into())
            .or_default()
            .insert("sts:ExternalId".into(), ValueList::one(x));
    }
    if options.require_mfa {
        if hop.mfa {
            condition
                .entry("Bool".into())
                .or_default()
                .insert("aws:MultiFactorAuthPresent".into(), ValueList::one("true"));
        } else {
            notes.push(
                "--require-mfa: no MFA device is in this chain, so no MFA condition was added"
                    .into(),
            );
        }
    }
    let trust_statement = Statement {
        principal: Some(Principal::aws(principal.as_deref().unwrap_or("*"))),
        action: Some(actions.clone()),
        condition: (!condition.is_empty()).then_some(condition),
        ..Statement::allow()
    };
    let identity_statement = Statement {
        action: Some(actions),
        resource: Some(ValueList::one(&hop.role_arn)),
        ..Statement::allow()
    };
    HopNeeds {
        hop: hop.clone(),
        trust_statement,
        identity_statement,
        notes,
    }
}
