//! The STS calls Rolehop makes, through one shared aws-sdk-sts client built under the
//! policy of every AWS client ([`crate`]: no shared AWS file steers it, stated
//! retries and timeouts, endpoints only from Rolehop's setting or the environment).
//!
//! Each call overrides only its region and the credentials it signs with. No global SDK
//! configuration is mutated per call, so concurrent starts never race (Leapp's bug).
//! What STS answers is capped before Rolehop keeps it: the answer's declared size by the
//! policy, the credentials' fields here.

use chrono::{DateTime, Utc};
use rolehop_model::session::SessionTag;
use zeroize::Zeroizing;

use crate::AwsClient;
use crate::credentials::Credentials;

/// A failed STS call: AWS's error code (or one of ours for transport failures) and message.
pub type StsError = crate::AwsError;

/// Parameters of one `AssumeRole` call.
#[derive(Debug, Clone)]
pub struct AssumeRoleParams<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub external_id: Option<&'a str>,
    pub duration_seconds: u32,
    pub source_identity: Option<&'a str>,
    /// Session tags (`Tags`), none when empty.
    pub tags: &'a [SessionTag],
    /// `TransitiveTagKeys`, none when empty.
    pub transitive_tag_keys: &'a [String],
}

/// Parameters of one `AssumeRoleWithSAML` call (unsigned: the SAML response is the
/// proof).
#[derive(Clone)]
pub struct SamlParams<'a> {
    pub role_arn: &'a str,
    /// The SAML provider in IAM.
    pub principal_arn: &'a str,
    /// The base64 `SAMLResponse`: a secret, never logged.
    pub saml_assertion: &'a str,
    pub duration_seconds: u32,
}

impl std::fmt::Debug for SamlParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlParams")
            .field("role_arn", &self.role_arn)
            .field("principal_arn", &self.principal_arn)
            .field("duration_seconds", &self.duration_seconds)
            .finish_non_exhaustive()
    }
}

/// What `GetCallerIdentity` says of the credentials that sign it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:iam::ACCOUNT:user/NAME` or `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `AIDA…` for a user, `AROA…:SESSION` for a role session; `None` when not asked.
    pub user_id: Option<String>,
}

/// One MFA answer for `GetSessionToken`.
#[derive(Debug, Clone, Copy)]
pub struct MfaToken<'a> {
    pub serial: &'a str,
    pub code: &'a str,
}

/// The longest session token Rolehop accepts from STS (AWS's are a few hundred bytes to
/// a few KiB; packed session policies and tags are what make them grow).
pub const MAX_SESSION_TOKEN_BYTES: usize = 8 * 1024;
/// The longest access key id (AWS documents 16–128 characters).
pub const MAX_ACCESS_KEY_ID_BYTES: usize = 128;
/// The longest secret access key Rolehop accepts (AWS's are 40 characters).
pub const MAX_SECRET_ACCESS_KEY_BYTES: usize = 256;

/// What one STS call returns.
pub type StsFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, StsError>> + Send + 'a>>;

/// The STS calls, as the engine makes them: the seam between the engine's rules and
/// AWS. [`SdkSts`] is AWS (or moto) through aws-sdk-sts; the engine's rule tests put an
/// in-memory stand-in here (`rolehop_core::testing`, feature `test-support`), so rules
/// that do not depend on STS's behaviour run without an STS peer.
pub trait StsApi: Send + Sync {
    fn get_session_token<'a>(
        &'a self,
        keys: &'a Credentials,
        region: Option<&'a str>,
        duration_seconds: u32,
        mfa: Option<MfaToken<'a>>,
    ) -> StsFuture<'a, Credentials>;

    fn assume_role<'a>(
        &'a self,
        parent: &'a Credentials,
        region: Option<&'a str>,
        params: &'a AssumeRoleParams<'a>,
    ) -> StsFuture<'a, Credentials>;

    /// `AssumeRoleWithSAML`: a federated role's credentials from a SAML response.
    fn assume_role_with_saml<'a>(
        &'a self,
        region: Option<&'a str>,
        params: &'a SamlParams<'a>,
    ) -> StsFuture<'a, Credentials>;

    fn caller_arn<'a>(
        &'a self,
        creds: &'a Credentials,
        region: Option<&'a str>,
    ) -> StsFuture<'a, String>;

    /// `GetCallerIdentity` with its `UserId`; a stand-in that knows only ARNs gives
    /// none.
    fn caller_identity<'a>(
        &'a self,
        creds: &'a Credentials,
        region: Option<&'a str>,
    ) -> StsFuture<'a, CallerIdentity> {
        Box::pin(async move {
            let arn = self.caller_arn(creds, region).await?;
            Ok(CallerIdentity { arn, user_id: None })
        })
    }

    fn get_federation_token<'a>(
        &'a self,
        keys: &'a Credentials,
        region: Option<&'a str>,
        name: &'a str,
        policy: &'a str,
        duration_seconds: u32,
    ) -> StsFuture<'a, Credentials>;
}

