//! An IAM user session's long-lived access key: how old it is (`iam:ListAccessKeys`) and
//! its rotation.
//!
//! Rotation replaces the key in the keychain with a new key of the same user, in an
//! order where every step leaves a working key in the keychain and at most one key that
//! Rolehop does not hold, which the message names:
//!
//! 1. `GetCallerIdentity`: which IAM user the stored key belongs to (`…:user/NAME`).
//! 2. `CreateAccessKey` for that user. IAM refuses a third key (`LimitExceeded`): nothing
//!    changed, and the message names the user's other key.
//! 3. `GetCallerIdentity` with the new key, retried with a bounded backoff while IAM
//!    propagates it (AWS answers `InvalidClientTokenId` for some seconds). Never proven:
//!    the new key is deleted again and the old one stays.
//! 4. The new key replaces the old one in the keychain, in one write. A failed write: the
//!    new key is deleted again.
//! 5. `DeleteAccessKey` of the old key. A refusal leaves the new key stored and working,
//!    and the message names the old key id to delete by hand.
//! 6. Every cached copy of credentials made with the old key is dropped (memory,
//!    keychain, kernel keyring; `engine/forget.rs`): the user's session token and the
//!    credentials of every session chained below it, which then ask AWS again.
//!
//! A process killed between 2 and 5 leaves the user with two keys, one of them in the
//! keychain: [`Engine::access_key_report`] marks which one, and the next rotation's
//! refusal names the other.
//!
//! IAM calls are signed as every IAM call through an IAM user is (`engine/signer.rs`):
//! the long-lived key, or for a user with an MFA device its MFA session token (policies
//! commonly deny key management without MFA), never a token obtained without MFA.
//! `GetCallerIdentity` needs no permission at all.

use rolehop_aws::iam;

pub mod console_csv;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::Engine;
use crate::chain::access_keys_account;
use crate::credentials::Credentials;
use crate::engine::MfaAsking;
use crate::error::{EngineError, ErrorKind, Missing, Problem};
use crate::model::Failure;
use crate::model::{SessionId, SessionKind};
use crate::reference::SessionRef;
use crate::sts::StsError;
use crate::trust::iam::{IamClient, IamError};

pub use self::iam::IamAccessKey;

/// A key older than this many days is due for rotation (AWS Security Hub's IAM.3).
pub const STALE_AFTER_DAYS: u32 = 90;

/// One access key of the user, as IAM lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub created: Option<DateTime<Utc>>,
    /// Whole days since it was created.
    pub age_days: Option<u32>,
    /// Whether this is the key Rolehop holds in the keychain for the session.
    pub in_keychain: bool,
}

/// What IAM says about an IAM user session's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct AccessKeyReport {
    pub session: String,
    pub user_name: String,
    /// Every key of the user (at most two), the one in the keychain marked.
    pub keys: Vec<AccessKeyInfo>,
    /// The age in days of the key in the keychain, when IAM lists it.
    pub age_days: Option<u32>,
    /// The key in the keychain is older than [`STALE_AFTER_DAYS`]: rotate it.
    pub stale: bool,
}

/// An access key id as the desktop shows it: its `AKIA`-style prefix and last four
/// characters (`AKIA…WXYZ`), enough to tell keys apart and match IAM's console, while
/// no whole key id of the user's reaches the web view.
pub fn masked_key_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "…".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

impl AccessKeyReport {
    /// The report with every key id masked ([`masked_key_id`]), for the desktop.
    pub fn masked(mut self) -> Self {
        for key in &mut self.keys {
            key.access_key_id = masked_key_id(&key.access_key_id);
        }
        self
    }
}

impl RotatedKeys {
    /// The rotation with both key ids masked ([`masked_key_id`]), for the desktop.
    pub fn masked(mut self) -> Self {
        self.old_key_id = masked_key_id(&self.old_key_id);
        self.new_key_id = masked_key_id(&self.new_key_id);
        self
    }
}

#[cfg(test)]
mod masking_tests {
    use super::masked_key_id;

    #[test]
    fn a_masked_key_id_keeps_its_prefix_and_last_four_only() {
        assert_eq!(masked_key_id("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(masked_key_id("short"), "…");
    }
}

/// A rotation that went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct RotatedKeys {
    pub session: String,
    pub user_name: String,
    pub old_key_id: String,
    pub new_key_id: String,
    /// Sessions whose cached credentials (made with the old key) were forgotten.
    pub forgotten: Vec<String>,
    /// What could not be forgotten (the keychain refused); the key itself is rotated.
    pub warnings: Vec<String>,
}

/// What became of a new key that had to be given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollback {
    /// It was deleted again.
    Deleted,
    /// IAM refused to delete it: it must be deleted by hand.
    Kept(IamError),
}

