//! `--remove-keys`: taking the imported static keys out of the user's file, and nothing
//! else, under the same lock as every other edit of the AWS files.

use std::path::Path;

use zeroize::Zeroizing;

use crate::awsfiles::atomic::{self, LockFile};
use crate::awsfiles::dialect::{FileRole, Outline};
use crate::awsfiles::ini::Document;

/// Removes `aws_access_key_id` and `aws_secret_access_key` from the sections of
/// `profiles` in the file at `path`, under the AWS files lock; every other byte stays.
pub(super) fn remove_static_keys(
    lock: &Path,
    path: &Path,
    role: FileRole,
    profiles: &[&str],
) -> std::io::Result<()> {
    let _lock = LockFile::acquire(lock)?;
    let snapshot = atomic::read(path)?;
    let Some(mode) = snapshot.mode else {
        return Ok(());
    };
    let edited = without_static_keys(&snapshot.bytes, role, profiles);
    if edited.as_slice() != snapshot.bytes.as_slice() {
        atomic::replace(&snapshot.target, &edited, mode)?;
    }
    Ok(())
}

/// The file's bytes without the static key lines of `profiles`' sections.
pub(super) fn without_static_keys(
    bytes: &[u8],
    role: FileRole,
    profiles: &[&str],
) -> Zeroizing<Vec<u8>> {
    let mut doc = Document::parse(bytes);
    let outline = Outline::of(&doc);
    let mut doomed: Vec<usize> = outline
        .sections
        .iter()
        .filter(|s| profiles.iter().any(|p| role.section_is_profile(&s.name, p)))
        .flat_map(|s| s.keys.iter())
        .filter(|k| k.name == "aws_access_key_id" || k.name == "aws_secret_access_key")
        .map(|k| k.line)
        .collect();
    doomed.sort_unstable();
    for line in doomed.into_iter().rev() {
        doc.remove_lines(line..line + 1);
    }
    Zeroizing::new(doc.to_bytes())
}
