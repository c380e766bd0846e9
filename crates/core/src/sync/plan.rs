//! The reconcile: what a sync adds, updates, removes and keeps, planned on one workspace
//! and applied to it in the same locked update.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::template::{NameTemplate, with_suffix};
use super::{
    KeptParent, SyncCounts, SyncEntry, SyncKey, SyncOrigin, SyncReport, SyncSource, SyncedSession,
    SyncedValues,
};
use crate::model::{ProfileName, Session, SessionId, SessionKind, SessionState};
use crate::validate::{self, ValidationError};
use crate::workspace::{StoredSession, Workspace, WorkspaceError};

/// The changes one sync makes, in the order [`SyncPlan::apply`] makes them.
#[derive(Debug, Clone)]
pub struct SyncPlan {
    removals: Vec<SessionId>,
    updates: Vec<(Session, SyncOrigin)>,
    additions: Vec<(Session, SyncOrigin)>,
    /// Profiles a removal or a profile change may leave without sessions: a sync made
    /// them, so it takes them away again when nothing uses them.
    released_profiles: HashSet<ProfileName>,
    report: SyncReport,
}

/// Who holds a name (and the profile of the same name) while names are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Session(SessionId),
    NewEntry(usize),
}

fn is_live(s: &StoredSession) -> bool {
    matches!(s.state, SessionState::Active { .. } | SessionState::Pending)
}

fn item(name: &str, key: &SyncKey, account_name: &str) -> SyncedSession {
    SyncedSession {
        name: name.to_owned(),
        account_id: key.account_id.clone(),
        account_name: account_name.to_owned(),
        role_name: key.role_name.clone(),
    }
}

fn origin_item(s: &StoredSession, o: &SyncOrigin) -> SyncedSession {
    item(&s.session.name, &o.key, &o.account_name)
}

