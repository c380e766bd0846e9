//! Temporary credentials: the vocabulary's [`Credentials`] (rolehop-model), and the form
//! the AWS SDK signs with. The conversion lives here, above the vocabulary, so the
//! vocabulary never depends on an SDK crate.

pub use rolehop_model::credentials::*;

/// Credentials as the AWS SDK takes them for signing a call.
pub trait SigningCredentials {
    fn to_sdk(&self) -> aws_credential_types::Credentials;
}

impl SigningCredentials for Credentials {
    fn to_sdk(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.as_str().to_owned(),
            self.session_token.as_ref().map(|t| t.as_str().to_owned()),
            self.expiration.map(std::time::SystemTime::from),
            "rolehop",
        )
    }
}
