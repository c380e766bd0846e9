//! A team catalog: the accounts, roles and chains a team declares once, in a TOML file
//! (usually in a git repository), for every teammate to follow. This module is the
//! format and its rules; fetching, binding and syncing live in `rolehop-core`'s
//! `catalog` module.
//!
//! The file is plain data a teammate's Rolehop turns into sessions, so it must not be
//! able to carry anything a teammate would not want to receive from a repository:
//! a secret (key ids, secret keys, tokens, passwords), an endpoint (where credentials
//! would be sent), a command (`credential_process`) or anything else executable. Those
//! are refused before anything else is read ([`screen`]), each naming its line and
//! field; every other unknown field is refused too, as is a file over [`MAX_BYTES`].
//! Names become profile headers in the AWS files, so each is checked by the same rule as
//! a hand-typed one (no INI injection). The published JSON Schema is
//! `docs/catalog.schema.json`; a test holds it to this parser.
//!
//! Sources are what each teammate supplies: an IAM user of their own, named in the file
//! by a placeholder (`{me}`) and bound locally; an IAM Identity Center integration by
//! start URL and region; a federated (SAML) provider by URL. Roles chain from a source
//! or from another role, to any depth; a cycle is refused.

mod parse;
mod screen;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::session::{SessionId, SessionTag};
use crate::validate::ValidationError;

pub use parse::parse;

/// The version of the format this build reads and writes (`schema = 1`).
pub const SCHEMA: u32 = 1;

/// The largest catalog read: far above any team's (2,000 roles is about 400 KiB), far
/// below what would make a sync slow or a hostile file costly.
pub const MAX_BYTES: usize = 1024 * 1024;

/// A parsed, checked catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub description: Option<String>,
    /// How a role's profile (and session) name is made when it names none: `{name}`
    /// (the default), `{group}`, `{account_id}`, `{role_name}` between text.
    pub profile_template: ProfileTemplate,
    /// The region of every role that names none.
    pub region: Option<String>,
    /// The sources, by placeholder name (`me` for `{me}`).
    pub sources: BTreeMap<String, Source>,
    /// The roles, parents before children (the file's order otherwise).
    pub roles: Vec<RoleEntry>,
}

/// What a teammate supplies: `[sources.NAME]` with its `type`, read as written (the
/// parser then checks each field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// An IAM user of the teammate's own, bound to one of their sessions.
    IamUser {
        description: Option<String>,
        /// The account the users live in, when the team wants to say it.
        account_id: Option<String>,
    },
    /// An IAM Identity Center integration.
    Sso {
        description: Option<String>,
        start_url: String,
        region: String,
    },
    /// A SAML 2.0 identity provider's sign-in URL.
    Federated {
        description: Option<String>,
        url: String,
    },
}

impl Source {
    pub fn label(&self) -> &'static str {
        match self {
            Source::IamUser { .. } => "iam-user",
            Source::Sso { .. } => "sso",
            Source::Federated { .. } => "federated",
        }
    }
}

/// Where a role's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "name", rename_all = "kebab-case")]
pub enum Parent {
    /// A source, by placeholder name (`me` for `parent = "{me}"`).
    Source(String),
    /// Another role of the catalog, by name.
    Role(String),
}

/// How a role is reached from its parent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Target {
    /// `AssumeRole` from an IAM user or another role.
    Role {
        role_arn: String,
        role_session_name: Option<String>,
        external_id: Option<String>,
        tags: Vec<SessionTag>,
        transitive_tag_keys: Vec<String>,
    },
    /// A permission set's role through an IAM Identity Center source.
    SsoRole {
        account_id: String,
        role_name: String,
    },
    /// `AssumeRoleWithSAML` through a federated source.
    Saml {
        role_arn: String,
        principal_arn: String,
    },
}

/// One role of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleEntry {
    /// Unique within the catalog; what bindings, renames and re-syncs key on.
    pub name: String,
    /// The line of its `[[roles]]` header, for messages.
    pub line: usize,
    pub parent: Parent,
    pub target: Target,
    /// The profile (and session) name, the template already applied and checked.
    pub profile: String,
    pub region: Option<String>,
    /// Seconds.
    pub duration: Option<u32>,
    pub description: Option<String>,
    pub group: Option<String>,
}

