//! Sessions made in bulk from a source (an AWS Organization's accounts, an IAM Identity
//! Center integration's assignments) and kept in step with it by re-syncing.
//!
//! A synced session carries a [`SyncOrigin`] in the workspace: which source made it,
//! the entry's stable [`SyncKey`] (account id + role name) and the values it had when
//! last synced. Re-syncing compares the source's entries with the sessions carrying that
//! source ([`SyncPlan`]): new entries are added, entries whose source data changed (an
//! account renamed) are updated except where the user changed a value since (their
//! name, profile or region wins), entries gone from the source are removed unless the
//! session is active or pending, or other sessions chain from it (both kept and
//! reported), and everything else is kept. The plan is made and applied inside one
//! locked workspace update ([`Engine::sync`]), so a second run with the same entries
//! finds nothing to change and writes nothing.
//!
//! The source's own client (Organizations' ListAccounts, the SSO portal's
//! ListAccountRoles) lives with its command; this module knows only entries.

mod plan;
mod template;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use rolehop_model::origin::{SyncKey, SyncOrigin, SyncSource, SyncedValues};

pub use self::plan::SyncPlan;
pub use self::template::{NameTemplate, sanitise};
use crate::engine::{Engine, Forget};
use crate::error::EngineError;
use crate::events::EngineEvent;
use crate::model::{SessionId, SessionKind};
use crate::workspace::Workspace;

/// One entry the source wants a session for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncEntry {
    pub key: SyncKey,
    pub account_name: String,
    /// The session's region; `None` uses the workspace default.
    pub region: Option<String>,
    /// The session's kind when it is added (a role chained from the organization's
    /// `via` session, an SSO role...). The key fixes what the source decides about it,
    /// so a re-sync never changes the kind: the user's edits to it (duration, external
    /// id) stay.
    pub kind: SessionKind,
    /// What a source that names its sessions itself (a catalog) decides beyond the key.
    pub declared: Option<Declared>,
}

/// A declared entry's name and id. The name replaces the template's; the id is the
/// session's when the sync adds it, so another entry of the same sync can chain from it;
/// and the kind follows the source on every re-sync (except under a live session, whose
/// credentials came from the old one), since the source declares every field of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub name: String,
    pub id: SessionId,
}

/// One session a sync touched or looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SyncedSession {
    /// The session's name after the sync.
    pub name: String,
    pub account_id: String,
    pub account_name: String,
    pub role_name: String,
}

/// A session whose entry left the source but which other sessions chain from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct KeptParent {
    pub session: SyncedSession,
    /// The sessions chained from it, by name.
    pub children: Vec<String>,
}

/// How many sessions a sync added, updated, removed and kept. `kept` counts every
/// session left as it was: unchanged entries and gone entries kept (active or a parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SyncCounts {
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    pub kept: u32,
}

/// What a sync did (or, from [`SyncPlan::report`], would do).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SyncReport {
    pub counts: SyncCounts,
    pub added: Vec<SyncedSession>,
    /// Source data changed (an account renamed): the session follows it except for the
    /// values the user changed since the last sync.
    pub updated: Vec<SyncedSession>,
    pub removed: Vec<SyncedSession>,
    /// Unchanged.
    pub kept: Vec<SyncedSession>,
    /// Gone from the source but active or starting: never removed under the user. A
    /// later sync removes it once it is stopped.
    pub kept_live: Vec<SyncedSession>,
    /// Gone from the source, but other sessions chain from it.
    pub kept_parent: Vec<KeptParent>,
}

impl SyncReport {
    /// Whether the sync changed the workspace.
    pub fn changed(&self) -> bool {
        let c = self.counts;
        c.added + c.updated + c.removed > 0
    }
}

/// The longest account name AWS Organizations allows.
pub const MAX_ACCOUNT_NAME_CHARS: usize = 50;

/// An account name from Organizations or IAM Identity Center as Rolehop keeps it. AWS
/// allows 1 to 50 printable ASCII characters; anything else that arrives (a look-alike
/// letter such as a Cyrillic `а`, a control character, a bidi override) becomes `?`, and
/// the name is cut at 50 characters, so what the list shows and what a name template
/// puts in a session name is what AWS would have accepted.
pub fn account_name(raw: &str) -> String {
    raw.chars()
        .take(MAX_ACCOUNT_NAME_CHARS)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// The plan a sync of `source` to `entries` makes on `ws`: what [`Engine::sync`] applies
/// and what a preview shows (a catalog's, before its sync), one reconcile for both.
pub(crate) fn plan(
    ws: &Workspace,
    source: &SyncSource,
    template: &NameTemplate,
    mut entries: Vec<SyncEntry>,
) -> Result<SyncPlan, crate::validate::ValidationError> {
    for entry in &mut entries {
        entry.account_name = account_name(&entry.account_name);
    }
    SyncPlan::new(ws, source, template, &entries)
}

impl Engine {
    /// Brings the sessions of `source` in step with `entries`, naming new ones with
    /// `template`: plans and applies in one locked workspace update (nothing is written
    /// when nothing changes; a refused entry changes nothing), then drops every cached
    /// copy of the removed sessions' credentials.
    pub async fn sync(
        &self,
        source: SyncSource,
        template: NameTemplate,
        entries: Vec<SyncEntry>,
    ) -> Result<SyncReport, EngineError> {
        let (report, ()) = self
            .sync_with(source, template, move |_| Ok((entries, ())))
            .await?;
        Ok(report)
    }

    /// [`Engine::sync`] with entries made from the workspace inside the same locked
    /// update (a catalog's entries chain from sessions the workspace holds).
    pub(crate) async fn sync_with<X: Send + 'static>(
        &self,
        source: SyncSource,
        template: NameTemplate,
        entries: impl FnOnce(&mut Workspace) -> Result<(Vec<SyncEntry>, X), EngineError>
        + Send
        + 'static,
    ) -> Result<(SyncReport, X), EngineError> {
        let (report, removed, extra) = self
            .update(move |ws| {
                let (entries, extra) = entries(ws)?;
                let plan = plan(ws, &source, &template, entries)?;
                let removed = plan.removals().to_vec();
                Ok((plan.apply(ws)?, removed, extra))
            })
            .await?;
        if report.changed() {
            self.events().publish(EngineEvent::WorkspaceChanged);
        }
        // A removed session was not live (a sync keeps those), but `exec` or
        // `credential-process` may have cached its credentials: they go with it.
        if let Some(e) = self.forget_copies(Forget::Removed(&removed)).await.error() {
            return Err(e);
        }
        Ok((report, extra))
    }
}
