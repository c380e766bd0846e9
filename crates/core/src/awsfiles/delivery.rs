//! [`AwsFilesDelivery`]: the [`Delivery`] that writes sessions into the AWS files.
//!
//! Calls go through a [`GroupCommit`]: the caller that writes takes everything queued,
//! applies each change in order to one read of the files under the lock, writes each
//! changed file once, and hands every caller its own result.
//!
//! Inside a commit, the order is what keeps the ledger honest (see [`super::ledger`]): the
//! ledger grows before the files change, the files change, the ledger shrinks; only once
//! those renames are durable are keychain copies of restored sections deleted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::SecondsFormat;
use zeroize::Zeroizing;

use super::atomic;
use super::dialect::{FileRole, Outline, credential_process_command, holds_secrets};
use super::ini::Document;
use super::ledger::{Ledger, SectionClaim};
use super::locate;
use super::precedence::config_conflicts;
use super::section::{Conflicts, Prepared, Target, Want};
use super::vault::{SectionVault, account_for};
use crate::delivery::{Delivery, DeliveryError, Handover};
use crate::durable::group_commit::{Intake, Ticket};
use crate::durable::{self, GroupCommit, LockFile, NEW_FILE_MODE};
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

/// The lock every change to the AWS files is made under, in Rolehop's state directory.
/// Whoever else edits those files (the importer removing static keys) takes it too.
pub fn lock_path(state_dir: &Path) -> PathBuf {
    state_dir.join(LOCK_FILE)
}
/// How many times a commit takes in the calls that queued while it was applying changes.
const DRAIN_ROUNDS: usize = 8;

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

type Outcome = Result<(), DeliveryError>;
/// A caller's ticket and the result of its call.
type Answer = (Ticket, Outcome);

/// Writes sessions' credentials (or `credential_process` lines) into the AWS files.
pub struct AwsFilesDelivery {
    credentials: PathBuf,
    config: PathBuf,
    ledger_path: PathBuf,
    lock_path: PathBuf,
    rolehop_binary: PathBuf,
    vault: SectionVault,
    queue: GroupCommit<Op, Outcome>,
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
        let mut snapshot = atomic::read(path).map_err(|e| io_error(path, e))?;
        // The document keeps (and wipes) the bytes; the snapshot keeps where and what mode.
        let doc = Document::parse_owned(std::mem::take(&mut *snapshot.bytes));
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

