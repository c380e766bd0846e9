//! The two STS calls Rolehop makes, through one shared aws-sdk-sts client.
//!
//! The client is built once from aws-config (proxies, retries and timeouts behave as in
//! every AWS SDK); each call overrides only its region and the credentials it signs with.
//! No global SDK configuration is mutated per call, so concurrent starts never race
//! (Leapp's bug).
//!
//! Rolehop manages the profiles of the shared AWS files; its own client must not be
//! steered by one of them. So the client is built without the shared files (an
//! `endpoint_url` under `[default]`, common for LocalStack users, would otherwise receive
//! every signed request), and its endpoint comes only from Rolehop's own setting or the
//! `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` environment, over https, or plain http to
//! a loopback address. What STS answers is capped before Rolehop keeps it.
//!
//! Retries and timeouts are Rolehop's own, stated here rather than left to whatever the
//! SDK defaults to: the SDK's standard retry mode (exponential backoff with jitter, a
//! retry token bucket) with at most [`MAX_ATTEMPTS`] attempts, a [`CONNECT_TIMEOUT`] per
//! connection and an [`ATTEMPT_TIMEOUT`] per attempt. A failure says which of them ran
//! out ("STS throttled the request after 3 attempts").

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_sts::error::BoxError;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::credentials::SigningCredentials as _;
use crate::display_text;

mod endpoint;
pub use endpoint::{ENDPOINT_VARIABLES, resolve_endpoint, resolve_service_endpoint};

/// Region for STS calls of sessions that name none and when the environment names none.
pub const FALLBACK_REGION: &str = "us-east-1";

/// A failed STS call: AWS's error code (or one of ours for transport failures) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    pub code: String,
    pub message: String,
}

/// Parameters of one `AssumeRole` call.
#[derive(Debug, Clone)]
pub struct AssumeRoleParams<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub external_id: Option<&'a str>,
    pub duration_seconds: u32,
    pub source_identity: Option<&'a str>,
}

/// One MFA answer for `GetSessionToken`.
#[derive(Debug, Clone, Copy)]
pub struct MfaToken<'a> {
    pub serial: &'a str,
    pub code: &'a str,
}

/// Attempts per STS call, the first included (the SDK's standard retry mode retries
/// throttling, 5xx answers, timeouts and connection failures with backoff).
pub const MAX_ATTEMPTS: u32 = 3;
/// How long one attempt may take to connect to STS.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);
/// How long one attempt may take from sending the request to reading the whole answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// The AWS error codes of a request signed at a time STS does not accept.
const CLOCK_CODES: [&str; 3] = [
    "SignatureDoesNotMatch",
    "RequestExpired",
    "InvalidSignatureException",
];

/// The longest session token Rolehop accepts from STS (AWS's are a few hundred bytes to
/// a few KiB; packed session policies and tags are what make them grow).
pub const MAX_SESSION_TOKEN_BYTES: usize = 8 * 1024;
/// The longest access key id (AWS documents 16–128 characters).
pub const MAX_ACCESS_KEY_ID_BYTES: usize = 128;
/// The longest secret access key Rolehop accepts (AWS's are 40 characters).
pub const MAX_SECRET_ACCESS_KEY_BYTES: usize = 256;

/// The largest STS response Rolehop reads, by its declared `Content-Length` (AWS's are a
/// few KiB).
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;

/// Refuses a response that declares a body over [`MAX_RESPONSE_BYTES`] before the SDK
/// reads it into memory. (A body sent without a length is not capped here.)
#[derive(Debug)]
pub(crate) struct ResponseSizeCap;

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
                "STS answered with {bytes} bytes; Rolehop reads at most {MAX_RESPONSE_BYTES}"
            )
            .into()),
            _ => Ok(()),
        }
    }
}

/// Counts the attempts of one call and notes where they went, for its failure message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attempts(Arc<Mutex<(u32, Option<String>)>>);

impl Attempts {
    pub(crate) fn seen(&self) -> (u32, String) {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (
            seen.0,
            seen.1.clone().unwrap_or_else(|| "its endpoint".into()),
        )
    }
}

