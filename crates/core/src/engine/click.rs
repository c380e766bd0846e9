//! What a click on a session does: the one answer the tray's menu, the window's list and
//! details pane, and [`super::Engine::toggle`] share, so a label never promises what
//! the click will not do.

use serde::Serialize;

use crate::model::SessionState;

/// The action a click (the tray's menu item, the window's row or Start/Stop button)
/// takes on a session in a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum ClickAction {
    Start,
    /// Also for a pending session: its start in flight is abandoned and delivers nothing.
    Stop,
}

impl ClickAction {
    /// Active or pending → stop; inactive or failed → start.
    pub fn for_state(state: &SessionState) -> Self {
        match state {
            SessionState::Active { .. } | SessionState::Pending => Self::Stop,
            SessionState::Inactive | SessionState::Failed(_) => Self::Start,
        }
    }

    /// The action as a lowercase verb, for labels ("start", "stop").
    pub fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Failure, FailureCode};

    #[test]
    fn a_click_stops_active_and_pending_sessions_and_starts_the_others() {
        let failed = SessionState::Failed(Failure::new(FailureCode::MfaCancelled, "cancelled"));
        let active = SessionState::Active {
            expires_at: chrono::Utc::now(),
        };
        assert_eq!(ClickAction::for_state(&active), ClickAction::Stop);
        assert_eq!(
            ClickAction::for_state(&SessionState::Pending),
            ClickAction::Stop
        );
        assert_eq!(
            ClickAction::for_state(&SessionState::Inactive),
            ClickAction::Start
        );
        assert_eq!(ClickAction::for_state(&failed), ClickAction::Start);
    }
}
