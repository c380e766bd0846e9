//! What signs a call to IAM or Organizations made through a session.
//!
//! AWS refuses IAM and Organizations calls signed with `GetSessionToken` credentials
//! obtained without MFA ("you cannot call any IAM API operations unless MFA
//! authentication information is included in the request"; STS allows them only
//! `AssumeRole` and `GetCallerIdentity`). So an IAM user signs those calls with its
//! long-lived key, or, when it has an MFA device, with its MFA session token (account
//! policies commonly deny IAM without MFA); never with the token a start without MFA
//! caches. A role or IAM Identity Center session signs with its own credentials, which
//! AWS accepts for any service.
//!
//! Key rotation, `trust check` (GetRole and the identity-policy reads) and `org sync`
//! all take their signer from here.

use zeroize::Zeroizing;

use crate::chain::access_keys_account;
use crate::credentials::Credentials;
use crate::error::EngineError;
use crate::model::{Failure, FailureCode, SessionId, SessionKind, SessionView};
use crate::reference::SessionRef;

use super::{Engine, MfaAsking};

/// Which credentials sign IAM and Organizations calls for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedWith {
    /// The IAM user's long-lived access key.
    LongLivedKey,
    /// The IAM user's session token, obtained with MFA.
    MfaSessionToken,
    /// A role's (or IAM Identity Center role's) own temporary credentials.
    RoleCredentials,
}

/// A session's signer for IAM and Organizations.
pub(crate) struct ServiceSigner {
    pub(crate) view: SessionView,
    pub(crate) credentials: Credentials,
    pub(crate) with: SignedWith,
}

impl Engine {
    /// An IAM user session's long-lived key from the keychain; `None` when the keychain
    /// holds none (or nothing readable) for it.
    pub(crate) async fn long_lived_keys(
        &self,
        id: SessionId,
    ) -> Result<Option<Credentials>, EngineError> {
        let text = self.keychain().get_async(&access_keys_account(id)).await?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// The credentials that sign IAM and Organizations calls through `selector` (see the
    /// module's documentation). For an IAM user with an MFA device, its MFA session
    /// token (cached, or asked as `asking` allows, `mfa_code` answering up front); when
    /// a new code would be needed and nobody here may be asked for it, its long-lived
    /// key instead.
    pub(crate) async fn service_signer(
        &self,
        selector: &SessionRef,
        mfa_code: Option<Zeroizing<String>>,
        asking: MfaAsking,
    ) -> Result<ServiceSigner, EngineError> {
        let ws = self.workspace().await?;
        let stored = ws.find(selector)?;
        let session = stored.session.clone();
        let SessionKind::IamUser(user) = &session.kind else {
            let (view, credentials) = self.credentials_asking(selector, mfa_code, asking).await?;
            return Ok(ServiceSigner {
                view,
                credentials,
                with: SignedWith::RoleCredentials,
            });
        };
        let missing = || EngineError::SessionFailed {
            session: session.name.clone(),
            failure: Failure::new(
                FailureCode::MissingAccessKeys,
                "no access keys in the keychain for this IAM user; add them again",
            ),
        };
        let keys = self
            .long_lived_keys(session.id)
            .await?
            .ok_or_else(missing)?;
        let view = ws.view(stored);
        let long_lived = |view| ServiceSigner {
            view,
            credentials: keys.clone(),
            with: SignedWith::LongLivedKey,
        };
        if user.mfa_serial.is_none() {
            // Its session token was obtained without MFA: IAM would refuse it.
            return Ok(long_lived(view));
        }
        match self
            .credentials_asking(&session.id.into(), mfa_code, asking)
            .await
        {
            Ok((view, token)) => Ok(ServiceSigner {
                view,
                credentials: token,
                with: SignedWith::MfaSessionToken,
            }),
            Err(EngineError::SessionFailed { failure, .. })
                if asking != MfaAsking::Here && failure.code == FailureCode::MfaRequired =>
            {
                Ok(long_lived(view))
            }
            Err(e) => Err(e),
        }
    }
}
