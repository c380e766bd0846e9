//! Rolehop's engine: sessions, STS role chains with MFA, the OS keychain, the workspace
//! store and the AWS files. No UI and no terminal here: the CLI (`crates/cli`) and the
//! desktop shell (`src-tauri`) translate their input into calls on [`engine::Engine`] and
//! render its [`events::EngineEvent`]s. See ARCHITECTURE.md for the map.

// The vocabulary lives in its own crate (rolehop-model), below every feature; these
// names keep `rolehop_core::model::Session` and `crate::validate::...` working.
pub use rolehop_model::session as model;
pub use rolehop_model::{display_text, validate};
// How files are kept, and the AWS files editor: rolehop-files.
pub use rolehop_files::durable;
// The OS keychain: rolehop-keychain.
pub use rolehop_keychain as keychain;

pub mod access_keys;
#[cfg(unix)]
pub mod agent;
pub mod aws;
pub mod awsfiles;
pub mod chain;
pub mod changes;
pub mod claim;
pub mod claims;
pub mod console;
pub mod credentials;
pub mod delivery;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod events;
pub mod filter;
pub mod import;
pub mod kernel_cache;
pub mod mfa;
pub mod mfa_lock;
pub mod org;
pub mod rotation;
pub mod sso;
pub mod store;
pub mod sts;
pub mod sync;
pub mod trust;
pub mod workspace;

pub use changes::SessionChanges;
pub use credentials::Credentials;
pub use engine::{AccessKeys, Engine, EngineConfig, NewIamUser, NewRole, StartOptions};
pub use error::{EngineError, ErrorKind, ErrorPayload, Problem};
pub use events::EngineEvent;
pub use model::{
    ProfileName, Session, SessionId, SessionKind, SessionState, SessionView, Settings,
};
