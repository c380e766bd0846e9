//! `rolehop import aws-config`: sessions from the profiles a user already has in the AWS
//! config and credentials files.
//!
//! The mapping: a profile with `role_arn` and `source_profile` becomes a role chained from
//! the session of its source profile (chains of any depth); a profile with long-lived
//! static keys becomes an IAM user, but only when the user asks for the keys to be copied
//! into the keychain ([`ImportOptions::import_keys`]), and the file keeps them unless the
//! user also asks for them to be removed. A profile with `sso_session` (its
//! `[sso-session]` section becoming an integration) or the legacy `sso_start_url` +
//! `sso_region`, and `sso_account_id` + `sso_role_name`, becomes an SSO role session.
//! A profile with `login_session` (written by `aws login`) becomes a console sign-in
//! session, its token copied from the AWS CLI's cache into the keychain (the cache file
//! is left as it is); importing it again after a new `aws login` takes the newer token.
//! Each session is named after its profile and
//! bound to it. An `mfa_serial` on a role profile goes to the IAM user at the root of the
//! chain (Rolehop asks for MFA once, for the user's `GetSessionToken`, and every role
//! above it inherits the MFA session).
//!
//! Every profile gets a line in the report: imported, unchanged (a session of that name
//! and kind is already there, so a second run changes nothing), or skipped and why.
//! Everything is checked on a copy of the workspace first, so a dry run reports the same
//! refusals as a real one, and the keychain is touched only for sessions that pass.

mod plan;
mod profiles;
mod strip;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zeroize::Zeroizing;

use crate::awsfiles::dialect::FileRole;
use crate::awsfiles::locate;
use crate::awsfiles::{self, atomic};
use crate::engine::{Engine, NewIamUser, NewLoginSession, NewRole, NewSsoRole};
use crate::error::{AwsFileStep, EngineError};
use crate::model::{SessionId, SessionKind};
use crate::sso::NewIntegration;
pub use plan::MAX_CHAIN_HOPS;
use plan::{LOGIN, Planner, ROLE, SSO, Step, USER};
use profiles::{read_profiles, read_sso_sessions};
use strip::remove_static_keys;

use crate::login_session::read_cached_token;

/// Where to read profiles from.
#[derive(Debug, Clone)]
pub struct AwsFilePaths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl AwsFilePaths {
    /// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and
    /// `~/.aws/credentials`.
    pub fn from_env() -> Self {
        Self {
            config: locate::config_file(),
            credentials: locate::credentials_file(),
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Copy static keys into the keychain and import those IAM users.
    pub import_keys: bool,
    /// After copying them, remove the imported keys from the file they were in.
    pub remove_keys: bool,
    /// Report only; change nothing.
    pub dry_run: bool,
}

/// What happened to one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Imported,
    /// A dry run's "would be imported".
    WouldImport,
    Unchanged,
    Skipped,
}

/// One profile's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportEntry {
    pub profile: String,
    /// `iam-user`, `role`, `sso-role` or `login-session` when the profile is (or would
    /// be) one of those.
    #[cfg_attr(
        feature = "ts",
        ts(type = "\"iam-user\" | \"role\" | \"sso-role\" | \"login-session\" | null")
    )]
    pub kind: Option<&'static str>,
    pub outcome: Outcome,
    /// What was done, or why not.
    pub detail: String,
}

/// The report of one import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
pub struct ImportReport {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub config_file: PathBuf,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub credentials_file: PathBuf,
    pub entries: Vec<ImportEntry>,
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    atomic::read(path).map(|s| s.bytes).map_err(|e| {
        tracing::info!(path = %path.display(), error = %e, "AWS file not read");
        EngineError::AwsFile {
            doing: AwsFileStep::Reading,
            path: path.to_owned(),
            message: e.to_string(),
        }
    })
}

