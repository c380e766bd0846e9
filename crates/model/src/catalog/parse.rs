//! From text to a checked [`Catalog`]: the size limit, the screen for secrets,
//! endpoints and commands, a strict reading (every unknown field refused), then each
//! field's rule, names and chains. Every refusal names its line and field.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeTable;

use super::{
    Catalog, CatalogError, MAX_BYTES, Parent, ProfileTemplate, RoleEntry, SCHEMA, Source, Target,
    line_of, screen,
};
use crate::session::SessionTag;
use crate::validate::{self, ValidationError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    schema: Spanned<i64>,
    description: Option<Spanned<String>>,
    profile_template: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    #[serde(default)]
    sources: BTreeMap<String, Spanned<Source>>,
    #[serde(default)]
    roles: Vec<Spanned<RawRole>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: Spanned<String>,
    parent: Spanned<String>,
    role_arn: Option<Spanned<String>>,
    account_id: Option<Spanned<String>>,
    sso_role: Option<Spanned<String>>,
    principal_arn: Option<Spanned<String>>,
    role_session_name: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    duration: Option<Spanned<i64>>,
    profile: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    tags: Option<Spanned<BTreeMap<String, String>>>,
    transitive_tags: Option<Spanned<Vec<String>>>,
    description: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
}

/// Reads and checks a catalog.
pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
    if text.len() > MAX_BYTES {
        return Err(CatalogError::new(
            None,
            "catalog",
            format!(
                "the file is {} bytes; a catalog may be at most {} bytes (1 MiB)",
                text.len(),
                MAX_BYTES
            ),
        ));
    }
    let toml_error = |e: toml::de::Error| {
        CatalogError::new(
            e.span().map(|s| line_of(text, s.start)),
            "catalog",
            e.message().trim().to_owned(),
        )
    };
    let table: Spanned<DeTable<'_>> = DeTable::parse(text).map_err(toml_error)?;
    screen::screen(text, &table)?;
    let raw: RawCatalog = toml::from_str(text).map_err(toml_error)?;
    let newlines = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    Reader { newlines }.catalog(raw)
}

struct Reader {
    /// Where each line ends: a line number is a binary search, not a count from the
    /// start (which made a 2,000-role catalog quadratic).
    newlines: Vec<usize>,
}

impl Reader {
    fn line<T>(&self, v: &Spanned<T>) -> Option<usize> {
        Some(self.line_at(v.span().start))
    }

