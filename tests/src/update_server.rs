//! Rolehop's update server for the updater suites: `tests/peers/update_server.py` (the
//! venv's python, stdlib only) serving a directory on 127.0.0.1 and recording every
//! request, and [`UpdateKey`], a throwaway minisign key pair made and used by the
//! Tauri CLI's `signer` (the tool a release is signed with), so no key is ever kept.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::python::clean_command;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The server, killed on drop with its directory.
pub struct UpdateServer {
    _daemon: Daemon,
    addr: SocketAddr,
    dir: TempDir,
}

impl UpdateServer {
    pub fn start() -> Result<Self> {
        let (mut command, dir) = clean_command("python")?;
        let served = dir.path().join("served");
        std::fs::create_dir(&served).map_err(PeerError::io("creating the served directory"))?;
        let log = dir.path().join("update_server.log");
        command
            .arg("-u")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/update_server.py"))
            .arg("--dir")
            .arg(&served)
            .args(["--port", "0"])
            .current_dir(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let mut daemon = Daemon::spawn("update_server.py", &mut command, &log)?;
        let addr = daemon.wait_listening(START_TIMEOUT, ("GET", "/_stand_in/health"))?;
        Ok(Self {
            _daemon: daemon,
            addr,
            dir,
        })
    }

    /// `http://127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// Serves `bytes` as `/name`.
    pub fn serve(&self, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.dir.path().join("served").join(name);
        std::fs::write(&path, bytes).map_err(PeerError::io(format!("writing {name}")))?;
        Ok(path)
    }

    /// Every request it got, in order, as `GET /path`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Serves a package and the manifest (`/latest.json`) offering it as `version` for
    /// every Linux target the updater looks for (`linux-x86_64` and its `-deb`, `-rpm`,
    /// `-appimage` forms), with `signature`.
    pub fn offer(&self, version: &str, notes: &str, package: &str, signature: &str) -> Result<()> {
        let entry = json!({ "url": self.url(package), "signature": signature });
        let manifest = json!({
            "version": version,
            "notes": notes,
            "pub_date": "2026-12-01T12:00:00Z",
            "platforms": {
                "linux-x86_64": entry,
                "linux-x86_64-deb": entry,
                "linux-x86_64-rpm": entry,
                "linux-x86_64-appimage": entry,
            },
        });
        self.serve("latest.json", manifest.to_string().as_bytes())?;
        Ok(())
    }
}

/// A throwaway minisign key pair (password-protected, as the Tauri CLI makes them),
/// deleted on drop.
pub struct UpdateKey {
    dir: TempDir,
}

const PASSWORD: &str = "rolehop-test-key";

impl UpdateKey {
    pub fn generate() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rolehop-update-key-")
            .tempdir()
            .map_err(PeerError::io("creating the key's directory"))?;
        let key = dir.path().join("update.key");
        let mut command = tauri_cli();
        command
            .args(["signer", "generate", "--ci", "-p", PASSWORD, "-w"])
            .arg(&key);
        run(&mut command, "tauri signer generate")?;
        Ok(Self { dir })
    }

    /// The public key as the app's `pubkey` takes it (the `.pub` file's text).
    pub fn public(&self) -> Result<String> {
        let path = self.dir.path().join("update.key.pub");
        std::fs::read_to_string(path)
            .map(|k| k.trim().to_owned())
            .map_err(PeerError::io("reading the public key"))
    }

    /// The signature of `file` bound to `version` (`tauri signer sign --app-version`):
    /// the `.sig` file's text, as a manifest carries it.
    pub fn sign(&self, file: &Path, version: &str) -> Result<String> {
        let mut command = tauri_cli();
        command
            .args(["signer", "sign", "-f"])
            .arg(self.dir.path().join("update.key"))
            .args(["-p", PASSWORD, "--app-version", version])
            .arg(file);
        run(&mut command, "tauri signer sign")?;
        let mut sig = file.as_os_str().to_owned();
        sig.push(".sig");
        let text = std::fs::read_to_string(&sig).map_err(PeerError::io("reading the signature"))?;
        std::fs::remove_file(&sig).map_err(PeerError::io("removing the signature file"))?;
        Ok(text.trim().to_owned())
    }
}

/// The Tauri CLI the packages are built with (`ui/node_modules`, `npm ci`).
fn tauri_cli() -> Command {
    let cli = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/.bin/tauri");
    let mut command = Command::new(cli);
    command.env_remove("TAURI_SIGNING_PRIVATE_KEY");
    command
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    let out = command.output().map_err(PeerError::spawn(format!(
        "{what} (ui/node_modules/.bin/tauri: npm ci in ui/)"
    )))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(PeerError::Failed {
            what: what.to_owned(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}
