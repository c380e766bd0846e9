//! Rolehop's engine: sessions, STS role chains with MFA, the OS keychain, the workspace
//! store and the AWS files. No UI and no terminal here: the CLI (`crates/cli`) and the
//! desktop shell (`src-tauri`) translate their input into calls on [`engine::Engine`] and
//! render its [`events::EngineEvent`]s. See ARCHITECTURE.md for the map.
//!
//! The shells' surface is [`Engine`] (made by [`Engine::builder`], the one place that
//! wires an engine) and the data types of the public modules below. The chain resolver,
//! STS, the workspace store, the caches and the AWS client policy are the engine's own;
//! tests reach them through [`testing`] (feature `test-support`).

// The vocabulary lives in its own crate (rolehop-model), below every feature; these
// names keep `rolehop_core::model::Session` and `crate::validate::...` working.
pub use rolehop_model::session as model;
pub use rolehop_model::{display_text, reference, validate};
// How files are kept, and the AWS files editor: rolehop-files.
pub use rolehop_files::durable;
// The OS keychain: rolehop-keychain.
pub use rolehop_keychain as keychain;
// The AWS clients and their one policy: rolehop-aws.
use rolehop_aws::{credentials, sts};

pub mod access_keys;
#[cfg(unix)]
pub mod agent;
pub mod app_sign_in;
pub mod awsfiles;
pub mod catalog;
mod chain;
pub mod changes;
mod claim;
mod claims;
pub mod console;
pub mod delivery;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod events;
pub mod filter;
pub mod import;
mod kernel_cache;
pub mod login_session;
pub mod mfa;
mod mfa_lock;
pub mod org;
pub mod redirect;
pub mod rotation;
pub mod saml;
pub mod sso;
mod store;
pub mod sync;
pub mod trust;
pub mod updates;
mod web;
pub mod workspace;

#[cfg(feature = "test-support")]
pub mod testing;

pub use changes::SessionChanges;
pub use credentials::Credentials;
pub use engine::{
    AccessKeys, ConsoleSignInFor, Engine, EngineBuilder, EngineConfig, FederatedSignIn,
    NewConsoleSignIn, NewIamUser, NewRole, NewSamlRole, PendingConsoleSignIn, RunningEngine,
    StartOptions,
};
pub use error::{EngineError, ErrorKind, ErrorPayload, Problem};
pub use events::EngineEvent;
pub use model::{
    ProfileName, Session, SessionId, SessionKind, SessionState, SessionView, Settings,
};
pub use reference::{IntegrationRef, SessionRef};
