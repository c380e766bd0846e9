//! `catalog export`: today's hand-made sessions as a catalog a teammate can follow.
//! Each IAM user becomes a placeholder named after its session (its keys never leave
//! the keychain: a teammate binds their own); each role chained from it, at any depth,
//! a role; an SSO role the integration's source and the account and role; a federated
//! (SAML) session a `federated` source of its provider's URL and the role. Synced
//! sessions (an organization's, another catalog's) belong to their source and are left
//! out, with the roles chained from them. The text is parsed back before it is
//! returned, so what is exported is what a teammate's Rolehop accepts.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::model::{SessionId, SessionKind};
use crate::validate::ValidationError;
use crate::workspace::Workspace;

#[derive(Serialize)]
struct Document {
    schema: u32,
    description: String,
    sources: BTreeMap<String, SourceOut>,
    roles: Vec<RoleOut>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum SourceOut {
    IamUser {
        description: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        account_id: Option<String>,
    },
    Sso {
        start_url: String,
        region: String,
    },
    Federated {
        url: String,
    },
}

#[derive(Serialize, Default)]
struct RoleOut {
    name: String,
    parent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sso_role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_session_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<u32>,
    profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transitive_tags: Option<Vec<String>>,
}

/// A placeholder from a session's name: letters, digits, `_` and `-`, a letter first,
/// unique among those taken.
fn placeholder(name: &str, taken: &BTreeMap<String, SourceOut>) -> String {
    let mut p: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    if !p.starts_with(|c: char| c.is_ascii_alphabetic()) {
        p.insert(0, 'u');
    }
    let mut unique = p.clone();
    let mut n = 2;
    while taken.contains_key(&unique) {
        unique = format!("{p}-{n}");
        n += 1;
    }
    unique
}

/// An identity provider URL's host (`corp.okta.com`), to name its source by.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', ':', '?', '#']).next().unwrap_or(rest)
}

pub(super) fn export(ws: &Workspace) -> Result<String, ValidationError> {
    let mut sources: BTreeMap<String, SourceOut> = BTreeMap::new();
    // What a child names as its parent: `{placeholder}` or the role's name.
    let mut parent_text: HashMap<SessionId, String> = HashMap::new();
    let hand_made = || ws.sessions.iter().filter(|s| s.origin.is_none());
    for s in hand_made() {
        if let SessionKind::IamUser(u) = &s.session.kind {
            let p = placeholder(&s.session.name, &sources);
            sources.insert(
                p.clone(),
                SourceOut::IamUser {
                    description: format!(
                        "Your IAM user (exported from the session '{}')",
                        s.session.name
                    ),
                    account_id: u.account_id.clone(),
                },
            );
            parent_text.insert(s.session.id, format!("{{{p}}}"));
        }
    }
    let mut roles = Vec::new();
    let mut sso_sources: HashMap<String, String> = HashMap::new();
    for s in hand_made() {
        if let SessionKind::SsoRole(r) = &s.session.kind {
            let Some(integration) = ws.integrations.iter().find(|i| i.id == r.integration) else {
                continue;
            };
            let key = integration.id.to_string();
            let p = match sso_sources.get(&key) {
                Some(p) => p.clone(),
                None => {
                    let p = placeholder(&integration.name, &sources);
                    sources.insert(
                        p.clone(),
                        SourceOut::Sso {
                            start_url: integration.start_url.clone(),
                            region: integration.region.clone(),
                        },
                    );
                    sso_sources.insert(key, p.clone());
                    p
                }
            };
            roles.push(RoleOut {
                name: s.session.name.clone(),
                parent: format!("{{{p}}}"),
                account_id: Some(r.account_id.clone()),
                sso_role: Some(r.role_name.clone()),
                profile: s.session.profile.as_str().to_owned(),
                region: s.session.region.clone(),
                ..RoleOut::default()
            });
            parent_text.insert(s.session.id, s.session.name.clone());
        }
    }
    let mut federated_sources: HashMap<&str, String> = HashMap::new();
    for s in hand_made() {
        if let SessionKind::Saml(r) = &s.session.kind {
            let p = match federated_sources.get(r.idp_url.as_str()) {
                Some(p) => p.clone(),
                None => {
                    let p = placeholder(host_of(&r.idp_url), &sources);
                    sources.insert(
                        p.clone(),
                        SourceOut::Federated {
                            url: r.idp_url.clone(),
                        },
                    );
                    federated_sources.insert(&r.idp_url, p.clone());
                    p
                }
            };
            roles.push(RoleOut {
                name: s.session.name.clone(),
                parent: format!("{{{p}}}"),
                role_arn: Some(r.role_arn.clone()),
                principal_arn: Some(r.principal_arn.clone()),
                duration: r.duration,
                profile: s.session.profile.as_str().to_owned(),
                region: s.session.region.clone(),
                ..RoleOut::default()
            });
            parent_text.insert(s.session.id, s.session.name.clone());
        }
    }
    // Chained roles, parents first: each pass takes those whose parent is placed.
    let mut pending: Vec<_> = hand_made()
        .filter_map(|s| match &s.session.kind {
            SessionKind::Role(r) => Some((s, r)),
            _ => None,
        })
        .collect();
    loop {
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(_, r)| parent_text.contains_key(&r.parent));
        pending = rest;
        if ready.is_empty() {
            break;
        }
        for (s, r) in ready {
            let tags: BTreeMap<String, String> = r
                .tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect();
            roles.push(RoleOut {
                name: s.session.name.clone(),
                parent: parent_text[&r.parent].clone(),
                role_arn: Some(r.role_arn.clone()),
                role_session_name: r.role_session_name.clone(),
                external_id: r.external_id.clone(),
                duration: r.duration,
                profile: s.session.profile.as_str().to_owned(),
                region: s.session.region.clone(),
                tags: (!tags.is_empty()).then_some(tags),
                transitive_tags: (!r.transitive_tag_keys.is_empty())
                    .then(|| r.transitive_tag_keys.clone()),
                ..RoleOut::default()
            });
            parent_text.insert(s.session.id, s.session.name.clone());
        }
    }
    let document = Document {
        schema: rolehop_model::catalog::SCHEMA,
        description: "Exported by rolehop catalog export".to_owned(),
        sources,
        roles,
    };
    let text = toml::to_string(&document)
        .map_err(|e| ValidationError::new("catalog", format!("cannot be written: {e}")))?;
    rolehop_model::catalog::parse(&text).map_err(|e| {
        ValidationError::new(
            &e.field,
            format!("the exported catalog would be refused: {}", e.message),
        )
    })?;
    Ok(text)
}
