//! Which start needs a sign-in at a SAML identity provider first: a click on a
//! federated session (or a role chained from one) that would start it opens the
//! desktop's login window on the provider's URL instead of calling STS, and the
//! response the window takes starts it ([`Engine::start`] with `saml_assertion`).
//! The same sign-in renews an active one waiting for it ([`Engine::federated_renewal`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ClickAction, Engine};
use crate::error::EngineError;
use crate::model::{SessionId, SessionKind, SessionState};
use crate::reference::SessionRef;
use crate::workspace::{StoredSession, Workspace};

/// A sign-in a start needs: the session to start after it, and the identity provider
/// URL of the federated session its chain begins at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FederatedSignIn {
    pub session: SessionId,
    pub session_name: String,
    /// The federated session whose provider signs in (the session itself, or the root
    /// of its chain).
    pub federated_name: String,
    pub idp_url: String,
    /// For a renewal of an active session: when its credentials in place expire (a
    /// sign-in given up leaves it active until then). `None` for a start.
    pub active_until: Option<DateTime<Utc>>,
}

impl Engine {
    /// `Some` when a click on `session` would start it (inactive or failed) and its
    /// chain begins at a federated session: the person must sign in at that session's
    /// provider first. `None` when the click stops it or needs no sign-in.
    pub async fn federated_sign_in(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<Option<FederatedSignIn>, EngineError> {
        let ws = self.workspace().await?;
        let stored = ws.find(session.into())?;
        if ClickAction::for_state(&stored.state) != ClickAction::Start {
            return Ok(None);
        }
        Ok(sign_in_at_root(&ws, stored, None))
    }

    /// `Some` when `session` is active and its chain begins at a federated session: a
    /// sign-in at that session's provider renews it (a start with the new response,
    /// [`Engine::start`], which keeps it on its profile). What "Sign in again" (the
    /// notification of [`crate::EngineEvent::SignInNeeded`], the window's button)
    /// offers; `None` for a session in any other state or of another kind, whose
    /// click means what [`ClickAction`] says.
    pub async fn federated_renewal(
        &self,
        session: impl Into<SessionRef>,
    ) -> Result<Option<FederatedSignIn>, EngineError> {
        let ws = self.workspace().await?;
        let stored = ws.find(session.into())?;
        let SessionState::Active { expires_at } = stored.state else {
            return Ok(None);
        };
        Ok(sign_in_at_root(&ws, stored, Some(expires_at)))
    }
}

/// The sign-in at the provider of the federated session `stored`'s chain begins at.
fn sign_in_at_root(
    ws: &Workspace,
    stored: &StoredSession,
    active_until: Option<DateTime<Utc>>,
) -> Option<FederatedSignIn> {
    let root = ws.chain(stored.session.id).first().copied()?;
    match &root.kind {
        SessionKind::Saml(role) => Some(FederatedSignIn {
            session: stored.session.id,
            session_name: stored.session.name.clone(),
            federated_name: root.name.clone(),
            idp_url: role.idp_url.clone(),
            active_until,
        }),
        _ => None,
    }
}
