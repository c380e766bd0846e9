//! IAM's policy grammar and its evaluation of a trust policy, with no SDK and no I/O:
//! the pure half of `trust show`, `trust template` and `trust check`.
//!
//! - [`arn`]: ARNs split into their six parts, in the partitions `aws`, `aws-cn` and
//!   `aws-us-gov`.
//! - [`document`]: a policy document as IAM writes it (one-or-many values, principals).
//! - [`validity`]: what IAM refuses to store (`NotPrincipal` in a trust policy...).
//! - [`hop`]: one role hop's `AssumeRole` request as IAM sees it, and the statements it
//!   needs.
//! - [`request`]: the request a hop makes, and each condition key's value in it.
//! - [`pattern`]: a policy value as IAM compares it (variables, wildcards, ARN parts).
//! - [`condition`]: condition operators.
//! - [`principal`]: whether a `Principal` names the caller, by its ARN or its account.
//! - `fit` and `missing`: how one statement fares for a request, and what a policy
//!   lacks, in sentences.
//! - [`evaluate`]: the verdict IAM would give for a hop under a policy.
//!
//! It stands on the vocabulary (rolehop-model) alone; reading policies from IAM and
//! explaining a refused hop are the engine's (rolehop-core's `trust`).

pub mod arn;
pub mod condition;
pub mod document;
pub mod evaluate;
mod fit;
pub mod hop;
mod missing;
mod pattern;
mod principal;
pub mod request;
pub mod validity;
