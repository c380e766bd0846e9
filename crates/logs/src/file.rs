//! The desktop app's log files: one a day (UTC), the last few kept, private to the user.
//!
//! A log names sessions, profiles, accounts and role ARNs (never a secret, see the crate
//! docs): nothing another local user should read. So the directory is one only the user
//! can use (`rolehop_files::durable::private_dir`: created 0700, a looser one others may
//! only read or enter tightened to 0700, one others may write or another user owns
//! refused, naming the path), and every file is created 0600, a looser existing one
//! tightened, opened without following a link planted in its place.
//!
//! `tracing-appender`'s rolling appender creates its files with the process's default
//! mode and has no way to ask for another, hence this small writer.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter;

/// The mode of a log file.
pub const FILE_MODE: u32 = 0o600;

/// Daily log files `<prefix>.YYYY-MM-DD.log` in a private directory; see the module docs.
pub struct DailyFile {
    dir: PathBuf,
    prefix: String,
    kept: usize,
    current: Mutex<Current>,
}

struct Current {
    day: String,
    file: File,
}

impl DailyFile {
    /// Makes `dir` private (see the module docs), opens today's file and removes all but
    /// the newest `kept` files of `prefix`.
    pub fn open(dir: &Path, prefix: &str, kept: usize) -> io::Result<Self> {
        rolehop_files::durable::private_dir(dir)?;
        let day = utc_day(SystemTime::now());
        let log = Self {
            dir: dir.to_owned(),
            prefix: prefix.to_owned(),
            kept: kept.max(1),
            current: Mutex::new(Current {
                file: open_private(&dir.join(format!("{prefix}.{day}.log")))?,
                day,
            }),
        };
        log.prune();
        Ok(log)
    }

    /// The file lines written now go to.
    pub fn path(&self) -> PathBuf {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        self.name(&current.day)
    }

    fn name(&self, day: &str) -> PathBuf {
        self.dir.join(format!("{}.{day}.log", self.prefix))
    }

    fn write_line(&self, buf: &[u8]) -> io::Result<usize> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let day = utc_day(SystemTime::now());
        if day != current.day {
            let file = open_private(&self.name(&day))?;
            *current = Current { day, file };
            drop(current);
            self.prune();
            current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        }
        current.file.write(buf)
    }

    /// Removes this log's files but the newest `kept` (the dated names sort by day).
    fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let start = format!("{}.", self.prefix);
        let mut days: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&start) && n.ends_with(".log"))
            })
            .collect();
        days.sort();
        let excess = days.len().saturating_sub(self.kept);
        for old in &days[..excess] {
            let _ = std::fs::remove_file(old);
        }
    }
}

/// Opens `path` for appending: created [`FILE_MODE`], a looser existing file tightened,
/// a link refused.
fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(FILE_MODE)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file = options
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a plain file", path.display()),
            ));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        }
    }
    Ok(file)
}

/// `YYYY-MM-DD` of `at` in UTC (Howard Hinnant's `civil_from_days`: no calendar crate
/// for one date).
fn utc_day(at: SystemTime) -> String {
    let days = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// One line's writer (tracing-subscriber writes each formatted line through one).
pub struct DailyWriter<'a>(&'a DailyFile);

impl Write for DailyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_line(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for DailyFile {
    type Writer = DailyWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        DailyWriter(self)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn days_are_utc_calendar_dates() {
        assert_eq!(utc_day(UNIX_EPOCH), "1970-01-01");
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(utc_day(at(951_782_400)), "2000-02-29");
        assert_eq!(utc_day(at(1_767_225_599)), "2025-12-31");
        assert_eq!(utc_day(at(1_767_225_600)), "2026-01-01");
    }

    /// Finding 8 of issue 23: a new log directory is 0700 and its file 0600, whatever
    /// the umask (the appender used before made them 0755 and 0644 under umask 022).
    #[test]
    fn a_new_log_directory_is_0700_and_its_file_0600() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("state/rolehop/logs");
        let log = DailyFile::open(&dir, "rolehop", 7).unwrap();
        writeln!(log.make_writer(), "session state").unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&log.path()), 0o600);
        assert!(
            std::fs::read_to_string(log.path())
                .unwrap()
                .contains("session state")
        );
    }

    /// Finding 8 of issue 23: a log directory and file left readable by others (by an
    /// earlier version, or a plain `mkdir`) are tightened; one others may write into is
    /// refused, naming it.
    #[test]
    fn an_existing_loose_log_directory_and_file_are_tightened_and_a_writable_one_refused() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let day = utc_day(SystemTime::now());
        let file = dir.join(format!("rolehop.{day}.log"));
        std::fs::write(&file, "an earlier line\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();

        let log = DailyFile::open(&dir, "rolehop", 7).unwrap();
        assert_eq!(log.path(), file);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&file), 0o600);
        writeln!(log.make_writer(), "a new line").unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "an earlier line\na new line\n"
        );

        let open = home.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = DailyFile::open(&open, "rolehop", 7).err().expect("refused");
        assert!(err.to_string().contains(&*open.to_string_lossy()), "{err}");
        assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
    }

    #[test]
    fn a_link_planted_as_todays_file_is_refused() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        let victim = home.path().join("victim");
        let day = utc_day(SystemTime::now());
        std::os::unix::fs::symlink(&victim, dir.join(format!("rolehop.{day}.log"))).unwrap();
        assert!(DailyFile::open(&dir, "rolehop", 7).is_err());
        assert!(!victim.exists());
    }

    #[test]
    fn only_the_newest_files_are_kept() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("logs");
        std::fs::create_dir(&dir).unwrap();
        for day in ["2020-01-01", "2020-01-02", "2020-01-03"] {
            std::fs::write(dir.join(format!("rolehop.{day}.log")), "").unwrap();
        }
        std::fs::write(dir.join("other.txt"), "").unwrap();
        let log = DailyFile::open(&dir, "rolehop", 2).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let today = log
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            left,
            vec![
                "other.txt".to_owned(),
                "rolehop.2020-01-03.log".into(),
                today
            ]
        );
    }
}