    /// The 1-based line of byte `offset`.
    fn line_at(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&n| n < offset) + 1
    }

    /// A rule's refusal, placed at `at`'s line under `field`.
    fn at<T>(&self, at: &Spanned<T>, field: &str) -> impl Fn(ValidationError) -> CatalogError {
        let line = self.line(at);
        let field = field.to_owned();
        move |e| CatalogError::new(line, field.clone(), e.message)
    }

    fn catalog(&self, raw: RawCatalog) -> Result<Catalog, CatalogError> {
        if *raw.schema.get_ref() != i64::from(SCHEMA) {
            return Err(CatalogError::new(
                self.line(&raw.schema),
                "schema",
                format!(
                    "this Rolehop reads schema {SCHEMA}; the catalog says {}",
                    raw.schema.get_ref()
                ),
            ));
        }
        let description = self.text_field(raw.description.as_ref(), "description")?;
        let profile_template = match &raw.profile_template {
            Some(t) => ProfileTemplate::parse("profile_template", t.get_ref())
                .map_err(self.at(t, "profile_template"))?,
            None => ProfileTemplate::default(),
        };
        if let Some(r) = &raw.region {
            validate::region("region", r.get_ref()).map_err(self.at(r, "region"))?;
        }
        let mut sources = BTreeMap::new();
        for (name, source) in raw.sources {
            let field = format!("sources.{name}");
            placeholder_name(&field, &name).map_err(self.at(&source, &field))?;
            let checked = self.source(&field, source)?;
            sources.insert(name, checked);
        }
        let roles = self.roles(&raw.roles, &sources, &profile_template)?;
        Ok(Catalog {
            description,
            profile_template,
            region: raw.region.map(Spanned::into_inner),
            sources,
            roles,
        })
    }

    fn text_field(
        &self,
        value: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<Option<String>, CatalogError> {
        let Some(v) = value else { return Ok(None) };
        free_text(field, v.get_ref()).map_err(self.at(v, field))?;
        Ok(Some(v.get_ref().clone()))
    }

    fn source(&self, field: &str, s: Spanned<Source>) -> Result<Source, CatalogError> {
        let line = self.line(&s);
        let sub = |name: &str| format!("{field}.{name}");
        let checked = match s.get_ref() {
            Source::IamUser {
                description,
                account_id,
            } => description
                .as_ref()
                .map_or(Ok(()), |d| free_text(&sub("description"), d))
                .and_then(|()| {
                    account_id
                        .as_ref()
                        .map_or(Ok(()), |id| validate::account_id(&sub("account_id"), id))
                }),
            Source::Sso {
                description,
                start_url,
                region,
            } => description
                .as_ref()
                .map_or(Ok(()), |d| free_text(&sub("description"), d))
                .and_then(|()| validate::start_url(&sub("start_url"), start_url))
                .and_then(|()| validate::sso_region(&sub("region"), region)),
            Source::Federated { description, url } => description
                .as_ref()
                .map_or(Ok(()), |d| free_text(&sub("description"), d))
                .and_then(|()| provider_url(&sub("url"), url)),
        };
        checked.map_err(|e| CatalogError::new(line, e.field, e.message))?;
        Ok(s.into_inner())
    }

    fn roles(
        &self,
        raw: &[Spanned<RawRole>],
        sources: &BTreeMap<String, Source>,
        template: &ProfileTemplate,
    ) -> Result<Vec<RoleEntry>, CatalogError> {
        // Names first, so a parent may be declared after its child.
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, r) in raw.iter().enumerate() {
            let role = r.get_ref();
            let field = format!("roles[{i}].name");
            let name = role.name.get_ref();
            validate::session_name(&field, name).map_err(self.at(&role.name, &field))?;
            if index.insert(name, i).is_some() {
                return Err(CatalogError::new(
                    self.line(&role.name),
                    field,
                    format!("a role named '{name}' is declared twice"),
                ));
            }
        }
        // Parents: a source placeholder or a role; no cycle.
        let mut parents: Vec<Parent> = Vec::with_capacity(raw.len());
        for (i, r) in raw.iter().enumerate() {
            let role = r.get_ref();
            let field = format!("roles[{i}].parent");
            let text = role.parent.get_ref();
            let parent = if let Some(p) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if !sources.contains_key(p) {
                    return Err(CatalogError::new(
                        self.line(&role.parent),
                        field,
                        format!("names the source {{{p}}}, which [sources] does not declare"),
                    ));
                }
                Parent::Source(p.to_owned())
            } else if index.contains_key(text.as_str()) {
                Parent::Role(text.clone())
            } else {
                return Err(CatalogError::new(
                    self.line(&role.parent),
                    field,
                    format!(
                        "names '{}', which is neither a role of the catalog nor a source such as {{me}}",
                        text.escape_debug()
                    ),
                ));
            };
            parents.push(parent);
        }
        let order = self.chain_order(raw, &parents, &index)?;

        let mut entries: Vec<Option<RoleEntry>> = vec![None; raw.len()];
        let mut profiles: HashSet<String> = HashSet::new();
        for &i in &order {
            let root = root_source(i, &parents, &index);
            let source = &sources[root];
            let parent_is_role = matches!(parents[i], Parent::Role(_));
            let entry = self.role(
                i,
                &raw[i],
                parents[i].clone(),
                source,
                parent_is_role,
                template,
            )?;
            if !profiles.insert(entry.profile.clone()) {
                return Err(CatalogError::new(
                    Some(entry.line),
                    format!("roles[{i}].profile"),
                    format!("the profile '{}' is another role's too", entry.profile),
                ));
            }
            entries[i] = Some(entry);
        }
        Ok(order
            .into_iter()
            .map(|i| entries[i].take().expect("each role read once"))
            .collect())
    }

    /// The roles, parents first (the file's order otherwise); a cycle is refused at the
    /// first role of the file on it.
    fn chain_order(
        &self,
        raw: &[Spanned<RawRole>],
        parents: &[Parent],
        index: &HashMap<&str, usize>,
    ) -> Result<Vec<usize>, CatalogError> {
        let mut depth: Vec<Option<usize>> = vec![None; raw.len()];
        for start in 0..raw.len() {
            let mut path: Vec<usize> = Vec::new();
            let mut at = start;
            let base = loop {
                if let Some(d) = depth[at] {
                    break d + 1;
                }
                if let Some(pos) = path.iter().position(|&p| p == at) {
                    let cycle: Vec<&str> = path[pos..]
                        .iter()
                        .chain(std::iter::once(&at))
                        .map(|&p| raw[p].get_ref().name.get_ref().as_str())
                        .collect();
                    let first = *path[pos..].iter().min().expect("a cycle has a role");
                    return Err(CatalogError::new(
                        self.line(&raw[first].get_ref().parent),
                        format!("roles[{first}].parent"),
                        format!("the parents form a cycle: {}", cycle.join(" -> ")),
                    ));
                }
                path.push(at);
                match &parents[at] {
                    Parent::Source(_) => break 0,
                    Parent::Role(p) => at = index[p.as_str()],
                }
            };
            // `path` runs child to parent: the last one sits at `base`.
            for (k, &p) in path.iter().rev().enumerate() {
                depth[p] = Some(base + k);
            }
        }
        let mut order: Vec<usize> = (0..raw.len()).collect();
        order.sort_by_key(|&i| depth[i]);
        Ok(order)
    }

    fn role(
        &self,
        i: usize,
        r: &Spanned<RawRole>,
        parent: Parent,
        source: &Source,
        parent_is_role: bool,
        template: &ProfileTemplate,
    ) -> Result<RoleEntry, CatalogError> {
        let role = r.get_ref();
        let f = |name: &str| format!("roles[{i}].{name}");
        let need = |v: &Option<Spanned<String>>, name: &str, why: &str| match v {
            Some(v) => Ok(v.get_ref().clone()),
            None => Err(CatalogError::new(
                self.line(&role.parent),
                f(name),
                why.to_owned(),
            )),
        };
        let refuse_extra = |v: &Option<Spanned<String>>, name: &str, why: &str| match v {
            Some(v) => Err(CatalogError::new(self.line(v), f(name), why.to_owned())),
            None => Ok(()),
        };
        let optional = |v: &Option<Spanned<String>>,
                        name: &str,
                        rule: fn(&str, &str) -> Result<(), ValidationError>|
         -> Result<Option<String>, CatalogError> {
            match v {
                Some(v) => {
                    rule(&f(name), v.get_ref()).map_err(self.at(v, &f(name)))?;
                    Ok(Some(v.get_ref().clone()))
                }
                None => Ok(None),
            }
        };
        let from_sso = matches!(source, Source::Sso { .. }) && !parent_is_role;
        let from_saml = matches!(source, Source::Federated { .. }) && !parent_is_role;
        let target = if from_sso {
            refuse_extra(
                &role.role_arn,
                "role_arn",
                "a role reached through IAM Identity Center is named by account_id and sso_role",
            )?;
            let account_id = need(
                &role.account_id,
                "account_id",
                "a role reached through IAM Identity Center needs account_id",
            )?;
            let role_name = need(
                &role.sso_role,
                "sso_role",
                "a role reached through IAM Identity Center needs sso_role (the permission set's name)",
            )?;
            optional(&role.account_id, "account_id", validate::account_id)?;
            optional(&role.sso_role, "sso_role", validate::sso_role_name)?;
            Target::SsoRole {
                account_id,
                role_name,
            }
        } else {
            let role_arn = need(&role.role_arn, "role_arn", "a role needs role_arn")?;
            optional(&role.role_arn, "role_arn", validate::role_arn)?;
            refuse_extra(
                &role.sso_role,
                "sso_role",
                "sso_role is for roles whose parent is an IAM Identity Center source",
            )?;
            refuse_extra(
                &role.account_id,
                "account_id",
                "account_id is for roles whose parent is an IAM Identity Center source (a role's account is in its ARN)",
            )?;
            if from_saml {
                let principal_arn = need(
                    &role.principal_arn,
                    "principal_arn",
                    "a role reached through a federated source needs principal_arn (the SAML provider's ARN)",
                )?;
                optional(&role.principal_arn, "principal_arn", saml_provider_arn)?;
                Target::Saml {
                    role_arn,
                    principal_arn,
                }
            } else {
                refuse_extra(
                    &role.principal_arn,
                    "principal_arn",
                    "principal_arn is for roles whose parent is a federated source",
                )?;
                let tags: Vec<SessionTag> = role
                    .tags
                    .as_ref()
                    .map(Spanned::get_ref)
                    .into_iter()
                    .flatten()
                    .map(|(key, value)| SessionTag {
                        key: key.clone(),
                        value: value.clone(),
                    })
                    .collect();
                let transitive = role
                    .transitive_tags
                    .as_ref()
                    .map(|t| t.get_ref().clone())
                    .unwrap_or_default();
                validate::session_tags(&tags, &transitive).map_err(|e| {
                    let at = if e.field == "tags" {
                        role.tags.as_ref().and_then(|t| self.line(t))
                    } else {
                        role.transitive_tags.as_ref().and_then(|t| self.line(t))
                    };
                    let field = if e.field == "tags" {
                        "tags"
                    } else {
                        "transitive_tags"
                    };
                    CatalogError::new(at.or(self.line(r)), f(field), e.message)
                })?;
                Target::Role {
                    role_arn,
                    role_session_name: optional(
                        &role.role_session_name,
                        "role_session_name",
                        validate::role_session_name,
                    )?,
                    external_id: optional(&role.external_id, "external_id", validate::external_id)?,
                    tags,
                    transitive_tag_keys: transitive,
                }
            }
        };
        if !matches!(target, Target::Role { .. }) {
            for (v, name) in [
                (&role.external_id, "external_id"),
                (&role.role_session_name, "role_session_name"),
            ] {
                refuse_extra(
                    v,
                    name,
                    "applies only to a role assumed from an IAM user or another role",
                )?;
            }
            if let Some(t) = &role.tags {
                return Err(CatalogError::new(
                    self.line(t),
                    f("tags"),
                    "session tags apply only to a role assumed from an IAM user or another role",
                ));
            }
        }
        let duration = match &role.duration {
            Some(d) => {
                let secs = u32::try_from(*d.get_ref()).unwrap_or(0);
                validate::role_duration(&f("duration"), secs, parent_is_role)
                    .map_err(self.at(d, &f("duration")))?;
                Some(secs)
            }
            None => None,
        };
        let region = optional(&role.region, "region", validate::region)?;
        let description = self.text_field(role.description.as_ref(), &f("description"))?;
        let group = self.text_field(role.group.as_ref(), &f("group"))?;
        let mut entry = RoleEntry {
            name: role.name.get_ref().clone(),
            line: self.line_at(r.span().start),
            parent,
            target,
            profile: String::new(),
            region,
            duration,
            description,
            group,
        };
        entry.profile = match &role.profile {
            Some(p) => {
                validate::profile_name(&f("profile"), p.get_ref())
                    .map_err(self.at(p, &f("profile")))?;
                p.get_ref().clone()
            }
            None => {
                if template.as_str().contains("{group}") && entry.group.is_none() {
                    return Err(CatalogError::new(
                        self.line(&role.name),
                        f("group"),
                        "the profile_template uses {group}, and this role has none (give it a group or a profile)",
                    ));
                }
                let rendered = template.render(
                    &entry.name,
                    entry.group.as_deref().unwrap_or_default(),
                    entry.account_id(),
                    entry.role_name(),
                );
                validate::profile_name(&f("name"), &rendered).map_err(|e| {
                    CatalogError::new(
                        self.line(&role.name),
                        f("name"),
                        format!(
                            "makes the profile '{}', which {}",
                            rendered.escape_debug(),
                            e.message
                        ),
                    )
                })?;
                rendered
            }
        };
        Ok(entry)
    }
}