impl Intercept for Attempts {
    fn name(&self) -> &'static str {
        "Attempts"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        // Scheme, host and port only: the query never carries secrets for STS's POSTs,
        // but the endpoint is all a message needs.
        let endpoint = uri.split(['?', '#']).next().unwrap_or(uri);
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        seen.0 += 1;
        seen.1 = Some(endpoint.trim_end_matches('/').to_owned());
        Ok(())
    }
}

/// The shared STS client.
///
/// Built on first use, not when the engine opens: loading aws-config reads the CA
/// bundle and may probe the EC2 metadata service for a region, which costs a
/// `rolehop credential-process` answered from the cache time it never needs to spend.
#[derive(Debug, Clone)]
pub struct StsClient {
    endpoint: Option<String>,
    built: Arc<OnceCell<Built>>,
}

#[derive(Debug)]
struct Built {
    client: aws_sdk_sts::Client,
    default_region: Region,
}

impl StsClient {
    /// A client configured from the environment when it first calls STS. `endpoint` is
    /// Rolehop's own STS endpoint setting (tests point it at moto); without it,
    /// [`resolve_endpoint`] reads the environment.
    pub async fn new(endpoint: Option<&str>) -> Self {
        Self {
            endpoint: endpoint.map(str::to_owned),
            built: Arc::default(),
        }
    }

    async fn built(&self) -> Result<&Built, StsError> {
        self.built
            .get_or_try_init(|| async {
                let endpoint =
                    resolve_endpoint(self.endpoint.as_deref(), |name| std::env::var(name).ok())?;
                // An empty profile file set: nothing in ~/.aws/config or credentials (an
                // endpoint_url, a [services] section, an IMDS endpoint for the region
                // probe) reaches this client.
                let no_profiles = EnvConfigFiles::builder()
                    .with_contents(EnvConfigFileKind::Config, "")
                    .build();
                let sdk = aws_config::defaults(BehaviorVersion::latest())
                    .no_credentials()
                    .profile_files(no_profiles)
                    .load()
                    .await;
                let default_region = sdk
                    .region()
                    .cloned()
                    .unwrap_or_else(|| Region::new(FALLBACK_REGION));
                // Set (or cleared) here, after `from`, so what aws-config resolved on its
                // own never wins over `resolve_endpoint`.
                let mut config = aws_sdk_sts::config::Builder::from(&sdk);
                config.set_endpoint_url(endpoint);
                let config = config
                    .region(default_region.clone())
                    .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
                    .timeout_config(
                        TimeoutConfig::builder()
                            .connect_timeout(CONNECT_TIMEOUT)
                            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                            .build(),
                    )
                    .interceptor(ResponseSizeCap)
                    .build();
                Ok(Built {
                    client: aws_sdk_sts::Client::from_conf(config),
                    default_region,
                })
            })
            .await
    }

    fn call_config(
        built: &Built,
        signer: &Credentials,
        region: Option<&str>,
        attempts: &Attempts,
    ) -> aws_sdk_sts::config::Builder {
        aws_sdk_sts::config::Builder::default()
            .interceptor(attempts.clone())
            .region(
                region
                    .map(|r| Region::new(r.to_owned()))
                    .unwrap_or_else(|| built.default_region.clone()),
            )
            .credentials_provider(signer.to_sdk())
    }

    /// `GetSessionToken` with the IAM user's long-lived keys.
    pub async fn get_session_token(
        &self,
        keys: &Credentials,
        region: Option<&str>,
        duration_seconds: u32,
        mfa: Option<MfaToken<'_>>,
    ) -> Result<Credentials, StsError> {
        let built = self.built().await?;
        let started = Instant::now();
        let attempts = Attempts::default();
        let out = built
            .client
            .get_session_token()
            .duration_seconds(duration_seconds as i32)
            .set_serial_number(mfa.map(|m| m.serial.to_owned()))
            .set_token_code(mfa.map(|m| m.code.to_owned()))
            .customize()
            .config_override(Self::call_config(built, keys, region, &attempts))
            .send()
            .await;
        let out = logged("GetSessionToken", started, &attempts, out)?;
        convert(out.credentials())
    }