/// Why an access key could not be listed or rotated. Each says what is in the keychain
/// now and what, if anything, to clean up. Never a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "session '{session}' is a role: only IAM user sessions have access keys (its chain starts at '{root}')"
    )]
    NotIamUser { session: String, root: String },
    #[error(
        "the keychain holds no access key for '{session}'; add one with `rolehop session edit iam-user {session} --new-keys`"
    )]
    MissingKeys { session: String },
    #[error(
        "GetCallerIdentity with the access key of '{session}' failed ({cause}); nothing changed"
    )]
    Identity { session: String, cause: StsError },
    #[error(
        "the access key of '{session}' acts as {arn}, which is not an IAM user; nothing changed (root keys are managed in the AWS console)"
    )]
    NotAUser { session: String, arn: String },
    #[error("IAM refused {action} for user '{user}' ({cause}); nothing changed")]
    Refused {
        action: &'static str,
        user: String,
        cause: IamError,
    },
    #[error(
        "IAM refused a new access key for user '{user}': it already has two ({cause}); nothing changed. The keychain holds {held}; delete the other, {other}, if nothing uses it (`aws iam delete-access-key --user-name {user} --access-key-id {other}`), then rotate again"
    )]
    TwoKeys {
        user: String,
        held: String,
        other: String,
        cause: IamError,
    },
    #[error(
        "STS did not accept the new access key {new_key_id} of user '{user}' within {waited_secs} s ({cause}); the keychain still holds {old_key_id}, unchanged; {}",
        rollback_text(user, new_key_id, rollback)
    )]
    Unproven {
        user: String,
        old_key_id: String,
        new_key_id: String,
        waited_secs: u64,
        cause: StsError,
        rollback: Rollback,
    },
    #[error(
        "the new access key {new_key_id} of user '{user}' could not be stored in the keychain ({cause}); it still holds {old_key_id}, unchanged; {}",
        rollback_text(user, new_key_id, rollback)
    )]
    NotStored {
        user: String,
        old_key_id: String,
        new_key_id: String,
        cause: crate::keychain::KeychainError,
        rollback: Rollback,
    },
    #[error(
        "the new access key {new_key_id} of user '{user}' is in the keychain and works, but IAM refused to delete the old key {old_key_id} ({cause}): delete it with `aws iam delete-access-key --user-name {user} --access-key-id {old_key_id}`"
    )]
    OldKeyKept {
        user: String,
        old_key_id: String,
        new_key_id: String,
        cause: IamError,
    },
}

fn rollback_text(user: &str, new_key_id: &str, rollback: &Rollback) -> String {
    match rollback {
        Rollback::Deleted => format!("the new key {new_key_id} was deleted again"),
        Rollback::Kept(e) => format!(
            "IAM refused to delete the new key again ({e}): delete it with `aws iam delete-access-key --user-name {user} --access-key-id {new_key_id}`"
        ),
    }
}

impl Problem for KeyError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Engine(e) => e.kind(),
            Self::NotIamUser { .. } => ErrorKind::Invalid,
            Self::MissingKeys { .. } => ErrorKind::NotFound,
            Self::NotStored { .. } => ErrorKind::Keychain,
            Self::Identity { .. }
            | Self::NotAUser { .. }
            | Self::Refused { .. }
            | Self::TwoKeys { .. }
            | Self::Unproven { .. }
            | Self::OldKeyKept { .. } => ErrorKind::Aws,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Engine(e) => e.field(),
            _ => None,
        }
    }

    fn failure(&self) -> Option<&Failure> {
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

/// How long a new key is given to become usable: AWS documents IAM changes as
/// eventually consistent, a new key usually working within seconds.
#[derive(Debug, Clone, Copy)]
pub struct Propagation {
    /// The wait after the first refusal; doubled after each, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// No retry starts after this much waiting.
    pub budget: Duration,
}

impl Default for Propagation {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            budget: Duration::from_secs(30),
        }
    }
}

/// The codes STS answers for a key it does not know (yet).
fn not_yet_propagated(e: &StsError) -> bool {
    matches!(
        e.code.as_str(),
        "InvalidClientTokenId" | "SignatureDoesNotMatch" | "AuthFailure"
    )
}

