//! Federated roles through a SAML 2.0 identity provider: reading the SAML response the
//! provider posts to AWS ([`response`]) and telling AWS's endpoints it posts to
//! ([`endpoint`]); the chain's provider that turns it into
//! credentials with `AssumeRoleWithSAML` lives with the other hops in `chain.rs`.

pub mod endpoint;
pub mod response;

pub use response::{RolePair, SamlResponse};
