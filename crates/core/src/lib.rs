//! Rolehop's engine: sessions, STS role chains with MFA, the OS keychain, the workspace
//! store and the AWS files. No UI and no terminal here: the CLI (`crates/cli`) and the
//! desktop shell (`src-tauri`) translate their input into calls on [`engine::Engine`] and
//! render its [`events::EngineEvent`]s. See ARCHITECTURE.md for the map.

pub mod awsfiles;
pub mod credentials;
pub mod delivery;
pub mod keychain;
pub mod model;
pub mod validate;

pub use credentials::Credentials;
pub use model::{ProfileName, Session, SessionId, SessionKind, SessionState};
