//! Adding, editing and removing sessions. Each checks every rule inside the one locked
//! workspace update that stores the result; an IAM user's keys reach the keychain from
//! inside that update too, once the rules have passed.

use crate::chain::access_keys_account;
use crate::changes::SessionChanges;
use crate::error::{EngineError, Withdrawal};
use crate::events::EngineEvent;
use crate::login_session::token_account;
use crate::model::{Session, SessionId, SessionKind, SessionState};
use crate::reference::SessionRef;
use crate::workspace::Workspace;

use super::{AccessKeys, Engine, Forget, NewIamUser, NewRole, NewSamlRole};
use crate::model::SessionView;

impl Engine {
    /// Adds an IAM user; its keys go to the keychain, the rest to the workspace.
    pub async fn add_iam_user(
        &self,
        spec: NewIamUser,
        keys: AccessKeys,
    ) -> Result<SessionView, EngineError> {
        let session = spec.session(SessionId::new())?;
        let secret = keys.sealed()?;
        let account = access_keys_account(session.id);
        self.add_with_secret(session, account, secret).await
    }

    /// Adds `session` and stores its long-lived `secret` (an IAM user's keys, a console
    /// session's token) under keychain `account` inside the same locked update, once
    /// the rules have passed.
    pub(super) async fn add_with_secret(
        &self,
        session: crate::model::Session,
        account: String,
        secret: zeroize::Zeroizing<String>,
    ) -> Result<SessionView, EngineError> {
        let (keychain, key_account) = (self.keychain.clone(), account.clone());
        let added = self
            .update(move |ws| {
                let id = session.id;
                ws.add_session(session)?;
                // The rules passed: only now may the keychain change.
                keychain.set(&key_account, &secret)?;
                Ok(ws.view(ws.get(id).expect("just added")))
            })
            .await;
        if added.is_err() {
            // The workspace write may have failed after the secret was stored; the id
            // is fresh, so there is nothing else under it to lose.
            let _ = self.keychain.delete_async(&account).await;
        } else {
            self.events.publish(EngineEvent::WorkspaceChanged);
        }
        added
    }

    /// Adds a role chained from `spec.parent` (any kind, any depth).
    pub async fn add_role(&self, spec: NewRole) -> Result<SessionView, EngineError> {
        self.add_built(move |ws| spec.session(ws, SessionId::new()))
            .await
    }

    /// Adds a federated (SAML) role session; its fields are checked, each error naming
    /// its field, and nothing is added on a refusal.
    pub async fn add_saml_role(&self, spec: NewSamlRole) -> Result<SessionView, EngineError> {
        self.add_built(move |_| spec.session(SessionId::new()))
            .await
    }

