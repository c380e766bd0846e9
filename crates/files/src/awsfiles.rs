//! The AWS shared credentials and config files, edited losslessly.
//!
//! - [`ini`]: the file as lines and terminators, byte for byte.
//! - [`dialect`]: reading those lines as botocore does (sections, keys, sub-keys, profiles).
//! - [`precedence`]: which of the user's config keys outrank Rolehop's credentials.
//! - [`section`]: Rolehop's edits to one profile's section, and only to its own lines.
//! - [`ledger`]: the record of what Rolehop added, which outlives the process.
//! - [`atomic`]: reading a file before an edit (symlinks, size and type checked, mode
//!   kept); the lock and the atomic replacement are [`crate::durable`]'s.
//! - [`locate`]: where the files are.

pub mod atomic;
pub mod dialect;
pub mod ini;
pub mod ledger;
pub mod locate;
pub mod precedence;
pub mod section;
