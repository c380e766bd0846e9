//! The two STS calls Rolehop makes, through one shared aws-sdk-sts client.
//!
//! The client is built once from aws-config (so `AWS_ENDPOINT_URL_STS` /
//! `AWS_ENDPOINT_URL`, proxies and retries behave as in every AWS SDK); each call
//! overrides only its region and the credentials it signs with. No global SDK
//! configuration is mutated per call, so concurrent starts never race (Leapp's bug).

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::ProvideErrorMetadata;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::credentials::Credentials;

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
    /// A client configured from the environment when it first calls STS. `endpoint`
    /// overrides the STS endpoint (tests point it at moto; users set
    /// `AWS_ENDPOINT_URL_STS`, which aws-config reads).
    pub async fn new(endpoint: Option<&str>) -> Self {
        Self {
            endpoint: endpoint.map(str::to_owned),
            built: Arc::default(),
        }
    }

    async fn built(&self) -> &Built {
        self.built
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest()).no_credentials();
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                let sdk = loader.load().await;
                let default_region = sdk
                    .region()
                    .cloned()
                    .unwrap_or_else(|| Region::new(FALLBACK_REGION));
                let config = aws_sdk_sts::config::Builder::from(&sdk)
                    .region(default_region.clone())
                    .build();
                Built {
                    client: aws_sdk_sts::Client::from_conf(config),
                    default_region,
                }
            })
            .await
    }

    fn call_config(
        built: &Built,
        signer: &Credentials,
        region: Option<&str>,
    ) -> aws_sdk_sts::config::Builder {
        aws_sdk_sts::config::Builder::default()
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
        let built = self.built().await;
        let out = built
            .client
            .get_session_token()
            .duration_seconds(duration_seconds as i32)
            .set_serial_number(mfa.map(|m| m.serial.to_owned()))
            .set_token_code(mfa.map(|m| m.code.to_owned()))
            .customize()
            .config_override(Self::call_config(built, keys, region))
            .send()
            .await
            .map_err(sts_error)?;
        convert(out.credentials())
    }

    /// `AssumeRole` signed with the parent's credentials.
    pub async fn assume_role(
        &self,
        parent: &Credentials,
        region: Option<&str>,
        params: &AssumeRoleParams<'_>,
    ) -> Result<Credentials, StsError> {
        let built = self.built().await;
        let out = built
            .client
            .assume_role()
            .role_arn(params.role_arn)
            .role_session_name(params.role_session_name)
            .duration_seconds(params.duration_seconds as i32)
            .set_external_id(params.external_id.map(str::to_owned))
            .set_source_identity(params.source_identity.map(str::to_owned))
            .customize()
            .config_override(Self::call_config(built, parent, region))
            .send()
            .await
            .map_err(sts_error)?;
        convert(out.credentials())
    }

    /// `GetCallerIdentity`: the ARN these credentials act as (used by tests and `whoami`).
    pub async fn caller_arn(
        &self,
        creds: &Credentials,
        region: Option<&str>,
    ) -> Result<String, StsError> {
        let built = self.built().await;
        let out = built
            .client
            .get_caller_identity()
            .customize()
            .config_override(Self::call_config(built, creds, region))
            .send()
            .await
            .map_err(sts_error)?;
        Ok(out.arn().unwrap_or_default().to_owned())
    }
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
        let built = self.built().await;
        let out = built
            .client
            .get_federation_token()
            .name(name)
            .policy(policy)
            .duration_seconds(duration_seconds as i32)
            .customize()
            .config_override(Self::call_config(built, keys, region))
            .send()
            .await
            .map_err(sts_error)?;
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
    let exp = c.expiration();
    let expiration = DateTime::<Utc>::from_timestamp(exp.secs(), exp.subsec_nanos());
    Ok(Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: Zeroizing::new(c.secret_access_key().to_owned()),
        session_token: Some(Zeroizing::new(c.session_token().to_owned())),
        expiration,
    })
}

fn sts_error<E>(e: aws_sdk_sts::error::SdkError<E, HttpResponse>) -> StsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_sts::error::SdkError;
    match &e {
        SdkError::ServiceError(service) => {
            // Some STS-compatible servers (moto among them) wrap the error in an extra
            // `<Errors>` element the SDK's parser does not expect; recover the code and
            // message from the body rather than report "Unknown".
            let body = service.raw().body().bytes().map(String::from_utf8_lossy);
            let tag = |name: &str| body.as_deref().and_then(|b| xml_tag(b, name));
            StsError {
                code: e
                    .code()
                    .map(str::to_owned)
                    .or_else(|| tag("Code"))
                    .unwrap_or_else(|| "Unknown".into()),
                message: e
                    .message()
                    .map(str::to_owned)
                    .or_else(|| tag("Message"))
                    .unwrap_or_else(|| {
                        format!("STS refused the request (HTTP {})", service.raw().status())
                    }),
            }
        }
        SdkError::TimeoutError(_) => StsError {
            code: "StsTimeout".into(),
            message: "STS did not answer in time".into(),
        },
        SdkError::DispatchFailure(_) => StsError {
            code: "StsUnreachable".into(),
            message: format!(
                "cannot reach STS ({})",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
        },
        _ => StsError {
            code: e.code().unwrap_or("StsError").to_owned(),
            message: aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        },
    }
}