impl SyncPlan {
    /// Plans the sync of `source` to `entries` on `ws`. An entry whose region is not a
    /// region is refused (naming `region`); duplicate keys count once (the first).
    pub fn new(
        ws: &Workspace,
        source: &SyncSource,
        template: &NameTemplate,
        entries: &[SyncEntry],
    ) -> Result<Self, ValidationError> {
        let mut desired: BTreeMap<&SyncKey, &SyncEntry> = BTreeMap::new();
        for e in entries {
            if let Some(r) = &e.region {
                validate::region("region", r)?;
            }
            desired.entry(&e.key).or_insert(e);
        }

        // The sessions this source made: matched to a wanted entry, or gone.
        let mut matched: HashMap<&SyncKey, (&StoredSession, &SyncOrigin)> = HashMap::new();
        let mut gone: Vec<(&StoredSession, &SyncOrigin)> = Vec::new();
        for s in &ws.sessions {
            let Some(o) = s.origin.as_ref().filter(|o| &o.source == source) else {
                continue;
            };
            if desired.contains_key(&o.key) && !matched.contains_key(&o.key) {
                matched.insert(&o.key, (s, o));
            } else {
                gone.push((s, o));
            }
        }

        let mut report = SyncReport::default();
        let removals = plan_removals(ws, &gone, &mut report);
        let removed: HashSet<SessionId> = removals.iter().copied().collect();

        // Names in use by everything that stays and is not renamed by this sync: other
        // sessions' names and profiles, and the values the user chose for synced ones.
        let mut taken: HashMap<String, Holder> = HashMap::new();
        let mine: HashSet<SessionId> = matched.values().map(|(s, _)| s.session.id).collect();
        for s in &ws.sessions {
            let id = s.session.id;
            if removed.contains(&id) {
                continue;
            }
            if !mine.contains(&id) {
                taken.insert(s.session.name.clone(), Holder::Session(id));
                taken.insert(s.session.profile.as_str().to_owned(), Holder::Session(id));
            }
        }
        for (s, o) in matched.values() {
            let holder = Holder::Session(s.session.id);
            if s.session.name != o.synced.name {
                taken.insert(s.session.name.clone(), holder);
            }
            if s.session.profile != o.synced.profile || is_live(s) {
                taken.insert(s.session.profile.as_str().to_owned(), holder);
            }
        }

        // Names: a session keeps its synced name when that is still the first free one
        // its entry can have (so re-syncs are stable, whatever the order), then the
        // rest take the first free one in key order.
        let keys: Vec<&SyncKey> = desired.keys().copied().collect();
        let holder_of = |i: usize| match matched.get(keys[i]) {
            Some((s, _)) => Holder::Session(s.session.id),
            None => Holder::NewEntry(i),
        };
        let candidates: Vec<String> = keys
            .iter()
            .map(|k| {
                let e = desired[k];
                match &e.declared {
                    Some(d) => d.name.clone(),
                    None => template.render(&k.account_id, &e.account_name, &k.role_name),
                }
            })
            .collect();
        let mut names: Vec<Option<String>> = vec![None; keys.len()];
        for (i, key) in keys.iter().enumerate() {
            if let Some((_, o)) = matched.get(key) {
                let first = first_free(&taken, &candidates[i], &key.account_id, holder_of(i));
                if first == o.synced.name {
                    taken.insert(first.clone(), holder_of(i));
                    names[i] = Some(first);
                }
            }
        }
        for (i, key) in keys.iter().enumerate() {
            if names[i].is_none() {
                let first = first_free(&taken, &candidates[i], &key.account_id, holder_of(i));
                taken.insert(first.clone(), holder_of(i));
                names[i] = Some(first);
            }
        }

        let mut updates = Vec::new();
        let mut additions = Vec::new();
        let mut released_profiles = HashSet::new();
        for (i, key) in keys.iter().enumerate() {
            let e = desired[key];
            let name = names[i].take().expect("every entry got a name");
            let profile = ProfileName::parse(&name)?;
            match matched.get(key) {
                None => {
                    let origin = SyncOrigin {
                        source: source.clone(),
                        key: (*key).clone(),
                        account_name: e.account_name.clone(),
                        synced: SyncedValues {
                            name: name.clone(),
                            profile: profile.clone(),
                            region: e.region.clone(),
                        },
                    };
                    let session = Session {
                        console: Default::default(),
                        id: e.declared.as_ref().map_or_else(SessionId::new, |d| d.id),
                        name,
                        profile,
                        region: e.region.clone(),
                        kind: e.kind.clone(),
                    };
                    report.added.push(item(&session.name, key, &e.account_name));
                    additions.push((session, origin));
                }
                Some((s, o)) => {
                    let (session, origin) = follow(s, o, e, name, profile);
                    let entry = item(&session.name, key, &e.account_name);
                    if session == s.session && Some(&origin) == s.origin.as_ref() {
                        report.kept.push(entry);
                    } else {
                        if session.profile != s.session.profile {
                            released_profiles.insert(s.session.profile.clone());
                        }
                        report.updated.push(entry);
                        updates.push((session, origin));
                    }
                }
            }
        }
        for id in &removals {
            if let Some(s) = ws.get(*id) {
                released_profiles.insert(s.session.profile.clone());
            }
        }
        report.counts = SyncCounts {
            added: additions.len() as u32,
            updated: updates.len() as u32,
            removed: removals.len() as u32,
            kept: (report.kept.len() + report.kept_live.len() + report.kept_parent.len()) as u32,
        };
        Ok(Self {
            removals,
            updates,
            additions,
            released_profiles,
            report,
        })
    }

    /// What applying this plan will do.
    pub fn report(&self) -> &SyncReport {
        &self.report
    }

    /// The sessions this plan removes.
    pub fn removals(&self) -> &[SessionId] {
        &self.removals
    }

    /// Applies the plan to the workspace it was made on. Additions go through every
    /// workspace rule ([`Workspace::add_session`]); updates change only the name,
    /// profile and region, whose rules the plan kept (names unique, no profile change
    /// under a live session) and which are checked again here.
    pub fn apply(self, ws: &mut Workspace) -> Result<SyncReport, WorkspaceError> {
        for id in &self.removals {
            // Descendants are in the plan too (see `plan_removals`), so a cascade
            // removes nothing the plan did not.
            if ws.get(*id).is_some() {
                ws.remove_session(id, true)?;
            }
        }
        for (session, origin) in self.updates {
            validate::session_name("name", &session.name)?;
            if let Some(r) = &session.region {
                validate::region("region", r)?;
            }
            ws.ensure_profile(&session.profile);
            let stored = ws.get_mut(session.id).expect("planned on this workspace");
            stored.session = session;
            stored.origin = Some(origin);
        }
        for (session, origin) in self.additions {
            let id = session.id;
            ws.add_session(session)?;
            ws.get_mut(id).expect("just added").origin = Some(origin);
        }
        let mut names = HashSet::new();
        if let Some(dup) = ws
            .sessions
            .iter()
            .find(|s| !names.insert(s.session.name.as_str()))
        {
            return Err(ValidationError::new(
                "name",
                format!("a session named '{}' already exists", dup.session.name),
            )
            .into());
        }
        let used: HashSet<&ProfileName> = ws.sessions.iter().map(|s| &s.session.profile).collect();
        let unused: Vec<ProfileName> = self
            .released_profiles
            .into_iter()
            .filter(|p| !used.contains(p))
            .collect();
        ws.profiles.retain(|p| !unused.contains(&p.name));
        Ok(self.report)
    }
}

