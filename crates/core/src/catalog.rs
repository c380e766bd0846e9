//! Following a team catalog (the format is `rolehop_model::catalog`): `catalog add`,
//! `bind`, `sync`, `list`, `remove` and `export`. A sync reads the catalog afresh
//! ([`fetch`]), turns each role whose chain the user's bindings complete into an entry,
//! and hands the entries to the shared reconcile ([`crate::sync`]) under the source
//! `SyncSource::Catalog`: sessions carry their origin, the user's renames and profile
//! choices stay, an active session whose role left the catalog is kept and reported,
//! and nothing is written when nothing changed.
//!
//! A catalog's session is named by its role's profile (the template applied); its key
//! is the role's account and its name in the catalog, so a role renamed in the catalog
//! is a new session. The catalog declares every field of a role, so a re-sync brings
//! a changed ARN, duration or tag to the session (not under a live session).
//! A role through an sso source becomes an SSO role session of the teammate's own
//! integration with the source's start URL (found, not bound; none: skipped with the
//! reason), one through a federated source a SAML session of the source's URL; roles
//! chained from either become chained roles.

mod download;
mod export;
mod fetch;
mod preview;
pub mod trust;
mod watch;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use rolehop_model::catalog::{
    Catalog, CatalogError, Followed, Location, MAX_BYTES, Parent, Source, Target, parse,
};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::model::{ChainedRole, IntegrationId, SamlRole, SessionId, SessionKind, SsoRole};
use crate::sync::{Declared, NameTemplate, SyncEntry, SyncKey, SyncReport, SyncSource};
use crate::validate::{self, ValidationError};
use crate::workspace::Workspace;

pub use self::preview::{CatalogChange, CatalogNews};
pub(crate) use self::watch::CatalogWatcher;

/// What `catalog add` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CatalogAddRequest {
    /// A file path, a git repository's path or URL.
    pub source: String,
    /// The user's name for it; `team` when unset.
    pub name: Option<String>,
    pub git_ref: Option<String>,
    pub require_signed: bool,
    /// Placeholders bound at once: (`me`, session name or id).
    pub bindings: Vec<(String, String)>,
}

/// A role the sync did not make a session for, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct SkippedRole {
    pub role: String,
    pub why: String,
}

/// What a catalog sync did (or, from [`Engine::catalog_preview`], would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CatalogSyncReport {
    pub catalog: String,
    pub commit: Option<String>,
    pub sync: SyncReport,
    /// Placeholders of the catalog not bound yet (`catalog bind`).
    pub unbound: Vec<String>,
    pub skipped: Vec<SkippedRole>,
}

/// A followed catalog as `catalog list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct CatalogView {
    pub name: String,
    pub location: Location,
    pub git_ref: Option<String>,
    pub require_signed: bool,
    /// Placeholder -> session name.
    pub bindings: Vec<(String, String)>,
    pub commit: Option<String>,
    pub sessions: usize,
}

/// The default name of a followed catalog.
pub const DEFAULT_NAME: &str = "team";

fn source_of(name: &str) -> SyncSource {
    SyncSource::Catalog {
        catalog: name.to_owned(),
    }
}

fn no_such(name: &str) -> EngineError {
    ValidationError::new("catalog", format!("no catalog named '{name}' is followed")).into()
}

/// The followed catalog `name`.
fn followed(ws: &Workspace, name: &str) -> Result<Followed, EngineError> {
    ws.catalogs
        .iter()
        .find(|c| c.name == name)
        .cloned()
        .ok_or_else(|| no_such(name))
}

/// Catalog names: like an integration's, a word people type.
fn catalog_name(name: &str) -> Result<(), ValidationError> {
    validate::integration_name("name", name)
}

/// How a catalog role's credentials are reached.
enum Reached<'a> {
    /// `AssumeRole` from a session (a bound IAM user or another role of the catalog).
    Chained(SessionId),
    /// An SSO role through the teammate's integration.
    Sso(IntegrationId),
    /// `AssumeRoleWithSAML` through the source's identity provider.
    Federated(&'a String),
}

/// The teammate's integration for an sso source: the first with the same start URL
/// (a trailing `/` aside). The start URL names one IAM Identity Center instance, so
/// no binding is asked for.
fn integration_for(ws: &Workspace, start_url: &str) -> Option<IntegrationId> {
    let wanted = start_url.trim().trim_end_matches('/');
    ws.integrations
        .iter()
        .find(|i| i.start_url.trim().trim_end_matches('/') == wanted)
        .map(|i| i.id)
}

