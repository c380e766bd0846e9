//! The one place where cached copies of credentials are dropped.
//!
//! For speed, a session's temporary credentials are copied to: the chain's memory cache
//! (`chain.rs`, one per process), the keychain's `cached-credentials:<id>` entry (a
//! hop's session token or role credentials, shared by every process), and, while it is
//! active, the kernel keyring (`kernel_cache.rs`, for `credential-process`). An SSO
//! role's credentials come from its integration's portal token (`sso-token:<id>`, with
//! the client registration `sso-client:<id>`). The AWS files' delivered keys are the
//! delivery's: a stop, a removal or a logout withdraws them inside its locked update.
//!
//! Every path that ends, replaces or invalidates credentials calls
//! [`Engine::forget_copies`] with why; nothing else deletes a copy. The why decides which
//! copies go and how far down the chains:
//!
//! | why | sessions | copies |
//! |---|---|---|
//! | [`Forget::Superseded`]: a start replaces its credentials, or a start or rotation of it failed | the session | the kernel copy (the one answered as "active"); its cache stays for the next try |
//! | [`Forget::Stopped`]: stop, toggle, its profile taken by another start | the sessions | the kernel copy, and a role's cached credentials (a restart or `credential-process` assumes the role again, without a prompt); an IAM user's cached session token stays, as the MFA cache of the chains below it (no second prompt until it expires) |
//! | [`Forget::KeysReplaced`]: `rotate-keys`, an edit with new keys | the IAM user and every session chained below it | all |
//! | [`Forget::Redefined`]: a role's or SSO role's ARN, parent, account... changed | the session and every session below it | all |
//! | [`Forget::LoggedOut`]: `sso logout`, an edit of the start URL, region or scopes | the integration's SSO roles and every session below them | all, and the portal token with its `--export-token` copy (and the registration, for an edit) |
//! | [`Forget::ConsoleLoggedOut`]: `session logout` of a console sign-in session | the session and every session below it | all, and its token (`login-token:<id>`: refresh token and DPoP key); the session stays defined, and its next start asks for a sign-in |
//! | [`Forget::Removed`]: removal, a sync's removals | the removed sessions (the workspace removes their descendants with them) | all |
//! | [`Forget::IntegrationRemoved`] | the removed sessions | all, and the portal token with its `--export-token` copy, and the registration |
//!
//! Why the whole subtree for new keys: role credentials assumed through the old key (or
//! through a logged-out login) stay valid at AWS until they expire, but a person who
//! rotates a key, or logs out, expects nothing they had to keep answering: the next
//! `credential-process` of any session below asks AWS again through the new key or
//! fails asking for a login. Keys already delivered to the AWS files of sessions that
//! stay active (a rotation does not stop them) serve until the next refresh.
//!
//! Copies are dropped nearest the root first (a resolution racing the drop then finds
//! its hop gone before it could derive a new copy from it), kernel copies before the
//! rest (they answer fastest). A resolution in flight in this process caches nothing
//! for a dropped session ([`crate::chain::ChainResolver::drop_cached`]); one in another
//! process that read a copy just before the drop may still store what it derived, and
//! its kernel copy is answered only while the workspace says the session is active
//! with exactly those credentials' expiry.

use crate::error::EngineError;
use crate::keychain::KeychainError;
use crate::model::{SessionId, SessionKind};
use crate::sso::IntegrationId;
use crate::workspace::Workspace;

use super::Engine;

