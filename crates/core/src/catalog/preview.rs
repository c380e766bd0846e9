//! Before a catalog changes anything: what an add, a binding or a sync would do (the
//! plan the shared reconcile would apply, computed and not applied), and whether the
//! catalog moved on since its last sync (its source holds a newer commit, or the file
//! changed), asked of the user's git without fetching.

use serde::{Deserialize, Serialize};

use super::{
    Catalog, CatalogAddRequest, CatalogSyncReport, Followed, bind_all, entries, fetch, followed,
    new_record, source_of, unbound,
};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::sync::NameTemplate;
use crate::workspace::Workspace;

/// A change to preview: what `catalog add`, `catalog bind` or `catalog sync` would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum CatalogChange {
    Add {
        request: CatalogAddRequest,
    },
    Bind {
        catalog: String,
        placeholder: String,
        /// A session's name or id.
        session: String,
    },
    Sync {
        catalog: String,
    },
}

/// Whether a followed catalog's source moved on since its last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CatalogNews {
    pub catalog: String,
    /// The commit (a file: its content hash) last synced.
    pub synced: Option<String>,
    /// What the source holds now; `None` when it cannot move (a ref that is a commit)
    /// or was not reached.
    pub latest: Option<String>,
    pub moved_on: bool,
    /// Why the source could not be asked (never git's own message, which may hold
    /// the URL).
    pub unreachable: Option<String>,
}

/// The report a sync of `catalog` under `record` would give on `ws`: the entries and
/// the plan the sync itself makes ([`crate::sync::plan`]), not applied.
fn planned(
    catalog: &Catalog,
    record: &Followed,
    ws: &Workspace,
    commit: Option<String>,
) -> Result<CatalogSyncReport, EngineError> {
    let (entries, skipped) = entries(catalog, record, ws);
    let plan = crate::sync::plan(
        ws,
        &source_of(&record.name),
        &NameTemplate::default(),
        entries,
    )?;
    Ok(CatalogSyncReport {
        catalog: record.name.clone(),
        commit,
        sync: plan.report().clone(),
        unbound: unbound(catalog, record),
        skipped,
    })
}

impl Engine {
    /// What `change` would do, changing nothing in the workspace: the catalog is read
    /// afresh (an add's into a scratch copy, deleted after) and planned as its sync
    /// would plan it. A refused catalog or binding is refused as the change itself
    /// would refuse it, naming the field.
    pub async fn catalog_preview(
        &self,
        change: CatalogChange,
    ) -> Result<CatalogSyncReport, EngineError> {
        let ws = self.workspace().await?;
        match change {
            CatalogChange::Add { request } => {
                let mut record = new_record(&ws, &request)?;
                let scratch = self
                    .config()
                    .home
                    .join("catalogs")
                    .join(format!("preview-{}.git", uuid::Uuid::new_v4()));
                let fetched = self.fetch_catalog_into(&record, scratch.clone()).await;
                let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(scratch)).await;
                let (catalog, commit) = fetched?;
                bind_all(&catalog, &mut record, &ws, &request.bindings)?;
                planned(&catalog, &record, &ws, commit)
            }
            CatalogChange::Bind {
                catalog: name,
                placeholder,
                session,
            } => {
                let mut record = followed(&ws, &name)?;
                let (catalog, commit) = self.fetch_catalog(&record).await?;
                bind_all(&catalog, &mut record, &ws, &[(placeholder, session)])?;
                planned(&catalog, &record, &ws, commit)
            }
            CatalogChange::Sync { catalog: name } => {
                let record = followed(&ws, &name)?;
                let (catalog, commit) = self.fetch_catalog(&record).await?;
                planned(&catalog, &record, &ws, commit)
            }
        }
    }

    /// Makes `change` as its preview showed it: refused, naming `catalog` and changing
    /// nothing, when the source no longer holds `previewed` (the version the preview
    /// read; `None` applies whatever the source holds). The sync then plans again
    /// inside its locked update, so a workspace changed meanwhile (a session started or
    /// renamed in the CLI) is respected rather than overwritten by a stale plan.
    pub async fn catalog_confirm(
        &self,
        change: CatalogChange,
        previewed: Option<String>,
    ) -> Result<CatalogSyncReport, EngineError> {
        let at = previewed.as_deref();
        match change {
            CatalogChange::Add { request } => self.catalog_add_at(request, at).await,
            CatalogChange::Bind {
                catalog,
                placeholder,
                session,
            } => {
                self.catalog_bind_at(&catalog, &placeholder, &session, at)
                    .await
            }
            CatalogChange::Sync { catalog } => self.catalog_sync_at(&catalog, at).await,
        }
    }

    /// For each followed catalog, whether its source moved on since the last sync
    /// (`git ls-remote` at its ref; a file's content hash). Nothing is fetched or
    /// written; a source that cannot be reached says so and the others are still asked.
    pub async fn catalog_news(&self) -> Result<Vec<CatalogNews>, EngineError> {
        let ws = self.workspace().await?;
        let mut news = Vec::with_capacity(ws.catalogs.len());
        for c in ws.catalogs {
            let (location, git_ref) = (c.location.clone(), c.git_ref.clone());
            let latest =
                tokio::task::spawn_blocking(move || fetch::latest(&location, git_ref.as_deref()))
                    .await
                    .expect("ls-remote task");
            let (latest, unreachable) = match latest {
                Ok(latest) => (latest, None),
                Err(e) => (None, Some(e.to_string())),
            };
            news.push(CatalogNews {
                moved_on: latest.is_some() && latest != c.commit,
                catalog: c.name,
                synced: c.commit,
                latest,
                unreachable,
            });
        }
        Ok(news)
    }
}
