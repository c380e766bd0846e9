//! The desktop app's notice that a followed catalog moved on: at launch and then on a
//! slow timer, each catalog's source is asked for its latest version
//! ([`Engine::catalog_news`]) and a catalog that moved on is announced once per new
//! version as [`EngineEvent::CatalogMovedOn`]. Nothing is fetched or synced: the user
//! previews and syncs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::engine::Engine;
use crate::events::EngineEvent;

/// How often the sources are asked: every 15 minutes.
pub const CHECK_EVERY: Duration = Duration::from_secs(15 * 60);

/// A test hook: `ROLEHOP_CATALOG_CHECK_SECS` (whole seconds, at least 1) shortens the
/// timer so a window test sees the notice without waiting 15 minutes.
pub const CHECK_ENV: &str = "ROLEHOP_CATALOG_CHECK_SECS";

pub(crate) struct CatalogWatcher;

impl CatalogWatcher {
    /// [`CHECK_EVERY`], or [`CHECK_ENV`]'s value when it is a whole number above 0.
    pub fn every_from_env() -> Duration {
        std::env::var(CHECK_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
            .map_or(CHECK_EVERY, Duration::from_secs)
    }

    pub fn spawn(engine: Arc<Engine>, every: Duration) -> JoinHandle<()> {
        tokio::spawn(async move {
            // The version last announced per catalog: one notice per new version.
            let mut told: HashMap<String, String> = HashMap::new();
            loop {
                if let Ok(news) = engine.catalog_news().await {
                    for n in news {
                        let Some(latest) = n.latest.filter(|_| n.moved_on) else {
                            continue;
                        };
                        if told.get(&n.catalog) != Some(&latest) {
                            told.insert(n.catalog.clone(), latest.clone());
                            engine.events().publish(EngineEvent::CatalogMovedOn {
                                catalog: n.catalog,
                                latest,
                            });
                        }
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
