//! The engine's error: what failed, in words a user can act on, with a machine-readable
//! kind and (for bad input) the field, so the UI can point at it. Never a secret.

use serde::Serialize;

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
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error("session '{session}' failed: {} ({})", failure.message, failure.code)]
    SessionFailed { session: String, failure: Failure },
    #[error("{0}")]
    Delivery(String),
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
            WorkspaceError::NoSuchSession(_) | WorkspaceError::NoSuchProfile(_) => {
                Self::NotFound(e.to_string())
            }
            WorkspaceError::SessionInUse { .. }
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

/// The serializable form that crosses process boundaries (Tauri IPC, `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ErrorPayload {
    pub kind: String,
    pub message: String,
    pub field: Option<String>,
}

impl EngineError {
    /// A stable machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::NotFound(_) => "not-found",
            Self::Conflict(_) => "conflict",
            Self::Store(_) => "storage",
            Self::Keychain(_) => "keychain",
            Self::SessionFailed { .. } => "session-failed",
            Self::Delivery(_) => "delivery",
        }
    }

    /// The input field at fault, for validation errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(v) => Some(&v.field),
            _ => None,
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload {
            kind: self.kind().to_owned(),
            message: self.to_string(),
            field: self.field().map(str::to_owned),
        }
    }
}