/// Calls `prove` until it succeeds, fails with an error other than "unknown key", or
/// the budget is spent: the answer, with how long it waited in total.
pub async fn retry_until_propagated<T, F, Fut>(
    policy: Propagation,
    mut prove: F,
) -> (Result<T, StsError>, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StsError>>,
{
    let mut waited = Duration::ZERO;
    let mut delay = policy.first_delay;
    loop {
        match prove().await {
            Err(e) if not_yet_propagated(&e) && waited + delay <= policy.budget => {
                tracing::info!(code = %e.code, ?delay, "new access key not accepted yet; retrying");
                tokio::time::sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(policy.max_delay);
            }
            other => return (other, waited),
        }
    }
}

/// The IAM user name in a `GetCallerIdentity` ARN (`arn:aws:iam::1:user/path/NAME`).
pub fn user_name_of(arn: &str) -> Option<&str> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let path = resource.strip_prefix("user/")?;
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// Whether listing keys may ask for an MFA code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// As a start would (the terminal, the app's dialog), when no valid token is cached.
    IfNeeded,
    /// Never: without a cached MFA token, IAM is asked with the long-lived key.
    Never,
}

/// The IAM user session, its stored key and what signs its IAM calls.
struct UserKeys {
    id: SessionId,
    name: String,
    stored: Credentials,
    signer: Credentials,
}

impl Engine {
    /// The IAM user session `selector` and its key from the keychain; IAM calls are
    /// signed with its MFA session token when it has an MFA device (asking for a code
    /// as a start would, `mfa_code` answering up front). Under [`Asking::Never`] a user
    /// whose token would need a new code signs with its key instead.
    async fn user_keys(
        &self,
        selector: &SessionRef,
        mfa_code: Option<Zeroizing<String>>,
        asking: Asking,
    ) -> Result<UserKeys, KeyError> {
        let ws = self.workspace().await?;
        let stored = ws.find(selector).map_err(EngineError::from)?;
        let session = stored.session.clone();
        match &session.kind {
            SessionKind::IamUser(_) => {}
            SessionKind::Role(_)
            | SessionKind::SsoRole(_)
            | SessionKind::Saml(_)
            | SessionKind::LoginSession(_) => {
                let root = ws.chain(session.id).first().map(|s| s.name.clone());
                return Err(KeyError::NotIamUser {
                    session: session.name,
                    root: root.unwrap_or_default(),
                });
            }
        }
        let missing = || KeyError::MissingKeys {
            session: session.name.clone(),
        };
        let keys = self
            .long_lived_keys(session.id)
            .await?
            .ok_or_else(missing)?;
        let who = match asking {
            Asking::IfNeeded => MfaAsking::Here,
            Asking::Never => MfaAsking::Never,
        };
        let signer = self
            .service_signer(&session.id.into(), mfa_code, who)
            .await?
            .credentials;
        Ok(UserKeys {
            id: session.id,
            name: session.name,
            stored: keys,
            signer,
        })
    }

    /// The user the stored key belongs to, by `GetCallerIdentity`.
    async fn iam_user_name(&self, keys: &UserKeys) -> Result<String, KeyError> {
        let arn = self
            .resolver()
            .sts()
            .caller_arn(&keys.stored, None)
            .await
            .map_err(|cause| KeyError::Identity {
                session: keys.name.clone(),
                cause,
            })?;
        user_name_of(&arn)
            .map(str::to_owned)
            .ok_or_else(|| KeyError::NotAUser {
                session: keys.name.clone(),
                arn,
            })
    }

    /// Every access key of the IAM user behind session `selector`, with their ages, the
    /// one in the keychain marked, and whether it is due for rotation. The desktop asks
    /// with [`Asking::Never`]: showing a session's details never pops up an MFA dialog.
    pub async fn access_key_report(
        &self,
        session: impl Into<SessionRef>,
        mfa_code: Option<Zeroizing<String>>,
        asking: Asking,
    ) -> Result<AccessKeyReport, KeyError> {
        let selector = session.into();
        let keys = self.user_keys(&selector, mfa_code, asking).await?;
        let user = self.iam_user_name(&keys).await?;
        let iam = IamClient::new(None);
        let listed = iam
            .list_access_keys(&keys.signer, &user)
            .await
            .map_err(|cause| KeyError::Refused {
                action: "ListAccessKeys",
                user: user.clone(),
                cause,
            })?;
        Ok(report(
            &keys.name,
            &user,
            &keys.stored.access_key_id,
            listed,
            Utc::now(),
        ))
    }

