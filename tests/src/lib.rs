//! The harness for Rolehop's end-to-end suites: starts and stops the real peers.
//!
//! Every peer is a real program, not a mock (see PRODUCT.md, "Testing against real
//! peers"): moto's server for STS and IAM, gnome-keyring on a private D-Bus session bus
//! for the keychain, and the AWS CLI and boto3 as consumers of the files Rolehop writes.
//! The one exception is IAM Identity Center, which no emulator serves: its stand-in
//! ([`sso_portal`]) is proven against boto3's own clients and mints real moto credentials.
//! SAML federation has a real identity provider (pysaml2's, [`saml_idp`]) and a layer
//! before moto's STS that checks its assertions as IAM does. Desktop notifications
//! go to a real notification server (dunst, [`notifications`]) that the test clicks.
//! Each peer is started per test, on resources picked at run time (a free port, a fresh
//! temporary directory), and killed and reaped when its handle is dropped, so suites
//! can run in parallel under cargo-nextest without seeing each other.
//!
//! The programs come from `cargo xtask install`: Debian packages for the keyring and a
//! Python venv (see [`python::peers_venv`]) for moto, the AWS CLI and boto3.
//!
//! ```no_run
//! use rolehop_e2e::Peers;
//!
//! let peers = Peers::builder().with_moto().with_secret_service().start()?;
//! let out = rolehop_e2e::aws_cli(
//!     ["sts", "get-caller-identity"],
//!     peers.env().into_iter().chain([
//!         ("AWS_ACCESS_KEY_ID".into(), "AKIAEXAMPLE".into()),
//!         ("AWS_SECRET_ACCESS_KEY".into(), "secret".into()),
//!         ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
//!     ]),
//! )?;
//! assert!(out.status.success());
//! # Ok::<(), rolehop_e2e::PeerError>(())
//! ```

pub mod binaries;
pub mod browsers;
pub mod clock;
mod daemon;
mod error;
pub mod fault_proxy;
pub mod federation;
pub mod git_server;
pub mod home;
mod http;
pub mod keyring;
pub mod moto;
pub mod notifications;
mod peers;
pub mod python;
pub mod saml_idp;
pub mod signin;
pub mod sso_portal;
mod stand_in;
pub mod timing;
pub mod trap;
pub mod tray_host;
pub mod update_server;
mod wait;

pub use error::{PeerError, Result};
pub use git_server::GitServer;
pub use home::TestHome;
pub use keyring::SecretService;
pub use moto::{IamUser, MotoServer};
pub use notifications::NotificationServer;
pub use peers::{Peers, PeersBuilder};
pub use python::{aws_cli, peers_venv, python, venv_bin};
pub use saml_idp::SamlIdp;
pub use signin::SigninStandIn;
pub use sso_portal::{
    PkceBrowser, SsoAccount, SsoCalls, SsoOperation, SsoPortal, SsoPortalConfig, pkce_browser,
};
pub use trap::ConnectionTrap;
pub use tray_host::TrayHost;
pub use update_server::{UpdateKey, UpdateServer};
