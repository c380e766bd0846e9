//! Which places on disk Rolehop agrees to work in.
//!
//! Rolehop writes secrets and its record of what it owns; someone else who can put a link,
//! a file or a directory in its way could steer those writes. So:
//!
//! - **The state directory** (`ROLEHOP_HOME`, which holds the workspace, the AWS files'
//!   ledger and the locks) must be the user's and closed to everyone else ([`private_dir`]).
//!   A missing one is created 0700. An existing one owned by someone else, or that others
//!   may *write* into (group or other `w`), is refused, naming the path: what they may
//!   have left there (a ledger, a lock) cannot be trusted, and only the user can decide.
//!   One that others may only read or enter (0755, 0750: what a plain `mkdir` gives) is
//!   tightened to 0700 with a warning, since no one else can have changed its contents.
//! - **The AWS files** may sit anywhere the user points `AWS_SHARED_CREDENTIALS_FILE` or
//!   `AWS_CONFIG_FILE`, and may be links (dotfiles setups). Rolehop follows links itself
//!   (to write through them), which the kernel's `fs.protected_symlinks` cannot guard; so
//!   [`resolve_trusted`] refuses a link owned by another user, a file owned by another
//!   user, and a directory (holding a link or the file) owned by another user or writable
//!   by all (`o+w`, like `/tmp`) or by a group other than the user's own. Root counts as
//!   trusted: it can do anything anyway. A directory of the user's that only the user's
//!   own group can write is accepted: with user-private groups (Debian's `mkdir` under
//!   umask 002 gives 0775) that group is the user alone.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// How many links [`resolve_trusted`] follows before giving up, as the kernel does.
const MAX_LINKS: usize = 40;

fn refuse(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// Makes sure `dir` is a directory only the user can use (see the module docs): creates it
/// (and missing parents) 0700, refuses one owned by someone else or writable by others,
/// tightens one others can only read.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    check_ancestors(dir)?;
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return create_missing_dir(dir),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{} is not a directory", dir.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let me = current_uid();
        if meta.uid() != me {
            return Err(refuse(format!(
                "{} belongs to another user (uid {}); Rolehop keeps its state only in a \
                 directory of yours",
                dir.display(),
                meta.uid()
            )));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(refuse(format!(
                "{} can be written by other users (mode {mode:04o}); Rolehop keeps its \
                 state only in a private directory: check what is in it, then run \
                 `chmod 700 {}`",
                dir.display(),
                dir.display()
            )));
        }
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(super::NEW_DIR_MODE))?;
            tracing::warn!(
                dir = %dir.display(),
                was = format!("{mode:04o}"),
                "Rolehop's state directory could be read by other users; it is now 0700"
            );
        }
    }
    Ok(())
}

