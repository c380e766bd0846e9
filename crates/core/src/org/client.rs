//! The AWS Organizations calls `org sync` makes: which account manages the
//! organization, and its accounts (all of them, or those under given OUs and their
//! nested OUs), every list paginated. Page sizes are the service's own (AWS's are at
//! most 20; moto's 100 for ListAccounts).
//!
//! Built like the IAM and STS clients: aws-config (so `AWS_ENDPOINT_URL_ORGANIZATIONS`
//! / `AWS_ENDPOINT_URL`, proxies and retries behave as in every AWS SDK, and no shared
//! AWS file steers it), signed with the credentials of the session the sync goes
//! through. Organizations is global: calls go to its one region.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

use crate::credentials::Credentials;
use crate::credentials::SigningCredentials as _;

/// The region Organizations' global endpoint signs in.
const ORGANIZATIONS_REGION: &str = "us-east-1";

/// A failed Organizations call: AWS's error code (or ours for transport failures) and
/// its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct OrgError {
    pub code: String,
    pub message: String,
}

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
    client: aws_sdk_organizations::Client,
}

impl OrganizationsClient {
    /// `endpoint` overrides Organizations' endpoint; `None` lets aws-config read
    /// `AWS_ENDPOINT_URL_ORGANIZATIONS` or `AWS_ENDPOINT_URL`.
    pub async fn new(endpoint: Option<&str>, signer: &Credentials) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .no_credentials()
            .region(Region::new(ORGANIZATIONS_REGION));
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let config = aws_sdk_organizations::config::Builder::from(&sdk)
            .credentials_provider(signer.to_sdk())
            .build();
        Self {
            client: aws_sdk_organizations::Client::from_conf(config),
        }
    }

    /// The management account's id.
    pub async fn management_account(&self) -> Result<String, OrgError> {
        let out = self
            .client
            .describe_organization()
            .send()
            .await
            .map_err(org_error)?;
        out.organization()
            .and_then(|o| o.master_account_id())
            .map(str::to_owned)
            .ok_or_else(|| invalid("DescribeOrganization named no management account"))
    }

    /// Every account of the organization (`ListAccounts`).
    pub async fn accounts(&self) -> Result<Vec<OrgAccount>, OrgError> {
        let pages = self
            .client
            .list_accounts()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(org_error)?;
        pages
            .iter()
            .flat_map(|p| p.accounts())
            .map(account)
            .collect()
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
            let pages = self
                .client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(org_error)?;
            for a in pages.iter().flat_map(|p| p.accounts()) {
                let a = account(a)?;
                if seen_accounts.insert(a.id.clone()) {
                    out.push(a);
                }
            }
            let pages = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .into_paginator()
                .send()
                .try_collect()
                .await
                .map_err(org_error)?;
            for ou in pages.iter().flat_map(|p| p.organizational_units()) {
                if let Some(id) = ou.id() {
                    queue.push_back(id.to_owned());
                }
            }
        }
        Ok(out)
    }
}

fn account(a: &Account) -> Result<OrgAccount, OrgError> {
    let id = a
        .id()
        .ok_or_else(|| invalid("an account without an id"))?
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

fn invalid(message: &str) -> OrgError {
    OrgError {
        code: "InvalidResponse".into(),
        message: message.into(),
    }
}

fn org_error<E>(e: SdkError<E, aws_sdk_organizations::config::http::HttpResponse>) -> OrgError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let context = || aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
    let (code, message) = match &e {
        SdkError::ServiceError(_) => (
            e.code().unwrap_or("Unknown").to_owned(),
            e.message().map(str::to_owned).unwrap_or_else(context),
        ),
        SdkError::TimeoutError(_) => (
            "OrganizationsTimeout".to_owned(),
            "AWS Organizations did not answer in time".to_owned(),
        ),
        SdkError::DispatchFailure(_) => (
            "OrganizationsUnreachable".to_owned(),
            format!("cannot reach AWS Organizations ({})", context()),
        ),
        _ => ("OrganizationsError".to_owned(), context()),
    };
    OrgError {
        code,
        message: crate::display_text::capped(message),
    }
}