/// The engine's STS (clones share it): AWS's by default.
#[derive(Clone)]
pub struct StsClient {
    api: std::sync::Arc<dyn StsApi>,
}

impl std::fmt::Debug for StsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StsClient")
    }
}

impl StsClient {
    /// AWS's STS. `endpoint` is Rolehop's own STS endpoint setting (tests point it at
    /// moto); without it, the endpoint rule of [`crate`] reads the environment.
    pub async fn new(endpoint: Option<&str>) -> Self {
        Self::answered_by(std::sync::Arc::new(SdkSts {
            client: AwsClient::new(endpoint),
        }))
    }

    /// STS answered by `api`.
    pub fn answered_by(api: std::sync::Arc<dyn StsApi>) -> Self {
        Self { api }
    }

    /// `GetSessionToken` with the IAM user's long-lived keys.
    pub async fn get_session_token(
        &self,
        keys: &Credentials,
        region: Option<&str>,
        duration_seconds: u32,
        mfa: Option<MfaToken<'_>>,
    ) -> Result<Credentials, StsError> {
        self.api
            .get_session_token(keys, region, duration_seconds, mfa)
            .await
    }

    /// `AssumeRole` signed with the parent's credentials.
    pub async fn assume_role(
        &self,
        parent: &Credentials,
        region: Option<&str>,
        params: &AssumeRoleParams<'_>,
    ) -> Result<Credentials, StsError> {
        self.api.assume_role(parent, region, params).await
    }

    /// `AssumeRoleWithSAML`, unsigned: the SAML response vouches for the caller.
    pub async fn assume_role_with_saml(
        &self,
        region: Option<&str>,
        params: &SamlParams<'_>,
    ) -> Result<Credentials, StsError> {
        self.api.assume_role_with_saml(region, params).await
    }

    /// `GetCallerIdentity`: the ARN these credentials act as (used by tests and `whoami`).
    pub async fn caller_arn(
        &self,
        creds: &Credentials,
        region: Option<&str>,
    ) -> Result<String, StsError> {
        self.api.caller_arn(creds, region).await
    }

    /// `GetCallerIdentity`: the ARN and user id these credentials act as.
    pub async fn caller_identity(
        &self,
        creds: &Credentials,
        region: Option<&str>,
    ) -> Result<CallerIdentity, StsError> {
        self.api.caller_identity(creds, region).await
    }

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
        self.api
            .get_federation_token(keys, region, name, policy, duration_seconds)
            .await
    }
}

/// AWS's STS through one shared aws-sdk-sts client, built on its first call.
pub struct SdkSts {
    client: AwsClient<aws_sdk_sts::Client>,
}