/// Every directory above the state directory, on the path as given and on the path its
/// links lead to, must be the user's or root's, and writable by no one else unless it is
/// sticky (`/tmp`: others may not rename or remove what is the user's). Whoever could
/// rename a directory above it could swap the whole state directory between two of
/// Rolehop's checks. A link named as the state directory must be the user's or root's.
fn check_ancestors(dir: &Path) -> io::Result<()> {
    let absolute = if dir.is_absolute() {
        dir.to_owned()
    } else {
        std::env::current_dir()?.join(dir)
    };
    if let Ok(meta) = fs::symlink_metadata(&absolute)
        && meta.file_type().is_symlink()
    {
        check_owner(&absolute, &meta, "a symbolic link")?;
    }
    let mut paths = vec![absolute.clone()];
    if let Ok(real) = fs::canonicalize(&absolute)
        && real != absolute
    {
        paths.push(real);
    }
    for path in &paths {
        for above in path.ancestors().skip(1) {
            let meta = match fs::metadata(above) {
                Ok(meta) => meta,
                // Created 0700 with the state directory.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            check_owner(above, &meta, "a directory above Rolehop's state directory")?;
            check_not_shared(above, &meta)?;
        }
    }
    Ok(())
}

/// A directory above the state directory: writable by the user alone (and the user's own
/// group), or sticky.
#[cfg(unix)]
fn check_not_shared(dir: &Path, meta: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    let sticky = mode & 0o1000 != 0;
    let own_group =
        meta.uid() == current_uid() && meta.gid() == rustix::process::getegid().as_raw();
    let others_write = mode & 0o002 != 0 || (mode & 0o020 != 0 && !own_group);
    if others_write && !sticky {
        return Err(refuse(format!(
            "{} is above Rolehop's state directory and other users can write into it \
             (mode {mode:04o}): they could put another directory in its place; keep \
             ROLEHOP_HOME under a directory only you can write",
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_not_shared(_: &Path, _: &fs::Metadata) -> io::Result<()> {
    Ok(())
}

/// Creates `dir` and its missing parents with mode 0700; an existing directory is left
/// as it is.
pub fn create_missing_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, super::NEW_DIR_MODE);
    builder.create(dir)
}

/// Follows `path` through symlinks (relative ones against their own directory) to the
/// file that holds the bytes, which need not exist yet; refuses links, files and
/// directories someone else controls (see the module docs).
pub fn resolve_trusted(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..MAX_LINKS {
        check_directory_of(&current)?;
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                check_owner(&current, &meta, "a symbolic link")?;
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            Ok(meta) => {
                check_owner(&current, &meta, "a file")?;
                return Ok(current);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// The directory that holds `path` must be the user's or root's, writable by nobody else
/// (but the user's own group).
fn check_directory_of(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        // Created 0700 by Rolehop when it writes.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    check_owner(dir, &meta, "a directory")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(refuse(format!(
                "{} can be written by every user (mode {mode:04o}); Rolehop does not edit \
                 files in such a directory: move the file somewhere of yours",
                dir.display()
            )));
        }
        let own_group =
            meta.uid() == current_uid() && meta.gid() == rustix::process::getegid().as_raw();
        if mode & 0o020 != 0 && !own_group {
            return Err(refuse(format!(
                "{} can be written by the members of group {} (mode {mode:04o}); Rolehop \
                 does not edit files in such a directory: move the file somewhere of yours",
                dir.display(),
                meta.gid()
            )));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn check_owner(path: &Path, meta: &fs::Metadata, what: &str) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let owner = meta.uid();
    if owner == current_uid() || owner == 0 {
        return Ok(());
    }
    Err(refuse(format!(
        "{} is {what} that belongs to another user (uid {owner}); Rolehop only follows \
         and edits what is yours",
        path.display()
    )))
}

#[cfg(not(unix))]
fn check_owner(_: &Path, _: &fs::Metadata, _: &str) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
pub fn current_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::durable::test_files::{give_away, mode_of as mode, set_mode};

    #[test]
    fn a_missing_state_directory_is_created_0700_with_its_parents() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("a/b/rolehop");
        private_dir(&state).unwrap();
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
    }

    #[test]
    fn a_state_directory_others_can_write_is_refused_naming_it_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        for bits in [0o777, 0o770, 0o702] {
            let state = dir.path().join(format!("state-{bits:o}"));
            fs::create_dir(&state).unwrap();
            set_mode(&state, bits);
            let err = private_dir(&state).unwrap_err().to_string();
            assert!(err.contains(&state.display().to_string()), "{err}");
            assert!(err.contains("chmod 700"), "{err}");
            assert_eq!(mode(&state), bits, "left for the user to check");
        }
    }

    #[test]
    fn a_state_directory_others_can_only_read_is_tightened_to_0700() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        set_mode(&state, 0o755);
        private_dir(&state).unwrap();
        assert_eq!(mode(&state), 0o700);
    }

    #[test]
    fn a_state_directory_below_a_directory_others_can_write_is_refused_even_through_a_link() {
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        fs::create_dir(&open).unwrap();
        set_mode(&open, 0o777);
        let home = open.join("home");
        fs::create_dir(&home).unwrap();
        set_mode(&home, 0o700);
        let err = private_dir(&home).unwrap_err();
        assert!(
            err.to_string().contains(&open.display().to_string()),
            "{err}"
        );
        // Named through a link of the user's, in a directory of the user's: the
        // directory it leads into is still checked.
        let mine = root.path().join("mine");
        fs::create_dir(&mine).unwrap();
        let link = mine.join("rolehop");
        symlink(&home, &link).unwrap();
        let err = private_dir(&link).unwrap_err();
        assert!(err.to_string().contains("other users can write"), "{err}");
        // A sticky directory (as /tmp) is fine: others cannot rename what is the user's.
        set_mode(&open, 0o1777);
        private_dir(&link).unwrap();
        private_dir(&home).unwrap();
    }

    #[test]
    fn a_state_directory_of_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        fs::create_dir(&state).unwrap();
        set_mode(&state, 0o700);
        if !give_away(&state) {
            return;
        }
        let err = private_dir(&state).unwrap_err().to_string();
        assert!(err.contains("belongs to another user"), "{err}");
    }

    #[test]
    fn a_link_to_a_file_of_another_user_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("their-credentials");
        fs::write(&theirs, b"[default]\n").unwrap();
        if !give_away(&theirs) {
            return;
        }
        let link = dir.path().join("credentials");
        symlink(&theirs, &link).unwrap();
        let err = resolve_trusted(&link).unwrap_err().to_string();
        assert!(err.contains("their-credentials"), "{err}");
        assert!(err.contains("belongs to another user"), "{err}");
    }

    #[test]
    fn a_link_owned_by_another_user_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("mine");
        fs::write(&mine, b"").unwrap();
        let link = dir.path().join("credentials");
        symlink(&mine, &link).unwrap();
        if !give_away(&link) {
            return;
        }
        let err = resolve_trusted(&link).unwrap_err().to_string();
        assert!(err.contains("a symbolic link that belongs"), "{err}");
    }

    #[test]
    fn a_file_in_a_directory_everyone_can_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        set_mode(&shared, 0o1777);
        let err = resolve_trusted(&shared.join("credentials"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("can be written by every user"), "{err}");
        // A link from a private place into it is refused as well.
        let link = dir.path().join("credentials");
        symlink(shared.join("credentials"), &link).unwrap();
        assert!(resolve_trusted(&link).is_err());
    }

    #[test]
    fn a_file_in_a_directory_another_group_can_write_is_refused_and_the_users_own_group_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("team");
        fs::create_dir(&shared).unwrap();
        set_mode(&shared, 0o775);
        resolve_trusted(&shared.join("credentials")).unwrap();
        let me = rustix::process::getegid().as_raw();
        let other = if me == 4242 { 4343 } else { 4242 };
        if std::os::unix::fs::chown(&shared, None, Some(other)).is_err() {
            return;
        }
        let err = resolve_trusted(&shared.join("credentials"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("members of group {other}")), "{err}");
    }

    #[test]
    fn the_users_own_links_are_followed_to_a_file_that_need_not_exist() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let link = dir.path().join("credentials");
        symlink("dotfiles/aws-credentials", &link).unwrap();
        assert_eq!(
            resolve_trusted(&link).unwrap(),
            dir.path().join("dotfiles/aws-credentials")
        );
    }
}