    /// Adds the session `build` makes from the locked workspace, under the workspace's
    /// rules, and says the workspace changed.
    async fn add_built(
        &self,
        build: impl FnOnce(&Workspace) -> Result<Session, EngineError> + Send + 'static,
    ) -> Result<SessionView, EngineError> {
        let view = self
            .update(move |ws| {
                let session = build(ws)?;
                let id = session.id;
                ws.add_session(session)?;
                Ok(ws.view(ws.get(id).expect("just added")))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        Ok(view)
    }

    /// Edits a session of either kind: fields `changes` leaves out keep their values.
    /// `keys`, for an IAM user, replace its stored keys. The profile of an active or
    /// pending session cannot change (its credentials are under the old one).
    pub async fn edit_session(
        &self,
        session: impl Into<SessionRef>,
        changes: SessionChanges,
        keys: Option<AccessKeys>,
    ) -> Result<SessionView, EngineError> {
        let selector = session.into();
        let secret = keys.as_ref().map(AccessKeys::sealed).transpose()?;
        let (selector, keychain) = (selector.to_owned(), self.keychain.clone());
        let (view, why, ws) = self
            .update(move |ws| {
                let current = ws.find(&selector)?.session.clone();
                let next = changes.apply(ws, &current)?;
                let is_user = matches!(current.kind, SessionKind::IamUser(_));
                if secret.is_some() && !is_user {
                    return Err(crate::validate::ValidationError::new(
                        "access_key_id",
                        format!("'{}' is a role: only IAM users have keys", current.name),
                    )
                    .into());
                }
                // New keys, or a role that now names another role, parent or account:
                // what was cached below it came from the old ones. An IAM user's other
                // fields (MFA device, token duration) leave its token good.
                let why = if secret.is_some() {
                    Some(Edited::Keys)
                } else if !is_user && next.kind != current.kind {
                    Some(Edited::Definition)
                } else {
                    None
                };
                ws.replace_session(next)?;
                if let Some(secret) = &secret {
                    keychain.set(&access_keys_account(current.id), secret)?;
                }
                Ok((
                    ws.view(ws.get(current.id).expect("exists")),
                    why,
                    ws.clone(),
                ))
            })
            .await?;
        let id = view.session.id;
        let forgotten = match why {
            Some(Edited::Keys) => Some(self.forget_copies(Forget::KeysReplaced(&ws, id)).await),
            Some(Edited::Definition) => Some(self.forget_copies(Forget::Redefined(&ws, id)).await),
            None => None,
        };
        self.events.publish(EngineEvent::WorkspaceChanged);
        match forgotten.and_then(|f| f.error()) {
            Some(e) => Err(e),
            None => Ok(view),
        }
    }

    /// Removes a session (and, with `cascade`, the roles chained from it): withdraws the
    /// credentials of those that were live and deletes their secrets from the keychain.
    /// The keys go even when a withdraw fails; that failure is reported afterwards.
    pub async fn remove_session(
        &self,
        session: impl Into<SessionRef>,
        cascade: bool,
    ) -> Result<Vec<SessionId>, EngineError> {
        let selector = session.into();
        let (selector, delivery) = (selector.to_owned(), self.delivery.clone());
        let (removed, users, withdraw_failed) = self
            .update(move |ws| {
                let before = ws.clone();
                let removed = ws.remove_session(&selector, cascade)?;
                let (users, failed) = withdraw_removed(&before, &removed, &*delivery);
                Ok((removed, users, failed))
            })
            .await?;
        self.events.publish(EngineEvent::WorkspaceChanged);
        let mut failed = withdraw_failed;
        if let Err(e) = self.forget_removed(Forget::Removed(&removed), &users).await {
            failed.get_or_insert(e);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(removed),
        }
    }

    /// Deletes removed sessions' secrets: every copy of their credentials (`removed`
    /// says whose, and why) and the long-lived secrets (`secrets`: IAM users' keys,
    /// console sessions' tokens, by keychain account). Goes on past a failure; reports
    /// the first.
    pub(super) async fn forget_removed(
        &self,
        removed: Forget<'_>,
        secrets: &[String],
    ) -> Result<(), EngineError> {
        let mut failed = self.forget_copies(removed).await.error();
        for account in secrets {
            if let Err(e) = self.keychain.delete_async(account).await {
                failed.get_or_insert(e.into());
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// What an edit changed that ends what was cached.
enum Edited {
    Keys,
    Definition,
}

/// Withdraws the credentials of the `removed` sessions that were live in `before`
/// (inside the locked update that removed them). Gives the keychain accounts of their
/// long-lived secrets (IAM users' keys, console sessions' tokens), which must leave the
/// keychain, and the first withdraw that failed.
pub(super) fn withdraw_removed(
    before: &crate::workspace::Workspace,
    removed: &[SessionId],
    delivery: &dyn crate::delivery::Delivery,
) -> (Vec<String>, Option<EngineError>) {
    let mut secrets = Vec::new();
    let mut failed = None;
    for s in removed.iter().filter_map(|id| before.get(*id)) {
        match s.session.kind {
            SessionKind::IamUser(_) => secrets.push(access_keys_account(s.session.id)),
            SessionKind::LoginSession(_) => secrets.push(token_account(s.session.id)),
            SessionKind::Role(_) | SessionKind::SsoRole(_) | SessionKind::Saml(_) => {}
        }
        let live = matches!(s.state, SessionState::Active { .. } | SessionState::Pending);
        if live && let Err(e) = delivery.withdraw(&s.session.profile) {
            failed.get_or_insert(EngineError::NotWithdrawn {
                session: s.session.name.clone(),
                profile: s.session.profile.to_string(),
                after: Withdrawal::Removal,
                source: Box::new(e),
            });
        }
    }
    (secrets, failed)
}
