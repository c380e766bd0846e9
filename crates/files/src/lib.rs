//! How Rolehop keeps files, and the AWS files it edits without losing a byte.
//!
//! - [`durable`]: locks, atomic and durable replacement, safe reads, the directories
//!   Rolehop trusts: the one place for how a file is written, used by the workspace
//!   store and the AWS files alike.
//! - [`awsfiles`]: the lossless editor of `~/.aws/credentials` and `~/.aws/config`
//!   (lines, botocore's reading of them, Rolehop's own lines and their ledger).
//!
//! This crate stands on the vocabulary (rolehop-model) alone: no keychain, no AWS call,
//! no engine. The delivery that puts credentials into the files through this editor is
//! the engine's (`rolehop-core`'s `awsfiles::delivery`).

pub mod awsfiles;
pub mod durable;