    /// Rotates the access key of IAM user session `selector` (see the module's
    /// documentation for the order and what each failure leaves).
    pub async fn rotate_access_key(
        &self,
        session: impl Into<SessionRef>,
        mfa_code: Option<Zeroizing<String>>,
        propagation: Propagation,
    ) -> Result<RotatedKeys, KeyError> {
        let selector = session.into();
        let keys = self
            .user_keys(&selector, mfa_code, Asking::IfNeeded)
            .await?;
        let user = self.iam_user_name(&keys).await?;
        let old_key_id = keys.stored.access_key_id.clone();
        let iam = IamClient::new(None);

        let new = match iam.create_access_key(&keys.signer, &user).await {
            Ok(new) => new,
            Err(cause) if cause.code == "LimitExceeded" => {
                let listed = iam.list_access_keys(&keys.signer, &user).await;
                let other = listed
                    .ok()
                    .and_then(|l| l.into_iter().find(|k| k.access_key_id != old_key_id))
                    .map(|k| k.access_key_id)
                    .unwrap_or_else(|| "the key that is not in the keychain".into());
                return Err(KeyError::TwoKeys {
                    user,
                    held: old_key_id,
                    other,
                    cause,
                });
            }
            Err(cause) => {
                return Err(KeyError::Refused {
                    action: "CreateAccessKey",
                    user,
                    cause,
                });
            }
        };
        let new_key_id = new.access_key_id.clone();
        tracing::info!(session = %keys.name, %user, %new_key_id, "created a new access key");

        // Give the new key up: delete it, signed as the one that made it.
        let give_up = || async {
            match iam
                .delete_access_key(&keys.signer, &user, &new_key_id)
                .await
            {
                Ok(()) => Rollback::Deleted,
                Err(e) => Rollback::Kept(e),
            }
        };

        let sts = self.resolver().sts();
        let (proven, waited) =
            retry_until_propagated(propagation, || sts.caller_arn(&new, None)).await;
        let proven = proven.and_then(|arn| match user_name_of(&arn) {
            Some(name) if name == user => Ok(()),
            _ => Err(StsError {
                code: "WrongIdentity".into(),
                message: format!("the new key acts as {arn}, not as user '{user}'"),
            }),
        });
        if let Err(cause) = proven {
            return Err(KeyError::Unproven {
                rollback: give_up().await,
                user,
                old_key_id,
                new_key_id,
                waited_secs: waited.as_secs(),
                cause,
            });
        }

        let sealed = Zeroizing::new(serde_json::to_string(&new).expect("keys serialize"));
        if let Err(cause) = self
            .keychain()
            .set_async(&access_keys_account(keys.id), sealed)
            .await
        {
            return Err(KeyError::NotStored {
                rollback: give_up().await,
                user,
                old_key_id,
                new_key_id,
                cause,
            });
        }
        tracing::info!(session = %keys.name, %new_key_id, "new access key stored in the keychain");

        // What was cached was made with the old key, which is about to go.
        let ws = self.workspace().await?;
        let dropped = self
            .forget_copies(crate::engine::Forget::KeysReplaced(&ws, keys.id))
            .await;
        let name = |id: &SessionId| ws.get(*id).map(|s| s.session.name.clone());
        let failed = |id: &SessionId| dropped.failed.iter().any(|(f, _)| f.as_ref() == Some(id));
        let forgotten = (dropped.sessions.iter())
            .filter(|id| !failed(id))
            .filter_map(name)
            .collect();
        let warnings = (dropped.failed.iter())
            .filter_map(|(id, e)| {
                let name = name(id.as_ref()?)?;
                Some(format!(
                    "the cached credentials of '{name}' could not be forgotten: {e}"
                ))
            })
            .collect();

        // Signed with the old key's session token or the new key: the old key itself
        // may not sign its own deletion on every account's policy, the new one can.
        let deleter = if keys.signer.session_token.is_some() {
            &keys.signer
        } else {
            &new
        };
        if let Err(cause) = iam.delete_access_key(deleter, &user, &old_key_id).await {
            return Err(KeyError::OldKeyKept {
                user,
                old_key_id,
                new_key_id,
                cause,
            });
        }
        tracing::info!(session = %keys.name, %old_key_id, "old access key deleted");
        self.events()
            .publish(crate::events::EngineEvent::WorkspaceChanged);
        Ok(RotatedKeys {
            session: keys.name,
            user_name: user,
            old_key_id,
            new_key_id,
            forgotten,
            warnings,
        })
    }
}

