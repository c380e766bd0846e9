//! The caller's side of a hop, as far as the engine can learn it: its identity policies
//! (which IAM also needs to allow the hop across accounts, or when the trust policy
//! names only the account), the ARN AWS gives an IAM Identity Center session, and when
//! its MFA code was entered.
//!
//! The identity policies are read with the caller's own credentials (a user or role
//! may read its own policies when its policy allows), signed as every IAM call through
//! an IAM user is (`engine/signer.rs`): never with a session token obtained without
//! MFA. All or nothing: if any read is refused, none is given to the evaluator, which
//! then says "cannot tell" and names the permissions it needs; a partial set would turn
//! that into a wrong "not admitted". Permissions boundaries, SCPs and RCPs are never
//! read: the evaluator says so on every "admitted".

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::engine::{Engine, MfaAsking, SignedWith};
use crate::model::{SessionId, SessionKind};
use crate::sts::CallerIdentity;
use crate::trust::evaluate::{Evaluation, ObservedCaller, RequestContext};
use crate::trust::iam::{IamClient, Identity};
use crate::trust::policy::PolicyDocument;
use crate::trust::statement::{CallerKind, Hop, UserArns};
use crate::workspace::Workspace;

/// What `GetCallerIdentity` said of each IAM user's long-lived key: its user id
/// (`aws:userid`), beside the ARN in [`UserArns`].
pub type UserIds = HashMap<SessionId, String>;

/// What the engine learned of a hop's caller.
#[derive(Debug, Clone, Default)]
pub struct CallerSide {
    pub observed: Option<ObservedCaller>,
    /// The caller's identity policies, or why they could not be read.
    pub identity: Option<Result<Vec<PolicyDocument>, String>>,
    pub mfa_authenticated_at: Option<DateTime<Utc>>,
}

impl CallerSide {
    /// `ctx` with what was learned.
    pub fn apply<'a>(&self, mut ctx: RequestContext<'a>) -> RequestContext<'a> {
        if let Some(observed) = &self.observed {
            ctx = ctx.with_observed_caller(observed.clone());
        }
        if let Some(Ok(policies)) = &self.identity {
            ctx = ctx.with_identity_policies(policies.clone());
        }
        ctx.mfa_authenticated_at = self.mfa_authenticated_at;
        ctx
    }

    /// Says in `evaluation` why the identity policies were not read, when that left
    /// the verdict open.
    pub fn note(&self, hop: &Hop, evaluation: &mut Evaluation) {
        if let Some(Err(why)) = &self.identity
            && evaluation.verdict == crate::trust::evaluate::Verdict::CannotTell
        {
            evaluation.details.push(format!(
                "the identity policies of '{}' could not be read: {why}",
                hop.caller.session
            ));
        }
    }
}