/// Why copies are dropped, with the sessions concerned (see the module's table).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Forget<'a> {
    Superseded(SessionId),
    /// `ws` says which of them are IAM users.
    Stopped(&'a Workspace, &'a [SessionId]),
    KeysReplaced(&'a Workspace, SessionId),
    Redefined(&'a Workspace, SessionId),
    LoggedOut {
        ws: &'a Workspace,
        integration: IntegrationId,
        /// The client registration goes too (the login was for another portal).
        registration: bool,
    },
    /// A console sign-in session logged out: its token goes too.
    ConsoleLoggedOut(&'a Workspace, SessionId),
    Removed(&'a [SessionId]),
    /// The removed integration's id and name, and its removed sessions.
    IntegrationRemoved(IntegrationId, &'a str, &'a [SessionId]),
}

/// What [`Engine::forget_copies`] dropped.
#[derive(Debug, Default)]
pub(crate) struct Forgotten {
    /// The sessions whose copies were dropped, nearest the root first.
    pub sessions: Vec<SessionId>,
    /// Keychain entries that could not be deleted (the copy stays until it expires):
    /// a session's cached credentials, or (`None`) the integration's token.
    pub failed: Vec<(Option<SessionId>, KeychainError)>,
}

impl Forgotten {
    /// The first failure, as the caller reports it.
    pub fn error(&self) -> Option<EngineError> {
        self.failed.first().map(|(_, e)| e.clone().into())
    }
}

/// Which copies go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copies {
    KernelOnly,
    /// The kernel copy; the cache too, except an IAM user's session token.
    Stopped,
    All,
}

impl Forget<'_> {
    fn sessions(&self) -> Vec<SessionId> {
        match *self {
            Forget::Superseded(id) => vec![id],
            Forget::Stopped(_, ids)
            | Forget::Removed(ids)
            | Forget::IntegrationRemoved(_, _, ids) => ids.to_vec(),
            Forget::KeysReplaced(ws, id)
            | Forget::Redefined(ws, id)
            | Forget::ConsoleLoggedOut(ws, id) => subtree(ws, &[id]),
            Forget::LoggedOut {
                ws, integration, ..
            } => subtree(ws, &ws.sessions_of(integration)),
        }
    }

    fn copies(&self) -> Copies {
        match self {
            Forget::Superseded(_) => Copies::KernelOnly,
            Forget::Stopped(..) => Copies::Stopped,
            _ => Copies::All,
        }
    }
}

/// `roots` and every session chained below them, nearest the root first.
pub(crate) fn subtree(ws: &Workspace, roots: &[SessionId]) -> Vec<SessionId> {
    let mut below: Vec<(usize, SessionId)> = ws
        .sessions
        .iter()
        .filter_map(|s| {
            let chain = ws.chain(s.session.id);
            // The chain runs root first: the depth below the nearest root concerned.
            let root = chain.iter().rposition(|c| roots.contains(&c.id))?;
            Some((chain.len() - root, s.session.id))
        })
        .collect();
    below.sort_by_key(|(depth, _)| *depth);
    below.into_iter().map(|(_, id)| id).collect()
}

impl Engine {
    /// Drops the cached copies of credentials that `why` ends (see the module's table):
    /// the kernel keyring's, then memory's and the keychain's, then an integration's
    /// token. Goes on past a failed keychain deletion; each is in the answer.
    pub(crate) async fn forget_copies(&self, why: Forget<'_>) -> Forgotten {
        let sessions = why.sessions();
        for id in &sessions {
            self.kernel.remove(*id);
        }
        let cached: Vec<SessionId> = match why.copies() {
            Copies::KernelOnly => Vec::new(),
            Copies::All => sessions.clone(),
            Copies::Stopped => {
                let Forget::Stopped(ws, _) = why else {
                    unreachable!("only a stop keeps session tokens")
                };
                let user = |id: &SessionId| {
                    ws.get(*id)
                        .is_some_and(|s| matches!(s.session.kind, SessionKind::IamUser(_)))
                };
                sessions.iter().copied().filter(|id| !user(id)).collect()
            }
        };
        let mut failed: Vec<(Option<SessionId>, KeychainError)> = Vec::new();
        if !cached.is_empty() {
            let dropped = self.resolver.drop_cached(&cached).await;
            failed.extend(dropped.into_iter().map(|(id, e)| (Some(id), e)));
        }
        if let Forget::ConsoleLoggedOut(_, id) = why
            && let Err(e) = self
                .keychain
                .delete_async(&crate::login_session::token_account(id))
                .await
        {
            failed.push((Some(id), e));
        }
        let login = match why {
            Forget::LoggedOut {
                ws,
                integration,
                registration,
            } => {
                let name = ws.integration(integration).ok().map(|i| i.name.as_str());
                Some((integration, name, registration))
            }
            Forget::IntegrationRemoved(integration, name, _) => {
                Some((integration, Some(name), true))
            }
            _ => None,
        };
        if let Some((integration, name, registration)) = login
            && let Err(e) = self
                .resolver
                .sso()
                .forget(integration, name, registration)
                .await
        {
            failed.push((None, e));
        }
        for (id, e) in &failed {
            tracing::warn!(session = ?id, "a cached copy could not be deleted: {e}");
        }
        Forgotten { sessions, failed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChainedRole, IamUser, ProfileName, Session};

    /// Adds an IAM user (no `parent`) or a role chained from `parent`.
    fn add(ws: &mut Workspace, name: &str, parent: Option<SessionId>) -> SessionId {
        let kind = match parent {
            None => SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
            Some(parent) => SessionKind::Role(ChainedRole {
                parent,
                role_arn: format!("arn:aws:iam::123456789012:role/{name}"),
                role_session_name: None,
                external_id: None,
                duration: None,
                source_identity: None,
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            }),
        };
        let (id, profile) = (SessionId::new(), ProfileName::parse(name).unwrap());
        let (name, region) = (name.to_owned(), None);
        ws.add_session(Session {
            console: Default::default(),
            id,
            name,
            profile,
            region,
            kind,
        })
        .unwrap();
        id
    }

    #[test]
    fn a_subtree_is_its_roots_and_everything_below_them_nearest_first() {
        let mut ws = Workspace::default();
        let alice = add(&mut ws, "alice", None);
        let bob = add(&mut ws, "bob", None);
        let codebuild = add(&mut ws, "codebuild", Some(alice));
        let production = add(&mut ws, "production", Some(codebuild));
        let sibling = add(&mut ws, "sibling", Some(alice));
        let bobs = add(&mut ws, "bobs", Some(bob));

        // The depth decides the order, not the file's: sibling comes after production.
        let all = subtree(&ws, &[alice]);
        assert_eq!(all.len(), 4, "{all:?}");
        assert_eq!(all[0], alice);
        assert_eq!(all[3], production);
        assert!(all[1..3].contains(&codebuild) && all[1..3].contains(&sibling));
        assert!(!all.contains(&bob) && !all.contains(&bobs));

        assert_eq!(subtree(&ws, &[codebuild]), [codebuild, production]);
        assert_eq!(subtree(&ws, &[production]), [production]);
        assert!(subtree(&ws, &[]).is_empty());
    }
}