/// The session an entry's source data asks for, keeping what the user changed since the
/// last sync, and the origin recording what was synced. A live session keeps its
/// profile (its credentials are under it); the origin then keeps the old synced
/// profile, so the change comes with the first sync after it stops.
fn follow(
    s: &StoredSession,
    o: &SyncOrigin,
    e: &SyncEntry,
    name: String,
    profile: ProfileName,
) -> (Session, SyncOrigin) {
    let cur = &s.session;
    let mut session = cur.clone();
    if cur.name == o.synced.name {
        session.name = name.clone();
    }
    let mut synced_profile = profile.clone();
    if cur.profile == o.synced.profile {
        if is_live(s) && cur.profile != profile {
            synced_profile = o.synced.profile.clone();
        } else {
            session.profile = profile;
        }
    }
    if cur.region == o.synced.region {
        session.region = e.region.clone();
    }
    if e.declared.is_some() && !is_live(s) {
        session.kind = e.kind.clone();
    }
    let origin = SyncOrigin {
        source: o.source.clone(),
        key: o.key.clone(),
        account_name: e.account_name.clone(),
        synced: SyncedValues {
            name,
            profile: synced_profile,
            region: e.region.clone(),
        },
    };
    (session, origin)
}

/// The first of `candidate`, `candidate-<account id>`, `candidate-<account id>-2`...
/// that nobody but `me` holds.
fn first_free(
    taken: &HashMap<String, Holder>,
    candidate: &str,
    account_id: &str,
    me: Holder,
) -> String {
    let free = |n: &str| taken.get(n).is_none_or(|h| *h == me);
    if free(candidate) {
        return candidate.to_owned();
    }
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            account_id.to_owned()
        } else {
            format!("{account_id}-{n}")
        };
        let name = with_suffix(candidate, &suffix);
        if free(&name) {
            return name;
        }
        n += 1;
    }
}

/// Which gone sessions go: none that is active or pending, and none that a session
/// staying chains from (checked to a fixed point, as keeping one keeps its parent).
fn plan_removals(
    ws: &Workspace,
    gone: &[(&StoredSession, &SyncOrigin)],
    report: &mut SyncReport,
) -> Vec<SessionId> {
    let mut children: HashMap<SessionId, Vec<&StoredSession>> = HashMap::new();
    for s in &ws.sessions {
        if let SessionKind::Role(r) = &s.session.kind {
            children.entry(r.parent).or_default().push(s);
        }
    }
    let mut going: Vec<(&StoredSession, &SyncOrigin)> = Vec::new();
    for (s, o) in gone {
        if is_live(s) {
            report.kept_live.push(origin_item(s, o));
        } else {
            going.push((s, o));
        }
    }
    loop {
        let ids: HashSet<SessionId> = going.iter().map(|(s, _)| s.session.id).collect();
        let staying_child = |s: &StoredSession| {
            children
                .get(&s.session.id)
                .is_some_and(|c| c.iter().any(|c| !ids.contains(&c.session.id)))
        };
        let (keep, go): (Vec<_>, Vec<_>) = going.into_iter().partition(|(s, _)| staying_child(s));
        going = go;
        if keep.is_empty() {
            break;
        }
        for (s, o) in keep {
            report.kept_parent.push(KeptParent {
                session: origin_item(s, o),
                children: children[&s.session.id]
                    .iter()
                    .map(|c| c.session.name.clone())
                    .collect(),
            });
        }
    }
    report
        .removed
        .extend(going.iter().map(|(s, o)| origin_item(s, o)));
    going.iter().map(|(s, _)| s.session.id).collect()
}
