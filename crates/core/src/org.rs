//! Organization fan-out: one role session per active member account of an AWS
//! Organization, chained from a session in its management (or a delegated
//! administrator) account, kept in step by re-syncing ([`crate::sync`] does the
//! reconcile; this module lists the accounts and says what each session is).

use rolehop_aws::org as client;

use serde::{Deserialize, Serialize};

pub use self::client::{OrgAccount, OrgError, OrganizationsClient};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::{ChainedRole, Failure, FailureCode, Session, SessionKind};
use crate::sync::{NameTemplate, SyncEntry, SyncKey, SyncReport, SyncSource};
use crate::validate;

/// What `rolehop org sync` and the desktop's dialog ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct OrgSyncRequest {
    /// The session (name or id) whose credentials list the accounts, and which every
    /// synced role is chained from.
    pub via: String,
    /// The role to assume in each account (`OrganizationAccountAccessRole`...).
    pub role_name: String,
    /// How sessions are named; `{account_name}-{role_name}` when unset.
    pub profile_template: Option<String>,
    /// Only the accounts under these OUs (or roots), nested OUs included; every
    /// account when empty.
    #[serde(default)]
    pub ous: Vec<String>,
}

/// The entries of a sync from the organization's accounts: each active account but the
/// management account (a member account's role is what the fan-out is for; the `via`
/// session already acts there), in `via`'s region.
pub fn entries(
    via: &Session,
    role_name: &str,
    management: &str,
    accounts: &[OrgAccount],
) -> Vec<SyncEntry> {
    accounts
        .iter()
        .filter(|a| a.active && a.id != management)
        .map(|a| SyncEntry {
            key: SyncKey {
                account_id: a.id.clone(),
                role_name: role_name.to_owned(),
            },
            account_name: a.name.clone(),
            region: via.region.clone(),
            kind: SessionKind::Role(ChainedRole {
                parent: via.id,
                role_arn: format!("arn:{}:iam::{}:role/{role_name}", a.partition, a.id),
                role_session_name: None,
                external_id: None,
                duration: None,
                source_identity: None,
                tags: Vec::new(),
                transitive_tag_keys: Vec::new(),
            }),
            declared: None,
        })
        .collect()
}

impl Engine {
    /// Lists the organization's accounts with `via`'s credentials (prompting for MFA
    /// if its chain needs a code) and syncs one role session per active member account.
    /// Every input is checked, naming its field, before any AWS call; a refused call to
    /// Organizations is `via`'s failure (its AWS code kept) and changes nothing.
    pub async fn org_sync(&self, request: OrgSyncRequest) -> Result<SyncReport, EngineError> {
        validate::role_name("role_name", &request.role_name)?;
        let template = match &request.profile_template {
            Some(t) => NameTemplate::parse("profile_template", t)?,
            None => NameTemplate::default(),
        };
        for ou in &request.ous {
            validate::organizational_unit("ou", ou)?;
        }
        let ws = self.workspace().await?;
        let via = ws.find(&request.via)?.session.clone();
        // Organizations refuses a token an IAM user got without MFA: its key signs.
        let creds = self
            .service_signer(&via.id.into(), None, crate::engine::MfaAsking::Here)
            .await?
            .credentials;
        let client = OrganizationsClient::new(None, &creds).await;
        let listed = async {
            let management = client.management_account().await?;
            let accounts = if request.ous.is_empty() {
                client.accounts().await?
            } else {
                client.accounts_under(&request.ous).await?
            };
            Ok::<_, OrgError>((management, accounts))
        };
        let (management, accounts) = listed.await.map_err(|e| EngineError::SessionFailed {
            session: via.name.clone(),
            failure: Failure::new(
                FailureCode::Aws {
                    code: e.code.clone(),
                },
                format!("listing the organization's accounts: {}", e.message),
            ),
        })?;
        tracing::info!(via = %via.name, accounts = accounts.len(), "organization listed");
        let entries = entries(&via, &request.role_name, &management, &accounts);
        let source = SyncSource::Organization {
            via: via.id,
            role_name: request.role_name,
        };
        self.sync(source, template, entries).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str, active: bool) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: name.into(),
            partition: "aws".into(),
            active,
        }
    }

    fn via() -> Session {
        Session {
            console: Default::default(),
            id: crate::model::SessionId::new(),
            name: "mgmt".into(),
            profile: crate::model::ProfileName::parse("mgmt").unwrap(),
            region: Some("eu-west-1".into()),
            kind: SessionKind::IamUser(crate::model::IamUser {
                mfa_serial: None,
                session_duration: 3600,
                account_id: None,
            }),
        }
    }

    #[test]
    fn entries_are_the_active_member_accounts_with_their_role_in_vias_region() {
        let via = via();
        let accounts = [
            account("999999999999", "Management", true),
            account("111111111111", "Prod", true),
            account("222222222222", "Closed", false),
        ];
        let got = entries(&via, "Admin", "999999999999", &accounts);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].key.account_id, "111111111111");
        assert_eq!(got[0].account_name, "Prod");
        let SessionKind::Role(r) = &got[0].kind else {
            panic!("a role")
        };
        assert_eq!(r.parent, via.id);
        assert_eq!(got[0].region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.role_arn, "arn:aws:iam::111111111111:role/Admin");
    }

    #[test]
    fn an_account_in_another_partition_gets_its_partitions_arn() {
        let mut gov = account("111111111111", "Gov", true);
        gov.partition = "aws-us-gov".into();
        let got = entries(&via(), "Admin", "x", &[gov]);
        let SessionKind::Role(r) = &got[0].kind else {
            panic!("a role")
        };
        assert_eq!(r.role_arn, "arn:aws-us-gov:iam::111111111111:role/Admin");
    }
}
