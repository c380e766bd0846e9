//! Who may put credentials under a profile: the rule "at most one session per profile is
//! live", checked and acted on in one locked workspace update.
//!
//! A start *claims* its session's profile: in one locked update it marks the session
//! pending under a fresh [`Claim`] and stops every other session holding the profile.
//! It then resolves credentials with no lock held (STS, MFA prompts) and, in a second
//! locked update, delivers them only if its claim still holds. A later claim, a stop or
//! a removal in between (in this process or another) takes the claim away, so a start
//! that lost the race delivers nothing and the profile ends with exactly one session's
//! keys.
//!
//! A claim records its owner (pid and the process's start time, so a reused pid is not
//! mistaken for it) and the state the session had before. A process killed mid-start
//! (Ctrl-C at an MFA prompt) cannot settle its claim; whoever reads the workspace next
//! sees the session as it was before that start ([`Workspace::settle_abandoned`]).

use uuid::Uuid;

use crate::model::{Failure, FailureCode, SessionId, SessionState};
use crate::workspace::{Workspace, WorkspaceError};

pub use crate::claim::Claim;

/// What a claim did to the sessions that held the profile before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Sessions stopped to free the profile (now inactive).
    pub stopped: Vec<SessionId>,
    /// One of them was active: its credentials are in the AWS files and must go.
    pub withdraw: bool,
}

fn live(state: &SessionState) -> bool {
    matches!(state, SessionState::Active { .. } | SessionState::Pending)
}

impl Workspace {
    /// The active or pending session bound to profile `name`, if any.
    pub fn live_session_on(&self, name: &str) -> Option<&crate::workspace::StoredSession> {
        self.sessions
            .iter()
            .find(|s| s.session.profile.as_str() == name && live(&s.state))
    }

    /// Claims session `id`'s profile for a start: `id` becomes pending under `claim`,
    /// and every other active or pending session on the profile becomes inactive (a
    /// pending one loses its claim, so its start will deliver nothing).
    pub fn claim(&mut self, id: SessionId, claim: Claim) -> Result<Claimed, WorkspaceError> {
        let profile = self
            .get(id)
            .ok_or_else(|| WorkspaceError::NoSuchSession(id.to_string()))?
            .session
            .profile
            .clone();
        let mut claimed = Claimed {
            stopped: Vec::new(),
            withdraw: false,
        };
        for s in &mut self.sessions {
            if s.session.id == id {
                // A restart of a pending session keeps the state before the first start.
                let before = match s.claim.take() {
                    Some(c) if s.state == SessionState::Pending => c.before,
                    _ => s.state.clone(),
                };
                s.state = SessionState::Pending;
                s.claim = Some(Claim {
                    before,
                    ..claim.clone()
                });
            } else if s.session.profile == profile && live(&s.state) {
                claimed.withdraw |= matches!(s.state, SessionState::Active { .. });
                claimed.stopped.push(s.session.id);
                s.state = SessionState::Inactive;
                s.claim = None;
            }
        }
        Ok(claimed)
    }

    /// Whether the start that made claim `token` on `id` still owns it.
    pub fn holds(&self, id: SessionId, token: Uuid) -> bool {
        self.get(id)
            .and_then(|s| s.claim.as_ref())
            .is_some_and(|c| c.token == token)
    }

    /// Ends claim `token` on `id` with `state`, if it still holds; says whether it did.
    pub fn settle(&mut self, id: SessionId, token: Uuid, state: SessionState) -> bool {
        if !self.holds(id, token) {
            return false;
        }
        if let Some(s) = self.get_mut(id) {
            s.state = state;
            s.claim = None;
            s.issued = None;
        }
        true
    }

    /// Puts every session whose start can no longer finish back as it was before that
    /// start: pending with a claim whose owner is gone, or pending with no claim at all
    /// (a file from before claims existed). Returns the sessions it changed.
    pub fn settle_abandoned(&mut self) -> Vec<SessionId> {
        let mut changed = Vec::new();
        for s in &mut self.sessions {
            if s.state != SessionState::Pending {
                continue;
            }
            match &s.claim {
                Some(c) if !c.owner_gone() => continue,
                Some(c) => s.state = c.before.clone(),
                None => s.state = SessionState::Inactive,
            }
            s.claim = None;
            changed.push(s.session.id);
        }
        changed
    }