/// Learns what it can of `hop`'s caller with the caller's own credentials (asked as
/// `asking` allows): for an IAM user its identity policies (its ARN and user id are in
/// `users`/`ids` already); for a role its policies; for an IAM Identity Center session
/// its real ARN (`GetCallerIdentity`), its role's ARN with its path (`GetRole`, when
/// allowed) and its policies.
pub async fn learn(
    engine: &Engine,
    iam: &IamClient,
    ws: &Workspace,
    hop: &Hop,
    (users, ids): (&UserArns, &UserIds),
    asking: MfaAsking,
) -> CallerSide {
    let caller = &hop.caller;
    let mut side = CallerSide {
        mfa_authenticated_at: mfa_entered_at(engine, ws, caller.id).await,
        ..CallerSide::default()
    };
    let Some(parent) = ws.get(caller.id) else {
        return side;
    };
    let signer = match engine.service_signer(&caller.id.into(), None, asking).await {
        Ok(signer) => signer,
        Err(e) => {
            side.identity = Some(Err(format!(
                "no credentials of '{}' to read them with ({e})",
                caller.session
            )));
            return side;
        }
    };
    let region = ws.region_of(&parent.session);
    let identity_name: Option<String> = match &parent.session.kind {
        // A console session acts as whom it names: an IAM user's name is its ARN's last
        // part (a root session has none).
        SessionKind::LoginSession(l) => l
            .login_session
            .split_once(":user/")
            .map(|(_, path)| path.rsplit('/').next().unwrap_or(path).to_owned()),
        SessionKind::IamUser(_) => {
            if let Some(Ok(arn)) = users.get(&caller.id) {
                side.observed = Some(ObservedCaller {
                    arn: arn.clone(),
                    user_id: ids.get(&caller.id).cloned(),
                    role_arn: None,
                });
            }
            users
                .get(&caller.id)
                .and_then(|r| r.as_ref().ok())
                .and_then(|arn| crate::access_keys::user_name_of(arn))
                .map(str::to_owned)
        }
        SessionKind::SsoRole(_) => {
            let asked = engine
                .resolver()
                .sts()
                .caller_identity(&signer.credentials, region.as_deref())
                .await;
            match asked {
                Ok(CallerIdentity { arn, user_id }) => {
                    let role = assumed_role_name(&arn).map(str::to_owned);
                    let role_arn = match &role {
                        Some(name) => iam
                            .role(&signer.credentials, name)
                            .await
                            .ok()
                            .map(|r| r.arn),
                        None => None,
                    };
                    side.observed = Some(ObservedCaller {
                        arn,
                        user_id,
                        role_arn,
                    });
                    role
                }
                Err(e) => {
                    side.identity = Some(Err(format!("sts:GetCallerIdentity failed ({e})")));
                    return side;
                }
            }
        }
        SessionKind::Role(_) | SessionKind::Saml(_) => caller
            .arn
            .as_deref()
            .and_then(|arn| arn.rsplit('/').next())
            .map(str::to_owned),
    };
    let Some(name) = identity_name else {
        side.identity = Some(Err(format!(
            "the name of the identity behind '{}' is not known",
            caller.session
        )));
        return side;
    };
    let identity = match caller.kind {
        CallerKind::IamUser => Identity::User(&name),
        CallerKind::Role => Identity::Role(&name),
    };
    side.identity = Some(
        match iam.identity_policies(&signer.credentials, identity).await {
            Ok(found) => found
                .into_iter()
                .map(|p| {
                    PolicyDocument::parse_from_iam(&p.document)
                        .map_err(|e| format!("{} is {e}", p.source))
                })
                .collect(),
            Err(e) => Err(e.to_string()),
        },
    );
    side
}

/// The role name of an assumed-role ARN (`arn:aws:sts::1:assumed-role/NAME/SESSION`).
fn assumed_role_name(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    resource.strip_prefix("assumed-role/")?.split('/').next()
}

/// When the MFA code behind `caller`'s credentials was entered: the issue time of the
/// cached MFA session token of the IAM user at the root of its chain (its expiry less
/// the duration it was asked for). `None` when no MFA token is cached.
async fn mfa_entered_at(
    engine: &Engine,
    ws: &Workspace,
    caller: SessionId,
) -> Option<DateTime<Utc>> {
    let root = ws.chain(caller).first().map(|s| (*s).clone())?;
    let SessionKind::IamUser(user) = &root.kind else {
        return None;
    };
    user.mfa_serial.as_ref()?;
    let token = engine
        .service_signer(&root.id.into(), None, MfaAsking::Never)
        .await
        .ok()
        .filter(|s| s.with == SignedWith::MfaSessionToken)?
        .credentials;
    Some(token.expiration? - chrono::Duration::seconds(i64::from(user.session_duration)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sso_session_s_role_name_comes_from_its_assumed_role_arn() {
        assert_eq!(
            assumed_role_name(
                "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/ana@example.com"
            ),
            Some("AWSReservedSSO_Admin_0123abcd")
        );
        assert_eq!(
            assumed_role_name("arn:aws:iam::111122223333:user/ana"),
            None
        );
    }
}
