//! Temporary AWS credentials as the engine hands them around.
//!
//! The secret parts are zeroized on drop and never printed: `Debug` redacts them,
//! so a stray `{:?}` in a log or an error cannot leak a key.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A set of AWS credentials (long-lived keys have no token and no expiration).
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    #[serde(with = "zeroizing_string")]
    pub secret_access_key: Zeroizing<String>,
    #[serde(with = "opt_zeroizing_string", default)]
    pub session_token: Option<Zeroizing<String>>,
    pub expiration: Option<DateTime<Utc>>,
}

impl Credentials {
    /// Whether these credentials are still good `margin` from now.
    pub fn valid_for(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        match self.expiration {
            Some(exp) => exp - margin > now,
            None => true,
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

pub mod zeroizing_string {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(v: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        Ok(Zeroizing::new(String::deserialize(d)?))
    }
}

pub mod opt_zeroizing_string {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(
        v: &Option<Zeroizing<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v.as_str()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Zeroizing<String>>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(Zeroizing::new))
    }
}