    /// `AssumeRole` signed with the parent's credentials.
    pub async fn assume_role(
        &self,
        parent: &Credentials,
        region: Option<&str>,
        params: &AssumeRoleParams<'_>,
    ) -> Result<Credentials, StsError> {
        let built = self.built().await?;
        let started = Instant::now();
        let attempts = Attempts::default();
        let out = built
            .client
            .assume_role()
            .role_arn(params.role_arn)
            .role_session_name(params.role_session_name)
            .duration_seconds(params.duration_seconds as i32)
            .set_external_id(params.external_id.map(str::to_owned))
            .set_source_identity(params.source_identity.map(str::to_owned))
            .customize()
            .config_override(Self::call_config(built, parent, region, &attempts))
            .send()
            .await;
        let out = logged("AssumeRole", started, &attempts, out)?;
        convert(out.credentials())
    }

    /// `GetCallerIdentity`: the ARN these credentials act as (used by tests and `whoami`).
    pub async fn caller_arn(
        &self,
        creds: &Credentials,
        region: Option<&str>,
    ) -> Result<String, StsError> {
        let built = self.built().await?;
        let started = Instant::now();
        let attempts = Attempts::default();
        let out = built
            .client
            .get_caller_identity()
            .customize()
            .config_override(Self::call_config(built, creds, region, &attempts))
            .send()
            .await;
        let out = logged("GetCallerIdentity", started, &attempts, out)?;
        Ok(out.arn().unwrap_or_default().to_owned())
    }
}

/// Logs one STS call (its action, how long it took, AWS's request id and the outcome;
/// the hop is the caller's span) and turns a failure into an [`StsError`]. Neither the
/// request nor the answer is logged: they hold the MFA code and the credentials.
fn logged<O, E>(
    action: &'static str,
    started: Instant,
    attempts: &Attempts,
    result: Result<O, SdkError<E, HttpResponse>>,
) -> Result<O, StsError>
where
    O: RequestId,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let duration = started.elapsed();
    let request_id = result.request_id().unwrap_or("none").to_owned();
    let (attempts, endpoint) = attempts.seen();
    let result = result.map_err(|e| sts_error(e, attempts, &endpoint));
    match &result {
        Ok(_) => tracing::info!(action, ?duration, request_id, attempts, "STS call"),
        Err(e) => {
            tracing::info!(action, ?duration, request_id, attempts, error = %e, "STS call failed")
        }
    }
    result
}

impl StsClient {
    /// `GetFederationToken` with an IAM user's long-lived keys: credentials for a
    /// federated user named `name`, limited to `policy` (and the user's own rights).
    /// Console sign-in uses it for IAM user sessions.
    pub async fn get_federation_token(
        &self,
        keys: &Credentials,
        region: Option<&str>,
        name: &str,
        policy: &str,
        duration_seconds: u32,
    ) -> Result<Credentials, StsError> {
        let built = self.built().await?;
        let started = Instant::now();
        let attempts = Attempts::default();
        let out = built
            .client
            .get_federation_token()
            .name(name)
            .policy(policy)
            .duration_seconds(duration_seconds as i32)
            .customize()
            .config_override(Self::call_config(built, keys, region, &attempts))
            .send()
            .await;
        let out = logged("GetFederationToken", started, &attempts, out)?;
        convert(out.credentials())
    }
}

/// The text of the first `<name>…</name>` element in an XML error body.
fn xml_tag(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
    let len = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + len].trim().to_owned()).filter(|s| !s.is_empty())
}

