//! Where things are: the repository, the peers venv, and the tools' environment.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

/// Overrides where the Python peers venv lives (read by the e2e harness too).
pub const PEERS_VENV_VAR: &str = "ROLEHOP_PEERS_VENV";

/// The repository this xtask belongs to, and the paths derived from it.
pub struct Repo {
    pub root: PathBuf,
    /// The Python venv with moto, the AWS CLI and boto3.
    pub peers_venv: PathBuf,
}

impl Repo {
    pub fn locate() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask/ has no parent directory")?
            .to_owned();
        let peers_venv = match env::var_os(PEERS_VENV_VAR).filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => home_dir()?.join(".cache/rolehop/peers-venv"),
        };
        Ok(Self { root, peers_venv })
    }

    /// Where cargo puts what it builds, as cargo itself says (`cargo metadata`): it
    /// honours `CARGO_TARGET_DIR` and `build.target-dir`, as the Tauri bundler does.
    pub fn target_dir(&self) -> Result<PathBuf> {
        target_dir_of(self.cargo())
    }

    /// The file that pins the Python peers.
    pub fn peers_requirements(&self) -> PathBuf {
        self.root.join("tests/peers-requirements.txt")
    }

    /// `cargo`, the same one that runs this xtask, in the repository root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.current_dir(&self.root);
        command
    }

    /// `cargo` with the test peers reachable: the venv's `bin/` first on PATH and
    /// ROLEHOP_PEERS_VENV set, as the e2e suites and benches expect.
    pub fn cargo_with_peers(&self) -> Result<Command> {
        let mut command = self.cargo();
        command
            .env("PATH", self.path_with_peers()?)
            .env(PEERS_VENV_VAR, &self.peers_venv);
        Ok(command)
    }

    fn path_with_peers(&self) -> Result<OsString> {
        let current = env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(self.peers_venv.join("bin")).chain(env::split_paths(&current));
        env::join_paths(paths).context("PATH contains an entry that cannot be joined")
    }
}

fn home_dir() -> Result<PathBuf> {
    env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .context("HOME is not set; set it or ROLEHOP_PEERS_VENV")
}

/// The target directory `cargo metadata` names, run as `cargo` is set up.
fn target_dir_of(mut cargo: Command) -> Result<PathBuf> {
    let out = cargo
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("cannot run cargo metadata")?;
    anyhow::ensure!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata's answer")?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata names no target_directory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_directory_is_cargos_own_including_cargo_target_dir() {
        let repo = Repo::locate().unwrap();
        let elsewhere = std::env::temp_dir().join("rolehop-xtask-target-elsewhere");
        let mut cargo = repo.cargo();
        cargo.env("CARGO_TARGET_DIR", &elsewhere);
        assert_eq!(target_dir_of(cargo).unwrap(), elsewhere);
        let mut cargo = repo.cargo();
        cargo.env_remove("CARGO_TARGET_DIR");
        assert_eq!(target_dir_of(cargo).unwrap(), repo.root.join("target"));
    }
}
