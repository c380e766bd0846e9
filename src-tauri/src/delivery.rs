//! The `rolehop` CLI that the app's `credential_process` lines run. The engine's
//! builder makes the AWS files delivery with it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The CLI for this app's `credential_process` lines, or `None` (logged): the delivery
/// then refuses to write such a line rather than a bare `rolehop` (credentials-file
/// mode, which needs no CLI, still works).
pub fn cli_for_credential_process() -> Option<PathBuf> {
    locate_cli(
        std::env::var_os("ROLEHOP_CLI"),
        std::env::current_exe().ok().as_deref(),
        std::env::var_os("PATH"),
    )
    .inspect_err(|why| tracing::warn!("credential_process mode is unavailable: {why}"))
    .ok()
}

/// The `rolehop` CLI that `credential_process` lines run, as an absolute, canonical path
/// (every AWS tool runs that line through its own PATH and working directory, so a bare
/// or relative name could run something else): `$ROLEHOP_CLI`, else the one installed
/// next to the app (`exe`), else the first on `path`.
pub fn locate_cli(
    explicit: Option<OsString>,
    exe: Option<&Path>,
    path: Option<OsString>,
) -> Result<PathBuf, String> {
    if let Some(cli) = explicit.filter(|v| !v.is_empty()) {
        let shown = PathBuf::from(&cli).display().to_string();
        return executable(Path::new(&cli))
            .ok_or_else(|| format!("ROLEHOP_CLI = {shown} is not an executable file"));
    }
    let beside = exe.and_then(Path::parent).map(|dir| dir.join("rolehop"));
    let on_path = path
        .iter()
        .flat_map(std::env::split_paths)
        // An empty or relative PATH entry means "the working directory": never that.
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join("rolehop"));
    beside
        .into_iter()
        .chain(on_path)
        .find_map(|candidate| executable(&candidate))
        .ok_or_else(|| {
            "no rolehop CLI next to the app or on the PATH; install it, or set ROLEHOP_CLI"
                .to_owned()
        })
}

/// `path` canonicalised, when it is a regular file someone may execute.
fn executable(path: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    #[cfg(unix)]
    let runnable = {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    };
    #[cfg(not(unix))]
    let runnable = true;
    (meta.is_file() && runnable).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn make(dir: &Path, name: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    #[test]
    fn the_cli_next_to_the_app_is_named_by_its_canonical_path() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        make(&real, "rolehop", 0o755);
        make(&real, "rolehop-desktop", 0o755);
        // The app reached through a symlinked directory: the line names the real file.
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let exe = dir.path().join("link/rolehop-desktop");
        let found = locate_cli(None, Some(&exe), None).unwrap();
        assert_eq!(found, std::fs::canonicalize(real.join("rolehop")).unwrap());
        assert!(found.is_absolute());
    }

    #[test]
    fn a_relative_rolehop_cli_becomes_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let cli = make(dir.path(), "rolehop", 0o755);
        let relative = pathdiff(&cli);
        let found = locate_cli(Some(relative.into_os_string()), None, None).unwrap();
        assert_eq!(found, std::fs::canonicalize(&cli).unwrap());
    }

    /// `path` relative to the working directory (`../../tmp/...`).
    fn pathdiff(path: &Path) -> PathBuf {
        let cwd = std::env::current_dir().unwrap();
        let ups = cwd.components().count() - 1;
        let mut rel: PathBuf = std::iter::repeat_n("..", ups).collect();
        rel.push(path.strip_prefix("/").unwrap());
        rel
    }

    #[test]
    fn the_path_is_searched_only_in_absolute_directories() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        make(&bin, "rolehop", 0o755);
        let path = std::env::join_paths([Path::new("relative/bin"), bin.as_path()]).unwrap();
        let found = locate_cli(None, Some(Path::new("/nonexistent/app")), Some(path)).unwrap();
        assert_eq!(found, std::fs::canonicalize(bin.join("rolehop")).unwrap());
    }

    #[test]
    fn no_cli_anywhere_is_refused_rather_than_a_bare_name() {
        let dir = tempfile::tempdir().unwrap();
        // Present but not executable, and a directory of that name: neither counts.
        make(dir.path(), "rolehop", 0o644);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::create_dir(dir.path().join("sub/rolehop")).unwrap();
        let path = std::env::join_paths([dir.path(), &dir.path().join("sub")]).unwrap();
        let err = locate_cli(None, Some(&dir.path().join("app")), Some(path)).unwrap_err();
        assert!(err.contains("ROLEHOP_CLI"), "{err}");
        let err = locate_cli(Some("/nonexistent/rolehop".into()), None, None).unwrap_err();
        assert!(
            err.starts_with("ROLEHOP_CLI = /nonexistent/rolehop"),
            "{err}"
        );
    }
}
