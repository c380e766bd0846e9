//! Console sign-in sessions (`aws login`): adding one with its token, taking a new
//! token for one after the person signed in again, Rolehop's own browser sign-in (the
//! flow `aws login` runs: [`Engine::begin_console_sign_in`], then
//! [`Engine::complete_console_sign_in`]) and the logout. The token reaches the keychain
//! from inside the locked update that checks the session, as an IAM user's keys do.

use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::EngineError;
use crate::events::EngineEvent;
use crate::login_session::{LoginToken, token_account};
use crate::model::{LoginSession, ProfileName, Session, SessionId, SessionKind, SessionView};
use crate::reference::SessionRef;
use crate::sso::browser_login::{self, LoopbackListener, Pkce};
use crate::validate::{self, ValidationError};

use super::{Engine, Forget};

/// The region a console sign-in goes through when neither the session nor the
/// workspace names one (the AWS CLI's default when it asks).
const DEFAULT_SIGN_IN_REGION: &str = "us-east-1";

/// A new console sign-in session Rolehop signs in itself: its name, profile and region;
/// the ARN comes from the sign-in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewConsoleSignIn {
    pub name: String,
    pub profile: String,
    pub region: Option<String>,
}

/// Whom a browser sign-in is for: a new session, or one that exists (signed in again).
#[derive(Debug, Clone)]
pub enum ConsoleSignInFor {
    New(NewConsoleSignIn),
    Again(SessionRef),
}

/// A console sign-in waiting for the person: open `authorize_url` (Rolehop's listener
/// on 127.0.0.1 waits for the service's redirect), then
/// [`Engine::complete_console_sign_in`]. Dropping it closes the listener.
pub struct PendingConsoleSignIn {
    /// The `signin` service's `/v1/authorize` for the person's browser.
    pub authorize_url: String,
    /// The session's name (a new one's, or the one signed in again).
    pub name: String,
    target: Target,
    region: String,
    listener: LoopbackListener,
    redirect_uri: String,
    pkce: Pkce,
    state: Zeroizing<String>,
}

enum Target {
    New(NewConsoleSignIn),
    /// The session, and the console session ARN it was signed in as.
    Again(SessionId, String),
}

impl std::fmt::Debug for PendingConsoleSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingConsoleSignIn")
            .field("name", &self.name)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Refused (naming `field`) unless session `id` still is a console sign-in session for
/// `login_session`: checked in the locked update that stores its new token.
fn still_signed_in_as(
    ws: &crate::workspace::Workspace,
    id: SessionId,
    login_session: &str,
    field: &str,
) -> Result<(), EngineError> {
    let same = ws.get(id).is_some_and(|s| {
        matches!(&s.session.kind, SessionKind::LoginSession(l) if l.login_session == login_session)
    });
    if !same {
        return Err(ValidationError::new(
            field,
            "the session is no longer a console sign-in session for this ARN",
        )
        .into());
    }
    Ok(())
}

