//! How a failed command ends: one line on stderr saying what failed and what to do, and
//! an exit code scripts can branch on. The codes are documented in `--help` and README.

use std::fmt;
use std::process::ExitCode;

use rolehop_core::EngineError;
use rolehop_core::display_text::for_terminal;
use rolehop_core::error::{ErrorKind, Missing, Problem};
use rolehop_core::model::FailureCode;

/// The exit codes of `rolehop` (besides 0, and `exec`'s pass-through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Something unexpected (an I/O error on standard input, a broken runtime).
    Unexpected = 1,
    /// clap's own code for a malformed command line (and a missing SESSION with no
    /// terminal to pick one on).
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
    /// An IAM Identity Center integration needs a person to log in (`rolehop sso login`),
    /// or an `aws login` console session has ended (`aws login`, then import).
    LoginRequired = 12,
    /// Interrupted by SIGINT (Ctrl-C): 128 + 2, the shell's convention.
    Interrupted = 130,
    /// Ended by SIGTERM: 128 + 15.
    Terminated = 143,
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
        // One line, with no escape sequence a terminal would obey: the message may hold
        // AWS's text or values read from the AWS files.
        eprintln!("rolehop: {}", for_terminal(&self.message));
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Failure {
    /// The one exit table: any error of the engine's families (`EngineError`,
    /// `KeyError`, `ConsoleError`, `TrustError`) ends a command here, by its kind (and a
    /// failed session by its code), with a hint where one helps. No wildcard: a new kind
    /// must choose its exit.
    pub fn of(e: &dyn Problem) -> Self {
        let exit = match e.kind() {
            ErrorKind::Invalid => Exit::Invalid,
            ErrorKind::NotFound => Exit::NotFound,
            ErrorKind::Conflict => Exit::Conflict,
            ErrorKind::Storage | ErrorKind::Delivery => Exit::Storage,
            ErrorKind::Keychain => Exit::Keychain,
            ErrorKind::SessionFailed => match e.failure() {
                Some(failure) => exit_for(&failure.code),
                None => Exit::Aws,
            },
            ErrorKind::Aws | ErrorKind::LoginFailed => Exit::Aws,
            ErrorKind::Browser => Exit::Unexpected,
        };
        let hint = match (e.missing(), e.failure()) {
            (Some(Missing::Session), _) => "; `rolehop session list` shows the sessions",
            (Some(Missing::Profile), _) => "; `rolehop profile list` shows the profiles",
            (Some(Missing::Integration), _) => "; `rolehop sso list` shows the integrations",
            (None, Some(failure)) if failure.code == FailureCode::ProfileOwnedByUser => {
                " (rolehop session start --take-over)"
            }
            (None, Some(failure)) if failure.code == FailureCode::SamlSignInRequired => saml_hint(),
            _ => "",
        };
        Self::new(exit, format!("{e}{hint}"))
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Self::of(&e)
    }
}

/// Whether a display is there for a login window.
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// What a federated start without a SAML response can do from here. With a display,
/// the desktop app's login window was tried first (`commands::saml::start_in_the_app`).
fn saml_hint() -> &'static str {
    if has_display() {
        "; sign in again, or pass --assertion-file FILE (or - for standard input)"
    } else {
        "; there is no display here for a login window (DISPLAY and WAYLAND_DISPLAY are \
         unset) and no SAML response was given: pass --assertion-file FILE (or - for \
         standard input)"
    }
}

/// The exit code of a failed session. No wildcard: a new code must choose its exit.
fn exit_for(code: &FailureCode) -> Exit {
    match code {
        FailureCode::MfaRequired | FailureCode::MfaCancelled | FailureCode::MfaTimeout => {
            Exit::MfaRequired
        }
        FailureCode::InvalidMfaCode => Exit::Invalid,
        FailureCode::KeychainError => Exit::Keychain,
        FailureCode::MissingAccessKeys | FailureCode::MissingParent => Exit::NotFound,
        FailureCode::ProfileOwnedByUser => Exit::Conflict,
        FailureCode::DeliveryFailed => Exit::Storage,
        FailureCode::Interrupted => Exit::Interrupted,
        FailureCode::SsoLoginRequired
        | FailureCode::SamlSignInRequired
        | FailureCode::ConsoleLoginRequired => Exit::LoginRequired,
        FailureCode::InvalidResponse
        | FailureCode::StsTimeout
        | FailureCode::StsUnreachable
        | FailureCode::StsError
        | FailureCode::Aws { .. } => Exit::Aws,
    }
}

/// A failure reading what the user typed or piped in.
pub fn input_error(what: &str, e: std::io::Error) -> Failure {
    Failure::new(Exit::Unexpected, format!("cannot read {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use rolehop_core::model::Failure as SessionFailure;

    use super::*;

    fn session_failed(code: FailureCode) -> EngineError {
        EngineError::SessionFailed {
            session: "deploy".into(),
            failure: SessionFailure::new(code, "m"),
        }
    }

    #[test]
    fn session_failures_exit_with_their_documented_codes() {
        let aws = |c: &str| FailureCode::Aws { code: c.into() };
        for (code, exit) in [
            (FailureCode::MfaRequired, 7),
            (FailureCode::MfaCancelled, 7),
            (FailureCode::MfaTimeout, 7),
            (FailureCode::InvalidMfaCode, 3),
            (FailureCode::KeychainError, 8),
            (FailureCode::MissingAccessKeys, 4),
            (FailureCode::MissingParent, 4),
            (FailureCode::ProfileOwnedByUser, 5),
            (FailureCode::DeliveryFailed, 9),
            (FailureCode::InvalidResponse, 6),
            (FailureCode::StsTimeout, 6),
            (FailureCode::StsUnreachable, 6),
            (FailureCode::StsError, 6),
            (FailureCode::Interrupted, 130),
            (FailureCode::SsoLoginRequired, 12),
            (FailureCode::SamlSignInRequired, 12),
            (FailureCode::ConsoleLoginRequired, 12),
            (aws("AccessDenied"), 6),
            // An AWS code spelled like one of ours is still AWS's.
            (aws("MfaRequired"), 6),
        ] {
            let failure = Failure::from(session_failed(code.clone()));
            assert_eq!(failure.exit as u8, exit, "{code:?}");
        }
    }

    #[test]
    fn what_is_missing_picks_the_hint_not_the_message_text() {
        let missing = |what, message: &str| {
            Failure::from(EngineError::NotFound {
                what,
                message: message.into(),
            })
        };
        let session = missing(Missing::Session, "session 'x' was removed meanwhile");
        assert_eq!(session.exit, Exit::NotFound);
        assert!(
            session
                .message
                .ends_with("`rolehop session list` shows the sessions"),
            "{}",
            session.message
        );
        let profile = missing(Missing::Profile, "no session-like words here");
        assert!(
            profile
                .message
                .ends_with("`rolehop profile list` shows the profiles"),
            "{}",
            profile.message
        );
        let owned = Failure::from(session_failed(FailureCode::ProfileOwnedByUser));
        assert!(
            owned
                .message
                .ends_with("(rolehop session start --take-over)")
        );
        let denied = Failure::from(session_failed(FailureCode::Aws {
            code: "ProfileOwnedByUser2".into(),
        }));
        assert!(!denied.message.contains("--take-over"));
    }
}
