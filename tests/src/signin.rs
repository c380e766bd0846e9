//! The `signin` stand-in (`tests/peers/signin_stand_in.py`) as a test peer: the token
//! endpoint of `aws login` console sessions (CreateOAuth2Token with a DPoP-bound refresh
//! token), which no emulator serves. The `login_session_peer` part of the
//! `cli_login_session` suite proves it with botocore's own `LoginProvider` and the AWS
//! CLI reading the same profile.
//!
//! [`SigninStandIn::sign_in`] plays `aws login` finishing in the browser: it writes the
//! token file the AWS CLI would (`~/.aws/login/cache/<sha256 of the ARN>.json`) and
//! the profile's `login_session` line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::daemon::Daemon;
use crate::error::{PeerError, Result};
use crate::python::clean_command;
use crate::stand_in;

/// A running stand-in on a free loopback port. Killed and reaped on drop.
pub struct SigninStandIn {
    daemon: Daemon,
    addr: SocketAddr,
    _dir: TempDir,
}

impl SigninStandIn {
    pub fn start() -> Result<Self> {
        let (mut command, dir) = clean_command("python")?;
        let log = dir.path().join("signin.log");
        command
            .arg("-u")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers/signin_stand_in.py"))
            .args(["--host", "127.0.0.1", "--port", "0"])
            .current_dir(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let mut daemon = Daemon::spawn("signin_stand_in.py", &mut command, &log)?;
        let addr = stand_in::wait_ready(&mut daemon, &log, "signin_stand_in.py")?;
        Ok(Self {
            daemon,
            addr,
            _dir: dir,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `AWS_ENDPOINT_URL_SIGNIN` at the stand-in (botocore, aws-config and Rolehop all
    /// read it).
    pub fn endpoint_env(&self) -> (String, String) {
        ("AWS_ENDPOINT_URL_SIGNIN".to_owned(), self.endpoint())
    }

    /// A console sign-in of `session_arn` in `account_id` as `aws login` finishes it:
    /// the token (its credentials good for `ttl`) written to `home`'s
    /// `.aws/login/cache/<sha256 of the ARN>.json`, mode 0600 as the AWS CLI writes it.
    /// Returns the token and the file.
    pub fn sign_in(
        &self,
        home: &Path,
        session_arn: &str,
        account_id: &str,
        ttl: Duration,
    ) -> Result<(Value, PathBuf)> {
        let token = self.control(
            "login",
            json!({"sessionArn": session_arn, "accountId": account_id,
                   "accessTokenTtl": ttl.as_secs()}),
        )?;
        let dir = home.join(".aws/login/cache");
        std::fs::create_dir_all(&dir).map_err(PeerError::io("creating the login cache"))?;
        let path = dir.join(format!("{}.json", cache_key(session_arn)));
        std::fs::write(&path, token.to_string())
            .map_err(PeerError::io(format!("writing {}", path.display())))?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .map_err(PeerError::io("making the token file 0600"))?;
        Ok((token, path))
    }

    /// Who signs in in the browser from now on: `/v1/authorize` issues codes for a
    /// console session of `session_arn` in `account_id`.
    pub fn set_person(&self, session_arn: &str, account_id: &str) -> Result<()> {
        self.control(
            "person",
            json!({"sessionArn": session_arn, "accountId": account_id}),
        )
        .map(drop)
    }

    /// From now on (`true`) the person refuses in the browser: `/v1/authorize`
    /// redirects with `error=access_denied` and no code.
    pub fn deny_sign_ins(&self, deny: bool) -> Result<()> {
        self.control("deny", json!({ "deny": deny })).map(drop)
    }

    /// The query of each `/v1/authorize` request, in order.
    pub fn authorizations(&self) -> Result<Vec<Value>> {
        let state = self.control("state", json!({}))?;
        Ok(state["authorizations"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Moves the stand-in's clock `seconds` ahead (a code or a proof grows old).
    pub fn shift_clock(&self, seconds: i64) -> Result<()> {
        self.control("shift", json!({ "seconds": seconds }))
            .map(drop)
    }

    /// Lifetime of the credentials each refresh answers from now on.
    pub fn set_access_ttl(&self, ttl: Duration) -> Result<()> {
        self.control("configure", json!({"accessTokenTtl": ttl.as_secs()}))
            .map(drop)
    }

    /// Ends every console session: their refresh tokens are refused from now on.
    pub fn end_sessions(&self) -> Result<()> {
        self.control("end", json!({})).map(drop)
    }

    /// Its verdicts (`accept refresh_token`, `refuse ValidationException
    /// invalid_request`...), in order.
    pub fn decisions(&self) -> Result<Vec<String>> {
        self.state_list("decisions")
    }

    /// The access key ids it handed out, in order (each sign-in's, each refresh's).
    pub fn issued_keys(&self) -> Result<Vec<String>> {
        self.state_list("issuedKeys")
    }

    fn state_list(&self, field: &str) -> Result<Vec<String>> {
        let state = self.control("state", json!({}))?;
        Ok(state[field]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn control(&self, name: &str, body: Value) -> Result<Value> {
        stand_in::control(self.addr, &self.daemon, "the signin stand-in", name, body)
    }
}

/// The token file's name: the SHA-256 of the ARN, hex (botocore's
/// `generate_login_cache_key`).
pub fn cache_key(session_arn: &str) -> String {
    Sha256::digest(session_arn.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
