//! MFA prompting as a pluggable function, so the providers never know who answers:
//! the desktop dialog, a terminal prompt, or a code given up front (`--mfa-code`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::model::SessionId;

/// What the engine needs a code for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct MfaRequest {
    /// Unique per request, so a UI can queue several and answer each.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub request_id: uuid::Uuid,
    /// The IAM user session whose MFA device is asked for.
    pub session: SessionId,
    pub session_name: String,
    pub mfa_serial: String,
    /// The session the user asked to start (the leaf of the chain).
    pub for_session: String,
}

/// Why no code came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    #[error("the MFA prompt was cancelled")]
    Cancelled,
    #[error("no MFA code was entered within {seconds} s")]
    Timeout { seconds: u64 },
    /// No way to ask (no terminal, rotation in the background); the message says what to do.
    #[error("{0}")]
    Unavailable(String),
}

pub type MfaFuture = Pin<Box<dyn Future<Output = Result<Zeroizing<String>, MfaError>> + Send>>;

/// Something that can ask a person for an MFA code.
pub trait MfaPrompt: Send + Sync {
    fn ask(&self, request: MfaRequest) -> MfaFuture;
}

/// Refuses every request: for background work (rotation) that must never prompt. The
/// message is shown on the failed session. (`credential-process` asks through the
/// desktop app instead: [`crate::agent::AgentPrompt`].)
#[derive(Debug, Clone)]
pub struct NoPrompt(pub String);

impl MfaPrompt for NoPrompt {
    fn ask(&self, _: MfaRequest) -> MfaFuture {
        let message = self.0.clone();
        Box::pin(async move { Err(MfaError::Unavailable(message)) })
    }
}

/// Answers the first request with a code given up front (`--mfa-code`), then defers
/// to the next prompt. A code is good for one `GetSessionToken` only.
pub struct OneCode {
    code: Mutex<Option<Zeroizing<String>>>,
    then: std::sync::Arc<dyn MfaPrompt>,
}

impl OneCode {
    pub fn new(code: Zeroizing<String>, then: std::sync::Arc<dyn MfaPrompt>) -> Self {
        Self {
            code: Mutex::new(Some(code)),
            then,
        }
    }
}

impl MfaPrompt for OneCode {
    fn ask(&self, request: MfaRequest) -> MfaFuture {
        match self.code.lock().expect("mfa code lock").take() {
            Some(code) => Box::pin(async move { Ok(code) }),
            None => self.then.ask(request),
        }
    }
}
