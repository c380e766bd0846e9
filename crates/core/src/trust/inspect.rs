//! The trust commands on a live engine: the IAM users' ARNs asked of STS, the hops'
//! needs, and a role's actual trust policy read with `iam:GetRole` through a session
//! that can read it (or given as text), evaluated for the hop with what the caller's
//! own credentials tell of its side (`caller.rs`: its identity policies, an IAM
//! Identity Center session's real ARN).
//!
//! Every IAM call through an IAM user is signed with its long-lived key or its MFA
//! session token (`engine/signer.rs`), never with a token obtained without MFA, which
//! AWS refuses for IAM.
//!
//! Only the engine's public surface is used (the workspace, the keychain entry of an
//! IAM user's keys, the shared STS client, [`Engine::credentials`]), so this module
//! wraps the engine rather than adding to it.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use crate::chain::ChainError;
use crate::chain::access_keys_account;
use crate::credentials::Credentials;
use crate::engine::{Engine, MfaAsking};
use crate::error::{EngineError, ErrorKind, Missing, Problem};
use crate::model::{SessionKind, SessionState};
use crate::reference::SessionRef;
use crate::trust::caller::{self, CallerSide, UserIds};
use crate::trust::evaluate::{Evaluation, RequestContext, Verdict, evaluate};
use crate::trust::explain::{
    EXPLAIN_BOUND, PolicyReading, TrustExplanation, explanation, refused_role_hop,
};
use crate::trust::iam::{IamClient, IamError};
use crate::trust::policy::{PolicyDocument, PolicyError};
use crate::trust::statement::{CallerKind, Hop, HopNeeds, NeedsOptions, UserArns, hops, needs};
use crate::validate::ValidationError;
use crate::workspace::Workspace;
use rolehop_policy::validity::check_trust_policy;

/// Where `check` gets the trust policy.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// `iam:GetRole`, signed by `via` (a session name or id) or by the first session
    /// that can: the hop's parent when the role is in its account, else any active
    /// session in the role's account.
    Fetch { via: Option<String> },
    /// A document the user gave (`--policy FILE`), and where it came from.
    Document { text: String, origin: String },
}

/// The result of `trust check`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CheckReport {
    pub hop: Hop,
    /// Where the policy came from (`iam:GetRole as 'production'`, a file path).
    pub source: String,
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub policy: PolicyDocument,
    pub evaluation: Evaluation,
}

/// Why a trust command could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the trust policy of {role} ({origin}) is {cause}")]
    Policy {
        role: String,
        origin: String,
        cause: PolicyError,
    },
    #[error("cannot read the trust policy of {role} as '{via}': {cause}")]
    Fetch {
        role: String,
        via: String,
        cause: IamError,
    },
    #[error(
        "no session can read the trust policy of {role}{tried}; start a session in account \
         {account}, or pass --via SESSION or --policy FILE"
    )]
    NoReader {
        role: String,
        account: String,
        tried: String,
    },
}

impl Problem for TrustError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(e) => e.kind(),
            Self::Policy { .. } => ErrorKind::Invalid,
            Self::Fetch { .. } => ErrorKind::Aws,
            Self::NoReader { .. } => ErrorKind::NotFound,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Engine(e) => e.field(),
            Self::Policy { .. } => Some("policy"),
            _ => None,
        }
    }

    fn failure(&self) -> Option<&crate::model::Failure> {
        match self {
            Self::Engine(e) => e.failure(),
            _ => None,
        }
    }

    fn missing(&self) -> Option<Missing> {
        match self {
            Self::Engine(e) => e.missing(),
            _ => None,
        }
    }
}

