//! The Python peers: moto, the AWS CLI and boto3, from one venv.
//!
//! `cargo xtask install` creates the venv from `tests/peers-requirements.txt`. The
//! consumers run with a clean environment so that nothing of the user's (`~/.aws`,
//! `AWS_PROFILE`, an SSO cache) leaks into a test: a test passes exactly the variables
//! it means, typically from [`TestHome::env`](crate::TestHome::env) and
//! [`Peers::env`](crate::Peers::env).

use std::env;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

use tempfile::TempDir;

use crate::error::{PeerError, Result};

/// Overrides where the peers venv lives.
pub const PEERS_VENV_VAR: &str = "ROLEHOP_PEERS_VENV";

/// The peers venv: `$ROLEHOP_PEERS_VENV`, else `$HOME/.cache/rolehop/peers-venv`.
pub fn peers_venv() -> PathBuf {
    if let Some(dir) = env::var_os(PEERS_VENV_VAR).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/rolehop/peers-venv")
}

/// A program in the peers venv's `bin/` (`moto_server`, `aws`, `python`).
pub fn venv_bin(name: &str) -> PathBuf {
    peers_venv().join("bin").join(name)
}

/// Runs the venv's `aws` with `args` in a clean environment plus `env`.
///
/// Unless `env` says otherwise, `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`
/// point at files that do not exist and `HOME` at an empty directory, so the CLI sees
/// no configuration but what the test gives it. The exit status is not checked: tests
/// assert on failures too.
pub fn aws_cli<A, K, V>(
    args: impl IntoIterator<Item = A>,
    env: impl IntoIterator<Item = (K, V)>,
) -> Result<Output>
where
    A: AsRef<OsStr>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let (mut command, _home) = clean_command("aws")?;
    command.args(args).envs(env);
    command.output().map_err(PeerError::spawn("aws"))
}

/// Runs `script` with the venv's `python` (boto3 is importable) in the same clean
/// environment as [`aws_cli`], plus `env`. The exit status is not checked.
pub fn python<K, V>(script: &str, env: impl IntoIterator<Item = (K, V)>) -> Result<Output>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let (mut command, _home) = clean_command("python")?;
    command.arg("-c").arg(script).envs(env);
    command.output().map_err(PeerError::spawn("python"))
}

/// Like [`python`], but fails unless the script exits 0, and returns its stdout.
pub(crate) fn python_checked<K, V>(
    what: &str,
    script: &str,
    env: impl IntoIterator<Item = (K, V)>,
) -> Result<String>
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let output = python(script, env)?;
    if !output.status.success() {
        return Err(PeerError::Failed {
            what: what.to_owned(),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A command for a venv program with nothing of the caller's environment but a PATH,
/// and the empty directory that serves as its `HOME` (removed when dropped: the AWS CLI
/// may write caches under `~/.aws/cli`).
pub(crate) fn clean_command(name: &str) -> Result<(Command, TempDir)> {
    let program = venv_bin(name);
    if !program.exists() {
        return Err(PeerError::Missing {
            program: name.to_owned(),
            path: program,
        });
    }
    let home = tempfile::Builder::new()
        .prefix("rolehop-e2e-home-")
        .tempdir()
        .map_err(PeerError::io("creating an empty HOME"))?;
    let mut path = peers_venv().join("bin").into_os_string();
    path.push(":/usr/local/bin:/usr/bin:/bin");
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("LANG", "C.UTF-8")
        .env("AWS_CONFIG_FILE", home.path().join(".aws/config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join(".aws/credentials"),
        )
        // Without credentials, botocore would otherwise probe the EC2 metadata service.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "");
    Ok((command, home))
}
