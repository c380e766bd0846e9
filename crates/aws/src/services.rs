//! The AWS services Rolehop calls, one line each: its [`Service`] (the SDKs' id, how
//! messages name it, and where it differs from the common policy), tied to its SDK's
//! client by `service_client!`. A new service (CloudFormation) is one more line here,
//! and its SDK crate in Cargo.toml.

use aws_config::{Region, SdkConfig};

use super::call::Attempts;
use super::client::{ResponseSizeCap, ServiceClient};
use super::limits::{FALLBACK_REGION, MAX_ATTEMPTS};
use crate::credentials::Credentials;
use crate::credentials::SigningCredentials as _;

/// Attempts per SSO OIDC and portal call, the first included: a sync of a thousand
/// accounts meets the portal's `TooManyRequestsException`, and the standard mode's
/// backoff spaces five attempts out enough to get through.
pub const SSO_MAX_ATTEMPTS: u32 = 5;

/// The region IAM's and Organizations' global endpoints sign in.
const GLOBAL_REGION: &str = "us-east-1";

/// One AWS service, as the policy needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The SDKs' service id, as in `AWS_ENDPOINT_URL_<ID>` (`STS`, `SSO_OIDC`); log
    /// lines say `<ID> call`.
    pub id: &'static str,
    /// How a message names it: "STS", "the SSO portal".
    pub name: &'static str,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The region a call signs in when it names none: a global service's one region,
    /// or, for `None`, the environment's (`AWS_REGION`...), else [`FALLBACK_REGION`].
    pub region: Option<&'static str>,
}

impl Service {
    /// A service under the common policy: [`MAX_ATTEMPTS`], the environment's region.
    pub const fn new(id: &'static str, name: &'static str) -> Self {
        Self {
            id,
            name,
            max_attempts: MAX_ATTEMPTS,
            region: None,
        }
    }

    pub const fn with_attempts(self, max_attempts: u32) -> Self {
        Self {
            max_attempts,
            ..self
        }
    }

    pub const fn in_region(self, region: &'static str) -> Self {
        Self {
            region: Some(region),
            ..self
        }
    }
}

/// Ties an SDK crate's client to its [`Service`]: built from the policy's `SdkConfig`
/// with the resolved endpoint and the response cap; each call overriding its region,
/// signer and the attempts counter.
macro_rules! service_client {
    ($sdk:ident, $service:expr) => {
        impl ServiceClient for $sdk::Client {
            const SERVICE: Service = $service;
            type CallConfig = $sdk::config::Builder;

            fn build(sdk: &SdkConfig, endpoint: Option<String>) -> Self {
                let mut config = $sdk::config::Builder::from(sdk);
                // Set (or cleared) after `from`, which reads the service's
                // `AWS_ENDPOINT_URL_<ID>` on its own, unchecked: the endpoint is the
                // resolver's alone.
                config.set_endpoint_url(endpoint);
                let config = config
                    .interceptor(ResponseSizeCap(Self::SERVICE.name))
                    .build();
                Self::from_conf(config)
            }

            fn call_config(
                region: Region,
                signer: Option<&Credentials>,
                attempts: &Attempts,
            ) -> Self::CallConfig {
                let mut config = $sdk::config::Builder::default()
                    .interceptor(attempts.clone())
                    .region(region);
                if let Some(signer) = signer {
                    config = config.credentials_provider(signer.to_sdk());
                }
                config
            }
        }
    };
}

service_client!(aws_sdk_sts, Service::new("STS", "STS"));
service_client!(
    aws_sdk_ssooidc,
    // Every call names the integration's region; the fallback spares a region probe.
    Service::new("SSO_OIDC", "SSO OIDC")
        .with_attempts(SSO_MAX_ATTEMPTS)
        .in_region(FALLBACK_REGION)
);
service_client!(
    aws_sdk_sso,
    Service::new("SSO", "the SSO portal")
        .with_attempts(SSO_MAX_ATTEMPTS)
        .in_region(FALLBACK_REGION)
);
service_client!(
    aws_sdk_signin,
    // A refresh names the token's sign-in region, else the session's.
    Service::new("SIGNIN", "AWS Sign-In").in_region(FALLBACK_REGION)
);
service_client!(
    aws_sdk_iam,
    Service::new("IAM", "IAM").in_region(GLOBAL_REGION)
);
service_client!(
    aws_sdk_organizations,
    Service::new("ORGANIZATIONS", "AWS Organizations").in_region(GLOBAL_REGION)
);
