//! The narrow interface through which the engine hands credentials to the outside world.
//!
//! The engine decides *when* a profile gets credentials; an implementation of [`Delivery`]
//! decides *how* (the AWS files editor in [`crate::awsfiles`] writes them to the shared
//! credentials file or a `credential_process` line in the config file). Calls are
//! blocking: the engine makes them from `spawn_blocking`. Implementations may coalesce
//! concurrent calls into one write (group commit).

use crate::credentials::Credentials;
use crate::model::{DeliveryMode, ProfileName, SessionId};

/// What the engine asks a delivery to put in place for one profile.
#[derive(Debug, Clone)]
pub struct Handover {
    pub profile: ProfileName,
    pub session: SessionId,
    /// The session's temporary credentials (credentials-file mode writes them;
    /// credential_process mode writes none).
    pub credentials: Credentials,
    /// Region to set for the profile in the config file when the user's own section
    /// does not already set one.
    pub region: Option<String>,
    /// Credentials-file or credential_process delivery (the workspace setting).
    pub mode: DeliveryMode,
    /// The user explicitly allowed taking over a profile section they wrote themselves.
    pub take_over: bool,
}

/// Errors from a delivery. Messages name the file and profile, never a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeliveryError {
    /// The user's own keys for the profile would be mixed with Rolehop's, or win over
    /// them: the whole section (`keys` empty), or the `keys` named.
    #[error("{}", owned_by_user(profile, path, keys))]
    ProfileOwnedByUser {
        profile: String,
        path: String,
        keys: Vec<String>,
    },
    #[error("cannot update {path}: {message}")]
    Io { path: String, message: String },
    /// A taken-over section could not be kept in, or read back from, the keychain.
    #[error("cannot keep profile '{profile}'s own section in the keychain: {message}")]
    Keychain { profile: String, message: String },
    /// A value would break the AWS files (a line break, control character, surrounding
    /// space, or nothing at all).
    #[error(
        "the {key} for profile '{profile}' cannot be written to the AWS files: it is empty or has a line break, control character or surrounding space"
    )]
    InvalidValue { profile: String, key: String },
}

fn owned_by_user(profile: &str, path: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        format!(
            "profile '{profile}' already has credentials you wrote in {path}; \
             start with take-over to let Rolehop replace them until the session stops"
        )
    } else {
        format!(
            "profile '{profile}' in {path} sets {}: AWS tools would use those instead of \
             Rolehop's credentials; start with take-over to set them aside until the session stops",
            keys.join(", ")
        )
    }
}

/// Puts credentials in place for profiles and takes them away again.
pub trait Delivery: Send + Sync {
    /// Puts the handover's credentials (or credential_process line) under its profile.
    fn deliver(&self, handover: &Handover) -> Result<(), DeliveryError>;
    /// Removes exactly what Rolehop added for `profile`; the user's own bytes stay.
    fn withdraw(&self, profile: &ProfileName) -> Result<(), DeliveryError>;
}

/// A delivery that does nothing: for engines that only resolve credentials
/// (`rolehop exec`, `rolehop credential-process`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDelivery;

impl Delivery for NoDelivery {
    fn deliver(&self, _: &Handover) -> Result<(), DeliveryError> {
        Ok(())
    }
    fn withdraw(&self, _: &ProfileName) -> Result<(), DeliveryError> {
        Ok(())
    }
}
