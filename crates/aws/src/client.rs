//! Building a client: [`sdk_config`] is the one place an `SdkConfig` is made, and
//! [`AwsClient`] the one way a service's client is built from it and called.

use std::future::Future;
use std::sync::Arc;

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;
use tokio::sync::OnceCell;

use super::call::{Attempts, logged, next_page};
use super::endpoint::resolve_endpoint;
use super::limits::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, FALLBACK_REGION, MAX_RESPONSE_BYTES, READ_TIMEOUT,
};
use super::{AwsError, Service};
use crate::credentials::Credentials;

/// An SDK client under the policy; `services.rs` implements it for each SDK.
pub trait ServiceClient: Sized + Send + Sync + 'static {
    const SERVICE: Service;
    /// The SDK's config builder, as a call's override.
    type CallConfig;

    /// The client, from [`sdk_config`]'s configuration and the resolved endpoint.
    fn build(sdk: &SdkConfig, endpoint: Option<String>) -> Self;

    /// One call's override: its region, the credentials it signs with (none for the
    /// SSO services, which carry a token in the request), and its attempt counter.
    fn call_config(
        region: Region,
        signer: Option<&Credentials>,
        attempts: &Attempts,
    ) -> Self::CallConfig;
}

/// The `SdkConfig` every client is built from: aws-config's defaults without the
/// shared AWS files (an empty profile set: nothing in `~/.aws/config` or
/// `credentials`, no `endpoint_url`, `services` section or profile picked by
/// `AWS_PROFILE` reaches a client) and without credentials (each call signs with what
/// Rolehop gives it), with `service`'s retries, the stated timeouts and its region.
async fn sdk_config(service: &Service) -> SdkConfig {
    let no_profiles = EnvConfigFiles::builder()
        .with_contents(EnvConfigFileKind::Config, "")
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .no_credentials()
        .profile_files(no_profiles)
        .retry_config(RetryConfig::standard().with_max_attempts(service.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        );
    // The region of calls that name none: the service's own (IAM's is global), else
    // `AWS_REGION`/`AWS_DEFAULT_REGION`, else the fallback. Never the default chain's
    // probe of EC2's instance metadata, which off EC2 costs a connection attempt to
    // 169.254.169.254 on the first call of every process.
    loader = match service.region {
        Some(region) => loader.region(Region::from_static(region)),
        None => loader.region(
            RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                .or_else(Region::from_static(FALLBACK_REGION)),
        ),
    };
    loader.load().await
}

/// Refuses an answer that declares a body over [`MAX_RESPONSE_BYTES`] before the SDK
/// reads it into memory. (A body sent without a length is not capped here.) Holds the
/// service's name for the message.
#[derive(Debug)]
pub(super) struct ResponseSizeCap(pub(super) &'static str);

impl Intercept for ResponseSizeCap {
    fn name(&self) -> &'static str {
        "ResponseSizeCap"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let declared = context
            .response()
            .headers()
            .get("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        match declared {
            Some(bytes) if bytes > MAX_RESPONSE_BYTES => Err(format!(
                "{} answered with {bytes} bytes; Rolehop reads at most {MAX_RESPONSE_BYTES}",
                self.0
            )
            .into()),
            _ => Ok(()),
        }
    }
}

/// A client of one service, built under the policy on its first call, not before:
/// loading aws-config reads the CA bundle and may probe for a region, which a
/// `rolehop credential-process` answered from the cache never needs to pay for.
/// Clones share the client (and its connections).
#[derive(Debug)]
pub struct AwsClient<C> {
    setting: Option<String>,
    built: Arc<OnceCell<Built<C>>>,
}

impl<C> Clone for AwsClient<C> {
    fn clone(&self) -> Self {
        Self {
            setting: self.setting.clone(),
            built: self.built.clone(),
        }
    }
}

impl<C> Default for AwsClient<C> {
    fn default() -> Self {
        Self {
            setting: None,
            built: Arc::default(),
        }
    }
}

#[derive(Debug)]
struct Built<C> {
    client: C,
    /// Where calls that name no region sign.
    region: Region,
}

impl<C: ServiceClient> AwsClient<C> {
    /// A client whose endpoint is `setting` (Rolehop's own, from its configuration),
    /// else the environment's ([`resolve_endpoint`]), else AWS's own.
    pub fn new(setting: Option<&str>) -> Self {
        Self {
            setting: setting.map(str::to_owned),
            built: Arc::default(),
        }
    }

    /// Where this client's calls go when not to AWS's own endpoint (the setting, else
    /// the environment's), checked as every endpoint is; `None` for AWS's own. For a
    /// URL a browser opens on the same service (the OIDC `/authorize`).
    pub async fn endpoint(&self) -> Result<Option<String>, AwsError> {
        let env = |name: &str| std::env::var(name).ok();
        resolve_endpoint(&C::SERVICE, self.setting.as_deref(), env)
    }

    async fn built(&self) -> Result<&Built<C>, AwsError> {
        self.built
            .get_or_try_init(|| async {
                let service = C::SERVICE;
                let env = |name: &str| std::env::var(name).ok();
                let endpoint = resolve_endpoint(&service, self.setting.as_deref(), env)?;
                let sdk = sdk_config(&service).await;
                let region = sdk
                    .region()
                    .cloned()
                    .unwrap_or_else(|| Region::from_static(FALLBACK_REGION));
                Ok(Built {
                    client: C::build(&sdk, endpoint),
                    region,
                })
            })
            .await
    }

    /// One call, `action` (`AssumeRole`), in `region` (else the client's) signed with
    /// `signer`: `send` makes it on the client with the override it is given. Timed,
    /// logged and, when it fails, described ([`AwsError`]).
    pub async fn call<'a, O, E, Fut>(
        &'a self,
        action: &'static str,
        region: Option<&str>,
        signer: Option<&Credentials>,
        send: impl FnOnce(&'a C, C::CallConfig) -> Fut,
    ) -> Result<O, AwsError>
    where
        Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        O: RequestId,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let built = self.built().await?;
        let region = region.map_or_else(|| built.region.clone(), |r| Region::new(r.to_owned()));
        let attempts = Attempts::default();
        let started = std::time::Instant::now();
        let result = send(&built.client, C::call_config(region, signer, &attempts)).await;
        logged(&C::SERVICE, action, started, &attempts, result)
    }

    /// Every item of a paginated call: [`call`](Self::call) once a page, `send` given
    /// the page's token (`None` for the first), `split` taking the answer apart into its
    /// items and the next token, until a page names none.
    pub async fn all_pages<'a, T, O, E, Fut>(
        &'a self,
        action: &'static str,
        region: Option<&str>,
        signer: Option<&Credentials>,
        send: impl Fn(&'a C, C::CallConfig, Option<String>) -> Fut,
        split: impl Fn(O) -> (Vec<T>, Option<String>),
    ) -> Result<Vec<T>, AwsError>
    where
        Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
        O: RequestId,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let asked = next.take();
            let answer = self
                .call(action, region, signer, |client, call| {
                    send(client, call, asked.clone())
                })
                .await?;
            let (found, token) = split(answer);
            items.extend(found);
            match next_page(action, asked.as_deref(), token)? {
                Some(token) => next = Some(token),
                None => return Ok(items),
            }
        }
    }
}
