//! Rolehop's IAM client: `GetRole` here, to read a role's trust policy and its ARN with
//! its path; the access key calls of key rotation in [`keys`]; the caller's identity
//! policies, which `trust check` evaluates, in [`policies`].
//!
//! Built under the policy of every AWS client ([`crate`]): no shared AWS file
//! steers it, its endpoint from `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL` over https or
//! loopback http, stated retries and timeouts. Each call signs with the credentials it is
//! given. IAM is global: calls go to its one region.

mod keys;
mod policies;

pub use keys::IamAccessKey;
pub use policies::{Identity, IdentityPolicy, PolicyReadError};

use crate::credentials::Credentials;
use crate::{AwsClient, AwsError};

/// A failed IAM call: AWS's error code (or one of ours for transport failures) and message.
pub type IamError = AwsError;

/// The IAM client (clones share it), built on its first call.
#[derive(Debug, Clone, Default)]
pub struct IamClient {
    client: AwsClient<aws_sdk_iam::Client>,
}

impl IamClient {
    /// `endpoint` is Rolehop's own IAM endpoint setting; `None` reads
    /// `AWS_ENDPOINT_URL_IAM` or `AWS_ENDPOINT_URL` (the endpoint rule of [`crate`]).
    pub fn new(endpoint: Option<&str>) -> Self {
        Self {
            client: AwsClient::new(endpoint),
        }
    }

    pub(crate) fn client(&self) -> &AwsClient<aws_sdk_iam::Client> {
        &self.client
    }

    /// The role's trust policy document, as IAM returns it (URL-encoded by IAM's
    /// query API; rolehop-policy's `PolicyDocument::parse_from_iam` reads either form).
    pub async fn role_trust_policy(
        &self,
        signer: &Credentials,
        role_name: &str,
    ) -> Result<String, IamError> {
        self.role(signer, role_name).await.map(|r| r.trust_policy)
    }

    /// `GetRole`: the role's ARN (with its path) and trust policy.
    pub async fn role(&self, signer: &Credentials, role_name: &str) -> Result<IamRole, IamError> {
        let out = self
            .client
            .call("GetRole", None, Some(signer), |iam, call| {
                iam.get_role()
                    .role_name(role_name)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await?;
        let role = out.role.ok_or_else(|| {
            IamError::invalid_response(format!("IAM returned no role for {role_name}"))
        })?;
        let trust_policy = role.assume_role_policy_document.ok_or_else(|| {
            IamError::invalid_response(format!("IAM returned no trust policy for role {role_name}"))
        })?;
        Ok(IamRole {
            arn: role.arn,
            trust_policy,
        })
    }
}

/// A role as `GetRole` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRole {
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// The trust policy, URL-encoded as IAM returns it.
    pub trust_policy: String,
}
