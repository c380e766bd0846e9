//! The engine's error: what failed, in words a user can act on, with a machine-readable
//! kind and (for bad input) the field, so the UI can point at it. Never a secret.

use serde::{Deserialize, Serialize};

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

/// What a [`EngineError::NotFound`] could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Session,
    Profile,
    Integration,
}

/// What kind of failure an [`EngineError`] is, for programs: the UI branches on it, the
/// CLI maps it to an exit code. Serialised kebab-case (`not-found`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Input broke a rule; `field` names it.
    Invalid,
    NotFound,
    /// The request clashes with the workspace's state.
    Conflict,
    /// The workspace file could not be read or written.
    Storage,
    Keychain,
    /// A session could not be started; its state holds the [`crate::model::FailureCode`].
    SessionFailed,
    /// The AWS files could not be edited.
    Delivery,
    /// AWS refused a call other than a start's (IAM, the federation endpoint), or could
    /// not be reached.
    Aws,
    /// The default browser could not be opened (console sign-in).
    Browser,
    /// An IAM Identity Center login or logout failed.
    LoginFailed,
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

/// The serializable form that crosses process boundaries (Tauri IPC, `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ErrorPayload {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
}

impl EngineError {
    /// A stable machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
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

    /// The input field at fault, for validation errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(v) => Some(&v.field),
            _ => None,
        }
    }

    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload {
            kind: self.kind(),
            message: self.to_string(),
            field: self.field().map(str::to_owned),
        }
    }
}
