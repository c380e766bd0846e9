//! The one error contract every Rolehop error family speaks: a machine-readable kind,
//! the input field at fault, the session failure or the missing thing behind it, and
//! one serializable payload for the desktop and `--json`. Programs branch on these,
//! never on message text; the CLI maps them to exit codes in one table.

use serde::{Deserialize, Serialize};

use crate::session::Failure;

/// What a not-found error could not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Session,
    Profile,
    Integration,
}

/// What kind of failure an error is, for programs: the UI branches on it, the
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
    /// A session could not be started; its state holds the [`crate::session::FailureCode`].
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

/// The serializable form that crosses process boundaries (Tauri IPC, `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ErrorPayload {
    pub kind: ErrorKind,
    pub message: String,
    pub field: Option<String>,
}

/// What every error of Rolehop's says about itself, beyond its message.
pub trait Problem: std::error::Error {
    /// A stable machine-readable kind.
    fn kind(&self) -> ErrorKind;

    /// The input field at fault, for bad input.
    fn field(&self) -> Option<&str> {
        None
    }

    /// For a session that could not be started: its failure (the code picks the exit).
    fn failure(&self) -> Option<&Failure> {
        None
    }

    /// For something not found: what kind of thing.
    fn missing(&self) -> Option<Missing> {
        None
    }

    /// The form that crosses to the desktop UI and `--json`.
    fn payload(&self) -> ErrorPayload {
        ErrorPayload {
            kind: self.kind(),
            message: self.to_string(),
            field: self.field().map(str::to_owned),
        }
    }
}
