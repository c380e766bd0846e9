//! The workspace file: JSON in Rolehop's private state directory, replaced atomically and
//! durably under an advisory lock (both [`crate::durable`]'s), so the desktop app and the
//! CLI can both work on it. Each update re-reads the file under the lock, so neither
//! process overwrites what the other wrote; readers notice a changed file by its stamp.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::durable::{self, LockFile, NEW_FILE_MODE};
use crate::workspace::{SCHEMA_VERSION, Workspace};

const FILE_NAME: &str = "workspace.json";
const LOCK_NAME: &str = "workspace.lock";
/// Far above any real workspace (5,000 sessions take about 2 MiB).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use the workspace at {path}: {message}")]
    Io { path: String, message: String },
    #[error("the workspace file {path} is not valid ({message}); it was left untouched")]
    Corrupt { path: String, message: String },
    #[error(
        "the workspace file {path} has schema {found}, newer than this Rolehop ({supported}); upgrade Rolehop"
    )]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
}

/// Identifies one version of the file on disk (a rename gives a new inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    ino: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = fs::metadata(path).ok()?;
    Some(Stamp {
        modified: m.modified().ok(),
        len: m.len(),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

/// The workspace file of one Rolehop home directory.
#[derive(Debug)]
pub struct WorkspaceStore {
    dir: PathBuf,
    last: Mutex<Option<(Option<Stamp>, Workspace)>>,
    /// How many times a read found the file rewritten by another writer. Counted here,
    /// where it is seen, so that a watcher notices a change even when another reader of
    /// this store (a command, the rotation scheduler) re-read the file first.
    external_changes: AtomicU64,
}

impl WorkspaceStore {
    /// Opens the home directory `dir`: created 0700 when missing, refused when it is
    /// someone else's or others can write into it (see [`durable::private_dir`]).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        durable::private_dir(&dir).map_err(|e| io_err(&dir, e))?;
        Ok(Self {
            dir,
            last: Mutex::new(None),
            external_changes: AtomicU64::new(0),
        })
    }

    /// The workspace file in `dir` as it is now, without creating the directory or
    /// taking the lock: a writer replaces the file whole, so this sees one version or
    /// the other. For readers that must neither write nor wait (shell completion).
    pub fn read_unlocked(dir: impl Into<PathBuf>) -> Result<Workspace, StoreError> {
        let store = Self {
            dir: dir.into(),
            last: Mutex::new(None),
            external_changes: AtomicU64::new(0),
        };
        Ok(store.read()?.1)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn lock(&self, exclusive: bool) -> Result<LockFile, StoreError> {
        let path = self.dir.join(LOCK_NAME);
        let locked = if exclusive {
            LockFile::acquire(&path)
        } else {
            LockFile::acquire_shared(&path)
        };
        locked.map_err(|e| io_err(&path, e)) // unlocked when dropped
    }

    /// The current workspace; re-read only when the file changed since the last read.
    pub fn load(&self) -> Result<Workspace, StoreError> {
        let path = self.path();
        let mut last = self.last.lock().expect("store cache");
        if let Some((s, ws)) = last.as_ref()
            && *s == stamp(&path)
        {
            return Ok(ws.clone());
        }
        let _guard = self.lock(false)?;
        let (s, ws) = self.read()?;
        self.count_external(last.as_ref(), s);
        *last = Some((s, ws.clone()));
        Ok(ws)
    }

    /// Runs `f` on the workspace as this store last read or wrote it, without touching
    /// the disk or waiting: `None` when nothing was read yet or an update holds the
    /// cache now. For work that is only a head start (the keychain reads of a start):
    /// the workspace may be stale.
    pub fn peek<T>(&self, f: impl FnOnce(&Workspace) -> T) -> Option<T> {
        let last = self.last.try_lock().ok()?;
        last.as_ref().map(|(_, ws)| f(ws))
    }

    /// How many changes by another writer this store has read so far (see
    /// [`Self::changed_on_disk`] for one not read yet).
    pub fn external_changes(&self) -> u64 {
        self.external_changes.load(Ordering::SeqCst)
    }

    fn count_external(&self, last: Option<&(Option<Stamp>, Workspace)>, read: Option<Stamp>) {
        if last.is_some_and(|(seen, _)| *seen != read) {
            self.external_changes.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether another writer changed the file since this store last read or wrote it.
    pub fn changed_on_disk(&self) -> bool {
        let last = self.last.lock().expect("store cache");
        match last.as_ref() {
            Some((s, _)) => *s != stamp(&self.path()),
            None => true,
        }
    }

    /// Applies `change` to the freshest workspace under the lock and writes it back if it
    /// changed. When `change` fails, nothing is written.
    pub fn update<T, E: From<StoreError>>(
        &self,
        change: impl FnOnce(&mut Workspace) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut last = self.last.lock().expect("store cache");
        let _guard = self.lock(true)?;
        let (read, mut ws) = self.read()?;
        self.count_external(last.as_ref(), read);
        let before = ws.clone();
        let out = change(&mut ws)?;
        if ws != before {
            self.write(&ws)?;
        }
        *last = Some((stamp(&self.path()), ws));
        Ok(out)
    }

    fn read(&self) -> Result<(Option<Stamp>, Workspace), StoreError> {
        let path = self.path();
        let s = stamp(&path);
        let bytes = match durable::read_regular(&path, MAX_FILE_BYTES) {
            Ok(Some((bytes, _))) => bytes,
            Ok(None) => return Ok((None, Workspace::default())),
            Err(e) => return Err(io_err(&path, e)),
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e))?;
        let found = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0) as u32;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        // Version 1 is the first schema: migrations from older versions go here.
        let mut ws: Workspace = serde_json::from_value(value).map_err(|e| corrupt(&path, e))?;
        ws.schema_version = SCHEMA_VERSION;
        Ok((s, ws))
    }

    fn write(&self, ws: &Workspace) -> Result<(), StoreError> {
        let path = self.path();
        let mut bytes = serde_json::to_vec_pretty(ws).map_err(|e| corrupt(&path, e))?;
        bytes.push(b'\n');
        // Temp files of a writer killed mid-write (none is live: we hold the lock).
        durable::sweep_temp_files(&path);
        durable::replace(&path, &bytes, NEW_FILE_MODE).map_err(|e| io_err(&path, e))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    tracing::info!(path = %path.display(), error = %e, "workspace file error");
    StoreError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn corrupt(path: &Path, e: serde_json::Error) -> StoreError {
    tracing::info!(path = %path.display(), error = %e, "workspace file unreadable");
    StoreError::Corrupt {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::WorkspaceError;

    #[derive(Debug)]
    enum TestErr {
        #[allow(dead_code)]
        Store(StoreError),
        #[allow(dead_code)]
        Ws(WorkspaceError),
    }
    impl From<StoreError> for TestErr {
        fn from(e: StoreError) -> Self {
            Self::Store(e)
        }
    }
    impl From<WorkspaceError> for TestErr {
        fn from(e: WorkspaceError) -> Self {
            Self::Ws(e)
        }
    }

    #[test]
    fn two_stores_on_one_dir_see_each_others_writes() {
        let dir = tempfile::tempdir().unwrap();
        let a = WorkspaceStore::open(dir.path()).unwrap();
        let b = WorkspaceStore::open(dir.path()).unwrap();
        a.update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap();
        assert!(b.changed_on_disk());
        b.update(|ws| ws.add_profile("two").map_err(TestErr::from))
            .unwrap();
        let names: Vec<String> = a
            .load()
            .unwrap()
            .profiles
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(names, ["one", "two"]);
    }

    #[test]
    fn a_change_by_another_writer_is_counted_by_whichever_read_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let app = WorkspaceStore::open(dir.path()).unwrap();
        let cli = WorkspaceStore::open(dir.path()).unwrap();
        app.update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap();
        app.load().unwrap();
        assert_eq!(app.external_changes(), 0, "its own write is not external");

        cli.update(|ws| ws.add_profile("two").map_err(TestErr::from))
            .unwrap();
        app.load().unwrap(); // read first by someone other than a watcher
        assert!(!app.changed_on_disk());
        assert_eq!(app.external_changes(), 1);

        cli.update(|ws| ws.add_profile("three").map_err(TestErr::from))
            .unwrap();
        app.update(|ws| ws.add_profile("four").map_err(TestErr::from))
            .unwrap();
        assert_eq!(
            app.external_changes(),
            2,
            "an update that re-reads counts too"
        );
    }

    #[test]
    fn a_failed_update_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = WorkspaceStore::open(dir.path()).unwrap();
        s.update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap();
        let before = fs::read(s.path()).unwrap();
        let err = s.update(|ws| ws.add_profile("bad=name").map_err(TestErr::from));
        assert!(err.is_err());
        assert_eq!(fs::read(s.path()).unwrap(), before);
    }

    #[test]
    fn corrupt_and_newer_files_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let s = WorkspaceStore::open(dir.path()).unwrap();
        fs::write(s.path(), b"{not json").unwrap();
        assert!(matches!(s.load(), Err(StoreError::Corrupt { .. })));
        let r = s.update(|ws| ws.add_profile("x").map_err(TestErr::from));
        assert!(r.is_err());
        assert_eq!(fs::read(s.path()).unwrap(), b"{not json");
        fs::write(s.path(), br#"{"schema_version": 99}"#).unwrap();
        assert!(matches!(
            s.load(),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }

    #[test]
    fn concurrent_updates_from_threads_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let s = WorkspaceStore::open(&path).unwrap();
                    for i in 0..25 {
                        s.update(|ws| ws.add_profile(&format!("p{t}-{i}")).map_err(TestErr::from))
                            .unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let s = WorkspaceStore::open(&path).unwrap();
        assert_eq!(s.load().unwrap().profiles.len(), 100);
    }

    #[test]
    fn a_temp_file_left_by_a_killed_writer_is_swept_by_the_next_update() {
        let dir = tempfile::tempdir().unwrap();
        let s = WorkspaceStore::open(dir.path()).unwrap();
        let stale = dir.path().join(".workspace.json.rolehop-x1y2z3.tmp");
        fs::write(&stale, b"{\"half\":").unwrap();
        s.update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap();
        assert!(!stale.exists());
    }

    #[test]
    #[cfg(unix)]
    fn a_home_others_can_write_is_refused_naming_it_and_one_they_can_read_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("rolehop");
        fs::create_dir(&home).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o777)).unwrap();
        let err = WorkspaceStore::open(&home).unwrap_err().to_string();
        assert!(
            err.contains(&home.display().to_string()) && err.contains("chmod 700"),
            "{err}"
        );
        assert_eq!(mode(&home), 0o777);

        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        let s = WorkspaceStore::open(&home).unwrap();
        assert_eq!(mode(&home), 0o700);
        s.update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap();
        assert_eq!(mode(&s.path()), 0o600);
    }

    #[test]
    #[cfg(unix)]
    fn a_workspace_lock_planted_as_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = WorkspaceStore::open(dir.path().join("home")).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&elsewhere, s.dir.join(LOCK_NAME)).unwrap();
        let err = s
            .update(|ws| ws.add_profile("one").map_err(TestErr::from))
            .unwrap_err();
        assert!(format!("{err:?}").contains("is a symbolic link"), "{err:?}");
        assert!(!elsewhere.exists());
    }
}
