//! IAM's policy grammar and its evaluation of a trust policy, with no SDK and no I/O:
//! the pure half of `trust show`, `trust template` and `trust check`.
//!
//! - [`document`]: a policy document as IAM writes it (one-or-many values, principals).
//! - [`hop`]: one role hop's `AssumeRole` request as IAM sees it, and the statements it
//!   needs.
//! - [`request`]: the request a hop makes, and each condition key's value in it.
//! - [`condition`]: condition operators.
//! - [`evaluate`]: the verdict IAM would give for a hop under a policy.
//!
//! It stands on the vocabulary (rolehop-model) alone; reading policies from IAM and
//! explaining a refused hop are the engine's (rolehop-core's `trust`).

pub mod condition;
pub mod document;
pub mod evaluate;
pub mod hop;
pub mod request;