fn convert(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsError> {
    let c = c.ok_or_else(|| StsError {
        code: "InvalidResponse".into(),
        message: "STS returned no credentials".into(),
    })?;
    for (field, value, max) in [
        ("AccessKeyId", c.access_key_id(), MAX_ACCESS_KEY_ID_BYTES),
        (
            "SecretAccessKey",
            c.secret_access_key(),
            MAX_SECRET_ACCESS_KEY_BYTES,
        ),
        ("SessionToken", c.session_token(), MAX_SESSION_TOKEN_BYTES),
    ] {
        // The size only: never the value, which is a secret.
        if value.is_empty() || value.len() > max {
            return Err(StsError {
                code: "InvalidResponse".into(),
                message: format!(
                    "STS returned a {field} of {} bytes; Rolehop accepts 1 to {max}",
                    value.len()
                ),
            });
        }
    }
    let exp = c.expiration();
    let expiration = DateTime::<Utc>::from_timestamp(exp.secs(), exp.subsec_nanos());
    Ok(Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: Zeroizing::new(c.secret_access_key().to_owned()),
        session_token: Some(Zeroizing::new(c.session_token().to_owned())),
        expiration,
    })
}

/// The failure of a call, with AWS's text capped (it ends up on the session, in the
/// workspace file).
fn sts_error<E>(
    e: aws_sdk_sts::error::SdkError<E, HttpResponse>,
    attempts: u32,
    endpoint: &str,
) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let StsError { code, message } = describe_sdk_error(e, attempts, endpoint);
    StsError {
        code: display_text::capped(code),
        message: display_text::capped(message),
    }
}

/// "1 attempt", "3 attempts".
fn attempts_text(attempts: u32) -> String {
    match attempts {
        1 => "1 attempt".into(),
        n => format!("{n} attempts"),
    }
}

/// AWS's message, with what it means when the code says the request's time was refused.
fn service_message(code: &str, message: String) -> String {
    if CLOCK_CODES.contains(&code) {
        format!(
            "{message} (the system clock may be wrong: STS refuses requests signed more \
             than 5 minutes off its time; check this computer's date and time)"
        )
    } else {
        message
    }
}

/// What a refused request looks like after the retries: throttling and 5xx answers say
/// so, in words, with the number of attempts.
/// `message` is AWS's own text, when the answer had one.
#[cfg(test)]
fn refused_message(code: &str, status: u16, message: Option<String>, attempts: u32) -> String {
    refused_message_of("STS", code, status, message, attempts)
}

/// [`refused_message`] for any `service` ("STS", "the SSO portal").
fn refused_message_of(
    service: &str,
    code: &str,
    status: u16,
    message: Option<String>,
    attempts: u32,
) -> String {
    let throttled = status == 429 || code.contains("Throttl") || code == "TooManyRequestsException";
    let aws_text = message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    if throttled {
        format!(
            "{service} throttled the request after {}{aws_text}",
            attempts_text(attempts)
        )
    } else if status >= 500 {
        let reason = hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("a server error");
        format!(
            "{service} answered {status} {reason} after {}{aws_text}",
            attempts_text(attempts)
        )
    } else {
        let message =
            message.unwrap_or_else(|| format!("{service} refused the request (HTTP {status})"));
        service_message(code, message)
    }
}

/// The innermost cause of a transport failure ("Connection refused (os error 111)"),
/// without the SDK's debug dump of the response.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn describe_sdk_error<E>(
    e: aws_sdk_sts::error::SdkError<E, HttpResponse>,
    attempts: u32,
    endpoint: &str,
) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    describe_service_error("STS", e, attempts, endpoint)
}