fn sign_in_error(session: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::ConsoleSignIn {
        session: session.to_owned(),
        message: e.to_string(),
    }
}

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
            still_signed_in_as(ws, id, &wanted, "login_session")?;
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
    /// Step 1 of a console sign-in: checks what it is for (a new session's name and
    /// profile, under the workspace's rules; or an existing console sign-in session),
    /// opens the listener on 127.0.0.1 (`redirect_port`, else a free port), makes a
    /// fresh PKCE pair and `state`, and the `/v1/authorize` URL for the browser.
    /// Nothing is stored.
    pub async fn begin_console_sign_in(
        &self,
        target: ConsoleSignInFor,
        redirect_port: Option<u16>,
    ) -> Result<PendingConsoleSignIn, EngineError> {
        let ws = self.workspace().await?;
        let default_region = ws.settings.default_region.clone();
        let (name, target, region) = match target {
            ConsoleSignInFor::New(spec) => {
                // The workspace's rules, on a copy: a taken name or a bad profile is
                // refused before the person signs in.
                let mut check = ws.clone();
                check.add_session(Session {
                    id: SessionId::new(),
                    name: spec.name.trim().to_owned(),
                    profile: ProfileName::parse(spec.profile.trim())?,
                    region: spec.region.clone().filter(|r| !r.trim().is_empty()),
                    kind: SessionKind::LoginSession(LoginSession {
                        login_session: "arn:aws:iam::000000000000:user/signing-in".into(),
                        account_id: None,
                    }),
                    console: Default::default(),
                })?;
                let region = spec.region.clone().filter(|r| !r.trim().is_empty());
                (spec.name.trim().to_owned(), Target::New(spec), region)
            }
            ConsoleSignInFor::Again(selector) => {
                let stored = ws.find(&selector)?;
                let SessionKind::LoginSession(l) = &stored.session.kind else {
                    return Err(ValidationError::new(
                        "session",
                        format!("'{}' is not a console sign-in session", stored.session.name),
                    )
                    .into());
                };
                let target = Target::Again(stored.session.id, l.login_session.clone());
                (
                    stored.session.name.clone(),
                    target,
                    stored.session.region.clone(),
                )
            }
        };
        let region = region
            .or(default_region)
            .unwrap_or_else(|| DEFAULT_SIGN_IN_REGION.to_owned());
        validate::region("region", &region)?;
        let listener = LoopbackListener::bind(redirect_port)
            .await
            .map_err(|e| sign_in_error(&name, e))?;
        let redirect_uri = listener.redirect_uri();
        let random = |e: getrandom::Error| {
            sign_in_error(&name, format!("no random bytes for the sign-in: {e}"))
        };
        let pkce = Pkce::new().map_err(random)?;
        let state = browser_login::new_state().map_err(random)?;
        let authorize_url = self
            .resolver
            .signin()
            .authorize_url(&region, &redirect_uri, &state, &pkce.challenge)
            .await
            .map_err(|e| sign_in_error(&name, format!("{}: {}", e.code, e.message)))?;
        Ok(PendingConsoleSignIn {
            authorize_url,
            name,
            target,
            region,
            listener,
            redirect_uri,
            pkce,
            state,
        })
    }

    /// Step 2 of a console sign-in: waits (at most `timeout`) for the redirect, checks
    /// its `state`, redeems the code with the verifier under a fresh DPoP key, and
    /// stores the token in the keychain: with a new session, or in place of the
    /// session's token (when the sign-in is the same console session; another one is
    /// refused). A timeout, a refusal, a wrong `state` or a refused code store nothing.
    /// Dropping the future cancels the sign-in and changes nothing.
    pub async fn complete_console_sign_in(
        &self,
        pending: PendingConsoleSignIn,
        timeout: Duration,
    ) -> Result<SessionView, EngineError> {
        let PendingConsoleSignIn {
            name,
            target,
            region,
            listener,
            redirect_uri,
            pkce,
            state,
            ..
        } = pending;
        let code = listener
            .wait_for_code(&state, timeout)
            .await
            .map_err(|e| sign_in_error(&name, e))?;
        let (token, arn) = self
            .resolver
            .signin()
            .redeem_code(&code, &pkce.verifier, &redirect_uri, &region, Utc::now())
            .await
            .map_err(|e| {
                sign_in_error(
                    &name,
                    format!(
                        "the signin service refused the authorization code: {}: {}; \
                         nothing was stored",
                        e.code, e.message
                    ),
                )
            })?;
        match target {
            Target::New(spec) => {
                let spec = NewLoginSession {
                    name: spec.name,
                    profile: spec.profile,
                    region: Some(region),
                    login_session: arn,
                };
                self.add_login_session(spec, token).await
            }
            Target::Again(id, wanted) => {
                if arn != wanted {
                    return Err(sign_in_error(
                        &name,
                        format!(
                            "the browser signed in as {arn}, not as {wanted}, which this \
                             session is; nothing was stored (add another session for it)"
                        ),
                    ));
                }
                self.replace_login_token(id, &wanted, token).await?;
                // Role credentials cached through the old token may be for a session the
                // person ended: the sessions below ask again through the new one.
                let ws = self.workspace().await?;
                let forgotten = self.forget_copies(Forget::Redefined(&ws, id)).await;
                self.events.publish(EngineEvent::WorkspaceChanged);
                if let Some(e) = forgotten.error() {
                    return Err(e);
                }
                Ok(ws.view(
                    ws.get(id)
                        .ok_or_else(|| EngineError::session_removed(&name))?,
                ))
            }
        }
    }

    /// Logs a console sign-in session out: in one locked update, it and the live
    /// sessions chained below it are stopped, their credentials withdrawn from the AWS
    /// files; then its token (refresh token and DPoP key) leaves the keychain with every
    /// cached copy of those sessions' credentials ([`Forget::ConsoleLoggedOut`]). The
    /// session stays defined; its next start asks for a sign-in. The `signin` service
    /// has no operation that ends a session, so nothing is asked of AWS (as `aws
    /// logout`): credentials already handed out serve until they expire.
    pub async fn console_logout(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<SessionView, EngineError> {
        let selector = session.into().to_owned();
        let delivery = self.delivery.clone();
        let (id, stopped, withdraw_failed, ws) = self
            .update(move |ws| {
                let stored = ws.find(&selector)?;
                let id = stored.session.id;
                if !matches!(stored.session.kind, SessionKind::LoginSession(_)) {
                    return Err(ValidationError::new(
                        "session",
                        format!(
                            "'{}' is not a console sign-in session; `session stop` ends \
                             other kinds",
                            stored.session.name
                        ),
                    )
                    .into());
                }
                let (stopped, failed) = super::sso::stop_below(ws, &[id], &*delivery);
                Ok((id, stopped, failed, ws.clone()))
            })
            .await?;
        let forgotten = self.forget_copies(Forget::ConsoleLoggedOut(&ws, id)).await;
        self.announce(&ws, stopped);
        self.events.publish(EngineEvent::WorkspaceChanged);
        if let Some(e) = withdraw_failed.or_else(|| forgotten.error()) {
            return Err(e);
        }
        Ok(ws.view(ws.get(id).expect("found in the update")))
    }

    /// Puts `token` in the keychain as session `id`'s, if it still is a console sign-in
    /// session for `login_session` (checked in the same locked update).
    async fn replace_login_token(
        &self,
        id: SessionId,
        login_session: &str,
        token: LoginToken,
    ) -> Result<(), EngineError> {
        let (keychain, entry) = (self.keychain.clone(), token_account(id));
        let secret = token.to_json();
        let wanted = login_session.to_owned();
        self.update(move |ws| {
            still_signed_in_as(ws, id, &wanted, "session")?;
            keychain.set(&entry, &secret)?;
            Ok(())
        })
        .await
    }
}