impl Engine {
    /// Imports the profiles of `files` into the workspace (see the module docs).
    pub async fn import_aws_config(
        &self,
        files: &AwsFilePaths,
        opts: ImportOptions,
    ) -> Result<ImportReport, EngineError> {
        let config = read_file(&files.config)?;
        let credentials = read_file(&files.credentials)?;
        let profiles = read_profiles(&config, &credentials);
        let sso_sessions = read_sso_sessions(&config);
        drop((config, credentials));

        let workspace = self.workspace().await?;
        let mut planner = Planner::new(&profiles, &workspace, opts).with_sso_sessions(sso_sessions);
        planner.plan_all();
        // The integrations SSO profiles need, before their sessions.
        let mut added_integrations = Vec::new();
        if !opts.dry_run {
            for i in std::mem::take(&mut planner.new_integrations) {
                let spec = NewIntegration {
                    name: i.name.clone(),
                    start_url: i.start_url,
                    region: i.region,
                    scopes: i.scopes,
                };
                match self.add_integration(spec).await {
                    Ok(_) => added_integrations.push(i.name),
                    Err(e @ EngineError::Store(_)) => return Err(e),
                    // Its sessions then fail to add, each saying why.
                    Err(e) => {
                        tracing::info!(integration = %i.name, error = %e, "integration not imported")
                    }
                }
            }
        }

        // Apply in the order planned (every role after its source); report in file order.
        let order = std::mem::take(&mut planner.order);

        let mut entries: HashMap<String, ImportEntry> = HashMap::new();
        let mut created: HashMap<String, SessionId> = HashMap::new();
        let mut removals: Vec<(String, FileRole)> = Vec::new();
        for name in &order {
            let name = name.as_str();
            let step = planner
                .steps
                .remove(name)
                .expect("every profile was planned");
            let entry = |kind, outcome, detail| ImportEntry {
                profile: name.to_owned(),
                kind,
                outcome,
                detail,
            };
            let e = match step {
                Step::Skip { kind, reason } => entry(kind, Outcome::Skipped, reason),
                Step::Unchanged { kind, detail } => entry(Some(kind), Outcome::Unchanged, detail),
                Step::AddUser {
                    session,
                    keys,
                    keys_in,
                } => {
                    let SessionKind::IamUser(user) = &session.kind else {
                        unreachable!("users are planned as users")
                    };
                    let copied = if opts.dry_run {
                        "would be copied"
                    } else {
                        "copied"
                    };
                    let detail = match &user.mfa_serial {
                        Some(s) => {
                            format!("IAM user with MFA device {s}; keys {copied} to the keychain")
                        }
                        None => format!("IAM user without MFA; keys {copied} to the keychain"),
                    };
                    if opts.dry_run {
                        entry(Some(USER), Outcome::WouldImport, detail)
                    } else {
                        let spec = NewIamUser {
                            console: Default::default(),
                            name: session.name.clone(),
                            profile: session.profile.to_string(),
                            region: session.region.clone(),
                            mfa_serial: user.mfa_serial.clone(),
                            session_duration: Some(user.session_duration),
                        };
                        match self.add_iam_user(spec, keys).await {
                            Ok(view) => {
                                created.insert(name.to_owned(), view.session.id);
                                if opts.remove_keys {
                                    removals.push((name.to_owned(), keys_in));
                                }
                                entry(Some(USER), Outcome::Imported, detail)
                            }
                            Err(e @ (EngineError::Keychain(_) | EngineError::Store(_))) => {
                                return Err(e);
                            }
                            Err(e) => entry(Some(USER), Outcome::Skipped, e.to_string()),
                        }
                    }
                }
                Step::AddSso {
                    session,
                    integration,
                } => {
                    let SessionKind::SsoRole(role) = &session.kind else {
                        unreachable!("SSO roles are planned as SSO roles")
                    };
                    let new = if added_integrations.contains(&integration)
                        || planner
                            .new_integrations
                            .iter()
                            .any(|i| i.name == integration)
                    {
                        " (integration added; log in with `rolehop sso login`)"
                    } else {
                        ""
                    };
                    let detail = format!(
                        "SSO role {} in account {} through integration '{integration}'{new}",
                        role.role_name, role.account_id
                    );
                    if opts.dry_run {
                        entry(Some(SSO), Outcome::WouldImport, detail)
                    } else {
                        let spec = NewSsoRole {
                            console: Default::default(),
                            name: session.name.clone(),
                            profile: session.profile.to_string(),
                            region: session.region.clone(),
                            sso: integration.clone(),
                            account_id: role.account_id.clone(),
                            account_name: None,
                            role_name: role.role_name.clone(),
                        };
                        match self.add_sso_role(spec).await {
                            Ok(view) => {
                                created.insert(name.to_owned(), view.session.id);
                                entry(Some(SSO), Outcome::Imported, detail)
                            }
                            Err(e @ EngineError::Store(_)) => return Err(e),
                            Err(e) => entry(Some(SSO), Outcome::Skipped, e.to_string()),
                        }
                    }
                }
                Step::AddLogin { session } => {
                    let SessionKind::LoginSession(login) = &session.kind else {
                        unreachable!("console sessions are planned as console sessions")
                    };
                    let copied = if opts.dry_run {
                        "would be copied"
                    } else {
                        "copied"
                    };
                    let detail = format!(
                        "console sign-in session of {}; its token {copied} to the keychain \
                         (the AWS CLI's cache is left as it is)",
                        login.login_session
                    );
                    match read_cached_token(&login.login_session) {
                        Err(reason) => entry(Some(LOGIN), Outcome::Skipped, reason),
                        Ok(_) if opts.dry_run => entry(Some(LOGIN), Outcome::WouldImport, detail),
                        Ok(token) => {
                            let spec = NewLoginSession {
                                name: session.name.clone(),
                                profile: session.profile.to_string(),
                                region: session.region.clone(),
                                login_session: login.login_session.clone(),
                            };
                            match self.add_login_session(spec, token).await {
                                Ok(view) => {
                                    created.insert(name.to_owned(), view.session.id);
                                    entry(Some(LOGIN), Outcome::Imported, detail)
                                }
                                Err(e @ (EngineError::Keychain(_) | EngineError::Store(_))) => {
                                    return Err(e);
                                }
                                Err(e) => entry(Some(LOGIN), Outcome::Skipped, e.to_string()),
                            }
                        }
                    }
                }
                Step::RetakeLogin { id, login_session } => {
                    let unchanged = |detail: &str| {
                        entry(
                            Some(LOGIN),
                            Outcome::Unchanged,
                            format!("already in Rolehop, as a console sign-in session; {detail}"),
                        )
                    };
                    match read_cached_token(&login_session) {
                        Err(reason) => unchanged(&format!("no newer token ({reason})")),
                        Ok(_) if opts.dry_run => {
                            unchanged("the AWS CLI's token would be taken if it is the newer")
                        }
                        Ok(token) => match self.retake_login_token(id, &login_session, token).await
                        {
                            Ok(true) => entry(
                                Some(LOGIN),
                                Outcome::Imported,
                                "already in Rolehop; the newer token of a new `aws login` \
                                 copied to the keychain"
                                    .into(),
                            ),
                            Ok(false) => unchanged("the keychain's token is the newer"),
                            Err(e @ (EngineError::Keychain(_) | EngineError::Store(_))) => {
                                return Err(e);
                            }
                            Err(e) => entry(Some(LOGIN), Outcome::Skipped, e.to_string()),
                        },
                    }
                }
                Step::AddRole { session, parent } => {
                    let SessionKind::Role(role) = &session.kind else {
                        unreachable!("roles are planned as roles")
                    };
                    let detail = format!("role {} chained from '{parent}'", role.role_arn);
                    let parent_ok = !matches!(
                        entries.get(&parent).map(|e| e.outcome),
                        Some(Outcome::Skipped)
                    );
                    if !parent_ok {
                        entry(
                            Some(ROLE),
                            Outcome::Skipped,
                            format!("its source profile '{parent}' was not imported"),
                        )
                    } else if opts.dry_run {
                        entry(Some(ROLE), Outcome::WouldImport, detail)
                    } else {
                        let parent_selector = created
                            .get(&parent)
                            .map(ToString::to_string)
                            .unwrap_or_else(|| parent.clone());
                        let spec = NewRole {
                            name: session.name.clone(),
                            profile: session.profile.to_string(),
                            region: session.region.clone(),
                            parent: parent_selector,
                            role_arn: role.role_arn.clone(),
                            role_session_name: role.role_session_name.clone(),
                            external_id: role.external_id.clone(),
                            duration: role.duration,
                            source_identity: None,
                            ..NewRole::default()
                        };
                        match self.add_role(spec).await {
                            Ok(view) => {
                                created.insert(name.to_owned(), view.session.id);
                                entry(Some(ROLE), Outcome::Imported, detail)
                            }
                            Err(e @ EngineError::Store(_)) => return Err(e),
                            Err(e) => entry(Some(ROLE), Outcome::Skipped, e.to_string()),
                        }
                    }
                }
            };
            entries.insert(name.to_owned(), e);
        }

        if !removals.is_empty() {
            let lock = awsfiles::lock_path(&self.config().home);
            for role in [FileRole::Credentials, FileRole::Config] {
                let names: Vec<&str> = removals
                    .iter()
                    .filter(|(_, r)| *r == role)
                    .map(|(n, _)| n.as_str())
                    .collect();
                if names.is_empty() {
                    continue;
                }
                let path = match role {
                    FileRole::Credentials => &files.credentials,
                    FileRole::Config => &files.config,
                };
                remove_static_keys(&lock, path, role, &names).map_err(|e| {
                    tracing::info!(path = %path.display(), error = %e, "keys not removed from an AWS file");
                    EngineError::AwsFile {
                        doing: AwsFileStep::RemovingKeys,
                        path: path.clone(),
                        message: e.to_string(),
                    }
                })?;
                for name in names {
                    if let Some(e) = entries.get_mut(name) {
                        e.detail = format!("{}, and removed from {}", e.detail, path.display());
                    }
                }
            }
        }

        let report_entries = profiles
            .iter()
            .filter_map(|p| {
                let mut e = entries.remove(&p.name)?;
                if matches!(e.outcome, Outcome::Imported | Outcome::WouldImport)
                    && let Some(note) = planner.mfa_note(p)
                {
                    e.detail = format!("{} ({note})", e.detail);
                }
                Some(e)
            })
            .collect();
        Ok(ImportReport {
            config_file: files.config.clone(),
            credentials_file: files.credentials.clone(),
            entries: report_entries,
        })
    }
}

#[cfg(test)]
mod tests;
