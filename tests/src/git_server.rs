//! A real git server on 127.0.0.1 for the team-catalog suites: `git daemon` serving
//! every bare repository under a temporary base directory (push enabled), on a port
//! picked at run time, killed on drop; and a teammate's working clone that commits and
//! pushes with the system's own git, optionally signing with an SSH key
//! (`gpg.format=ssh`), which needs no agent.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::moto::free_loopback_port;
use crate::wait::{self, Probe};

/// `git daemon` over a base directory of bare repositories.
pub struct GitServer {
    dir: TempDir,
    port: u16,
    _daemon: Daemon,
}

/// Runs `git ARGS` in `dir` with a fixed identity and no user or system configuration
/// but `extra` (`-c key=value` pairs); fails on a non-zero exit.
pub fn git(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Result<String> {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Teammate")
        .env("GIT_AUTHOR_EMAIL", "teammate@example.com")
        .env("GIT_COMMITTER_NAME", "Teammate")
        .env("GIT_COMMITTER_EMAIL", "teammate@example.com");
    for (k, v) in extra {
        c.arg("-c").arg(format!("{k}={v}"));
    }
    let out = c.args(args).output().map_err(PeerError::spawn("git"))?;
    if !out.status.success() {
        return Err(PeerError::Failed {
            what: format!("git {}", args.join(" ")),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl GitServer {
    /// Starts `git daemon` with an empty base directory.
    pub fn start() -> Result<Self> {
        let dir = tempfile::tempdir().map_err(PeerError::io("a git base directory"))?;
        let port = free_loopback_port()?.port();
        let base = dir.path().join("repos");
        std::fs::create_dir(&base).map_err(PeerError::io("a git base directory"))?;
        let mut command = Command::new("git");
        command
            .arg("daemon")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .args([
                "--export-all",
                "--reuseaddr",
                "--listen=127.0.0.1",
                "--enable=receive-pack",
            ])
            .arg(&base);
        let mut daemon = Daemon::spawn("git daemon", &mut command, &dir.path().join("daemon.log"))?;
        wait::until(Duration::from_secs(20), Duration::from_millis(50), || {
            if let Some(exited) = daemon.exited() {
                return Probe::Failed(exited);
            }
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(_) => Probe::Ready(()),
                Err(e) => Probe::NotYet(e.to_string()),
            }
        })
        .map_err(|detail| PeerError::NotReady {
            peer: "git daemon",
            waited: Duration::from_secs(20),
            detail,
        })?;
        Ok(Self {
            dir,
            port,
            _daemon: daemon,
        })
    }

    /// Makes bare repository `name` and returns its `git://` URL.
    pub fn create_repo(&self, name: &str) -> Result<String> {
        let path = self.dir.path().join("repos").join(name);
        std::fs::create_dir_all(&path).map_err(PeerError::io("a bare repository"))?;
        git(
            &path,
            &["init", "--bare", "--quiet", "--initial-branch=main"],
            &[],
        )?;
        Ok(self.url(name))
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }

    /// A scratch directory under the server's (for clones and keys).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(&p).expect("scratch directory");
        p
    }
}

/// A teammate's clone of a catalog repository.
pub struct Clone {
    pub dir: PathBuf,
    /// `-c` settings for signing, when the teammate signs.
    signing: Vec<(String, String)>,
}

impl Clone {
    /// Clones `url` into `dir` (an empty repository is fine).
    pub fn of(url: &str, dir: &Path) -> Result<Self> {
        let parent = dir.parent().expect("a parent directory");
        let name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        git(parent, &["clone", "--quiet", url, &name], &[])?;
        git(dir, &["checkout", "--quiet", "-B", "main"], &[])?;
        Ok(Self {
            dir: dir.to_owned(),
            signing: Vec::new(),
        })
    }

    /// Signs every later commit with a fresh SSH key (ssh-keygen, no passphrase);
    /// returns the allowed-signers line a follower trusts.
    pub fn sign_with_new_key(&mut self) -> Result<String> {
        let key = self.dir.with_extension("signing-key");
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "teammate", "-f"])
            .arg(&key)
            .output()
            .map_err(PeerError::spawn("ssh-keygen"))?;
        if !out.status.success() {
            return Err(PeerError::Failed {
                what: "ssh-keygen".into(),
                status: out.status,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let public = std::fs::read_to_string(key.with_extension("signing-key.pub"))
            .or_else(|_| std::fs::read_to_string(format!("{}.pub", key.display())))
            .map_err(PeerError::io("the public key"))?;
        self.signing = vec![
            ("gpg.format".into(), "ssh".into()),
            ("user.signingkey".into(), key.display().to_string()),
            ("commit.gpgsign".into(), "true".into()),
        ];
        Ok(format!("teammate@example.com {}", public.trim()))
    }

    /// Stops signing (the next commits are unsigned).
    pub fn stop_signing(&mut self) {
        self.signing.clear();
    }

    /// Writes `catalog.toml`, commits and pushes to `main`; returns the commit.
    pub fn publish(&self, catalog: &str) -> Result<String> {
        std::fs::write(self.dir.join("catalog.toml"), catalog)
            .map_err(PeerError::io("catalog.toml"))?;
        let extra: Vec<(&str, &str)> = self
            .signing
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        git(&self.dir, &["add", "catalog.toml"], &[])?;
        git(&self.dir, &["commit", "--quiet", "-m", "catalog"], &extra)?;
        git(&self.dir, &["push", "--quiet", "origin", "main"], &[])?;
        git(&self.dir, &["rev-parse", "HEAD"], &[])
    }
}
