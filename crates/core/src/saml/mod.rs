//! Federated roles through a SAML 2.0 identity provider: reading the SAML response the
//! provider posts to AWS ([`response`]) and telling AWS's endpoints it posts to
//! ([`endpoint`]); federated integrations, whose responses' roles become sessions in
//! bulk ([`integration`]); the hook a host answers to sign in again without asking
//! ([`sign_in`]). The chain's provider that turns a response into credentials with
//! `AssumeRoleWithSAML` lives with the other hops in `chain.rs`.

pub mod endpoint;
pub mod integration;
pub mod response;
pub mod sign_in;

pub use integration::{NewSamlIntegration, RoleOffer, SamlPick, SamlSyncReport, filter_offers};
pub use response::{RolePair, SamlResponse};
pub use sign_in::{SamlSignIn, SignInResult};
