//! The record of what Rolehop added to the AWS files, kept as JSON in the state directory
//! so that a later process (the CLI stopping what the app started) removes exactly that.
//!
//! A claim names the keys Rolehop wrote in one profile's section, and with each the value
//! it wrote, except for the two secrets (`aws_secret_access_key`, `aws_session_token`),
//! which never leave the credentials file: they are Rolehop's when the section's
//! `aws_access_key_id` is (an access key id is an identifier, not a secret, and STS never
//! issues the same one twice). Claims are checked against the file each time a profile is
//! touched, so a claim the file no longer bears out (a crash between writing the ledger and
//! the file, a user who deleted the section by hand) never lets Rolehop remove the user's
//! lines. The ledger is written *before* the files when it grows and *after* them when it
//! shrinks, so at any instant it claims at least what the files hold.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use rolehop_model::session::SessionId;

const VERSION: u32 = 1;
/// The ledger holds a few hundred bytes per delivered profile.
const MAX_LEDGER_BYTES: u64 = 16 * 1024 * 1024;

/// Everything Rolehop added, by file (its path as configured) and profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub version: u32,
    pub files: BTreeMap<String, BTreeMap<String, SectionClaim>>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self {
            version: VERSION,
            files: BTreeMap::new(),
        }
    }
}

/// What Rolehop added to one profile's section of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionClaim {
    /// The session the profile was delivered for (for people reading the ledger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    /// Rolehop wrote the `[...]` header: no section of that name existed.
    #[serde(default)]
    pub added_header: bool,
    /// Rolehop also wrote the blank line that separates its new section from the one before.
    #[serde(default)]
    pub added_blank_before: bool,
    /// The keys Rolehop wrote in the section.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyClaim>,
    /// The user's own section body was taken over: the keychain account that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_over: Option<String>,
    /// When only some lines of the user's section were taken over (set aside), not its
    /// whole body: where each line of the keychain copy goes back, as its index among the
    /// section's lines below the header as the user wrote them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<usize>,
}

/// How to recognise a key line Rolehop wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyClaim {
    /// One of these values (more than one while a change is being written).
    Values(BTreeSet<String>),
    /// A secret, recognised through the section's claimed `aws_access_key_id`.
    Secret,
}

impl SectionClaim {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && !self.added_header && self.taken_over.is_none()
    }

    /// A claim on everything either `self` or `other` claims (the ledger written before a
    /// change reaches the files).
    pub fn union(&self, other: &SectionClaim) -> SectionClaim {
        let mut keys = self.keys.clone();
        for (name, claim) in &other.keys {
            match (keys.get_mut(name), claim) {
                (Some(KeyClaim::Values(mine)), KeyClaim::Values(theirs)) => {
                    mine.extend(theirs.iter().cloned())
                }
                (Some(_), _) => {}
                (None, claim) => {
                    keys.insert(name.clone(), claim.clone());
                }
            }
        }
        // The keychain account and where its lines go back come as a pair.
        let taken = if other.taken_over.is_some() {
            other
        } else {
            self
        };
        SectionClaim {
            session: other.session.or(self.session),
            added_header: self.added_header || other.added_header,
            added_blank_before: self.added_blank_before || other.added_blank_before,
            keys,
            taken_over: taken.taken_over.clone(),
            set_aside: taken.set_aside.clone(),
        }
    }
}

impl Ledger {
    pub fn claim(&self, file: &str, profile: &str) -> Option<&SectionClaim> {
        self.files.get(file)?.get(profile)
    }

    pub fn set_claim(&mut self, file: &str, profile: &str, claim: Option<SectionClaim>) {
        match claim.filter(|c| !c.is_empty()) {
            Some(claim) => {
                self.files
                    .entry(file.to_owned())
                    .or_default()
                    .insert(profile.to_owned(), claim);
            }
            None => {
                if let Some(profiles) = self.files.get_mut(file) {
                    profiles.remove(profile);
                    if profiles.is_empty() {
                        self.files.remove(file);
                    }
                }
            }
        }
    }

    /// Every claim of `self` and of `other` together.
    pub fn union(&self, other: &Ledger) -> Ledger {
        let mut out = self.clone();
        for (file, profiles) in &other.files {
            for (profile, claim) in profiles {
                let merged = match out.claim(file, profile) {
                    Some(mine) => mine.union(claim),
                    None => claim.clone(),
                };
                out.set_claim(file, profile, Some(merged));
            }
        }
        out
    }

    /// Reads the ledger; a missing file is an empty ledger.
    pub fn load(path: &Path) -> Result<Ledger, LedgerError> {
        let bytes = match crate::durable::read_regular(path, MAX_LEDGER_BYTES) {
            Ok(Some((bytes, _))) => bytes,
            Ok(None) => return Ok(Ledger::default()),
            Err(e) => return Err(LedgerError::new(path, e.to_string())),
        };
        let ledger: Ledger = serde_json::from_slice(&bytes)
            .map_err(|e| LedgerError::new(path, format!("it is not a valid ledger ({e})")))?;
        if ledger.version != VERSION {
            return Err(LedgerError::new(
                path,
                format!(
                    "it has version {}, this Rolehop reads {VERSION}",
                    ledger.version
                ),
            ));
        }
        Ok(ledger)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a ledger always serializes");
        out.push(b'\n');
        out
    }
}

/// The ledger could not be read. Rolehop then changes nothing rather than guess what it owns.
#[derive(Debug)]
pub struct LedgerError {
    pub path: PathBuf,
    pub message: String,
}

impl LedgerError {
    fn new(path: &Path, message: String) -> Self {
        Self {
            path: path.to_owned(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[&str]) -> KeyClaim {
        KeyClaim::Values(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn union_keeps_both_generations_of_a_value() {
        let mut old = SectionClaim::default();
        old.keys
            .insert("aws_access_key_id".into(), values(&["ASIAOLD"]));
        let mut new = SectionClaim::default();
        new.keys
            .insert("aws_access_key_id".into(), values(&["ASIANEW"]));
        new.keys
            .insert("aws_session_token".into(), KeyClaim::Secret);
        let both = old.union(&new);
        assert_eq!(
            both.keys["aws_access_key_id"],
            values(&["ASIANEW", "ASIAOLD"])
        );
        assert_eq!(both.keys["aws_session_token"], KeyClaim::Secret);
    }

    #[test]
    fn an_empty_claim_removes_the_profile_and_the_file() {
        let mut ledger = Ledger::default();
        let mut claim = SectionClaim::default();
        claim.keys.insert("region".into(), values(&["eu-west-1"]));
        ledger.set_claim("/c", "p", Some(claim));
        assert!(ledger.claim("/c", "p").is_some());
        ledger.set_claim("/c", "p", Some(SectionClaim::default()));
        assert!(ledger.files.is_empty());
    }

    #[test]
    fn ledger_round_trips_through_json_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        assert_eq!(Ledger::load(&path).unwrap(), Ledger::default());
        let mut ledger = Ledger::default();
        let mut claim = SectionClaim {
            added_header: true,
            ..Default::default()
        };
        claim
            .keys
            .insert("aws_secret_access_key".into(), KeyClaim::Secret);
        ledger.set_claim("/c", "p", Some(claim));
        std::fs::write(&path, ledger.to_json()).unwrap();
        assert_eq!(Ledger::load(&path).unwrap(), ledger);
    }

    #[test]
    fn an_unreadable_ledger_is_an_error_not_an_empty_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.json");
        std::fs::write(&path, b"{not json").unwrap();
        assert!(Ledger::load(&path).is_err());
    }
}
