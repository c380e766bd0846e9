//! The engine's error: what failed, in words a user can act on, with a machine-readable
//! kind and (for bad input) the field, so the UI can point at it. Never a secret.
//!
//! Every error family of the engine (this one, `KeyError`, `ConsoleError`,
//! `TrustError`) speaks the one contract of the vocabulary, [`Problem`]: a kind, a
//! field, the session's failure or what is missing, and one [`ErrorPayload`]. The CLI
//! has one exit table over it; the desktop sends its payload.

use std::path::PathBuf;

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
    /// A workspace rule refused the change: something still uses what it would remove,
    /// or a live session holds the profile.
    #[error(transparent)]
    InUse(WorkspaceError),
    /// A start lost its race: a stop, or another start on the same profile, settled the
    /// session first.
    #[error(
        "'{session}' was stopped before it became active (a stop, or another start on profile '{profile}', came first); it is {state}"
    )]
    Overtaken {
        session: String,
        profile: String,
        state: &'static str,
    },
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
    /// The AWS files could not be changed.
    #[error(transparent)]
    Delivery(Box<DeliveryError>),
    /// A session left the workspace's live states (`after`), but its credentials are
    /// still in the AWS files.
    #[error(
        "{}, but its credentials could not be withdrawn from profile '{profile}': {source}",
        after.done(session)
    )]
    NotWithdrawn {
        session: String,
        profile: String,
        after: Withdrawal,
        source: Box<DeliveryError>,
    },
    /// An AWS file could not be read, or edited outside a session's delivery (import).
    #[error("{}", doing.message(path, message))]
    AwsFile {
        doing: AwsFileStep,
        path: PathBuf,
        message: String,
    },
    /// An IAM Identity Center login or logout failed (the portal's words).
    #[error("IAM Identity Center integration '{integration}': {message}")]
    Login {
        integration: String,
        message: String,
    },
    /// A console sign-in (the browser flow `aws login` runs) failed.
    #[error("console sign-in for '{session}': {message}")]
    ConsoleSignIn { session: String, message: String },
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
            | WorkspaceError::ProfileLive { .. } => Self::InUse(e),
        }
    }
}

impl From<DeliveryError> for EngineError {
    fn from(e: DeliveryError) -> Self {
        Self::Delivery(Box::new(e))
    }
}

/// What Rolehop was doing to an AWS file when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFileStep {
    Reading,
    /// Removing imported static keys, after they were copied to the keychain.
    RemovingKeys,
}

impl AwsFileStep {
    fn message(self, path: &std::path::Path, message: &str) -> String {
        let path = path.display();
        match self {
            Self::Reading => format!("cannot read {path}: {message}"),
            Self::RemovingKeys => format!(
                "the keys were copied to the keychain, but removing them from {path} failed: {message}"
            ),
        }
    }
}

/// Why a session's credentials were being withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// The session was removed.
    Removal,
    /// The integration's logout stopped it.
    Logout,
}

impl Withdrawal {
    fn done(self, session: &str) -> String {
        match self {
            Self::Removal => format!("removed '{session}'"),
            Self::Logout => format!("'{session}' was stopped by the logout"),
        }
    }
}

impl Problem for EngineError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::InUse(_) | Self::Overtaken { .. } => ErrorKind::Conflict,
            Self::Store(_) => ErrorKind::Storage,
            Self::Keychain(_) => ErrorKind::Keychain,
            Self::SessionFailed { .. } => ErrorKind::SessionFailed,
            Self::Delivery(_) | Self::NotWithdrawn { .. } | Self::AwsFile { .. } => {
                ErrorKind::Delivery
            }
            Self::Login { .. } | Self::ConsoleSignIn { .. } => ErrorKind::LoginFailed,
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
