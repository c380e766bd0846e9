//! How a failed command ends: one line on stderr saying what failed and what to do, and
//! an exit code scripts can branch on. The codes are documented in `--help` and README.

use std::fmt;
use std::process::ExitCode;

use rolehop_core::EngineError;

/// The exit codes of `rolehop` (besides 0, and `exec`'s pass-through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Something unexpected (an I/O error on standard input, a broken runtime).
    Unexpected = 1,
    /// clap's own code for a malformed command line.
    #[allow(dead_code)]
    Usage = 2,
    /// Input that breaks a rule (a malformed ARN, a 5-digit MFA code, ...).
    Invalid = 3,
    /// No such session or profile.
    NotFound = 4,
    /// The request clashes with the workspace's state (a parent in use, a nested exec...).
    Conflict = 5,
    /// AWS refused (AccessDenied, an expired token...) or could not be reached.
    Aws = 6,
    /// An MFA code is needed and none could be asked for.
    MfaRequired = 7,
    /// The OS keychain is not available or refused access.
    Keychain = 8,
    /// The workspace or the AWS files could not be read or written.
    Storage = 9,
    /// `trust check`: the role's trust policy does not admit the hop.
    NotTrusted = 10,
    /// `trust check`: the answer depends on what Rolehop cannot know.
    CannotTell = 11,
    /// `exec`: the command exists but could not be run.
    CannotRun = 126,
    /// `exec`: the command was not found.
    CommandNotFound = 127,
}

/// A command's failure, ready to print.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
        }
    }

    /// Prints `rolehop: <message>` on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        // One line: an engine message never holds a newline, but an OS error might.
        let line = self.message.replace(['\n', '\r'], " ");
        eprintln!("rolehop: {line}");
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        let exit = match &e {
            EngineError::Invalid(_) => Exit::Invalid,
            EngineError::NotFound(_) => Exit::NotFound,
            EngineError::Conflict(_) => Exit::Conflict,
            EngineError::Store(_) | EngineError::Delivery(_) => Exit::Storage,
            EngineError::Keychain(_) => Exit::Keychain,
            EngineError::SessionFailed { failure, .. } => match failure.code.as_str() {
                "MfaRequired" | "MfaCancelled" | "MfaTimeout" => Exit::MfaRequired,
                "InvalidMfaCode" => Exit::Invalid,
                "KeychainError" => Exit::Keychain,
                "MissingAccessKeys" | "MissingParent" => Exit::NotFound,
                "ProfileOwnedByUser" => Exit::Conflict,
                "DeliveryFailed" => Exit::Storage,
                _ => Exit::Aws,
            },
        };
        let hint = match &e {
            EngineError::NotFound(m) if m.starts_with("no session") => {
                "; `rolehop session list` shows the sessions"
            }
            EngineError::NotFound(m) if m.starts_with("no profile") => {
                "; `rolehop profile list` shows the profiles"
            }
            EngineError::SessionFailed { failure, .. } if failure.code == "ProfileOwnedByUser" => {
                " (rolehop session start --take-over)"
            }
            _ => "",
        };
        Self::new(exit, format!("{e}{hint}"))
    }
}

/// A failure reading what the user typed or piped in.
pub fn input_error(what: &str, e: std::io::Error) -> Failure {
    Failure::new(Exit::Unexpected, format!("cannot read {what}: {e}"))
}
