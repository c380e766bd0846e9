//! Starting, stopping, toggling and rotating sessions, and resolving credentials.
//!
//! A start runs in three steps (see [`crate::claims`]):
//! 1. one locked update claims the profile: the session becomes pending under a fresh
//!    claim, whichever session held the profile is stopped and its credentials withdrawn;
//! 2. with no lock held, the chain is resolved (cached hops reused, MFA asked at most
//!    once);
//! 3. one locked update checks the claim still holds, hands the credentials to the
//!    delivery (whose lock is taken inside the workspace lock) and marks the session
//!    active, or failed with the AWS error's code and message. A start whose claim was
//!    taken meanwhile (another start on the profile, a stop, a removal) delivers nothing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::chain::{ReadAhead, ResolveOptions};
use crate::claims::Claim;
use crate::credentials::Credentials;
use crate::delivery::{Delivery, DeliveryError, Handover};
use crate::error::EngineError;
use crate::events::EngineEvent;
use crate::kernel_cache::fingerprint;
use crate::mfa::{MfaPrompt, NoPrompt, OneCode};
use crate::model::{
    Failure, FailureCode, Session, SessionId, SessionKind, SessionState, SessionView,
};
use crate::reference::SessionRef;
use crate::saml::SamlResponse;
use crate::trust::inspect::explain_failure;
use crate::validate::{self, ValidationError};
use crate::workspace::{StoredSession, Workspace};

use super::{ClickAction, Engine, Forget, StartOptions};

/// What the first locked step of a start or toggle did.
enum Begun {
    /// A toggle found the session live and stopped it; the workspace as the stop left
    /// it.
    Stopped(Box<SessionView>, Box<Workspace>),
    /// The profile is claimed; the workspace as the claim left it, and the chain's
    /// keychain reads, started as soon as the claim was made (they run while the claim
    /// is written to disk).
    Claimed {
        ws: Box<Workspace>,
        id: SessionId,
        token: Uuid,
        ahead: tokio::task::JoinHandle<ReadAhead>,
    },
}

/// How a start's last locked step ended.
enum Settled {
    Active(SessionView),
    Failed(Failure),
    /// The claim was taken meanwhile: nothing was delivered.
    Lost(Option<SessionView>),
}

/// Whether `stored` is active (not being restarted) with `creds`' expiry.
fn active_with(stored: &StoredSession, creds: &Credentials) -> bool {
    matches!(stored.state, SessionState::Active { expires_at } if creds.expiration == Some(expires_at))
        && stored.claim.is_none()
        && stored.issued.as_deref() == Some(fingerprint(creds).as_str())
}

/// Whether a toggle stops the session: the same answer every click label shows.
fn live(state: &SessionState) -> bool {
    ClickAction::for_state(state) == ClickAction::Stop
}

/// Hands `creds` to the delivery for `session`'s profile; gives their expiry.
fn hand_over(
    delivery: &dyn Delivery,
    ws: &Workspace,
    session: &Session,
    creds: Credentials,
    take_over: bool,
) -> Result<DateTime<Utc>, Failure> {
    let expires_at = creds
        .expiration
        .unwrap_or_else(|| Utc::now() + chrono::Duration::hours(1));
    delivery
        .deliver(&Handover {
            profile: session.profile.clone(),
            session: session.id,
            credentials: creds,
            region: ws.region_of(session),
            mode: ws.settings.delivery_mode,
            take_over,
        })
        .map_err(|e| delivery_failure(&e))?;
    Ok(expires_at)
}

fn delivery_failure(e: &DeliveryError) -> Failure {
    Failure::new(
        match e {
            DeliveryError::ProfileOwnedByUser { .. } => FailureCode::ProfileOwnedByUser,
            _ => FailureCode::DeliveryFailed,
        },
        e.to_string(),
    )
}

/// Starts the keychain reads of a start of session `id` on a task of their own (see
/// [`crate::chain::ChainResolver::read_ahead`]). Must run inside the runtime.
fn read_ahead(
    resolver: &crate::chain::ChainResolver,
    ws: &Workspace,
    id: SessionId,
) -> tokio::task::JoinHandle<ReadAhead> {
    let margin = ws.settings.rotation_margin();
    tokio::spawn(resolver.read_ahead(ws, id, None, margin))
}