impl RoleEntry {
    /// The account the role is in.
    pub fn account_id(&self) -> &str {
        match &self.target {
            Target::Role { role_arn, .. } | Target::Saml { role_arn, .. } => {
                crate::validate::Arn::account_of(role_arn).unwrap_or_default()
            }
            Target::SsoRole { account_id, .. } => account_id,
        }
    }

    /// The role's own name (`ResourceDeployCAR`).
    pub fn role_name(&self) -> &str {
        match &self.target {
            Target::Role { role_arn, .. } | Target::Saml { role_arn, .. } => {
                role_arn.rsplit('/').next().unwrap_or_default()
            }
            Target::SsoRole { role_name, .. } => role_name,
        }
    }
}

/// A checked profile-name template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileTemplate(String);

impl Default for ProfileTemplate {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl ProfileTemplate {
    pub const DEFAULT: &'static str = "{name}";
    const PLACEHOLDERS: [&'static str; 4] = ["name", "group", "account_id", "role_name"];

    /// Parses `text`, refusing an unknown placeholder or a stray brace, naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let mut rest = text;
        let mut any = false;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(ValidationError::new(field, "has a '}' without its '{'"));
            }
            let Some(len) = rest[open + 1..].find('}') else {
                return Err(ValidationError::new(field, "has a '{' without its '}'"));
            };
            let name = &rest[open + 1..open + 1 + len];
            if !Self::PLACEHOLDERS.contains(&name) {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "has an unknown placeholder {{{name}}}: use {}",
                        Self::PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                    ),
                ));
            }
            any |= name == "name" || name == "role_name";
            rest = &rest[open + len + 2..];
        }
        if !any {
            return Err(ValidationError::new(
                field,
                "must use {name} or {role_name}, or roles would share one profile",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The template filled in (not yet checked as a profile name).
    pub fn render(&self, name: &str, group: &str, account_id: &str, role_name: &str) -> String {
        self.0
            .replace("{name}", name)
            .replace("{group}", group)
            .replace("{account_id}", account_id)
            .replace("{role_name}", role_name)
    }
}

/// A catalog the user follows, as the workspace keeps it: where it comes from and the
/// user's own bindings. Never the catalog's text: each sync reads it afresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Followed {
    /// The user's name for it (what `catalog sync NAME` takes).
    pub name: String,
    pub location: Location,
    /// The branch, tag or commit of a git repository; its HEAD when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// Only a commit with a signature git verifies is read.
    #[serde(default)]
    pub require_signed: bool,
    /// Each placeholder (`me`) bound to one of the user's sessions.
    #[serde(default)]
    pub bindings: BTreeMap<String, SessionId>,
    /// The git commit last synced; for a file, `sha256:` and its content's hash, so a
    /// later check can tell the file changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Where a followed catalog is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(tag = "type", content = "at", rename_all = "kebab-case")]
pub enum Location {
    /// A local file (an absolute path).
    File(String),
    /// A git repository (any URL or path the user's git understands), whose
    /// `catalog.toml` at the root is the catalog.
    Git(String),
    /// An https URL of the file itself (plain http only on a loopback address).
    Https(String),
}

/// The file a git repository's catalog is in, at its root.
pub const FILE_IN_REPOSITORY: &str = "catalog.toml";

/// A refused catalog: where (the line, when the refusal has one) and which field.
/// Never carries the refused value of a secret-looking field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogError {
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl CatalogError {
    pub(crate) fn new(
        line: Option<usize>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// As a validation error naming the field, the line in its message.
    pub fn into_validation(self) -> ValidationError {
        ValidationError::new(&self.field, self.located())
    }

    fn located(&self) -> String {
        match self.line {
            Some(line) => format!("catalog line {line}: {}", self.message),
            None => format!("catalog: {}", self.message),
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.located())
    }
}

impl std::error::Error for CatalogError {}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
