//! IAM Identity Center (AWS SSO): integrations, the OAuth device login, portal tokens in
//! the keychain, and the portal calls behind SSO role sessions and their sync.
//!
//! - [`integration`]: the workspace entity and its rules;
//! - [`portal`]: the SSO OIDC and portal clients (aws-sdk-ssooidc, aws-sdk-sso);
//! - [`login`]: the device authorization flow, its polling on a [`login::Pacer`] seam;
//! - [`browser_login`]: the authorization code flow with PKCE, its loopback listener;
//! - [`export`]: `--export-token`'s copy of the token in the AWS CLI's SSO cache;
//! - [`tokens`]: what lives in the keychain, and a token refreshed before it expires;
//! - [`assignments`]: the accounts and roles a sync brings in, listed concurrently.

pub mod assignments;
pub mod browser_login;
pub mod export;
pub mod integration;
pub mod login;
pub use rolehop_aws::portal;
pub mod tokens;

pub use crate::model::IntegrationId;
pub use integration::{
    DEFAULT_SCOPE, Integration, IntegrationChanges, LoginStatus, NewIntegration,
};
pub use portal::{DeviceAuthorization, LoginFlow, SsoPortal};
pub use tokens::{SsoAccess, TokenError};

use crate::workspace::Workspace;

/// Stores the login statuses [`SsoAccess`] learnt into the workspace (inside the locked
/// update of whatever used the tokens). Integrations removed meanwhile are skipped.
pub fn apply_statuses(ws: &mut Workspace, statuses: &[(IntegrationId, LoginStatus)]) {
    for (id, status) in statuses {
        if let Some(i) = ws.integration_mut(*id) {
            i.login = status.clone();
        }
    }
}
