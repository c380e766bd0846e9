//! Rolehop's vocabulary: the words every other crate speaks and none of them owns.
//! Session and profile names and ids, session kinds and states, failure codes, the
//! settings, temporary credentials, the origin of a synced session, the verdict and
//! explanation of a trust check, and every input rule (each error names its field).
//!
//! This crate is the bottom layer (see ARCHITECTURE.md): it imports no feature of
//! Rolehop, so a feature can never make the vocabulary depend on it. Everything here is
//! plain data with serde (and TypeScript bindings with the `ts` feature) or a pure
//! function; nothing here touches a file, the network or the keychain.

pub mod catalog;
pub mod console;
pub mod credentials;
pub mod display_text;
pub mod explanation;
pub mod federation;
pub mod integration;
pub mod origin;
pub mod problem;
pub mod reference;
pub mod session;
pub mod validate;

pub use credentials::Credentials;
pub use session::{
    ProfileName, Session, SessionId, SessionKind, SessionState, SessionView, Settings,
};
