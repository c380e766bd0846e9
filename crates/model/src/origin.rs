//! Where a synced session came from: the vocabulary a sync (`rolehop-core`'s `sync`
//! module) records on each session it made, so a re-sync can tell its own sessions and
//! the user's edits apart. Plain data; the sync's rules live with the sync.

use serde::{Deserialize, Serialize};

use crate::session::{IntegrationId, ProfileName, SessionId};

/// Where synced sessions come from. A sync owns exactly the sessions whose origin has
/// its source: two sources never remove each other's sessions.
///
/// Serialised `{"type": "organization", "via": "<id>", "role_name": "Admin"}`; a new
/// source is a new variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SyncSource {
    /// An AWS Organization's member accounts, listed with the credentials of `via` (a
    /// session in the management or a delegated administrator account), one role
    /// `role_name` chained from `via` in each. Syncing another role name is another
    /// source, so both sets of sessions live side by side.
    Organization { via: SessionId, role_name: String },
    /// An IAM Identity Center integration's assignments: one SSO role session per
    /// account and role the portal lists for the logged-in person.
    SsoIntegration { integration: IntegrationId },
    /// A team catalog the user follows, by the name they gave it: one session per role
    /// whose chain the user's bindings complete.
    Catalog { catalog: String },
    /// A federated integration's SAML responses: one federated session per role a
    /// response grants that the user picked (and kept while the provider still grants it).
    SamlIntegration { integration: IntegrationId },
}

/// An entry's stable identity within its source: what a re-sync matches on, whatever
/// the account or session is called now.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SyncKey {
    pub account_id: String,
    pub role_name: String,
}

/// The values a sync gave a session, as last synced: a value the session still has was
/// the source's to change; a value that differs is the user's to keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedValues {
    pub name: String,
    pub profile: ProfileName,
    pub region: Option<String>,
}

/// What a sync records on each session it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOrigin {
    pub source: SyncSource,
    pub key: SyncKey,
    /// The account's name at the source, as last synced (searchable in the list).
    pub account_name: String,
    pub synced: SyncedValues,
}
