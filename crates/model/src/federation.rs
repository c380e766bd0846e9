//! A federated integration as the workspace keeps it: one SAML identity provider's
//! IdP-initiated sign-in URL for the AWS app, and what the sessions synced from its
//! responses get (region, profile-name template, duration). Nothing of a SAML response
//! is kept: it is a bearer secret. The workspace's rules (unique names) and the sync
//! live in rolehop-core's `saml`.

use serde::{Deserialize, Serialize};

use crate::session::IntegrationId;
use crate::validate::{self, ValidationError};

/// A SAML identity provider whose responses' roles become federated sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SamlIntegration {
    pub id: IntegrationId,
    pub name: String,
    /// The provider's IdP-initiated sign-in URL for the AWS app.
    pub idp_url: String,
    /// The synced sessions' region; `None` uses the workspace default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// How synced sessions are named (`{account_name}-{role_name}` when unset); checked
    /// by the core's name template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_template: Option<String>,
    /// The duration synced sessions ask of `AssumeRoleWithSAML` (900–43200 s; 3600
    /// when unset), capped by each response's `SessionDuration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
}

impl SamlIntegration {
    /// Every rule on the integration's own fields, each naming its field.
    pub fn check(&self) -> Result<(), ValidationError> {
        validate::integration_name("name", &self.name)?;
        validate::idp_url("idp_url", &self.idp_url)?;
        if let Some(region) = &self.region {
            validate::region("region", region)?;
        }
        if let Some(seconds) = self.duration {
            validate::saml_duration("duration", seconds)?;
        }
        Ok(())
    }
}
