//! [`AwsFilesDelivery`]: the [`Delivery`] that writes sessions into the AWS files.
//!
//! Every call joins a queue. One caller at a time becomes the writer: it takes everything
//! queued, applies each change in order to one read of the files under the lock, writes
//! each changed file once, and hands every waiting caller its own result (group commit).
//! Twenty sessions started together cost one or two writes, not twenty.
//!
//! Inside a commit, the order is what keeps the ledger honest (see [`super::ledger`]): the
//! ledger grows before the files change, the files change, the ledger shrinks; only then
//! are keychain copies of restored sections deleted.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use chrono::SecondsFormat;
use zeroize::Zeroizing;

use super::atomic::{self, LockFile, NEW_FILE_MODE};
use super::dialect::{FileRole, credential_process_command};
use super::ini::Document;
use super::ledger::{Ledger, SectionClaim};
use super::locate;
use super::section::{Conflicts, Prepared, Target, Want};
use super::vault::{KeychainVault, SectionVault, account_for};
use crate::delivery::{Delivery, DeliveryError, Handover};
use crate::keychain::Keychain;
use crate::model::{DeliveryMode, ProfileName};

/// Where the files are and what Rolehop needs to write them.
#[derive(Debug, Clone)]
pub struct AwsFilesConfig {
    pub credentials_file: PathBuf,
    pub config_file: PathBuf,
    /// Holds the ledger (`awsfiles-ledger.json`) and the lock (`awsfiles.lock`).
    pub state_dir: PathBuf,
    /// Keeps the user's own sections while a session has taken them over.
    pub keychain: Keychain,
    /// What `credential_process` lines run.
    pub rolehop_binary: PathBuf,
}

impl AwsFilesConfig {
    /// The files the AWS tools read: `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`,
    /// else `~/.aws/credentials` and `~/.aws/config`.
    pub fn from_env(state_dir: PathBuf, keychain: Keychain, rolehop_binary: PathBuf) -> Self {
        Self {
            credentials_file: locate::credentials_file(),
            config_file: locate::config_file(),
            state_dir,
            keychain,
            rolehop_binary,
        }
    }
}

const LEDGER_FILE: &str = "awsfiles-ledger.json";
const LOCK_FILE: &str = "awsfiles.lock";

enum Op {
    Deliver(Box<Handover>),
    Withdraw(ProfileName),
}

impl Op {
    fn profile(&self) -> &ProfileName {
        match self {
            Op::Deliver(h) => &h.profile,
            Op::Withdraw(p) => p,
        }
    }
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, Op)>,
    results: HashMap<u64, Result<(), DeliveryError>>,
    committing: bool,
}

/// Writes sessions' credentials (or `credential_process` lines) into the AWS files.
pub struct AwsFilesDelivery {
    credentials: PathBuf,
    config: PathBuf,
    ledger_path: PathBuf,
    lock_path: PathBuf,
    rolehop_binary: PathBuf,
    vault: Arc<dyn SectionVault>,
    queue: Mutex<Queue>,
    committed: Condvar,
    writes: AtomicU64,
    commits: AtomicU64,
}

impl std::fmt::Debug for AwsFilesDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsFilesDelivery")
            .field("credentials", &self.credentials)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// One AWS file during a commit.
struct FileState {
    role: FileRole,
    /// The path as configured: the ledger's key, and what errors show.
    path: PathBuf,
    key: String,
    snapshot: atomic::Snapshot,
    doc: Document,
}

impl FileState {
    fn read(role: FileRole, path: &Path) -> Result<FileState, DeliveryError> {
        let snapshot = atomic::read(path).map_err(|e| io_error(path, e))?;
        let doc = Document::parse(&snapshot.bytes);
        Ok(FileState {
            role,
            path: path.to_owned(),
            key: ledger_key(path),
            snapshot,
            doc,
        })
    }