impl StsApi for SdkSts {
    fn get_session_token<'a>(
        &'a self,
        keys: &'a Credentials,
        region: Option<&'a str>,
        duration_seconds: u32,
        mfa: Option<MfaToken<'a>>,
    ) -> StsFuture<'a, Credentials> {
        Box::pin(async move {
            let out = self
                .client
                .call("GetSessionToken", region, Some(keys), |sts, call| {
                    sts.get_session_token()
                        .duration_seconds(duration_seconds as i32)
                        .set_serial_number(mfa.map(|m| m.serial.to_owned()))
                        .set_token_code(mfa.map(|m| m.code.to_owned()))
                        .customize()
                        .config_override(call)
                        .send()
                })
                .await?;
            convert(out.credentials())
        })
    }

    fn assume_role<'a>(
        &'a self,
        parent: &'a Credentials,
        region: Option<&'a str>,
        params: &'a AssumeRoleParams<'a>,
    ) -> StsFuture<'a, Credentials> {
        Box::pin(async move {
            let out = self
                .client
                .call("AssumeRole", region, Some(parent), |sts, call| {
                    sts.assume_role()
                        .role_arn(params.role_arn)
                        .role_session_name(params.role_session_name)
                        .duration_seconds(params.duration_seconds as i32)
                        .set_external_id(params.external_id.map(str::to_owned))
                        .set_source_identity(params.source_identity.map(str::to_owned))
                        .set_tags(sdk_tags(params.tags))
                        .set_transitive_tag_keys(
                            (!params.transitive_tag_keys.is_empty())
                                .then(|| params.transitive_tag_keys.to_vec()),
                        )
                        .customize()
                        .config_override(call)
                        .send()
                })
                .await?;
            convert(out.credentials())
        })
    }

    fn assume_role_with_saml<'a>(
        &'a self,
        region: Option<&'a str>,
        params: &'a SamlParams<'a>,
    ) -> StsFuture<'a, Credentials> {
        Box::pin(async move {
            // No signer: the operation is unsigned in STS's model, and the SDK sends it
            // without credentials.
            let out = self
                .client
                .call("AssumeRoleWithSAML", region, None, |sts, call| {
                    sts.assume_role_with_saml()
                        .role_arn(params.role_arn)
                        .principal_arn(params.principal_arn)
                        .saml_assertion(params.saml_assertion)
                        .duration_seconds(params.duration_seconds as i32)
                        .customize()
                        .config_override(call)
                        .send()
                })
                .await?;
            convert(out.credentials())
        })
    }

    fn caller_arn<'a>(
        &'a self,
        creds: &'a Credentials,
        region: Option<&'a str>,
    ) -> StsFuture<'a, String> {
        Box::pin(async move { Ok(self.caller_identity(creds, region).await?.arn) })
    }

    fn caller_identity<'a>(
        &'a self,
        creds: &'a Credentials,
        region: Option<&'a str>,
    ) -> StsFuture<'a, CallerIdentity> {
        Box::pin(async move {
            let out = self
                .client
                .call("GetCallerIdentity", region, Some(creds), |sts, call| {
                    sts.get_caller_identity()
                        .customize()
                        .config_override(call)
                        .send()
                })
                .await?;
            Ok(CallerIdentity {
                arn: out.arn().unwrap_or_default().to_owned(),
                user_id: out.user_id().map(str::to_owned),
            })
        })
    }

    fn get_federation_token<'a>(
        &'a self,
        keys: &'a Credentials,
        region: Option<&'a str>,
        name: &'a str,
        policy: &'a str,
        duration_seconds: u32,
    ) -> StsFuture<'a, Credentials> {
        Box::pin(async move {
            let out = self
                .client
                .call("GetFederationToken", region, Some(keys), |sts, call| {
                    sts.get_federation_token()
                        .name(name)
                        .policy(policy)
                        .duration_seconds(duration_seconds as i32)
                        .customize()
                        .config_override(call)
                        .send()
                })
                .await?;
            convert(out.credentials())
        })
    }
}

/// The SDK's form of session tags, `None` for none (the request then carries no `Tags`).
fn sdk_tags(tags: &[SessionTag]) -> Option<Vec<aws_sdk_sts::types::Tag>> {
    if tags.is_empty() {
        return None;
    }
    // `build` fails only on an unset key or value, and both are set.
    tags.iter()
        .map(|t| {
            aws_sdk_sts::types::Tag::builder()
                .key(&t.key)
                .value(&t.value)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .ok()
}

fn convert(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials, StsError> {
    let c = c.ok_or_else(|| StsError::invalid_response("STS returned no credentials"))?;
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
            return Err(StsError::invalid_response(format!(
                "STS returned a {field} of {} bytes; Rolehop accepts 1 to {max}",
                value.len()
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

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