/// Who may be asked for an MFA code when [`Engine::credentials_asking`] needs one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asking {
    /// This process's own prompt (a terminal, or the app's dialog in the app).
    Here,
    /// The desktop app's dialog over its local channel, when the app runs (a process
    /// with no terminal: `credential-process`, the container endpoint).
    ThroughTheApp,
    /// Nobody: a missing token fails with `MfaRequired` (the app showing a session's
    /// details must never pop up a dialog by itself).
    Never,
}

impl Engine {
    /// Starts a session: its credentials appear under its profile. Whichever session
    /// held the profile is stopped first. If another start or a stop takes the profile
    /// while this one resolves, this one delivers nothing, stays stopped and says so
    /// (a conflict error).
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn start(
        &self,
        session: impl Into<SessionRef>,
        opts: StartOptions,
    ) -> Result<SessionView, EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        if let Some(code) = &opts.mfa_code {
            validate::mfa_code("mfa_code", code)?;
        }
        // A SAML response is read and checked before anything changes.
        let saml = match &opts.saml_assertion {
            Some(posted) => Some(Arc::new(self.saml_response_for(&selector, posted).await?)),
            None => None,
        };
        let early = self.early_read_ahead(&selector);
        match self.begin(&selector, false, early).await? {
            Begun::Stopped(view, _) => Ok(*view),
            Begun::Claimed {
                ws,
                id,
                token,
                ahead,
            } => self.finish_start(&ws, id, token, ahead, opts, saml).await,
        }
    }

    /// Reads `posted` (a base64 SAML response) for a start of `selector`, which must
    /// be a federated session or a role chained from one, and checks that it grants
    /// that federated session's role through its provider now. Every refusal names
    /// the field `assertion`, and says what is wrong.
    async fn saml_response_for(
        &self,
        selector: &SessionRef,
        posted: &str,
    ) -> Result<SamlResponse, EngineError> {
        let ws = self.workspace().await?;
        let stored = ws.find(selector)?;
        let root = ws.chain(stored.session.id).first().map(|s| s.kind.clone());
        let Some(SessionKind::Saml(role)) = root else {
            return Err(ValidationError::new(
                "assertion",
                format!(
                    "session '{}' is not federated: a SAML response starts only a federated \
                     (saml) session or a role chained from one",
                    stored.session.name
                ),
            )
            .into());
        };
        let response = SamlResponse::parse(posted)?;
        response.check_for(&role.role_arn, &role.principal_arn, Utc::now())?;
        Ok(response)
    }

    /// Toggles a session, the same for every caller (window, tray, CLI): an active or
    /// pending session is stopped (a start in flight is abandoned and delivers
    /// nothing); an inactive or failed one is started. The choice is made inside the
    /// locked update that acts on it.
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn toggle(&self, session: impl Into<SessionRef>) -> Result<SessionView, EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        let early = self.early_read_ahead(&selector);
        match self.begin(&selector, true, early).await? {
            Begun::Stopped(view, _) => Ok(*view),
            Begun::Claimed {
                ws,
                id,
                token,
                ahead,
            } => {
                self.finish_start(&ws, id, token, ahead, StartOptions::default(), None)
                    .await
            }
        }
    }

    /// The keychain reads of a start of `selector`, begun before its claim from the
    /// workspace as this process last saw it (no disk read, no wait), so that they run
    /// while the claim is made and written. `None` when that workspace is not at hand
    /// or the session is live (a toggle would stop it); the claim then starts them. A
    /// stale workspace costs nothing but reads: entries a hop does not find read ahead
    /// are read by the hop itself, and MFA lock stamps are read before the batch.
    fn early_read_ahead(
        &self,
        selector: &SessionRef,
    ) -> Option<tokio::task::JoinHandle<ReadAhead>> {
        self.store
            .peek(|ws| {
                let stored = ws.find(selector).ok()?;
                (!live(&stored.state)).then(|| read_ahead(&self.resolver, ws, stored.session.id))
            })
            .flatten()
    }

    /// Step 1: claims the session's profile (or, for a toggle of a live session, stops
    /// it). `early`: the keychain reads already under way for it, if any.
    async fn begin(
        &self,
        selector: &SessionRef,
        toggle: bool,
        early: Option<tokio::task::JoinHandle<ReadAhead>>,
    ) -> Result<Begun, EngineError> {
        let (selector, delivery) = (selector.to_owned(), self.delivery.clone());
        let resolver = self.resolver.clone();
        let claim = Claim::new();
        let token = claim.token;
        let (begun, stopped) = self
            .update(move |ws| {
                let stored = ws.find(&selector)?;
                let (id, profile) = (stored.session.id, stored.session.profile.clone());
                if toggle && live(&stored.state) {
                    if ws.release(id)? {
                        delivery.withdraw(&profile)?;
                    }
                    let view = Box::new(ws.view(ws.get(id).expect("found")));
                    return Ok((Begun::Stopped(view, Box::new(ws.clone())), vec![id]));
                }
                let claimed = ws.claim(id, claim)?;
                if claimed.withdraw {
                    delivery.withdraw(&profile)?;
                }
                // Spawned from the store's thread, inside the runtime; if the claim's
                // write fails, the reads are simply not used.
                let ahead = early.unwrap_or_else(|| read_ahead(&resolver, ws, id));
                Ok((
                    Begun::Claimed {
                        ws: Box::new(ws.clone()),
                        id,
                        token,
                        ahead,
                    },
                    claimed.stopped,
                ))
            })
            .await?;
        // Whatever was live on the profile is stopped, and this session's credentials
        // from before a restart are no longer what the profile has.
        match &begun {
            Begun::Claimed { ws, id, .. } => {
                self.forget_copies(Forget::Stopped(ws, &stopped)).await;
                self.forget_copies(Forget::Superseded(*id)).await;
                let mut changed = stopped;
                changed.push(*id);
                self.announce(ws, changed);
            }
            Begun::Stopped(view, ws) => {
                self.forget_copies(Forget::Stopped(ws, &stopped)).await;
                self.announce_view(view);
            }
        }
        Ok(begun)
    }

    /// Steps 2 and 3 of a start.
    async fn finish_start(
        &self,
        ws: &Workspace,
        id: SessionId,
        token: Uuid,
        ahead: tokio::task::JoinHandle<ReadAhead>,
        opts: StartOptions,
        saml: Option<Arc<SamlResponse>>,
    ) -> Result<SessionView, EngineError> {
        let target = ws.get(id).expect("claimed").session.clone();
        let mut options = self.resolve_options(ws, &target, self.prompt_for(opts.mfa_code));
        if saml.is_some() {
            // A new SAML response means new credentials for the federated hop: a
            // start with one never reuses the hop's cached credentials.
            options.refresh = ws.chain(id).first().map(|root| root.id);
            options.saml = saml;
        }
        let ahead = ahead.await.expect("read-ahead task");
        let resolved = match self
            .resolver
            .resolve_read_ahead(ws, id, &options, ahead)
            .await
        {
            Ok(creds) => Ok(creds),
            // Only a failed start pays for the explanation (bounded in time).
            Err(e) => Err(Failure {
                trust: explain_failure(self, ws, &e).await.map(Box::new),
                ..e.failure(&target.name)
            }),
        };
        let fresh = resolved.as_ref().ok().cloned();
        self.store_sso_statuses().await?;
        let delivery = self.delivery.clone();
        let take_over = opts.take_over;
        let (settled, ws) = self
            .update(move |ws| {
                if !ws.holds(id, token) {
                    let view = ws.get(id).map(|s| ws.view(s));
                    return Ok((Settled::Lost(view), ws.clone()));
                }
                let session = ws.get(id).expect("claimed").session.clone();
                let issued = resolved.as_ref().ok().map(fingerprint);
                let delivered = resolved
                    .and_then(|creds| hand_over(delivery.as_ref(), ws, &session, creds, take_over));
                let settled = match delivered {
                    Ok(expires_at) => {
                        ws.settle(id, token, SessionState::Active { expires_at });
                        ws.set_issued(id, issued.expect("delivered credentials"));
                        ws.last_used.insert(id, chrono::Utc::now());
                        Settled::Active(ws.view(ws.get(id).expect("claimed")))
                    }
                    Err(failure) => {
                        // The claim holds, so whatever Rolehop has under the profile is
                        // this session's (from before a restart): a failed session
                        // leaves none behind.
                        if let Err(e) = delivery.withdraw(&session.profile) {
                            tracing::warn!(
                                "cannot withdraw profile '{}' after a failed start: {e}",
                                session.profile
                            );
                        }
                        ws.settle(id, token, SessionState::Failed(failure.clone()));
                        Settled::Failed(failure)
                    }
                };
                Ok((settled, ws.clone()))
            })
            .await?;
        self.announce(&ws, [id]);
        match (&settled, fresh) {
            (Settled::Active(view), Some(creds)) => self.keep_in_kernel(&ws, view, &creds),
            (Settled::Failed(_), _) => {
                self.forget_copies(Forget::Superseded(id)).await;
            }
            _ => {}
        }
        match settled {
            Settled::Active(view) => Ok(view),
            Settled::Failed(failure) => Err(EngineError::SessionFailed {
                session: target.name,
                failure,
            }),
            Settled::Lost(None) => Err(EngineError::session_removed(&target.name)),
            Settled::Lost(Some(view)) => Err(EngineError::Overtaken {
                session: view.session.name.clone(),
                profile: view.session.profile.to_string(),
                state: view.state.label(),
            }),
        }
    }

    /// Ends the starts this process has in flight, for a process being interrupted
    /// (Ctrl-C, SIGTERM) after it dropped them: each session goes back to active if it
    /// was, else fails as `Interrupted`, so none is left pending. Waits for an update in
    /// flight (the workspace lock). Returns the sessions changed, as they are now.
    pub async fn interrupt_starts(&self) -> Result<Vec<SessionView>, EngineError> {
        let (changed, ws) = self
            .update(|ws| Ok((ws.interrupt_own_starts(), ws.clone())))
            .await?;
        self.announce(&ws, changed.iter().copied());
        Ok(changed
            .iter()
            .filter_map(|id| ws.get(*id).map(|s| ws.view(s)))
            .collect())
    }

    /// Stops a session: what Rolehop wrote for its profile is removed (unless another
    /// session now holds the profile). A start in flight is abandoned.
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn stop(&self, session: impl Into<SessionRef>) -> Result<SessionView, EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        let (selector, delivery) = (selector.to_owned(), self.delivery.clone());
        let (view, ws) = self
            .update(move |ws| {
                let stored = ws.find(&selector)?;
                let (id, profile) = (stored.session.id, stored.session.profile.clone());
                if ws.release(id)? {
                    delivery.withdraw(&profile)?;
                }
                Ok((ws.view(ws.get(id).expect("found")), ws.clone()))
            })
            .await?;
        self.forget_copies(Forget::Stopped(&ws, &[view.session.id]))
            .await;
        self.announce_view(&view);
        Ok(view)
    }

    /// Refreshes an active session's credentials without prompting: the cached user
    /// token is reused, so this asks for MFA zero times while it is valid. A session
    /// that stopped or restarted meanwhile is left as it is. A failure fails the session
    /// and is announced ([`EngineEvent::RotationFailed`]).
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn rotate(&self, session: impl Into<SessionRef>) -> Result<SessionView, EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        self.rotate_once(&selector, Rotation::Final).await
    }

    /// One try of a background rotation that will be tried again: a failure that may
    /// pass ([`crate::model::FailureCode::is_transient`]) leaves the session active on
    /// its still-valid credentials, changes nothing and announces nothing; any other
    /// failure fails the session as [`Engine::rotate`] does. The caller ends a run of
    /// transient failures with [`Engine::give_up_rotation`].
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn try_rotate(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<SessionView, EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        self.rotate_once(&selector, Rotation::Retried).await
    }

    /// Ends a background rotation that kept failing: the session fails with `failure`
    /// and the user is told once ([`EngineEvent::RotationFailed`]). Only a session still
    /// active on the credentials that expire at `expires_at` (not stopped, restarted or
    /// rotated meanwhile) is failed; `Ok(false)` when there was none.
    pub async fn give_up_rotation(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        failure: Failure,
    ) -> Result<bool, EngineError> {
        let failed = failure.clone();
        let (name, ws) = self
            .update(move |ws| {
                let Some(stored) = ws.get(id) else {
                    return Ok((None, ws.clone()));
                };
                let same = stored.state == SessionState::Active { expires_at };
                if !same || stored.claim.is_some() {
                    return Ok((None, ws.clone()));
                }
                let name = stored.session.name.clone();
                ws.set_state(id, SessionState::Failed(failed));
                Ok((Some(name), ws.clone()))
            })
            .await?;
        let Some(name) = name else {
            return Ok(false);
        };
        self.announce(&ws, [id]);
        self.events.publish(EngineEvent::RotationFailed {
            session: id,
            name,
            message: failure.message,
        });
        Ok(true)
    }

    /// Tells the user once that a federated session's rotation could not get a new
    /// SAML response (no sign-in hook, or it failed): the session stays active on its
    /// credentials until `expires_at` ([`EngineEvent::SignInNeeded`], whose notification
    /// and badge offer the sign-in that renews it, [`Engine::federated_renewal`]).
    /// `Ok(false)` when the session is no longer active on those credentials.
    pub async fn sign_in_needed(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        failure: &Failure,
    ) -> Result<bool, EngineError> {
        let ws = self.workspace().await?;
        let Some(stored) = ws.get(id) else {
            return Ok(false);
        };
        if stored.state != (SessionState::Active { expires_at }) {
            return Ok(false);
        }
        self.events.publish(EngineEvent::SignInNeeded {
            session: id,
            name: stored.session.name.clone(),
            expires_at,
            message: format!(
                "{} (its credentials last until {}; sign in again to renew it)",
                failure.message,
                expires_at.format("%H:%M:%S UTC")
            ),
        });
        Ok(true)
    }

    /// Ends a federated session that waited for a new sign-in at its credentials'
    /// expiry: it fails with `failure` (a state change, no second notification). Only
    /// a session still active on the credentials that expire at `expires_at` is ended.
    pub async fn end_at_expiry(
        &self,
        id: SessionId,
        expires_at: DateTime<Utc>,
        failure: Failure,
    ) -> Result<bool, EngineError> {
        let (ended, ws) = self
            .update(move |ws| {
                let Some(stored) = ws.get(id) else {
                    return Ok((false, ws.clone()));
                };
                if stored.state != (SessionState::Active { expires_at }) || stored.claim.is_some() {
                    return Ok((false, ws.clone()));
                }
                ws.set_state(id, SessionState::Failed(failure));
                Ok((true, ws.clone()))
            })
            .await?;
        if ended {
            self.announce(&ws, [id]);
        }
        Ok(ended)
    }

    /// A new SAML response for federated session `name` from the host's sign-in hook,
    /// checked for its role; `None` (and why, in the log) without a hook or a usable one.
    async fn sign_in_again(
        &self,
        name: &str,
        role: &crate::model::SamlRole,
    ) -> Option<Arc<SamlResponse>> {
        let hook = self.saml_sign_in.as_ref()?;
        let posted = match hook.sign_in(&role.idp_url).await {
            Ok(posted) => posted,
            Err(why) => {
                tracing::warn!(session = %name, "the sign-in again gave no SAML response: {why}");
                return None;
            }
        };
        let response = SamlResponse::parse(&posted).and_then(|r| {
            r.check_for(&role.role_arn, &role.principal_arn, Utc::now())
                .map(|()| r)
        });
        match response {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                tracing::warn!(session = %name, "the sign-in again's SAML response was refused: {e}");
                None
            }
        }
    }

    async fn rotate_once(
        &self,
        selector: &SessionRef,
        rotation: Rotation,
    ) -> Result<SessionView, EngineError> {
        let ws = self.workspace().await?;
        let stored = ws.find(selector)?;
        let target = stored.session.clone();
        if !matches!(stored.state, SessionState::Active { .. }) {
            return Ok(ws.view(stored));
        }
        let mut options = self.resolve_options(
            &ws,
            &target,
            Arc::new(NoPrompt(format!(
                "the MFA session behind '{}' expired; start the session again to enter a new code",
                target.name
            ))),
        );
        options.refresh = Some(target.id);
        if let SessionKind::Saml(role) = &target.kind {
            options.saml = self.sign_in_again(&target.name, role).await;
        }
        let resolved = self
            .resolver
            .resolve(&ws, target.id, &options)
            .await
            .map_err(|e| e.failure(&target.name));
        self.store_sso_statuses().await?;
        if let Err(failure) = &resolved
            && rotation == Rotation::Retried
            && (failure.code.is_transient() || failure.code == FailureCode::SamlSignInRequired)
        {
            // A federated session that needs a new sign-in keeps its credentials until
            // they expire too: the scheduler tells the user once and ends it at expiry
            // ([`Engine::sign_in_needed`], [`Engine::end_at_expiry`]).
            // The credentials in place stay valid until they expire: keep the session
            // active and let the scheduler try again.
            tracing::warn!(session = %target.name, failure = %failure.message, "rotation failed; will retry");
            return Err(EngineError::SessionFailed {
                session: target.name,
                failure: failure.clone(),
            });
        }
        let fresh = resolved.as_ref().ok().cloned();
        let (id, delivery) = (target.id, self.delivery.clone());
        let (outcome, ws) = self
            .update(move |ws| {
                let Some(stored) = ws.get(id) else {
                    return Ok((None, ws.clone()));
                };
                if !matches!(stored.state, SessionState::Active { .. }) || stored.claim.is_some() {
                    return Ok((None, ws.clone()));
                }
                let session = stored.session.clone();
                let issued = resolved.as_ref().ok().map(fingerprint);
                let delivered = resolved
                    .and_then(|creds| hand_over(delivery.as_ref(), ws, &session, creds, false));
                let state = match &delivered {
                    Ok(expires_at) => SessionState::Active {
                        expires_at: *expires_at,
                    },
                    Err(failure) => SessionState::Failed(failure.clone()),
                };
                ws.set_state(id, state);
                if let (Ok(_), Some(issued)) = (&delivered, issued) {
                    ws.set_issued(id, issued);
                }
                Ok((Some(delivered), ws.clone()))
            })
            .await?;
        let Some(outcome) = outcome else {
            // Stopped, restarted or removed while the new credentials were fetched.
            return ws
                .get(id)
                .map(|s| ws.view(s))
                .ok_or_else(|| EngineError::session_removed(&target.name));
        };
        self.announce(&ws, [id]);
        match (&outcome, fresh) {
            (Ok(_), Some(creds)) => {
                if let Some(stored) = ws.get(id) {
                    self.keep_in_kernel(&ws, &ws.view(stored), &creds);
                }
            }
            _ => {
                self.forget_copies(Forget::Superseded(id)).await;
            }
        }
        match outcome {
            Ok(_) => Ok(ws.view(ws.get(id).expect("rotated"))),
            Err(failure) => {
                self.events.publish(EngineEvent::RotationFailed {
                    session: id,
                    name: target.name.clone(),
                    message: failure.message.clone(),
                });
                Err(EngineError::SessionFailed {
                    session: target.name,
                    failure,
                })
            }
        }
    }

    /// The credentials the AWS `credential_process` contract asks for, as fast as they
    /// can come: never a prompt here (a missing MFA code is asked through the app), and
    /// when no kernel-keyring copy can answer, the keychain's connection is opened while
    /// the workspace is read.
    pub async fn credential_process(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<Credentials, EngineError> {
        let selector = session.into();
        if !self.kernel.is_on() {
            let keychain = self.keychain.clone();
            tokio::spawn(async move { keychain.prepare_batch().await });
        }
        Ok(self.credentials(selector, None, false).await?.1)
    }

    /// A session's credentials, for `exec` and `credential-process`: cached hops are
    /// reused, nothing is written and no state changes. With `interactive` false this
    /// process never prompts: a missing MFA token is asked for through the desktop app
    /// when it runs, else an error telling what to do.
    #[tracing::instrument(skip_all, fields(session = tracing::field::Empty))]
    pub async fn credentials(
        &self,
        session: impl Into<SessionRef>,
        mfa_code: Option<Zeroizing<String>>,
        interactive: bool,
    ) -> Result<(SessionView, Credentials), EngineError> {
        let selector = session.into();
        // As the typed text was logged: quoted.
        tracing::Span::current().record("session", tracing::field::debug(selector.to_string()));
        let asking = if interactive {
            Asking::Here
        } else {
            Asking::ThroughTheApp
        };
        self.credentials_asking(&selector, mfa_code, asking).await
    }

    /// [`Engine::credentials`], choosing who may be asked for an MFA code when one is
    /// needed (`mfa_code` answers up front whatever the choice).
    pub(crate) async fn credentials_asking(
        &self,
        selector: &SessionRef,
        mfa_code: Option<Zeroizing<String>>,
        asking: Asking,
    ) -> Result<(SessionView, Credentials), EngineError> {
        if let Some(code) = &mfa_code {
            validate::mfa_code("mfa_code", code)?;
        }
        let ws = self.workspace().await?;
        let stored = ws.find(selector)?;
        let min_validity = ws.settings.rotation_margin();
        if let Some(creds) = self.kernel_answer(stored, min_validity) {
            tracing::debug!(session = %stored.session.name, "credentials from the kernel keyring");
            return Ok((ws.view(stored), creds));
        }
        let target = stored.session.clone();
        let needs_code = format!(
            "session '{}' needs an MFA code; run `rolehop session start {}` once to enter it",
            target.name, target.name
        );
        let prompt: Arc<dyn MfaPrompt> = match asking {
            _ if mfa_code.is_some() => self.prompt_for(mfa_code),
            Asking::Here => self.prompt_for(None),
            Asking::ThroughTheApp => self.through_the_app(format!(
                "{needs_code} (or keep the Rolehop desktop app running: it asks for the code)"
            )),
            Asking::Never => Arc::new(NoPrompt(needs_code)),
        };
        let options = self.resolve_options(&ws, &target, prompt);
        let creds = self
            .resolver
            .resolve(&ws, target.id, &options)
            .await
            .map_err(|e| EngineError::SessionFailed {
                session: target.name.clone(),
                failure: e.failure(&target.name),
            });
        self.store_sso_statuses().await?;
        let creds = creds?;
        // Read through: an active session's own credentials, as the workspace knows
        // them (same expiry), are copied for the next call.
        if active_with(stored, &creds) {
            self.keep_in_kernel(&ws, &ws.view(stored), &creds);
        }
        Ok((ws.view(stored), creds))
    }

    /// Copies an active session's credentials to the kernel keyring, unless it is an IAM
    /// user's MFA session and the settings keep those out.
    fn keep_in_kernel(&self, ws: &Workspace, view: &SessionView, creds: &Credentials) {
        let user = matches!(view.session.kind, SessionKind::IamUser(_));
        if user && !ws.settings.mfa_sessions_in_kernel_keyring {
            return;
        }
        self.kernel.put(view.session.id, creds);
    }

    /// The kernel keyring's copy of `stored`'s credentials, when the workspace says the
    /// session is active with exactly those credentials (their expiry) and they stay
    /// valid `min_validity` longer. A copy a race left behind (a stop or a rotation in
    /// another process between its read and its write) is never answered.
    fn kernel_answer(
        &self,
        stored: &StoredSession,
        min_validity: chrono::Duration,
    ) -> Option<Credentials> {
        if !matches!(stored.state, SessionState::Active { .. }) || stored.claim.is_some() {
            return None;
        }
        self.kernel
            .get(stored.session.id)
            .filter(|c| active_with(stored, c) && c.valid_for(Utc::now(), min_validity))
    }

    fn resolve_options(
        &self,
        ws: &Workspace,
        target: &Session,
        mfa: Arc<dyn MfaPrompt>,
    ) -> ResolveOptions {
        ResolveOptions {
            mfa,
            mfa_timeout: self.config.mfa_timeout,
            for_session: target.name.clone(),
            refresh: None,
            min_validity: ws.settings.rotation_margin(),
            saml: None,
        }
    }

    /// Asks through the desktop app's MFA dialog when it is running, else fails with
    /// `fallback` (see [`crate::agent`]).
    pub fn through_the_app(&self, fallback: String) -> Arc<dyn MfaPrompt> {
        #[cfg(unix)]
        {
            Arc::new(crate::agent::AgentPrompt::new(
                self.config.runtime_dir(),
                fallback,
            ))
        }
        #[cfg(not(unix))]
        {
            Arc::new(NoPrompt(fallback))
        }
    }

    fn prompt_for(&self, code: Option<Zeroizing<String>>) -> Arc<dyn MfaPrompt> {
        match code {
            Some(code) => Arc::new(OneCode::new(code, self.mfa.clone())),
            None => self.mfa.clone(),
        }
    }
}

/// Whether a failed rotation fails the session now or is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rotation {
    /// Fail the session on any failure.
    Final,
    /// Keep the session active on a transient failure.
    Retried,
}