/// A failed call to `service` (STS, the SSO portal, SSO OIDC) in words, capped: AWS's
/// code and message, or the transport's cause with the attempts counted. Transport codes
/// stay `StsTimeout`/`StsUnreachable` (the session's `FailureCode`s for "did not answer"
/// and "could not be reached", whichever AWS service it was).
pub(crate) fn describe_service_error<E>(
    service: &str,
    e: aws_sdk_sts::error::SdkError<E, HttpResponse>,
    attempts: u32,
    endpoint: &str,
) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_sts::error::SdkError;
    let timed_out = StsError {
        code: "StsTimeout".into(),
        message: format!(
            "{service} did not answer within {} s after {}",
            ATTEMPT_TIMEOUT.as_secs(),
            attempts_text(attempts)
        ),
    };
    match &e {
        SdkError::ServiceError(answer) => {
            // Some STS-compatible servers (moto among them) wrap the error in an extra
            // `<Errors>` element the SDK's parser does not expect; recover the code and
            // message from the body rather than report "Unknown".
            let body = answer.raw().body().bytes().map(String::from_utf8_lossy);
            let tag = |name: &str| body.as_deref().and_then(|b| xml_tag(b, name));
            let status = answer.raw().status().as_u16();
            let code = e
                .code()
                .map(str::to_owned)
                .or_else(|| tag("Code"))
                .unwrap_or_else(|| "Unknown".into());
            let message = e.message().map(str::to_owned).or_else(|| tag("Message"));
            StsError {
                message: refused_message_of(service, &code, status, message, attempts),
                code,
            }
        }
        SdkError::TimeoutError(_) => timed_out,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => timed_out,
        SdkError::DispatchFailure(_) => StsError {
            code: "StsUnreachable".into(),
            message: format!(
                "could not connect to {service} at {endpoint} after {} ({})",
                attempts_text(attempts),
                root_cause(&e)
            ),
        },
        SdkError::ResponseError(_) => StsError {
            code: "InvalidResponse".into(),
            message: format!(
                "{service}'s answer was cut off or unreadable after {} ({})",
                attempts_text(attempts),
                root_cause(&e)
            ),
        },
        _ => StsError {
            code: e.code().unwrap_or("StsError").to_owned(),
            message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_signature_time_says_the_clock_may_be_wrong() {
        for code in CLOCK_CODES {
            let message = refused_message(code, 403, Some("Signature expired".into()), 1);
            assert!(message.starts_with("Signature expired"), "{message}");
            assert!(
                message.contains("the system clock may be wrong"),
                "{message}"
            );
        }
        let other = refused_message("AccessDenied", 403, Some("not allowed".into()), 1);
        assert_eq!(other, "not allowed");
    }

    #[test]
    fn throttling_and_server_errors_say_so_with_the_attempts() {
        let throttled = refused_message("Throttling", 400, Some("Rate exceeded".into()), 3);
        assert_eq!(
            throttled,
            "STS throttled the request after 3 attempts (Rate exceeded)"
        );
        let unavailable = refused_message("Unknown", 503, None, 3);
        assert_eq!(
            unavailable,
            "STS answered 503 Service Unavailable after 3 attempts"
        );
        let bare = refused_message("Unknown", 403, None, 1);
        assert_eq!(bare, "STS refused the request (HTTP 403)");
    }

    fn sts_credentials(id: &str, secret: &str, token: &str) -> aws_sdk_sts::types::Credentials {
        aws_sdk_sts::types::Credentials::builder()
            .access_key_id(id)
            .secret_access_key(secret)
            .session_token(token)
            .expiration(aws_smithy_types::DateTime::from_secs(2_000_000_000))
            .build()
            .expect("all fields set")
    }

    #[test]
    fn credentials_over_the_size_caps_are_refused_without_their_value() {
        let ok = sts_credentials("ASIAEXAMPLE12345", &"s".repeat(40), &"t".repeat(2000));
        assert!(convert(Some(&ok)).is_ok());
        let token = "t".repeat(MAX_SESSION_TOKEN_BYTES + 1);
        let huge = sts_credentials("ASIAEXAMPLE12345", &"s".repeat(40), &token);
        let err = convert(Some(&huge)).unwrap_err();
        assert_eq!(err.code, "InvalidResponse");
        assert!(err.message.contains("SessionToken of 8193 bytes"), "{err}");
        assert!(!err.message.contains("ttt"));
        let long_id = sts_credentials(&"A".repeat(129), "s", "t");
        assert!(
            convert(Some(&long_id))
                .unwrap_err()
                .message
                .contains("AccessKeyId")
        );
        let long_secret = sts_credentials("ASIAEXAMPLE12345", &"s".repeat(257), "t");
        let err = convert(Some(&long_secret)).unwrap_err();
        assert!(err.message.contains("SecretAccessKey"));
    }
}
