//! The hook through which a host signs a federated session in again without asking:
//! the desktop app can answer it with a hidden login window on the provider's URL
//! while the provider's own session is still valid. The engine's rotation asks it
//! first; without one, or when it fails, the session stays active until its
//! credentials expire and the user is told once (see `rotation.rs`).

use std::future::Future;
use std::pin::Pin;

use zeroize::Zeroizing;

/// What a sign-in gives: a fresh base64 `SAMLResponse`, or why there is none (said to
/// the log, never to AWS).
pub type SignInResult = Result<Zeroizing<String>, String>;

/// A way to get a new SAML response from the identity provider at `idp_url` without
/// the user (set with `EngineBuilder::saml_sign_in`).
pub trait SamlSignIn: Send + Sync + 'static {
    fn sign_in<'a>(
        &'a self,
        idp_url: &'a str,
    ) -> Pin<Box<dyn Future<Output = SignInResult> + Send + 'a>>;
}
