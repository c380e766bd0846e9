//! Which sessions were used last: the order of the CLI's session picker. A start that
//! became active records its use (in `lifecycle`), and `exec` records one here; only a
//! time per session id, nothing secret.

use chrono::Utc;

use super::Engine;
use crate::error::EngineError;
use crate::model::{SessionId, SessionView};
use crate::workspace::Workspace;

impl Engine {
    /// Records that session `id` was used now (`exec`); forgets the uses of sessions
    /// that no longer exist.
    pub async fn note_use(&self, id: SessionId) -> Result<(), EngineError> {
        self.update(move |ws| {
            ws.last_used.insert(id, Utc::now());
            let known: Vec<SessionId> = ws.sessions.iter().map(|s| s.session.id).collect();
            ws.last_used.retain(|id, _| known.contains(id));
            Ok(())
        })
        .await
    }

    /// Every session, the most recently used first, then the never used by name.
    pub async fn sessions_by_recent_use(&self) -> Result<Vec<SessionView>, EngineError> {
        Ok(by_recent_use(&self.workspace().await?))
    }
}

fn by_recent_use(ws: &Workspace) -> Vec<SessionView> {
    let mut views = ws.views();
    views.sort_by(|a, b| {
        let used = |v: &SessionView| ws.last_used.get(&v.session.id).copied();
        used(b)
            .cmp(&used(a))
            .then_with(|| a.session.name.cmp(&b.session.name))
    });
    views
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::model::{IamUser, ProfileName, Session, SessionKind};

    fn user(name: &str) -> Session {
        Session {
            console: Default::default(),
            id: SessionId::new(),
            name: name.into(),
            profile: ProfileName::parse(name).unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        }
    }

    #[test]
    fn the_most_recently_used_come_first_then_the_unused_by_name() {
        let mut ws = Workspace::default();
        for name in ["delta", "alpha", "charlie", "bravo"] {
            ws.add_session(user(name)).unwrap();
        }
        let id = |name: &str| ws.find(name).unwrap().session.id;
        let now = Utc::now();
        let (charlie, delta) = (id("charlie"), id("delta"));
        ws.last_used.insert(charlie, now - Duration::hours(1));
        ws.last_used.insert(delta, now);
        let names: Vec<String> = by_recent_use(&ws)
            .into_iter()
            .map(|v| v.session.name)
            .collect();
        assert_eq!(names, ["delta", "charlie", "alpha", "bravo"]);
    }
}
