//! Rolehop's engine: sessions, STS role chains with MFA, the OS keychain, the workspace
//! store and the AWS files. No UI and no terminal here: the CLI (`crates/cli`) and the
//! desktop shell (`src-tauri`) translate their input into calls on [`engine::Engine`] and
//! render its [`events::EngineEvent`]s. See ARCHITECTURE.md for the map.

pub mod access_keys;
#[cfg(unix)]
pub mod agent;
pub mod aws;
pub mod awsfiles;
pub mod chain;
pub mod changes;
pub mod claims;
pub mod console;
pub mod credentials;
pub mod delivery;
pub mod display_text;
pub mod durable;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod events;
pub mod filter;
pub mod import;
pub mod kernel_cache;
pub mod keychain;
pub mod mfa;
pub mod mfa_lock;
pub mod model;
pub mod org;
pub mod rotation;
mod secret_service;
pub mod sso;
pub mod store;
pub mod sts;
pub mod sync;
pub mod trust;
pub mod validate;
pub mod workspace;

pub use changes::SessionChanges;
pub use credentials::Credentials;
pub use engine::{AccessKeys, Engine, EngineConfig, NewIamUser, NewRole, StartOptions};
pub use error::{EngineError, ErrorPayload};
pub use events::EngineEvent;
pub use model::{
    ProfileName, Session, SessionId, SessionKind, SessionState, SessionView, Settings,
};