    fn target<'p>(&self, profile: &'p ProfileName) -> Target<'p> {
        Target {
            role: self.role,
            profile: profile.as_str(),
        }
    }

    /// Writes the file if the edits changed it. Returns whether it did.
    fn write_if_changed(&self) -> Result<bool, DeliveryError> {
        let bytes = Zeroizing::new(self.doc.to_bytes());
        if bytes.as_slice() == self.snapshot.bytes.as_slice() && self.snapshot.mode.is_some() {
            return Ok(false);
        }
        if bytes.is_empty() && self.snapshot.mode.is_none() {
            return Ok(false);
        }
        let mode = self.snapshot.mode.unwrap_or(NEW_FILE_MODE);
        atomic::sweep_temp_files(&self.snapshot.target);
        atomic::replace(&self.snapshot.target, &bytes, mode)
            .map_err(|e| io_error(&self.path, e))?;
        Ok(true)
    }
}

fn ledger_key(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .to_string_lossy()
        .into_owned()
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn keychain_error(profile: &ProfileName, message: String) -> DeliveryError {
    DeliveryError::Keychain {
        profile: profile.to_string(),
        message,
    }
}

/// A claim checked against its file, and the user's section it took over (from the vault).
type VerifiedClaim = (SectionClaim, Option<Zeroizing<Vec<u8>>>);

/// What one commit leaves to do once the files are written.
#[derive(Default)]
struct AfterWrite {
    /// Keychain entries of taken-over sections that are back in their file.
    vault_deletes: Vec<String>,
}

impl AwsFilesDelivery {
    /// A delivery writing the configured files, keeping taken-over sections in
    /// `config.keychain`.
    pub fn new(config: AwsFilesConfig) -> Self {
        let vault = Arc::new(KeychainVault(config.keychain.clone()));
        Self::with_vault(config, vault)
    }

    /// Like [`AwsFilesDelivery::new`], with another store for taken-over sections (tests
    /// that cannot reach a Secret Service use [`super::MemoryVault`]).
    pub fn with_vault(config: AwsFilesConfig, vault: Arc<dyn SectionVault>) -> Self {
        Self {
            credentials: config.credentials_file,
            config: config.config_file,
            ledger_path: config.state_dir.join(LEDGER_FILE),
            lock_path: config.state_dir.join(LOCK_FILE),
            rolehop_binary: config.rolehop_binary,
            vault,
            queue: Mutex::new(Queue::default()),
            committed: Condvar::new(),
            writes: AtomicU64::new(0),
            commits: AtomicU64::new(0),
        }
    }

    /// How many times this delivery replaced an AWS file (credentials or config).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// How many group commits (one locked read-modify-write of the files each) ran.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub fn credentials_file(&self) -> &Path {
        &self.credentials
    }

    pub fn config_file(&self) -> &Path {
        &self.config
    }

    fn lock_queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `op` and waits for its result, writing the batch itself if no one else is.
    fn submit(&self, op: Op) -> Result<(), DeliveryError> {
        let mut queue = self.lock_queue();
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push((ticket, op));
        loop {
            if let Some(result) = queue.results.remove(&ticket) {
                return result;
            }
            if queue.committing {
                queue = self
                    .committed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            queue.committing = true;
            let batch = std::mem::take(&mut queue.waiting);
            drop(queue);
            let tickets: Vec<u64> = batch.iter().map(|(t, _)| *t).collect();
            let results = std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.commit(batch.into_iter().map(|(_, op)| op).collect())
            }))
            .unwrap_or_else(|_| {
                let message = "internal error while editing the AWS files".to_owned();
                tickets
                    .iter()
                    .map(|_| Err(io_error(&self.credentials, &message)))
                    .collect()
            });
            queue = self.lock_queue();
            queue.results.extend(tickets.into_iter().zip(results));
            queue.committing = false;
            self.committed.notify_all();
        }
    }

    /// Applies `ops` in order under the lock and writes the result. One result per op.
    fn commit(&self, ops: Vec<Op>) -> Vec<Result<(), DeliveryError>> {
        let n = ops.len();
        match self.try_commit(ops) {
            Ok(results) => results,
            Err(e) => {
                let (path, message) = match &e {
                    DeliveryError::Io { path, message } => (path.clone(), message.clone()),
                    other => (self.credentials.display().to_string(), other.to_string()),
                };
                (0..n)
                    .map(|_| {
                        Err(DeliveryError::Io {
                            path: path.clone(),
                            message: message.clone(),
                        })
                    })
                    .collect()
            }
        }
    }

    fn try_commit(&self, ops: Vec<Op>) -> Result<Vec<Result<(), DeliveryError>>, DeliveryError> {
        let _lock = LockFile::acquire(&self.lock_path).map_err(|e| io_error(&self.lock_path, e))?;
        let on_disk = Ledger::load(&self.ledger_path).map_err(|e| {
            io_error(
                &e.path,
                format!("cannot read Rolehop's ledger: {}", e.message),
            )
        })?;
        let mut files = [
            FileState::read(FileRole::Credentials, &self.credentials)?,
            FileState::read(FileRole::Config, &self.config)?,
        ];
        let mut ledger = on_disk.clone();
        let mut after = AfterWrite::default();
        let results: Vec<_> = ops
            .iter()
            .map(|op| self.apply(op, &mut files, &mut ledger, &mut after))
            .collect();

        let grown = on_disk.union(&ledger);
        if grown != on_disk {
            self.write_ledger(&grown)?;
        }
        for file in &files {
            if file.write_if_changed()? {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
        }
        if ledger != grown {
            self.write_ledger(&ledger)?;
        }
        for account in after.vault_deletes {
            if let Err(e) = self.vault.delete(&account) {
                tracing::warn!(account, error = %e, "could not delete a restored section's keychain copy");
            }
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(results)
    }

    fn write_ledger(&self, ledger: &Ledger) -> Result<(), DeliveryError> {
        atomic::replace(&self.ledger_path, &ledger.to_json(), NEW_FILE_MODE)
            .map_err(|e| io_error(&self.ledger_path, e))
    }

    /// The ledger's claim on `profile` in `file`, checked against the file. A taken-over
    /// section whose original is back in the file is no longer taken over.
    fn verified_claim(
        &self,
        file: &FileState,
        ledger: &Ledger,
        profile: &ProfileName,
        after: &mut AfterWrite,
    ) -> Result<VerifiedClaim, DeliveryError> {
        let Some(claim) = ledger.claim(&file.key, profile.as_str()) else {
            return Ok((SectionClaim::default(), None));
        };
        let target = file.target(profile);
        let mut claim = target.verify(&file.doc, claim.clone());
        let mut saved = None;
        if let Some(account) = claim.taken_over.clone() {
            match self
                .vault
                .load(&account)
                .map_err(|m| keychain_error(profile, m))?
            {
                Some(body) if target.body_in_place(&file.doc, &body) => {
                    claim.taken_over = None;
                    after.vault_deletes.push(account);
                }
                Some(body) => saved = Some(body),
                None => {
                    tracing::warn!(
                        profile = profile.as_str(),
                        "the keychain no longer holds the section Rolehop took over; it cannot be put back"
                    );
                    claim.taken_over = None;
                }
            }
        }
        Ok((claim, saved))
    }

    fn apply(
        &self,
        op: &Op,
        files: &mut [FileState; 2],
        ledger: &mut Ledger,
        after: &mut AfterWrite,
    ) -> Result<(), DeliveryError> {
        let profile = op.profile();
        let mut claims = Vec::with_capacity(2);
        for file in files.iter() {
            claims.push(self.verified_claim(file, ledger, profile, after)?);
        }
        match op {
            Op::Deliver(handover) => self.deliver_into(handover, files, claims, ledger),
            Op::Withdraw(_) => {
                for (file, (claim, saved)) in files.iter_mut().zip(claims) {
                    let target = file.target(profile);
                    let account = claim.taken_over.clone();
                    target.withdraw(&mut file.doc, claim, saved.as_deref().map(|b| b.as_slice()));
                    ledger.set_claim(&file.key, profile.as_str(), None);
                    after.vault_deletes.extend(account);
                }
                Ok(())
            }
        }
    }

    fn deliver_into(
        &self,
        handover: &Handover,
        files: &mut [FileState; 2],
        claims: Vec<VerifiedClaim>,
        ledger: &mut Ledger,
    ) -> Result<(), DeliveryError> {
        let profile = &handover.profile;
        let wants = [
            self.credentials_wants(handover)?,
            self.config_wants(handover)?,
        ];
        let rules = [Conflicts::AnyUserKey, Conflicts::SameKey];

        // Check both files before changing either.
        let mut prepared: Vec<Prepared> = Vec::with_capacity(2);
        for ((file, wants), ((claim, _), rule)) in
            files.iter().zip(wants).zip(claims.iter().zip(rules))
        {
            let target = file.target(profile);
            let ready = target
                .prepare(&file.doc, claim, wants, rule, handover.take_over)
                .map_err(|_| DeliveryError::ProfileOwnedByUser {
                    profile: profile.to_string(),
                    path: file.path.display().to_string(),
                })?;
            prepared.push(ready);
        }
        // Keep the user's sections in the keychain before they leave the files.
        let mut accounts = [None, None];
        for (i, (file, ready)) in files.iter().zip(&prepared).enumerate() {
            if let Some(range) = ready.take_over.clone() {
                let account = account_for(&file.key, profile.as_str());
                let body = Zeroizing::new(file.doc.bytes_of(range));
                self.vault
                    .save(&account, &body)
                    .map_err(|m| keychain_error(profile, m))?;
                accounts[i] = Some(account);
            }
        }
        for (((file, ready), (claim, _)), account) in
            files.iter_mut().zip(prepared).zip(claims).zip(accounts)
        {
            let target = file.target(profile);
            let mut claim = target.execute(&mut file.doc, claim, ready, account);
            claim.session = Some(handover.session);
            ledger.set_claim(&file.key, profile.as_str(), Some(claim));
        }
        Ok(())
    }

    fn credentials_wants(&self, handover: &Handover) -> Result<Vec<Want>, DeliveryError> {
        if handover.mode != DeliveryMode::CredentialsFile {
            return Ok(Vec::new());
        }
        let creds = &handover.credentials;
        let mut wants = vec![
            want(
                handover,
                "aws_access_key_id",
                creds.access_key_id.clone().into(),
                false,
            )?,
            want(
                handover,
                "aws_secret_access_key",
                creds.secret_access_key.clone(),
                true,
            )?,
        ];
        if let Some(token) = &creds.session_token {
            wants.push(want(handover, "aws_session_token", token.clone(), true)?);
        }
        if let Some(expiration) = creds.expiration {
            let value = expiration.to_rfc3339_opts(SecondsFormat::Secs, true);
            wants.push(want(handover, "aws_expiration", value.into(), false)?);
        }
        Ok(wants)
    }

    fn config_wants(&self, handover: &Handover) -> Result<Vec<Want>, DeliveryError> {
        let mut wants = Vec::new();
        if handover.mode == DeliveryMode::CredentialProcess {
            let command =
                credential_process_command(&self.rolehop_binary, &handover.session.to_string());
            wants.push(want(handover, "credential_process", command.into(), false)?);
        }
        if let Some(region) = &handover.region {
            let mut region = want(handover, "region", region.clone().into(), false)?;
            region.yields_to_user = true;
            wants.push(region);
        }
        Ok(wants)
    }
}

/// A key to write, refused when its value would break the file (a line break would let
/// it inject lines; surrounding spaces would be trimmed by every reader).
fn want(
    handover: &Handover,
    name: &'static str,
    value: Zeroizing<String>,
    secret: bool,
) -> Result<Want, DeliveryError> {
    let bad =
        value.is_empty() || value.chars().any(char::is_control) || value.trim() != value.as_str();
    if bad {
        return Err(DeliveryError::InvalidValue {
            profile: handover.profile.to_string(),
            key: name.to_owned(),
        });
    }
    Ok(Want {
        name,
        value,
        secret,
        yields_to_user: false,
    })
}

impl Delivery for AwsFilesDelivery {
    fn deliver(&self, handover: &Handover) -> Result<(), DeliveryError> {
        self.submit(Op::Deliver(Box::new(handover.clone())))
    }

    fn withdraw(&self, profile: &ProfileName) -> Result<(), DeliveryError> {
        self.submit(Op::Withdraw(profile.clone()))
    }
}

#[cfg(test)]
mod tests;