    /// Ends every start this process has in flight, because the process is being
    /// interrupted (Ctrl-C, SIGTERM): a session that was active before goes back to
    /// active (its credentials were never withdrawn), any other fails as `Interrupted`.
    /// Returns the sessions it changed.
    pub fn interrupt_own_starts(&mut self) -> Vec<SessionId> {
        let mut changed = Vec::new();
        for s in &mut self.sessions {
            let Some(claim) = s.claim.take_if(|c| c.is_mine()) else {
                continue;
            };
            s.state = match claim.before {
                before @ SessionState::Active { .. } => before,
                _ => SessionState::Failed(Failure::new(
                    FailureCode::Interrupted,
                    format!(
                        "the start of '{}' was interrupted before it finished; nothing was \
                         delivered (start it again)",
                        s.session.name
                    ),
                )),
            };
            changed.push(s.session.id);
        }
        changed
    }

    /// Stops session `id` (a start in flight loses its claim). Returns whether what
    /// Rolehop wrote for its profile should be withdrawn: yes unless another session now
    /// holds that profile (then those credentials are the other session's).
    pub fn release(&mut self, id: SessionId) -> Result<bool, WorkspaceError> {
        let s = self
            .get_mut(id)
            .ok_or_else(|| WorkspaceError::NoSuchSession(id.to_string()))?;
        s.state = SessionState::Inactive;
        s.claim = None;
        let profile = s.session.profile.clone();
        Ok(!self.sessions.iter().any(|o| {
            o.session.id != id
                && o.session.profile == profile
                && matches!(o.state, SessionState::Active { .. })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IamUser, ProfileName, Session, SessionKind};

    fn user(name: &str, profile: &str) -> Session {
        Session {
            console: Default::default(),
            id: SessionId::new(),
            name: name.into(),
            profile: ProfileName::parse(profile).unwrap(),
            region: None,
            kind: SessionKind::IamUser(IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        }
    }

    fn active() -> SessionState {
        SessionState::Active {
            expires_at: chrono::Utc::now(),
        }
    }

    fn two_on_one_profile() -> (Workspace, SessionId, SessionId) {
        let mut ws = Workspace::default();
        let (a, b) = (user("a", "shared"), user("b", "shared"));
        ws.add_session(a.clone()).unwrap();
        ws.add_session(b.clone()).unwrap();
        ws.add_session(user("c", "other")).unwrap();
        (ws, a.id, b.id)
    }

    #[test]
    fn a_claim_stops_the_active_holder_and_asks_for_its_credentials_to_go() {
        let (mut ws, a, b) = two_on_one_profile();
        ws.set_state(a, active());
        let claimed = ws.claim(b, Claim::new()).unwrap();
        assert_eq!(claimed.stopped, vec![a]);
        assert!(claimed.withdraw);
        assert_eq!(ws.get(a).unwrap().state, SessionState::Inactive);
        assert_eq!(ws.get(b).unwrap().state, SessionState::Pending);
        assert_eq!(
            ws.get(ws.find("c").unwrap().session.id).unwrap().claim,
            None
        );
    }

    #[test]
    fn the_later_of_two_claims_wins_and_the_first_settles_nothing() {
        let (mut ws, a, b) = two_on_one_profile();
        let (first, second) = (Claim::new(), Claim::new());
        let claimed = ws.claim(a, first.clone()).unwrap();
        assert!(!claimed.withdraw, "nothing was delivered yet");
        let claimed = ws.claim(b, second.clone()).unwrap();
        assert_eq!(claimed.stopped, vec![a]);
        assert!(!claimed.withdraw, "a pending holder has delivered nothing");

        assert!(!ws.settle(a, first.token, active()), "a lost claim");
        assert_eq!(ws.get(a).unwrap().state, SessionState::Inactive);
        assert!(ws.settle(b, second.token, active()));
        assert!(matches!(
            ws.get(b).unwrap().state,
            SessionState::Active { .. }
        ));
        assert_eq!(ws.get(b).unwrap().claim, None);
        assert!(
            !ws.settle(b, second.token, SessionState::Inactive),
            "settled once"
        );
    }

    #[test]
    fn a_stop_takes_the_claim_of_a_start_in_flight() {
        let (mut ws, a, _) = two_on_one_profile();
        let claim = Claim::new();
        ws.claim(a, claim.clone()).unwrap();
        assert!(ws.release(a).unwrap());
        assert!(!ws.holds(a, claim.token));
        assert!(!ws.settle(a, claim.token, active()));
        assert_eq!(ws.get(a).unwrap().state, SessionState::Inactive);
    }

    #[test]
    fn stopping_a_session_leaves_the_credentials_of_the_one_holding_its_profile() {
        let (mut ws, a, b) = two_on_one_profile();
        ws.set_state(b, active());
        assert!(!ws.release(a).unwrap(), "b's keys are under the profile");
        assert!(ws.release(b).unwrap());
    }

    /// A pid that ran and is gone: a child that has exited and been waited for.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_start_whose_process_died_leaves_the_session_as_it_was_before() {
        let (mut ws, a, b) = two_on_one_profile();
        let expires_at = chrono::Utc::now();
        ws.set_state(a, SessionState::Active { expires_at });
        let mine = ws.find("c").unwrap().session.id;
        ws.claim(mine, Claim::new()).unwrap();
        ws.claim(
            a,
            Claim {
                pid: dead_pid(),
                ..Claim::new()
            },
        )
        .unwrap();
        ws.set_state(b, SessionState::Pending); // a file from before claims: no claim

        let changed = ws.settle_abandoned();
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert_eq!(
            ws.get(a).unwrap().state,
            SessionState::Active { expires_at }
        );
        assert_eq!(ws.get(a).unwrap().claim, None);
        assert_eq!(ws.get(b).unwrap().state, SessionState::Inactive);
        assert_eq!(
            ws.get(mine).unwrap().state,
            SessionState::Pending,
            "this process is alive: its start goes on"
        );
        assert!(ws.settle_abandoned().is_empty());
    }

    #[test]
    fn an_interrupted_start_fails_as_interrupted_or_goes_back_to_active() {
        let (mut ws, a, b) = two_on_one_profile();
        let expires_at = chrono::Utc::now();
        let c = ws.find("c").unwrap().session.id;
        ws.set_state(c, SessionState::Active { expires_at });
        ws.claim(a, Claim::new()).unwrap();
        ws.claim(c, Claim::new()).unwrap();
        let other = Claim {
            pid: std::process::id() + 1,
            ..Claim::new()
        };
        ws.claim(b, other).unwrap();

        assert_eq!(
            ws.interrupt_own_starts(),
            vec![c],
            "a lost the profile to b's claim; b is another process's"
        );
        assert_eq!(
            ws.get(c).unwrap().state,
            SessionState::Active { expires_at }
        );
        assert_eq!(ws.get(b).unwrap().state, SessionState::Pending);
        assert!(ws.get(b).unwrap().claim.is_some());

        let d = user("d", "fourth");
        ws.add_session(d.clone()).unwrap();
        ws.claim(d.id, Claim::new()).unwrap();
        assert_eq!(ws.interrupt_own_starts(), vec![d.id]);
        match &ws.get(d.id).unwrap().state {
            SessionState::Failed(f) => {
                assert_eq!(f.code, FailureCode::Interrupted);
                assert!(f.message.contains("'d'"), "{}", f.message);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ws.get(d.id).unwrap().claim, None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_claim_whose_owner_is_a_zombie_is_abandoned() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for yet: once `true` has exited it stays a zombie until reaped.
        let path = format!("/proc/{pid}/stat");
        while !std::fs::read_to_string(&path).unwrap().contains(") Z ") {
            std::thread::yield_now();
        }
        let claim = Claim {
            pid,
            process_start: None,
            ..Claim::new()
        };
        assert!(claim.owner_gone());
        drop(child);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_reused_pid_is_not_taken_for_the_claims_owner() {
        let mine = Claim::new();
        assert!(!mine.owner_gone());
        let impostor = Claim {
            process_start: mine.process_start.map(|s| s + 1),
            ..mine
        };
        assert!(impostor.owner_gone());
    }

    #[test]
    fn restarting_a_pending_session_keeps_the_state_before_the_first_start() {
        let (mut ws, a, _) = two_on_one_profile();
        let expires_at = chrono::Utc::now();
        ws.set_state(a, SessionState::Active { expires_at });
        ws.claim(a, Claim::new()).unwrap();
        ws.claim(a, Claim::new()).unwrap();
        let claim = ws.get(a).unwrap().claim.clone().unwrap();
        assert_eq!(claim.before, SessionState::Active { expires_at });
    }

    #[test]
    fn a_live_session_is_found_by_its_profile() {
        let (mut ws, a, _) = two_on_one_profile();
        assert!(ws.live_session_on("shared").is_none());
        ws.claim(a, Claim::new()).unwrap();
        assert_eq!(ws.live_session_on("shared").unwrap().session.id, a);
        assert!(ws.live_session_on("other").is_none());
    }
}