    /// The file's new bytes, if the edits changed it (a file that does not exist and
    /// would stay empty is not created).
    fn changed_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        let bytes = Zeroizing::new(self.doc.to_bytes());
        let exists = self.snapshot.mode.is_some();
        let unchanged = if exists {
            bytes.as_slice() == self.doc.original()
        } else {
            bytes.is_empty()
        };
        (!unchanged).then_some(bytes)
    }

    /// The permission bits to write the file with: its own (0600 for a new file), except
    /// that a credentials file holding secrets is closed to other users (`mode & 0o600`).
    /// Said once, as a warning: the file is private from then on.
    fn mode_to_write(&self) -> u32 {
        let mode = self.snapshot.mode.unwrap_or(NEW_FILE_MODE);
        let private = mode & 0o600;
        if self.role != FileRole::Credentials || mode == private || !holds_secrets(&self.doc) {
            return mode;
        }
        tracing::warn!(
            path = %self.path.display(),
            was = format!("{mode:04o}"),
            "the AWS credentials file holds secret keys and could be read by other users; \
             Rolehop writes it readable by you alone"
        );
        private
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

/// A claim checked against its file, the user's section it took over (from the vault),
/// and the profile's sections as read for the check.
struct VerifiedClaim {
    claim: SectionClaim,
    saved: Option<Zeroizing<Vec<u8>>>,
    outline: Outline,
}

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
        Self {
            credentials: config.credentials_file,
            config: config.config_file,
            ledger_path: config.state_dir.join(LEDGER_FILE),
            lock_path: lock_path(&config.state_dir),
            rolehop_binary: config.rolehop_binary,
            vault: SectionVault(config.keychain),
            queue: GroupCommit::default(),
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

    /// Queues `op` and waits for its result, writing the batch itself if no one else is.
    fn submit(&self, op: Op) -> Outcome {
        self.queue.submit(
            op,
            |batch, intake| self.commit(batch, intake),
            || {
                Err(io_error(
                    &self.credentials,
                    "internal error while editing the AWS files",
                ))
            },
        )
    }

    /// Applies `batch` (and calls queued meanwhile) in order under the lock and writes
    /// the result: one result per call taken.
    fn commit(
        &self,
        batch: Vec<(Ticket, Op)>,
        intake: &mut Intake<'_, Op, Outcome>,
    ) -> Vec<Answer> {
        match self.try_commit(batch, intake) {
            Ok(results) => results,
            Err(e) => {
                let (path, message) = match &e {
                    DeliveryError::Io { path, message } => (path.clone(), message.clone()),
                    other => (self.credentials.display().to_string(), other.to_string()),
                };
                intake
                    .taken()
                    .iter()
                    .map(|&t| {
                        let error = DeliveryError::Io {
                            path: path.clone(),
                            message: message.clone(),
                        };
                        (t, Err(error))
                    })
                    .collect()
            }
        }
    }

    fn try_commit(
        &self,
        batch: Vec<(Ticket, Op)>,
        intake: &mut Intake<'_, Op, Outcome>,
    ) -> Result<Vec<Answer>, DeliveryError> {
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
        // Temp files left by a writer killed mid-commit (none is live: we hold the lock).
        durable::sweep_temp_files(&self.ledger_path);
        for file in &files {
            durable::sweep_temp_files(&file.snapshot.target);
        }
        let mut ledger = on_disk.clone();
        let mut after = AfterWrite::default();
        // Calls that queue while this batch is being applied join it, so the files are
        // written once for all of them (bounded, so a steady stream still gets written).
        let mut results = Vec::with_capacity(batch.len());
        let mut pending = batch;
        for round in 1.. {
            for (ticket, op) in pending {
                results.push((ticket, self.apply(&op, &mut files, &mut ledger, &mut after)));
            }
            if round == DRAIN_ROUNDS {
                break;
            }
            pending = intake.take();
            if pending.is_empty() {
                break;
            }
        }

        // Stage every file, flush them together, then rename in the order that keeps the
        // ledger a superset of the files: grown ledger, AWS files, shrunk ledger.
        let grown = on_disk.union(&ledger);
        let mut staged = Vec::with_capacity(4);
        if grown != on_disk {
            staged.push((self.stage_ledger(&grown)?, None));
        }
        for file in &files {
            if let Some(bytes) = file.changed_bytes() {
                let s = durable::stage(&file.snapshot.target, &bytes, file.mode_to_write())
                    .map_err(|e| io_error(&file.path, e))?;
                staged.push((s, Some(&file.path)));
            }
        }
        if ledger != grown {
            staged.push((self.stage_ledger(&ledger)?, None));
        }
        let just_files: Vec<_> = staged.iter().map(|(s, _)| s).collect();
        durable::sync_all(&just_files).map_err(|e| io_error(&self.credentials, e))?;
        let targets: Vec<PathBuf> = just_files.iter().map(|s| s.target().to_owned()).collect();
        drop(just_files);
        for (s, aws_file) in staged {
            let path = aws_file.map_or(self.ledger_path.as_path(), |p| p.as_path());
            s.persist().map_err(|e| io_error(path, e))?;
            if aws_file.is_some() {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Durable before anything outside the files follows (see `crate::durable`).
        durable::sync_dirs(targets.iter().map(PathBuf::as_path))
            .map_err(|e| io_error(&self.credentials, e))?;
        for account in after.vault_deletes {
            if let Err(e) = self.vault.delete(&account) {
                tracing::warn!(account, error = %e, "could not delete a restored section's keychain copy");
            }
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(results)
    }

    fn stage_ledger(&self, ledger: &Ledger) -> Result<durable::Staged, DeliveryError> {
        durable::stage(&self.ledger_path, &ledger.to_json(), NEW_FILE_MODE)
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
        let target = file.target(profile);
        let claim = ledger
            .claim(&file.key, profile.as_str())
            .cloned()
            .unwrap_or_default();
        let (mut claim, outline) = target.verify_reading(&file.doc, claim);
        let mut saved = None;
        if let Some(account) = claim.taken_over.clone() {
            match self
                .vault
                .load(&account)
                .map_err(|m| keychain_error(profile, m))?
            {
                Some(body)
                    if target.saved_in_place(&file.doc, &outline, &body, &claim.set_aside) =>
                {
                    claim.taken_over = None;
                    claim.set_aside = Vec::new();
                    after.vault_deletes.push(account);
                }
                Some(body) => saved = Some(body),
                None => {
                    tracing::warn!(
                        profile = profile.as_str(),
                        "the keychain no longer holds the section Rolehop took over; it cannot be put back"
                    );
                    claim.taken_over = None;
                    claim.set_aside = Vec::new();
                }
            }
        }
        Ok(VerifiedClaim {
            claim,
            saved,
            outline,
        })
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
                for (file, verified) in files.iter_mut().zip(claims) {
                    let target = file.target(profile);
                    let account = verified.claim.taken_over.clone();
                    target.withdraw_with(
                        &mut file.doc,
                        Some(verified.outline),
                        verified.claim,
                        verified.saved.as_deref().map(|b| b.as_slice()),
                    );
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
        let rules = [Conflicts::AnyUserKey, config_conflicts(handover.mode)];

        // Check both files before changing either.
        let mut prepared: Vec<Prepared> = Vec::with_capacity(2);
        let mut verified_claims = Vec::with_capacity(2);
        for ((file, wants), (verified, rule)) in
            files.iter().zip(wants).zip(claims.into_iter().zip(rules))
        {
            let target = file.target(profile);
            let ready = target
                .prepare_with(
                    &file.doc,
                    verified.outline,
                    &verified.claim,
                    wants,
                    rule,
                    handover.take_over,
                )
                .map_err(|owned| DeliveryError::ProfileOwnedByUser {
                    profile: profile.to_string(),
                    path: file.path.display().to_string(),
                    keys: owned.keys,
                })?;
            prepared.push(ready);
            verified_claims.push(verified.claim);
        }
        // Keep the user's sections in the keychain before they leave the files.
        let mut accounts = [None, None];
        for (i, (file, ready)) in files.iter().zip(&prepared).enumerate() {
            if let Some(body) = ready.taken_bytes(&file.doc) {
                let account = account_for(&file.key, profile.as_str());
                self.vault
                    .save(&account, &body)
                    .map_err(|m| keychain_error(profile, m))?;
                accounts[i] = Some(account);
            }
        }
        for (((file, ready), claim), account) in files
            .iter_mut()
            .zip(prepared)
            .zip(verified_claims)
            .zip(accounts)
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
            // A bare name would be looked up on each AWS tool's own PATH.
            if !self.rolehop_binary.is_absolute() {
                return Err(DeliveryError::Io {
                    path: self.config.display().to_string(),
                    message: "credential_process needs the rolehop CLI's absolute path, and \
                              none was found (install the CLI next to the app or on the PATH, \
                              or set ROLEHOP_CLI)"
                        .into(),
                });
            }
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
            .inspect_err(|e| tracing::info!(profile = %handover.profile, error = %e, "AWS files not updated"))
    }

    fn withdraw(&self, profile: &ProfileName) -> Result<(), DeliveryError> {
        self.submit(Op::Withdraw(profile.clone()))
            .inspect_err(|e| tracing::info!(%profile, error = %e, "AWS files not updated"))
    }
}

#[cfg(test)]
mod tests;
