//! A federated start from the command line through the desktop app's login window:
//! `rolehop session start NAME` of a federated session (or a role chained from one)
//! with no `--assertion-file` asks the running app, over its local channel
//! ([`crate::agent`]: the same socket, uid check and launch secret as MFA requests), to
//! sign in and start the session; the app opens its login window, takes the provider's
//! response and starts the session itself. The SAML response never crosses the socket:
//! the request names the session, the answer says only how it ended, and the command
//! line reads the session's state from the workspace it shares with the app.
//!
//! Here are the messages and [`SignInWindow`], the app's half (the shell's login
//! window); the channel serves them and `agent::ask_the_app_to_sign_in` is the command
//! line's half.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::engine::FederatedSignIn;

/// How a login window ended, as the app's shell tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowOutcome {
    /// The provider posted, and the start with its response ran (active or failed:
    /// the workspace says which).
    Started,
    /// The window was closed before the provider posted; why, in words.
    Cancelled(String),
    /// The window could not open, or the start could not run; why, in words.
    Failed(String),
}

/// The app's login window: signs in at `sign_in`'s provider and starts the session.
pub trait SignInWindow: Send + Sync {
    fn sign_in_and_start(
        &self,
        sign_in: FederatedSignIn,
    ) -> Pin<Box<dyn Future<Output = WindowOutcome> + Send>>;
}

/// What a sign-in request asks for (in `agent::Ask`, beside the launch's secret): the
/// session to start, as typed. Nothing else crosses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub sign_in: String,
}

/// The app's answer to a [`SignInRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum SignInAnswer {
    Started,
    Cancelled {
        message: String,
    },
    Failed {
        message: String,
    },
    /// The app will not open a window for it (not federated, already active, no login
    /// window in this app, too long a wait).
    Unavailable {
        message: String,
    },
    /// The secret did not match.
    Refused,
}

impl From<WindowOutcome> for SignInAnswer {
    fn from(outcome: WindowOutcome) -> Self {
        match outcome {
            WindowOutcome::Started => Self::Started,
            WindowOutcome::Cancelled(message) => Self::Cancelled { message },
            WindowOutcome::Failed(message) => Self::Failed { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part5_a_sign_in_request_carries_the_session_name_and_no_more() {
        let request = SignInRequest {
            sign_in: "corp".into(),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(text, r#"{"sign_in":"corp"}"#);
        let answer = serde_json::to_string(&SignInAnswer::Started).unwrap();
        assert_eq!(answer, r#"{"answer":"started"}"#);
    }
}