/// The entries for `catalog` given the user's bindings, and the roles left out.
fn entries(
    catalog: &Catalog,
    followed: &Followed,
    ws: &Workspace,
) -> (Vec<SyncEntry>, Vec<SkippedRole>) {
    let source = source_of(&followed.name);
    let existing: HashMap<&SyncKey, SessionId> = ws
        .sessions
        .iter()
        .filter_map(|s| {
            let o = s.origin.as_ref().filter(|o| o.source == source)?;
            Some((&o.key, s.session.id))
        })
        .collect();
    let mut ids: HashMap<&str, SessionId> = HashMap::new();
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    // Roles come parents first, so a parent's id is known before its children.
    for role in &catalog.roles {
        let reached = match &role.parent {
            Parent::Source(p) => match (&catalog.sources[p], followed.bindings.get(p)) {
                (Source::IamUser { .. }, Some(id)) if ws.get(*id).is_some() => {
                    Ok(Reached::Chained(*id))
                }
                (Source::IamUser { .. }, Some(_)) => Err(format!(
                    "{{{p}}} is bound to a session that no longer exists"
                )),
                (Source::IamUser { .. }, None) => Err(format!("{{{p}}} is not bound yet")),
                (Source::Sso { start_url, .. }, _) => integration_for(ws, start_url)
                    .map(Reached::Sso)
                    .ok_or_else(|| {
                        format!(
                            "{{{p}}} needs an IAM Identity Center integration with start URL \
                             {start_url}: add it with `rolehop sso add`, then sync again"
                        )
                    }),
                (Source::Federated { url, .. }, _) => Ok(Reached::Federated(url)),
            },
            Parent::Role(p) => ids
                .get(p.as_str())
                .copied()
                .map(Reached::Chained)
                .ok_or_else(|| format!("its parent '{p}' was skipped")),
        };
        let reached = match reached {
            Ok(r) => r,
            Err(why) => {
                skipped.push(SkippedRole {
                    role: role.name.clone(),
                    why,
                });
                continue;
            }
        };
        let kind = match (reached, &role.target) {
            (
                Reached::Chained(parent),
                Target::Role {
                    role_arn,
                    role_session_name,
                    external_id,
                    tags,
                    transitive_tag_keys,
                },
            ) => SessionKind::Role(ChainedRole {
                parent,
                role_arn: role_arn.clone(),
                role_session_name: role_session_name.clone(),
                external_id: external_id.clone(),
                duration: role.duration,
                source_identity: None,
                tags: tags.clone(),
                transitive_tag_keys: transitive_tag_keys.clone(),
            }),
            (
                Reached::Sso(integration),
                Target::SsoRole {
                    account_id,
                    role_name,
                },
            ) => SessionKind::SsoRole(SsoRole {
                integration,
                account_id: account_id.clone(),
                account_name: None,
                role_name: role_name.clone(),
            }),
            (
                Reached::Federated(url),
                Target::Saml {
                    role_arn,
                    principal_arn,
                },
            ) => SessionKind::Saml(SamlRole {
                idp_url: url.clone(),
                role_arn: role_arn.clone(),
                principal_arn: principal_arn.clone(),
                duration: role.duration,
            }),
            _ => unreachable!("the parser pairs each parent with its target's kind"),
        };
        let key = SyncKey {
            account_id: role.account_id().to_owned(),
            role_name: role.name.clone(),
        };
        let id = existing.get(&key).copied().unwrap_or_else(SessionId::new);
        ids.insert(&role.name, id);
        entries.push(SyncEntry {
            account_name: role.group.clone().unwrap_or_else(|| followed.name.clone()),
            region: role.region.clone().or_else(|| catalog.region.clone()),
            kind,
            declared: Some(Declared {
                name: role.profile.clone(),
                id,
            }),
            key,
        });
    }
    (entries, skipped)
}

impl Engine {
    fn catalog_cache(&self, name: &str) -> std::path::PathBuf {
        self.config()
            .home
            .join("catalogs")
            .join(format!("{name}.git"))
    }

    async fn fetch_catalog(
        &self,
        followed: &Followed,
    ) -> Result<(Catalog, Option<String>), EngineError> {
        self.fetch_catalog_into(followed, self.catalog_cache(&followed.name))
            .await
    }

    /// Reads and parses the catalog, a git repository's fetched into `cache`.
    async fn fetch_catalog_into(
        &self,
        followed: &Followed,
        cache: std::path::PathBuf,
    ) -> Result<(Catalog, Option<String>), EngineError> {
        let location = followed.location.clone();
        let git_ref = followed.git_ref.clone();
        let signed = followed.require_signed;
        let fetched = match &location {
            // A file's version is its text's hash, as for a local file.
            Location::Https(url) => {
                let text = download::download(url, signed).await?;
                fetch::Fetched {
                    commit: Some(fetch::content_hash(&text)),
                    text,
                }
            }
            _ => tokio::task::spawn_blocking(move || {
                fetch::fetch(&location, git_ref.as_deref(), signed, &cache)
            })
            .await
            .expect("fetch task")?,
        };
        let catalog = rolehop_model::catalog::parse(&fetched.text)
            .map_err(rolehop_model::catalog::CatalogError::into_validation)?;
        Ok((catalog, fetched.commit))
    }

