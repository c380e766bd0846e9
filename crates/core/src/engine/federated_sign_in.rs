//! Which start needs a sign-in at a SAML identity provider first: a click on a
//! federated session (or a role chained from one) that would start it opens the
//! desktop's login window on the provider's URL instead of calling STS, and the
//! response the window takes starts it ([`Engine::start`] with `saml_assertion`).

use serde::Serialize;

use super::{ClickAction, Engine};
use crate::error::EngineError;
use crate::model::{SessionId, SessionKind};
use crate::reference::SessionRef;

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
        let root = ws.chain(stored.session.id).first().copied();
        Ok(root.and_then(|root| match &root.kind {
            SessionKind::Saml(role) => Some(FederatedSignIn {
                session: stored.session.id,
                session_name: stored.session.name.clone(),
                federated_name: root.name.clone(),
                idp_url: role.idp_url.clone(),
            }),
            _ => None,
        }))
    }
}