/// `text` (a trust policy, from `origin`) parsed, or why IAM would not take it as a
/// role's trust policy (`NotPrincipal`...).
fn parsed(hop: &Hop, text: &str, origin: &str) -> Result<PolicyDocument, TrustError> {
    let invalid = |cause| TrustError::Policy {
        role: hop.role_arn.clone(),
        origin: origin.to_owned(),
        cause,
    };
    let policy = PolicyDocument::parse_from_iam(text).map_err(invalid)?;
    check_trust_policy(&policy).map_err(invalid)?;
    Ok(policy)
}

/// `policy` evaluated for `hop`, with what was learned of the caller.
fn report(mut hop: Hop, policy: PolicyDocument, origin: String, side: &CallerSide) -> CheckReport {
    let ctx = side.apply(RequestContext::new(&hop, Utc::now()));
    let mut evaluation = evaluate(&policy, &ctx);
    side.note(&hop, &mut evaluation);
    // A parent the workspace knows no ARN of (an IAM Identity Center role) is reported
    // by the role ARN IAM gave, as the evaluation judged it, not by its account.
    if hop.caller.arn.is_none() {
        hop.caller.arn = side
            .observed
            .as_ref()
            .and_then(|o| o.role_arn.clone())
            .filter(|_| hop.caller.kind == CallerKind::Role);
    }
    CheckReport {
        hop,
        source: origin,
        policy,
        evaluation,
    }
}

/// Whether the caller's side can still change the verdict of `policy` on its own: not
/// when the trust policy alone already refuses.
fn caller_side_matters(hop: &Hop, policy: &PolicyDocument) -> bool {
    let alone = evaluate(policy, &RequestContext::new(hop, Utc::now()));
    matches!(alone.verdict, Verdict::Admitted | Verdict::CannotTell)
}

/// The trust commands, on an open engine.
pub struct TrustInspector<'a> {
    engine: &'a Engine,
    iam: IamClient,
}

impl Engine {
    /// The trust commands: what a chain's hops need, and the verdict of a role's trust
    /// policy on a hop.
    pub fn trust(&self) -> TrustInspector<'_> {
        TrustInspector::new(self)
    }
}

