//! Reading the AWS config and credentials files into profiles, as botocore reads them
//! (through [`crate::awsfiles::dialect`]), with the static keys kept apart and wiped on
//! drop.

use std::collections::{BTreeMap, HashMap};

use zeroize::Zeroizing;

use crate::awsfiles::dialect::{FileRole, Outline, shlex_split, value_at};
use crate::awsfiles::ini::Document;

/// A profile as the two files define it (the credentials file's values win, as in
/// botocore). Secrets are kept apart, and wiped on drop.
pub(super) struct AwsProfile {
    pub(super) name: String,
    pub(super) settings: BTreeMap<String, String>,
    pub(super) keys: Option<StaticKeys>,
    pub(super) has_session_token: bool,
}

pub(super) struct StaticKeys {
    pub(super) access_key_id: String,
    pub(super) secret_access_key: Zeroizing<String>,
    /// The file whose section holds them (for `--remove-keys`).
    pub(super) file: FileRole,
}

impl AwsProfile {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The profile a config-file section defines: `[default]` or `[profile NAME]`.
fn config_profile_name(section: &str) -> Option<String> {
    if section == "default" {
        return Some("default".into());
    }
    if !section.starts_with("profile") {
        return None;
    }
    match shlex_split(section).as_deref() {
        Some([word, name]) if word == "profile" => Some(name.clone()),
        _ => None,
    }
}

/// An `[sso-session NAME]` section of the config file: what an integration is made of.
pub(super) struct SsoSessionSection {
    pub(super) settings: BTreeMap<String, String>,
}

impl SsoSessionSection {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The config file's `[sso-session NAME]` sections, by name (a repeated one merges, as
/// botocore reads it).
pub(super) fn read_sso_sessions(config: &[u8]) -> HashMap<String, SsoSessionSection> {
    let doc = Document::parse(config);
    let mut out: HashMap<String, SsoSessionSection> = HashMap::new();
    for section in Outline::of(&doc).sections {
        let name = match shlex_split(&section.name).as_deref() {
            Some([word, name]) if word == "sso-session" => name.clone(),
            _ => continue,
        };
        let entry = out.entry(name).or_insert_with(|| SsoSessionSection {
            settings: BTreeMap::new(),
        });
        for key in &section.keys {
            entry
                .settings
                .insert(key.name.clone(), value_at(&doc, key.line).to_string());
        }
    }
    out
}

/// Reads the profiles of both files, in order of first appearance (config file first).
pub(super) fn read_profiles(config: &[u8], credentials: &[u8]) -> Vec<AwsProfile> {
    let mut profiles: Vec<AwsProfile> = Vec::new();
    // Name → position, so a file of thousands of profiles is read in linear time.
    let mut index: HashMap<String, usize> = HashMap::new();
    for (bytes, role) in [
        (config, FileRole::Config),
        (credentials, FileRole::Credentials),
    ] {
        let doc = Document::parse(bytes);
        for section in Outline::of(&doc).sections {
            let name = match role {
                FileRole::Config => config_profile_name(&section.name),
                FileRole::Credentials => Some(section.name.clone()),
            };
            let Some(name) = name else { continue };
            let at = *index.entry(name.clone()).or_insert_with(|| {
                profiles.push(AwsProfile {
                    name,
                    settings: BTreeMap::new(),
                    keys: None,
                    has_session_token: false,
                });
                profiles.len() - 1
            });
            let profile = &mut profiles[at];
            let mut id = None;
            let mut secret = None;
            for key in &section.keys {
                let value = value_at(&doc, key.line);
                match key.name.as_str() {
                    "aws_access_key_id" => id = Some(value.to_string()),
                    "aws_secret_access_key" => secret = Some(value),
                    "aws_session_token" | "aws_security_token" => {
                        profile.has_session_token = !value.is_empty()
                    }
                    other => {
                        profile.settings.insert(other.to_owned(), value.to_string());
                    }
                }
            }
            if let (Some(id), Some(secret)) = (id, secret)
                && !id.is_empty()
                && !secret.is_empty()
            {
                profile.keys = Some(StaticKeys {
                    access_key_id: id,
                    secret_access_key: secret,
                    file: role,
                });
            }
        }
    }
    profiles
}
