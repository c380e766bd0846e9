//! What a person may use through an integration: every account the portal lists
//! (`ListAccounts`, paginated) and the roles assigned in each (`ListAccountRoles`, once
//! per account), fetched by a bounded pool of workers so a thousand accounts take
//! seconds without flooding the portal. Throttling is retried with backoff by the
//! portal client ([`super::portal::PORTAL_MAX_ATTEMPTS`]); a call that still fails fails
//! the listing, naming the account: a sync must never read a failed listing as
//! "this account's roles are gone".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use super::portal::{Account, PortalError, SsoPortal};

/// How many `ListAccountRoles` calls run at once.
pub const CONCURRENCY: usize = 8;

/// One account and the role names assigned in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub account: Account,
    pub roles: Vec<String>,
}

/// Every account and its roles, in the portal's account order.
pub async fn assignments(
    portal: &SsoPortal,
    region: &str,
    access_token: &Zeroizing<String>,
) -> Result<Vec<Assignment>, PortalError> {
    let accounts = portal.accounts(region, access_token).await?;
    let queue: Arc<Mutex<VecDeque<(usize, Account)>>> =
        Arc::new(Mutex::new(accounts.into_iter().enumerate().collect()));
    let total = queue.lock().expect("queue").len();
    let token = Arc::new(access_token.clone());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY.min(total) {
        let (queue, token, portal, region) = (
            queue.clone(),
            token.clone(),
            portal.clone(),
            region.to_owned(),
        );
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let Some((index, account)) = queue.lock().expect("queue").pop_front() else {
                    return Ok(done);
                };
                match portal
                    .account_roles(&region, &token, &account.account_id)
                    .await
                {
                    Ok(roles) => done.push((index, Assignment { account, roles })),
                    Err(e) => {
                        // The others stop taking work: the listing has failed.
                        queue.lock().expect("queue").clear();
                        return Err(PortalError {
                            message: format!(
                                "listing the roles of account {} ({}): {}",
                                account.account_id, account.account_name, e.message
                            ),
                            code: e.code,
                        });
                    }
                }
            }
        });
    }
    let mut found = Vec::with_capacity(total);
    let mut failed = None;
    while let Some(joined) = workers.join_next().await {
        match joined.expect("a listing worker panicked") {
            Ok(done) => found.extend(done),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    found.sort_by_key(|(index, _)| *index);
    Ok(found.into_iter().map(|(_, a)| a).collect())
}
