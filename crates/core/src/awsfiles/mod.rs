//! The AWS shared credentials and config files: the deliveries built on the lossless
//! editor of rolehop-files.
//!
//! - [`delivery`]: [`AwsFilesDelivery`], the engine's [`crate::delivery::Delivery`].
//! - [`vault`]: where a taken-over section of the user's waits (the keychain).
//!
//! The editor's modules (`ini`, `dialect`, `precedence`, `section`, `ledger`, `atomic`,
//! `locate`) are re-exported from rolehop-files under their old paths.

pub use rolehop_files::awsfiles::{atomic, dialect, ini, ledger, locate, precedence, section};

pub mod delivery;
pub mod vault;

pub use delivery::{AwsFilesConfig, AwsFilesDelivery, lock_path};
pub use vault::SectionVault;