/// The report on `listed` keys of `user`, `held` being the one in the keychain.
fn report(
    session: &str,
    user: &str,
    held: &str,
    listed: Vec<IamAccessKey>,
    now: DateTime<Utc>,
) -> AccessKeyReport {
    let keys: Vec<AccessKeyInfo> = listed
        .into_iter()
        .map(|k| AccessKeyInfo {
            in_keychain: k.access_key_id == held,
            age_days: k
                .created
                .map(|c| u32::try_from((now - c).num_days().max(0)).unwrap_or(u32::MAX)),
            access_key_id: k.access_key_id,
            status: k.status,
            created: k.created,
        })
        .collect();
    let age_days = keys.iter().find(|k| k.in_keychain).and_then(|k| k.age_days);
    AccessKeyReport {
        session: session.to_owned(),
        user_name: user.to_owned(),
        stale: age_days.is_some_and(|d| d > STALE_AFTER_DAYS),
        age_days,
        keys,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn the_user_name_comes_from_a_user_arn_only() {
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/alice"),
            Some("alice")
        );
        assert_eq!(
            user_name_of("arn:aws:iam::123456789012:user/team/ops/bob"),
            Some("bob")
        );
        assert_eq!(user_name_of("arn:aws:iam::123456789012:root"), None);
        assert_eq!(
            user_name_of("arn:aws:sts::123456789012:assumed-role/R/s"),
            None
        );
    }

    fn listed(id: &str, days_old: i64, now: DateTime<Utc>) -> IamAccessKey {
        IamAccessKey {
            access_key_id: id.into(),
            status: "Active".into(),
            created: Some(now - chrono::Duration::days(days_old)),
        }
    }

    #[test]
    fn a_key_past_ninety_days_is_stale_and_the_held_one_is_marked() {
        let now = Utc::now();
        let old = report(
            "alice",
            "alice",
            "AKIAHELD",
            vec![listed("AKIAOTHER", 10, now), listed("AKIAHELD", 91, now)],
            now,
        );
        assert!(old.stale);
        assert_eq!(old.age_days, Some(91));
        assert_eq!(
            old.keys.iter().map(|k| k.in_keychain).collect::<Vec<_>>(),
            [false, true]
        );
        let young = report("a", "a", "AKIAHELD", vec![listed("AKIAHELD", 90, now)], now);
        assert!(!young.stale, "90 days is not past 90");
    }

    fn unknown_key() -> StsError {
        StsError {
            code: "InvalidClientTokenId".into(),
            message: "The security token included in the request is invalid.".into(),
        }
    }

    /// The default policy scaled down from seconds to milliseconds: a key that STS does
    /// not know is IAM's propagation delay, which no local peer produces (moto knows a
    /// key the moment it creates it), so a counting closure stands in for STS here.
    fn quick() -> Propagation {
        Propagation {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(8),
            budget: Duration::from_millis(60),
        }
    }

    #[tokio::test]
    async fn an_unknown_new_key_is_retried_with_backoff_until_sts_knows_it() {
        let calls = Cell::new(0);
        let (answer, waited) = retry_until_propagated(quick(), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 4 { Err(unknown_key()) } else { Ok(n) } }
        })
        .await;
        assert_eq!(answer, Ok(4));
        assert_eq!(waited, Duration::from_millis(1 + 2 + 4));
    }

    #[tokio::test]
    async fn propagation_retries_stop_at_the_budget_and_other_errors_at_once() {
        let calls = Cell::new(0);
        let (answer, waited) = retry_until_propagated(quick(), || {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(unknown_key()) }
        })
        .await;
        assert_eq!(answer.unwrap_err().code, "InvalidClientTokenId");
        assert!(waited <= quick().budget, "{waited:?}");
        assert_eq!(
            calls.get(),
            10,
            "1+2+4+8+8+8+8+8+8 = 55 of 60, then one last try"
        );

        let calls = Cell::new(0);
        let (answer, _) = retry_until_propagated(quick(), || {
            calls.set(calls.get() + 1);
            async {
                Err::<(), _>(StsError {
                    code: "AccessDenied".into(),
                    message: "no".into(),
                })
            }
        })
        .await;
        assert_eq!(answer.unwrap_err().code, "AccessDenied");
        assert_eq!(calls.get(), 1);
    }
}
