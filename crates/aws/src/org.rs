//! The AWS Organizations calls `org sync` makes: which account manages the
//! organization, and its accounts (all of them, or those under given OUs and their
//! nested OUs), every list walked page by page ([`crate::AwsClient::all_pages`]). Page sizes
//! are the service's own (AWS's are at most 20; moto's 100 for ListAccounts).
//!
//! Built under the policy of every AWS client ([`crate`]): no shared AWS file
//! steers it, its endpoint from `AWS_ENDPOINT_URL_ORGANIZATIONS` / `AWS_ENDPOINT_URL`
//! over https or loopback http, stated retries and timeouts; every call signed with the
//! credentials of the session the sync goes through. Organizations is global: calls go
//! to its one region.

use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

use crate::credentials::Credentials;
use crate::{AwsClient, AwsError};

/// A failed Organizations call: AWS's error code (or ours for transport failures) and
/// its message.
pub type OrgError = AwsError;

/// An account as the sync needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: from the account's ARN.
    pub partition: String,
    /// ACTIVE (not suspended, closing or closed).
    pub active: bool,
}

/// An Organizations client signed with one session's credentials.
pub struct OrganizationsClient {
    client: AwsClient<aws_sdk_organizations::Client>,
    signer: Credentials,
}

impl OrganizationsClient {
    /// `endpoint` is Rolehop's own Organizations endpoint setting; `None` reads
    /// `AWS_ENDPOINT_URL_ORGANIZATIONS` or `AWS_ENDPOINT_URL`
    /// (the endpoint rule of [`crate`]).
    pub async fn new(endpoint: Option<&str>, signer: &Credentials) -> Self {
        Self {
            client: AwsClient::new(endpoint),
            signer: signer.clone(),
        }
    }

    /// The management account's id.
    pub async fn management_account(&self) -> Result<String, OrgError> {
        let out = self
            .client
            .call(
                "DescribeOrganization",
                None,
                Some(&self.signer),
                |org, call| {
                    org.describe_organization()
                        .customize()
                        .config_override(call)
                        .send()
                },
            )
            .await?;
        out.organization()
            .and_then(|o| o.master_account_id())
            .map(str::to_owned)
            .ok_or_else(|| {
                OrgError::invalid_response("DescribeOrganization named no management account")
            })
    }

    /// Every account of the organization (`ListAccounts`).
    pub async fn accounts(&self) -> Result<Vec<OrgAccount>, OrgError> {
        let send = |org: &aws_sdk_organizations::Client, call, next| {
            org.list_accounts()
                .set_next_token(next)
                .customize()
                .config_override(call)
                .send()
        };
        let listed = self
            .client
            .all_pages("ListAccounts", None, Some(&self.signer), send, |out| {
                (out.accounts.unwrap_or_default(), out.next_token)
            })
            .await?;
        listed.iter().map(account).collect()
    }

    /// The accounts under `parents` (OU or root ids) and every OU nested in them, each
    /// once, in the order found.
    pub async fn accounts_under(&self, parents: &[String]) -> Result<Vec<OrgAccount>, OrgError> {
        let mut queue: std::collections::VecDeque<String> = parents.iter().cloned().collect();
        let mut seen_ous = std::collections::HashSet::new();
        let mut seen_accounts = std::collections::HashSet::new();
        let mut out = Vec::new();
        while let Some(parent) = queue.pop_front() {
            if !seen_ous.insert(parent.clone()) {
                continue;
            }
            let accounts = |org: &aws_sdk_organizations::Client, call, next| {
                org.list_accounts_for_parent()
                    .parent_id(&parent)
                    .set_next_token(next)
                    .customize()
                    .config_override(call)
                    .send()
            };
            let accounts = self
                .client
                .all_pages(
                    "ListAccountsForParent",
                    None,
                    Some(&self.signer),
                    accounts,
                    |out| (out.accounts.unwrap_or_default(), out.next_token),
                )
                .await?;
            for a in &accounts {
                let a = account(a)?;
                if seen_accounts.insert(a.id.clone()) {
                    out.push(a);
                }
            }
            let ous = |org: &aws_sdk_organizations::Client, call, next| {
                org.list_organizational_units_for_parent()
                    .parent_id(&parent)
                    .set_next_token(next)
                    .customize()
                    .config_override(call)
                    .send()
            };
            let ous = self
                .client
                .all_pages(
                    "ListOrganizationalUnitsForParent",
                    None,
                    Some(&self.signer),
                    ous,
                    |out| (out.organizational_units.unwrap_or_default(), out.next_token),
                )
                .await?;
            queue.extend(ous.into_iter().filter_map(|ou| ou.id));
        }
        Ok(out)
    }
}

fn account(a: &Account) -> Result<OrgAccount, OrgError> {
    let id = a
        .id()
        .ok_or_else(|| OrgError::invalid_response("an account without an id"))?
        .to_owned();
    // `State` replaces the older `Status`; a server may send either.
    let active = match (a.state(), a.status()) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    };
    let partition = a
        .arn()
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_owned();
    Ok(OrgAccount {
        name: a.name().unwrap_or(&id).to_owned(),
        id,
        partition,
        active,
    })
}
