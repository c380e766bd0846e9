//! Console sign-in sessions (`aws login`): adding one with its token, and taking a new
//! token for one after the person signed in again. The token reaches the keychain from
//! inside the locked update that checks the session, as an IAM user's keys do.

use serde::Deserialize;

use crate::error::EngineError;
use crate::login_session::{LoginToken, token_account};
use crate::model::{LoginSession, ProfileName, Session, SessionId, SessionKind, SessionView};
use crate::validate::{self, ValidationError};

use super::Engine;

/// A new console sign-in session: `login_session` is the ARN `aws login` wrote in the
/// profile (its token comes apart, as a [`LoginToken`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct NewLoginSession {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
    pub login_session: String,
}

impl NewLoginSession {
    fn session(&self, id: SessionId, token: &LoginToken) -> Result<Session, EngineError> {
        let arn = validate::Arn::parse("login_session", self.login_session.trim())?;
        let account_id = arn
            .account_id()
            .map(str::to_owned)
            .or_else(|| Some(token.access_token.account_id.clone()))
            .filter(|a| !a.is_empty());
        if arn
            .account_id()
            .is_some_and(|a| a != token.access_token.account_id)
        {
            return Err(ValidationError::new(
                "login_session",
                "its token is for another account than the ARN names",
            )
            .into());
        }
        Ok(Session {
            id,
            name: self.name.clone(),
            profile: ProfileName::parse(&self.profile)?,
            region: self.region.clone().filter(|r| !r.trim().is_empty()),
            kind: SessionKind::LoginSession(LoginSession {
                login_session: self.login_session.trim().to_owned(),
                account_id,
            }),
            console: Default::default(),
        })
    }
}

impl Engine {
    /// Adds a console sign-in session; its token goes to the keychain, the rest to the
    /// workspace.
    pub async fn add_login_session(
        &self,
        spec: NewLoginSession,
        token: LoginToken,
    ) -> Result<SessionView, EngineError> {
        let session = spec.session(SessionId::new(), &token)?;
        let account = token_account(session.id);
        self.add_with_secret(session, account, token.to_json())
            .await
    }

    /// Replaces the token of console sign-in session `id` with `token` when `token` is
    /// the newer (its credentials end later: the person ran `aws login` again), if the
    /// session still is one for `login_session`. The AWS CLI's older copy may hold a
    /// refresh token Rolehop already spent, so it never replaces a newer one. Whether
    /// it was taken.
    pub async fn retake_login_token(
        &self,
        id: SessionId,
        login_session: &str,
        token: LoginToken,
    ) -> Result<bool, EngineError> {
        let (keychain, entry) = (self.keychain.clone(), token_account(id));
        let secret = token.to_json();
        let wanted = login_session.trim().to_owned();
        self.update(move |ws| {
            let same = ws.get(id).is_some_and(|s| {
                matches!(&s.session.kind, SessionKind::LoginSession(l) if l.login_session == wanted)
            });
            if !same {
                return Err(ValidationError::new(
                    "login_session",
                    "the session is no longer a console sign-in session for this ARN",
                )
                .into());
            }
            let held = keychain
                .get(&entry)?
                .and_then(|text| LoginToken::from_json(&text).ok());
            if held.is_some_and(|h| h.access_token.expires_at >= token.access_token.expires_at) {
                return Ok(false);
            }
            keychain.set(&entry, &secret)?;
            Ok(true)
        })
        .await
    }
}