impl<'a> TrustInspector<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Self {
        Self {
            engine,
            iam: IamClient::new(None),
        }
    }

    /// What every role hop of `selector`'s chain needs, root first.
    pub async fn needs(
        &self,
        session: impl Into<SessionRef>,
        options: NeedsOptions,
    ) -> Result<Vec<HopNeeds>, EngineError> {
        let selector = session.into();
        let (_, chain, (users, _)) = self.hops(&selector).await?;
        Ok(chain.iter().map(|h| needs(h, &users, options)).collect())
    }

    async fn hops(
        &self,
        selector: &SessionRef,
    ) -> Result<(Workspace, Vec<Hop>, (UserArns, UserIds)), EngineError> {
        let ws = self.engine.workspace().await?;
        let (chain, users) = self.hops_in(&ws, selector).await?;
        Ok((ws, chain, users))
    }

    /// The role hops of `selector`'s chain in `ws`, root first, with the IAM users'
    /// ARNs and user ids asked of STS.
    async fn hops_in(
        &self,
        ws: &Workspace,
        selector: impl Into<SessionRef>,
    ) -> Result<(Vec<Hop>, (UserArns, UserIds)), EngineError> {
        let target = ws.find(selector)?.session.clone();
        if !matches!(target.kind, SessionKind::Role(_)) {
            return Err(ValidationError::new(
                "session",
                format!(
                    "'{}' is an IAM user: it assumes no role, so no trust policy is involved; \
                     name one of its role sessions",
                    target.name
                ),
            )
            .into());
        }
        let users = self.user_arns(ws, target.id).await;
        let chain = hops(ws, target.id, &users.0);
        // The workspace refuses a role without its parent; a hand-edited file may not.
        if chain.last().map(|h| h.session.as_str()) != Some(target.name.as_str()) {
            return Err(EngineError::NotFound {
                what: crate::error::Missing::Session,
                message: format!("the parent session of '{}' no longer exists", target.name),
            });
        }
        Ok((chain, users))
    }

    /// `GetCallerIdentity` of each IAM user's long-lived keys in the chain (no MFA is
    /// needed for it): its ARN, or why it cannot be asked, and its user id.
    async fn user_arns(&self, ws: &Workspace, id: crate::model::SessionId) -> (UserArns, UserIds) {
        let mut arns = UserArns::new();
        let mut ids = UserIds::new();
        for session in ws.chain(id) {
            if !matches!(session.kind, SessionKind::IamUser(_)) {
                continue;
            }
            let keys = self
                .engine
                .keychain()
                .get_async(&access_keys_account(session.id))
                .await;
            let identity = match keys {
                Ok(Some(json)) => match serde_json::from_str::<Credentials>(&json) {
                    Ok(keys) => self
                        .engine
                        .resolver()
                        .sts()
                        .caller_identity(&keys, ws.region_of(session).as_deref())
                        .await
                        .map_err(|e| format!("GetCallerIdentity failed: {e}")),
                    Err(_) => Err("its keys in the keychain are unreadable".to_owned()),
                },
                Ok(None) => Err("no access keys in the keychain".to_owned()),
                Err(e) => Err(e.to_string()),
            };
            let arn = identity.map(|found| {
                if let Some(user_id) = found.user_id {
                    ids.insert(session.id, user_id);
                }
                found.arn
            });
            arns.insert(session.id, arn);
        }
        (arns, ids)
    }

    /// Evaluates the trust policy of `selector`'s role for its hop.
    pub async fn check(
        &self,
        session: impl Into<SessionRef>,
        source: PolicySource,
    ) -> Result<CheckReport, TrustError> {
        let selector = session.into();
        let (ws, chain, users) = self.hops(&selector).await?;
        let hop = chain
            .last()
            .cloned()
            .expect("hops() checked the chain ends at the target");
        let (text, origin) = match source {
            PolicySource::Document { text, origin } => (text, origin),
            PolicySource::Fetch { via } => self.fetch(&ws, &hop, via).await?,
        };
        let policy = parsed(&hop, &text, &origin)?;
        let side = self.caller_side(&ws, &hop, &users, &policy).await;
        Ok(report(hop, policy, origin, &side))
    }

    /// What the caller's own credentials tell of its side of `hop`, when it can still
    /// change the verdict of `policy`.
    async fn caller_side(
        &self,
        ws: &Workspace,
        hop: &Hop,
        (users, ids): &(UserArns, UserIds),
        policy: &PolicyDocument,
    ) -> CallerSide {
        if !caller_side_matters(hop, policy) {
            return CallerSide::default();
        }
        caller::learn(
            self.engine,
            &self.iam,
            ws,
            hop,
            (users, ids),
            MfaAsking::ThroughTheApp,
        )
        .await
    }

    /// Why AWS refused the `AssumeRole` of `session` (a role session of `ws`), in
    /// trust-policy terms; within `bound`, past which only what needs no network is
    /// said. `None` when `session` is not a role hop of `ws`.
    pub async fn explain_refusal(
        &self,
        ws: &Workspace,
        session: &str,
        bound: Duration,
    ) -> Option<TrustExplanation> {
        let online = async {
            let (chain, users) = self.hops_in(ws, session).await.ok()?;
            let hop = chain.last()?.clone();
            let read = match self.fetch(ws, &hop, None).await {
                Ok((text, origin)) => parsed(&hop, &text, &origin).map(|p| (p, origin)),
                Err(e) => Err(e),
            };
            let reading = match read {
                Ok((policy, origin)) => {
                    let side = self.caller_side(ws, &hop, &users, &policy).await;
                    let r = report(hop.clone(), policy, origin, &side);
                    crate::trust::explain::evaluated(r.source, r.evaluation)
                }
                Err(e) => PolicyReading::Unread {
                    reason: e.to_string(),
                },
            };
            Some(explanation(
                &needs(&hop, &users.0, NeedsOptions::default()),
                reading,
            ))
        };
        if let Ok(explained) = tokio::time::timeout(bound, online).await {
            return explained;
        }
        // Out of time: the hop and the statements need no network (an IAM user then
        // stands as its account root, with the note that says so).
        let id = ws.find(session).ok()?.session.id;
        let offline = UserArns::new();
        let hop = hops(ws, id, &offline)
            .pop()
            .filter(|h| h.session == session)?;
        let reading = PolicyReading::Unread {
            reason: format!(
                "reading it took longer than {} s; `rolehop trust check {session}` tries again",
                bound.as_secs()
            ),
        };
        Some(explanation(
            &needs(&hop, &offline, NeedsOptions::default()),
            reading,
        ))
    }

    /// The role's trust policy from `iam:GetRole`, and who read it (signed as
    /// `engine/signer.rs` says: an IAM user with its key or MFA token).
    async fn fetch(
        &self,
        ws: &Workspace,
        hop: &Hop,
        via: Option<String>,
    ) -> Result<(String, String), TrustError> {
        let role_account = hop.role_account().unwrap_or_default().to_owned();
        let role_name = hop
            .role_arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let read = |creds: Credentials, name: String| {
            let (iam, role, role_name) =
                (self.iam.clone(), hop.role_arn.clone(), role_name.clone());
            async move {
                iam.role_trust_policy(&creds, &role_name)
                    .await
                    .map(|text| (text, format!("iam:GetRole as '{name}'")))
                    .map_err(|cause| TrustError::Fetch {
                        role,
                        via: name,
                        cause,
                    })
            }
        };
        if let Some(via) = via {
            let stored = ws.find(&via).map_err(EngineError::from)?;
            let account = ws.view(stored).account_id;
            if let Some(a) = account.filter(|a| *a != role_account) {
                return Err(EngineError::Invalid(ValidationError::new(
                    "via",
                    format!(
                        "'{}' acts in account {a}, but {} is in account {role_account}: \
                         GetRole reads roles of the caller's own account",
                        stored.session.name, hop.role_arn
                    ),
                ))
                .into());
            }
            let signer = self
                .engine
                .service_signer(&stored.session.id.into(), None, MfaAsking::Here)
                .await?;
            return read(signer.credentials, signer.view.session.name).await;
        }
        let mut candidates = Vec::new();
        if hop.caller.account_id.as_deref() == Some(role_account.as_str()) {
            candidates.push(hop.caller.session.clone());
        }
        for stored in &ws.sessions {
            let active = matches!(stored.state, SessionState::Active { .. });
            if active
                && ws.view(stored).account_id.as_deref() == Some(role_account.as_str())
                && !candidates.contains(&stored.session.name)
            {
                candidates.push(stored.session.name.clone());
            }
        }
        let mut tried = Vec::new();
        for name in candidates {
            let signer = self
                .engine
                .service_signer(&name.as_str().into(), None, MfaAsking::ThroughTheApp)
                .await;
            match signer {
                Ok(signer) => return read(signer.credentials, name).await,
                Err(e) => tried.push(format!("'{name}': {e}")),
            }
        }
        Err(TrustError::NoReader {
            role: hop.role_arn.clone(),
            account: role_account,
            tried: if tried.is_empty() {
                String::new()
            } else {
                format!(" (tried {})", tried.join("; "))
            },
        })
    }
}

/// The trust explanation of a failed resolution, when AWS refused a role hop; `None`
/// for any other failure. Bounded by [`EXPLAIN_BOUND`].
pub async fn explain_failure(
    engine: &Engine,
    ws: &Workspace,
    error: &ChainError,
) -> Option<TrustExplanation> {
    let hop = refused_role_hop(ws, error)?;
    TrustInspector::new(engine)
        .explain_refusal(ws, hop, EXPLAIN_BOUND)
        .await
}
