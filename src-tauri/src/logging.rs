//! The desktop app's log: one file a day in the platform's log directory, the last 7
//! kept, at `ROLEHOP_LOG`'s filter (default info). What may never be written (any
//! secret) is decided by `rolehop-logs`, as for the CLI.
//!
//! The directory: `ROLEHOP_LOG_DIR` when set; else `~/Library/Logs/Rolehop` on macOS,
//! `%LOCALAPPDATA%\Rolehop\logs` on Windows, and `$XDG_STATE_HOME/rolehop/logs`
//! (`~/.local/state/rolehop/logs`) elsewhere: a log is state, not configuration.
//!
//! Lines are written synchronously: the app logs a few lines per session start, and a
//! background writer would lose the last ones when "Quit" ends the process.
//!
//! The directory is 0700 and the files 0600 (`rolehop_logs::DailyFile`): a log names
//! sessions, accounts and roles, which other local users have no business reading.

use std::path::{Path, PathBuf};

use rolehop_logs::{DailyFile, LevelFilter, Request};

/// The environment variable that moves the log directory (tests set it).
pub const DIR_ENV: &str = "ROLEHOP_LOG_DIR";

/// How many daily files are kept.
pub const KEPT_FILES: usize = 7;

const DEFAULT: LevelFilter = LevelFilter::INFO;

/// The log directory: `dir_override` (`ROLEHOP_LOG_DIR`) if not empty, else the
/// platform's, or `None` when the platform names no home.
pub fn directory(dir_override: Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(dir) = dir_override.filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if cfg!(target_os = "macos") {
        dirs::home_dir().map(|h| h.join("Library/Logs/Rolehop"))
    } else if cfg!(windows) {
        dirs::data_local_dir().map(|d| d.join("Rolehop").join("logs"))
    } else {
        dirs::state_dir().map(|d| d.join("rolehop").join("logs"))
    }
}

/// The daily file in `dir` (created 0700 if missing, tightened or refused if others may
/// read or write it), keeping [`KEPT_FILES`] files named `rolehop.YYYY-MM-DD.log`, each
/// 0600.
pub fn appender(dir: &Path) -> std::io::Result<DailyFile> {
    DailyFile::open(dir, "rolehop", KEPT_FILES)
}

/// Installs the app's log. A log that cannot be opened is said on stderr and the app
/// runs without one: a missing log must not keep credentials from working.
pub fn install() {
    let Some(dir) = directory(std::env::var_os(DIR_ENV)) else {
        eprintln!("rolehop: no log directory on this system; set {DIR_ENV} to keep a log");
        return;
    };
    match appender(&dir) {
        Ok(file) => {
            let request = Request::from_env_or(Request::Level(DEFAULT));
            if rolehop_logs::install(file, &request, DEFAULT).is_ok() {
                tracing::info!(
                    version = env!("CARGO_PKG_VERSION"),
                    dir = %dir.display(),
                    "Rolehop desktop started"
                );
            }
        }
        Err(e) => eprintln!("rolehop: cannot keep a log in {}: {e}", dir.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_directory_is_the_override_when_one_is_given() {
        let dir = directory(Some("/tmp/rolehop-logs".into()));
        assert_eq!(dir, Some(PathBuf::from("/tmp/rolehop-logs")));
        let platform = directory(Some("".into())).expect("a platform log directory");
        assert!(platform.ends_with("logs") || platform.ends_with("Rolehop"));
    }

    #[test]
    fn the_app_writes_its_lines_to_a_dated_file_in_the_log_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = appender(dir.path()).unwrap();
        let choice = rolehop_logs::choose(&Request::Level(DEFAULT), DEFAULT);
        tracing::subscriber::with_default(rolehop_logs::subscriber(file, choice), || {
            tracing::info!(session = "production", "session state");
            tracing::debug!("below the default level");
        });
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("rolehop.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(
            text.contains("session state") && text.contains("production"),
            "{text}"
        );
        assert!(!text.contains("below the default level"), "{text}");
    }

    /// Finding 8 of issue 23: the app's log directory is 0700 and its file 0600 (with
    /// `tracing-appender` they were 0755 and 0644 under the usual umask).
    #[cfg(unix)]
    #[test]
    fn the_apps_log_directory_and_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("state/rolehop/logs");
        let file = appender(&dir).unwrap();
        let choice = rolehop_logs::choose(&Request::Level(DEFAULT), DEFAULT);
        tracing::subscriber::with_default(rolehop_logs::subscriber(file, choice), || {
            tracing::info!("Rolehop desktop started");
        });
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for entry in std::fs::read_dir(&dir).unwrap() {
            assert_eq!(mode(&entry.unwrap().path()), 0o600);
        }
    }
}