/// The source at the top of role `i`'s chain (the chain is known to end).
fn root_source<'p>(mut i: usize, parents: &'p [Parent], index: &HashMap<&str, usize>) -> &'p str {
    loop {
        match &parents[i] {
            Parent::Source(s) => return s,
            Parent::Role(p) => i = index[p.as_str()],
        }
    }
}

/// A source's name, as written between braces: a letter, then letters, digits, `_-`.
fn placeholder_name(field: &str, name: &str) -> Result<(), ValidationError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            "a source's name must be a letter then up to 63 letters, digits, '_' or '-'",
        ))
    }
}

/// Descriptions and groups: shown in lists, so one line of printable text.
fn free_text(field: &str, text: &str) -> Result<(), ValidationError> {
    if text.chars().count() > 512 {
        return Err(ValidationError::new(
            field,
            "must be at most 512 characters",
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must be one line without control characters",
        ));
    }
    Ok(())
}

/// A federated provider's sign-in URL: https, or http on loopback (a test's provider).
fn provider_url(field: &str, text: &str) -> Result<(), ValidationError> {
    let Ok(url) = url::Url::parse(text) else {
        return Err(ValidationError::new(
            field,
            "must be a URL such as https://idp.example.com/sso/saml",
        ));
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(ValidationError::new(
            field,
            "must start with https:// (http only on 127.0.0.1)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ValidationError::new(
            field,
            "must not hold a user name or password",
        ));
    }
    Ok(())
}

/// A SAML provider's ARN (`arn:aws:iam::123456789012:saml-provider/Name`).
fn saml_provider_arn(field: &str, text: &str) -> Result<(), ValidationError> {
    let arn = validate::Arn::parse(field, text)?;
    if arn.service != "iam"
        || !arn.resource.starts_with("saml-provider/")
        || arn.account_id().is_none()
    {
        return Err(ValidationError::new(
            field,
            "must be a SAML provider's ARN (arn:aws:iam::123456789012:saml-provider/Name)",
        ));
    }
    Ok(())
}
