//! Rolehop's IAM client: `GetRole` here, to read a role's trust policy; the access key
//! calls of key rotation in [`crate::access_keys`].
//!
//! Built like the STS client ([`crate::sts`]): aws-config once, on first use (so
//! `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL`, proxies and retries behave as in every
//! AWS SDK), and each call signs with the credentials it is given. IAM is global: calls
//! go to its one region.

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_iam::error::ProvideErrorMetadata;
use tokio::sync::OnceCell;

use crate::credentials::Credentials;
use crate::credentials::SigningCredentials as _;

/// The region IAM's global endpoint signs in.
const IAM_REGION: &str = "us-east-1";

/// A failed IAM call: AWS's error code (or one of ours for transport failures) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct IamError {
    pub code: String,
    pub message: String,
}

/// The IAM client, built when it first calls IAM.
#[derive(Debug, Clone, Default)]
pub struct IamClient {
    endpoint: Option<String>,
    built: Arc<OnceCell<aws_sdk_iam::Client>>,
}

impl IamClient {
    /// `endpoint` overrides IAM's endpoint; `None` lets aws-config read
    /// `AWS_ENDPOINT_URL_IAM` or `AWS_ENDPOINT_URL`.
    pub fn new(endpoint: Option<&str>) -> Self {
        Self {
            endpoint: endpoint.map(str::to_owned),
            built: Arc::default(),
        }
    }

    pub(crate) async fn client(&self) -> &aws_sdk_iam::Client {
        self.built
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(BehaviorVersion::latest())
                    .no_credentials()
                    .region(Region::new(IAM_REGION));
                if let Some(url) = &self.endpoint {
                    loader = loader.endpoint_url(url);
                }
                let sdk = loader.load().await;
                aws_sdk_iam::Client::new(&sdk)
            })
            .await
    }

    /// The role's trust policy document, as IAM returns it (URL-encoded by IAM's
    /// query API; [`crate::trust::PolicyDocument::parse_from_iam`] reads either form).
    pub async fn role_trust_policy(
        &self,
        signer: &Credentials,
        role_name: &str,
    ) -> Result<String, IamError> {
        let client = self.client().await;
        let out = client
            .get_role()
            .role_name(role_name)
            .customize()
            .config_override(
                aws_sdk_iam::config::Builder::default().credentials_provider(signer.to_sdk()),
            )
            .send()
            .await
            .map_err(iam_error)?;
        out.role()
            .and_then(|r| r.assume_role_policy_document())
            .map(str::to_owned)
            .ok_or_else(|| IamError {
                code: "InvalidResponse".into(),
                message: format!("IAM returned no trust policy for role {role_name}"),
            })
    }
}

pub(crate) fn iam_error<E>(
    e: aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
) -> IamError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_iam::error::SdkError;
    let display = || aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
    match &e {
        SdkError::ServiceError(service) => IamError {
            code: e.code().unwrap_or("Unknown").to_owned(),
            message: e.message().map(str::to_owned).unwrap_or_else(|| {
                format!("IAM refused the request (HTTP {})", service.raw().status())
            }),
        },
        SdkError::TimeoutError(_) => IamError {
            code: "IamTimeout".into(),
            message: "IAM did not answer in time".into(),
        },
        SdkError::DispatchFailure(_) => IamError {
            code: "IamUnreachable".into(),
            message: format!("cannot reach IAM ({})", display()),
        },
        _ => IamError {
            code: e.code().unwrap_or("IamError").to_owned(),
            message: display(),
        },
    }
}