    /// Follows a catalog: reads and checks it (a refused catalog changes nothing), binds
    /// the placeholders given, and syncs.
    pub async fn catalog_add(
        &self,
        request: CatalogAddRequest,
    ) -> Result<CatalogSyncReport, EngineError> {
        self.catalog_add_at(request, None).await
    }

    /// [`Engine::catalog_add`], refused unless the catalog read is at `expected`.
    async fn catalog_add_at(
        &self,
        request: CatalogAddRequest,
        expected: Option<&str>,
    ) -> Result<CatalogSyncReport, EngineError> {
        let ws = self.workspace().await?;
        let mut followed = new_record(&ws, &request)?;
        let name = followed.name.clone();
        let added = async {
            let (catalog, commit) = self.fetch_catalog(&followed).await?;
            still_at(commit.as_deref(), expected)?;
            bind_all(&catalog, &mut followed, &ws, &request.bindings)?;
            self.catalog_apply(followed, catalog, commit, true).await
        };
        let result = added.await;
        if result.is_err() {
            // A refused add leaves nothing behind, not even git's copy.
            self.drop_catalog_cache(&name).await;
        }
        result
    }

    /// Deletes the git copy of catalog `name`, if there is one (a fresh fetch rebuilds it).
    async fn drop_catalog_cache(&self, name: &str) {
        let cache = self.catalog_cache(name);
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(cache)).await;
    }

    /// Binds `placeholder` of catalog `name` to `session`, and syncs.
    pub async fn catalog_bind(
        &self,
        name: &str,
        placeholder: &str,
        session: &str,
    ) -> Result<CatalogSyncReport, EngineError> {
        self.catalog_bind_at(name, placeholder, session, None).await
    }

    async fn catalog_bind_at(
        &self,
        name: &str,
        placeholder: &str,
        session: &str,
        expected: Option<&str>,
    ) -> Result<CatalogSyncReport, EngineError> {
        let ws = self.workspace().await?;
        let mut followed = followed(&ws, name)?;
        let (catalog, commit) = self.fetch_catalog(&followed).await?;
        still_at(commit.as_deref(), expected)?;
        let binding = [(placeholder.to_owned(), session.to_owned())];
        bind_all(&catalog, &mut followed, &ws, &binding)?;
        self.catalog_apply(followed, catalog, commit, false).await
    }

    /// Reads catalog `name` afresh and brings its sessions in step.
    pub async fn catalog_sync(&self, name: &str) -> Result<CatalogSyncReport, EngineError> {
        self.catalog_sync_at(name, None).await
    }

    async fn catalog_sync_at(
        &self,
        name: &str,
        expected: Option<&str>,
    ) -> Result<CatalogSyncReport, EngineError> {
        let followed = followed(&self.workspace().await?, name)?;
        let (catalog, commit) = self.fetch_catalog(&followed).await?;
        still_at(commit.as_deref(), expected)?;
        self.catalog_apply(followed, catalog, commit, false).await
    }

    /// The catalogs followed.
    pub async fn catalogs(&self) -> Result<Vec<CatalogView>, EngineError> {
        let ws = self.workspace().await?;
        Ok(ws
            .catalogs
            .iter()
            .map(|c| {
                let source = source_of(&c.name);
                CatalogView {
                    name: c.name.clone(),
                    location: c.location.clone(),
                    git_ref: c.git_ref.clone(),
                    require_signed: c.require_signed,
                    bindings: c
                        .bindings
                        .iter()
                        .map(|(p, id)| {
                            let session = ws
                                .get(*id)
                                .map_or_else(|| id.to_string(), |s| s.session.name.clone());
                            (p.clone(), session)
                        })
                        .collect(),
                    commit: c.commit.clone(),
                    sessions: ws
                        .sessions
                        .iter()
                        .filter(|s| s.origin.as_ref().is_some_and(|o| o.source == source))
                        .count(),
                }
            })
            .collect())
    }

    /// Stops following `name`: its sessions go as a sync to an empty catalog would take
    /// them (live ones and parents of the user's own roles are kept and reported).
    pub async fn catalog_remove(&self, name: &str) -> Result<SyncReport, EngineError> {
        let owned = name.to_owned();
        let (report, ()) = self
            .sync_with(source_of(name), NameTemplate::default(), move |ws| {
                let before = ws.catalogs.len();
                ws.catalogs.retain(|c| c.name != owned);
                if ws.catalogs.len() == before {
                    return Err(no_such(&owned));
                }
                Ok((Vec::new(), ()))
            })
            .await?;
        self.drop_catalog_cache(name).await;
        Ok(report)
    }

    /// Writes the followed record and syncs `catalog` in one locked update. `adding`:
    /// the record must not exist yet (another process may have added it meanwhile).
    async fn catalog_apply(
        &self,
        followed: Followed,
        catalog: Catalog,
        commit: Option<String>,
        adding: bool,
    ) -> Result<CatalogSyncReport, EngineError> {
        let name = followed.name.clone();
        let unbound = unbound(&catalog, &followed);
        let commit_seen = commit.clone();
        let (sync, skipped) = self
            .sync_with(source_of(&name), NameTemplate::default(), move |ws| {
                let at = ws.catalogs.iter().position(|c| c.name == followed.name);
                let mut record = followed;
                record.commit = commit;
                match (at, adding) {
                    (Some(_), true) => {
                        return Err(ValidationError::new(
                            "name",
                            format!("a catalog named '{}' is already followed", record.name),
                        )
                        .into());
                    }
                    (None, false) => return Err(no_such(&record.name)),
                    (None, true) => ws.catalogs.push(record.clone()),
                    (Some(i), false) => {
                        if ws.catalogs[i] != record {
                            ws.catalogs[i] = record.clone();
                        }
                    }
                }
                Ok(entries(&catalog, &record, ws))
            })
            .await?;
        Ok(CatalogSyncReport {
            catalog: name,
            commit: commit_seen,
            sync,
            unbound,
            skipped,
        })
    }

    /// Today's hand-made sessions as a catalog (see [`export`]).
    pub async fn catalog_export(&self) -> Result<String, EngineError> {
        let ws = self.workspace().await?;
        Ok(export::export(&ws)?)
    }
}

