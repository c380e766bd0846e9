//! The engine's error: what failed, in words a user can act on, with a machine-readable
//! kind and (for bad input) the field, so the UI can point at it. Never a secret.
//!
//! Every error family of the engine (this one, `KeyError`, `ConsoleError`,
//! `TrustError`) speaks the one contract of the vocabulary, [`Problem`]: a kind, a
//! field, the session's failure or what is missing, and one [`ErrorPayload`]. The CLI
//! has one exit table over it; the desktop sends its payload.

pub use rolehop_model::problem::{ErrorKind, ErrorPayload, Missing, Problem};

use crate::delivery::DeliveryError;
use crate::keychain::KeychainError;
use crate::model::Failure;
use crate::store::StoreError;
use crate::validate::ValidationError;
use crate::workspace::WorkspaceError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Invalid(ValidationError),
    /// What was looked for is not there: `what` says which kind of thing.
    #[error("{message}")]
    NotFound { what: Missing, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(
        "session '{session}' failed: {} ({}){}",
        failure.message,
        failure.code,
        failure.trust_suffix()
    )]
    SessionFailed { session: String, failure: Failure },
    #[error("{0}")]
    Delivery(String),
    /// An IAM Identity Center login or logout failed (the portal's words).
    #[error("IAM Identity Center integration '{integration}': {message}")]
    Login {
        integration: String,
        message: String,
    },
}

impl EngineError {
    /// A session was removed while it was being worked on.
    pub fn session_removed(name: &str) -> Self {
        Self::NotFound {
            what: Missing::Session,
            message: format!("session '{name}' was removed meanwhile"),
        }
    }
}

impl From<ValidationError> for EngineError {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

impl From<WorkspaceError> for EngineError {
    fn from(e: WorkspaceError) -> Self {
        match e {
            WorkspaceError::Invalid(v) => Self::Invalid(v),
            WorkspaceError::NoSuchSession(_) => Self::NotFound {
                what: Missing::Session,
                message: e.to_string(),
            },
            WorkspaceError::NoSuchProfile(_) => Self::NotFound {
                what: Missing::Profile,
                message: e.to_string(),
            },
            WorkspaceError::NoSuchIntegration(_) => Self::NotFound {
                what: Missing::Integration,
                message: e.to_string(),
            },
            WorkspaceError::IntegrationInUse { .. }
            | WorkspaceError::SessionInUse { .. }
            | WorkspaceError::ProfileInUse { .. }
            | WorkspaceError::ProfileLive { .. } => Self::Conflict(e.to_string()),
        }
    }
}

impl From<DeliveryError> for EngineError {
    fn from(e: DeliveryError) -> Self {
        Self::Delivery(e.to_string())
    }
}

impl Problem for EngineError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Store(_) => ErrorKind::Storage,
            Self::Keychain(_) => ErrorKind::Keychain,
            Self::SessionFailed { .. } => ErrorKind::SessionFailed,
            Self::Delivery(_) => ErrorKind::Delivery,
            Self::Login { .. } => ErrorKind::LoginFailed,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(v) => Some(&v.field),
            _ => None,
        }
    }

    fn failure(&self) -> Option<&Failure> {
        match self {
            Self::SessionFailed { failure, .. } => Some(failure),
            _ => None,
        }
    }

    fn missing(&self) -> Option<Missing> {
        match self {
            Self::NotFound { what, .. } => Some(*what),
            _ => None,
        }
    }
}
