//! The IAM access key calls of rotation, on Rolehop's one IAM client
//! ([`crate::trust::iam::IamClient`]: `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL` honoured).

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::credentials::SigningCredentials as _;
use crate::trust::iam::{IamClient, IamError, iam_error};

/// One key as `ListAccessKeys` lists it (no secret: IAM never returns it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamAccessKey {
    pub access_key_id: String,
    pub status: String,
    pub created: Option<DateTime<Utc>>,
}

fn signed_by(signer: &Credentials) -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::default().credentials_provider(signer.to_sdk())
}

impl IamClient {
    /// Every access key of `user`.
    pub async fn list_access_keys(
        &self,
        signer: &Credentials,
        user: &str,
    ) -> Result<Vec<IamAccessKey>, IamError> {
        let out = self
            .client()
            .await
            .list_access_keys()
            .user_name(user)
            .customize()
            .config_override(signed_by(signer))
            .send()
            .await
            .map_err(iam_error)?;
        Ok(out
            .access_key_metadata()
            .iter()
            .map(|k| IamAccessKey {
                access_key_id: k.access_key_id().unwrap_or_default().to_owned(),
                status: k
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                created: k
                    .create_date()
                    .and_then(|d| DateTime::from_timestamp(d.secs(), d.subsec_nanos())),
            })
            .collect())
    }

    /// A new access key for `user`, as long-lived credentials.
    pub async fn create_access_key(
        &self,
        signer: &Credentials,
        user: &str,
    ) -> Result<Credentials, IamError> {
        let out = self
            .client()
            .await
            .create_access_key()
            .user_name(user)
            .customize()
            .config_override(signed_by(signer))
            .send()
            .await
            .map_err(iam_error)?;
        let key = out.access_key().ok_or_else(|| IamError {
            code: "InvalidResponse".into(),
            message: "IAM returned no access key".into(),
        })?;
        Ok(Credentials {
            access_key_id: key.access_key_id().to_owned(),
            secret_access_key: Zeroizing::new(key.secret_access_key().to_owned()),
            session_token: None,
            expiration: None,
        })
    }

    /// Deletes `user`'s access key `access_key_id`.
    pub async fn delete_access_key(
        &self,
        signer: &Credentials,
        user: &str,
        access_key_id: &str,
    ) -> Result<(), IamError> {
        self.client()
            .await
            .delete_access_key()
            .user_name(user)
            .access_key_id(access_key_id)
            .customize()
            .config_override(signed_by(signer))
            .send()
            .await
            .map_err(iam_error)?;
        Ok(())
    }
}
