//! The workspace file: JSON in the user's config directory, written atomically
//! (temp file, fsync, rename) under an advisory lock, so the desktop app and the CLI
//! can both work on it. Each update re-reads the file under the lock, so neither
//! process overwrites what the other wrote; readers notice a changed file by its stamp.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use crate::workspace::{SCHEMA_VERSION, Workspace};

const FILE_NAME: &str = "workspace.json";
const LOCK_NAME: &str = "workspace.lock";

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
    /// Opens (creating with mode 0700) the home directory `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        create_private_dir(&dir).map_err(|e| io_err(&dir, e))?;
        Ok(Self {
            dir,
            last: Mutex::new(None),
            external_changes: AtomicU64::new(0),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn lock(&self, exclusive: bool) -> Result<File, StoreError> {
        let path = self.dir.join(LOCK_NAME);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        let locked = if exclusive {
            file.lock()
        } else {
            file.lock_shared()
        };
        locked.map_err(|e| io_err(&path, e))?;
        Ok(file) // unlocked when dropped
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
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((None, Workspace::default()));
            }
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
        let mut tmp = tempfile::Builder::new()
            .prefix(".workspace.")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| io_err(&self.dir, e))?;
        tmp.write_all(&bytes).map_err(|e| io_err(tmp.path(), e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| io_err(tmp.path(), e))?;
        tmp.persist(&path).map_err(|e| io_err(&path, e.error))?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
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
}
