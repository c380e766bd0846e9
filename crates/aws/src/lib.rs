//! Rolehop's AWS clients (rolehop-aws): STS ([`sts`], behind the `StsApi` seam), the
//! IAM Identity Center portal and OIDC ([`portal`]), IAM ([`iam`]: trust policies and
//! access keys), Organizations ([`org`]) and the `signin` service of `aws login`
//! console sessions ([`signin`]), each a thin typed wrapper of the calls
//! Rolehop makes, all built under one policy. It stands on the vocabulary alone; the
//! engine (rolehop-core) composes them.
//!
//! The one policy for every AWS client Rolehop has (STS, SSO OIDC, the SSO portal, IAM,
//! Organizations): how a client is built, where its calls go, and how a call is made,
//! logged and turned into an [`AwsError`].
//!
//! Rolehop manages the profiles of the shared AWS files; its own clients must not be
//! steered by one of them. So every client is built from aws-config without the shared
//! files (an `endpoint_url` under `[default]`, common for LocalStack users, would
//! otherwise receive requests signed with the user's long-lived key), signs each call
//! with the credentials Rolehop gives it, and takes its endpoint only from Rolehop's own
//! setting or the SDKs' `AWS_ENDPOINT_URL_<SERVICE>` / `AWS_ENDPOINT_URL`, over https, or
//! plain http to a loopback address ([`endpoint`]). Proxies (`HTTPS_PROXY`, `NO_PROXY`)
//! behave as in every AWS SDK: the SDK's default HTTP client reads them.
//!
//! Retries, timeouts and the response cap are Rolehop's own, stated in [`client`] rather
//! than left to SDK defaults, and the same for every service unless its [`Service`]
//! says otherwise. Every call goes through [`AwsClient::call`]: its duration, attempts
//! and AWS's request id are logged (never the request or the answer, which hold codes,
//! tokens and credentials), and a failure says in words which limit ran out ("STS
//! throttled the request after 3 attempts").
//!
//! A new service is one line in [`services`].

mod call;
mod client;
mod endpoint;
mod limits;
mod services;

pub mod credentials;
pub mod iam;
pub mod org;
pub mod portal;
pub mod signin;
pub mod sts;

pub use client::AwsClient;
pub use endpoint::check_endpoint;
pub use services::{SSO_MAX_ATTEMPTS, Service};

/// A failed AWS call: AWS's error code, or one of Rolehop's (`InvalidEndpoint`,
/// `StsTimeout`, `StsUnreachable`, `InvalidResponse`), and a message a person can act
/// on, both capped (they end up on the session, in the workspace file). Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AwsError {
    pub code: String,
    pub message: String,
}

impl AwsError {
    /// An answer Rolehop cannot use (a field missing, a value out of bounds).
    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidResponse".into(),
            message: message.into(),
        }
    }
}
