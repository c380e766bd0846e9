//! `aws login` console sign-in sessions as sources: where the AWS CLI keeps a session's
//! token (read once, at import, and left as it is) and where Rolehop keeps its own copy
//! (the keychain, `login-token:<session id>`: the refresh token and its DPoP key are
//! secrets). The chain's login hop (`chain.rs`) reads the copy, refreshes it through
//! the `signin` service ([`SigninClient`]) when its credentials run low, and stores the
//! rotated token back before using what it got.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::awsfiles::atomic;
use crate::model::SessionId;

pub use rolehop_aws::signin::{LoginToken, SigninClient};

/// Keychain account holding a console sign-in session's token.
pub fn token_account(id: SessionId) -> String {
    format!("login-token:{id}")
}

/// The AWS CLI's cache of `aws login` tokens: `AWS_LOGIN_CACHE_DIRECTORY` (a leading
/// `~` expanded), else `~/.aws/login/cache`, as botocore and aws-config look for it.
pub fn cache_dir() -> PathBuf {
    let home = dirs::home_dir().unwrap_or_default();
    match std::env::var_os("AWS_LOGIN_CACHE_DIRECTORY").filter(|v| !v.is_empty()) {
        Some(dir) => crate::awsfiles::locate::expand_home(Path::new(&dir), &home),
        None => home.join(".aws").join("login").join("cache"),
    }
}

/// The token file of `login_session` in `dir`: the SHA-256 of the (trimmed) ARN, hex.
pub fn cache_file(dir: &Path, login_session: &str) -> PathBuf {
    let digest = Sha256::digest(login_session.trim().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{hex}.json"))
}

/// The token `aws login` cached for `login_session`; the error says what to do, and
/// never holds a secret.
pub fn read_cached_token(login_session: &str) -> Result<LoginToken, String> {
    let path = cache_file(&cache_dir(), login_session);
    let snapshot = atomic::read(&path)
        .map_err(|e| format!("its token file {} could not be read: {e}", path.display()))?;
    if snapshot.bytes.is_empty() {
        return Err(format!(
            "no token for it in {}; run `aws login --profile <profile>` first",
            path.display()
        ));
    }
    let text = std::str::from_utf8(&snapshot.bytes)
        .map_err(|_| format!("its token file {} is not text", path.display()))?;
    LoginToken::from_json(text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_file_is_named_by_the_sha256_of_the_trimmed_session_arn() {
        // `printf %s ARN | sha256sum`: the name botocore's generate_login_cache_key gives.
        let path = cache_file(Path::new("/c"), " arn:aws:iam::0123456789012:user/Admin\n");
        assert_eq!(
            path,
            Path::new("/c/36db1d138ff460920374e4c3d8e01f53f9f73537e89c88d639f68393df0e2726.json")
        );
    }
}