/// The record `catalog add` would make of `request` (its name, source and ref checked),
/// nothing bound yet.
fn new_record(ws: &Workspace, request: &CatalogAddRequest) -> Result<Followed, EngineError> {
    let name = request
        .name
        .clone()
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    catalog_name(&name)?;
    let location = fetch::locate(&request.source)?;
    if ws.catalogs.iter().any(|c| c.name == name) {
        return Err(ValidationError::new(
            "name",
            format!("a catalog named '{name}' is already followed"),
        )
        .into());
    }
    Ok(Followed {
        name,
        location,
        git_ref: request.git_ref.clone(),
        require_signed: request.require_signed,
        bindings: Default::default(),
        commit: None,
    })
}

/// Binds each (placeholder, session name or id) of `bindings` in `record`.
fn bind_all(
    catalog: &Catalog,
    record: &mut Followed,
    ws: &Workspace,
    bindings: &[(String, String)],
) -> Result<(), EngineError> {
    for (placeholder, session) in bindings {
        check_placeholder(catalog, placeholder)?;
        record
            .bindings
            .insert(placeholder.clone(), ws.find(session.as_str())?.session.id);
    }
    Ok(())
}

/// A change confirmed from its preview applies the version the preview read, or none.
fn still_at(read: Option<&str>, expected: Option<&str>) -> Result<(), ValidationError> {
    match expected {
        Some(e) if read != Some(e) => Err(ValidationError::new(
            "catalog",
            format!(
                "the catalog moved on since its preview (previewed {}, now {}): preview it again; nothing was changed",
                short(Some(e)),
                short(read)
            ),
        )),
        _ => Ok(()),
    }
}

/// A commit or a file's hash as git shortens it.
fn short(version: Option<&str>) -> &str {
    let v = version.unwrap_or("nothing");
    let v = v.strip_prefix("sha256:").unwrap_or(v);
    &v[..v.len().min(12)]
}

/// The IAM-user placeholders of `catalog` that `followed` does not bind yet.
fn unbound(catalog: &Catalog, followed: &Followed) -> Vec<String> {
    catalog
        .sources
        .iter()
        .filter(|(p, s)| matches!(s, Source::IamUser { .. }) && !followed.bindings.contains_key(*p))
        .map(|(p, _)| p.clone())
        .collect()
}

/// A binding must name an IAM-user source of the catalog.
fn check_placeholder(catalog: &Catalog, placeholder: &str) -> Result<(), ValidationError> {
    match catalog.sources.get(placeholder) {
        Some(Source::IamUser { .. }) => Ok(()),
        Some(other) => Err(ValidationError::new(
            "placeholder",
            format!(
                "{{{placeholder}}} is a {} source; only IAM-user sources are bound to a session",
                other.label()
            ),
        )),
        None => Err(ValidationError::new(
            "placeholder",
            format!(
                "the catalog has no source {{{placeholder}}} (it has {})",
                catalog
                    .sources
                    .keys()
                    .map(|k| format!("{{{k}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
