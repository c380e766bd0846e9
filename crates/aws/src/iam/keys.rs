//! The IAM access key calls of rotation, on Rolehop's one IAM client
//! ([`crate::iam::IamClient`], built under [`crate`]'s policy).

use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::iam::{IamClient, IamError};

/// One key as `ListAccessKeys` lists it (no secret: IAM never returns it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamAccessKey {
    pub access_key_id: String,
    pub status: String,
    pub created: Option<DateTime<Utc>>,
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
            .call("ListAccessKeys", None, Some(signer), |iam, call| {
                iam.list_access_keys()
                    .user_name(user)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await?;
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
            .call("CreateAccessKey", None, Some(signer), |iam, call| {
                iam.create_access_key()
                    .user_name(user)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await?;
        let key = out
            .access_key()
            .ok_or_else(|| IamError::invalid_response("IAM returned no access key"))?;
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
            .call("DeleteAccessKey", None, Some(signer), |iam, call| {
                iam.delete_access_key()
                    .user_name(user)
                    .access_key_id(access_key_id)
                    .customize()
                    .config_override(call)
                    .send()
            })
            .await?;
        Ok(())
    }
}
