//! `sso login --export-token` (off by default): a copy of the portal's access token in
//! the AWS CLI's own SSO cache, for tools that read that cache rather than a profile's
//! credentials (some IDE toolkits; the AWS CLI and SDKs with an `sso_session` profile).
//!
//! The file is the AWS CLI's: `~/.aws/sso/cache/<sha1 of the session name>.json`
//! (botocore's `SSOTokenLoader` key; an integration's name is its `[sso-session NAME]`),
//! written 0600 with the fields the AWS CLI writes: `startUrl`, `region`,
//! `accessToken`, `expiresAt` (`%Y-%m-%dT%H:%M:%SZ`). It holds no refresh token and
//! no client secret: those stay in the keychain, so a tool reading the file cannot
//! spend Rolehop's refresh token (refresh tokens rotate), and the bearer token on disk
//! dies at its expiry. When Rolehop refreshes the token it rewrites the file it wrote;
//! logout and removal delete it. A file whose token is not Rolehop's (the AWS CLI's
//! own login) is never rewritten nor deleted.

use std::io;
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::durable;

use super::integration::Integration;
use super::portal::PortalToken;

/// A cache file is a few hundred bytes; anything larger is not one.
const MAX_CACHE_FILE: u64 = 64 * 1024;

/// The AWS CLI's SSO token cache directory.
#[derive(Debug, Clone)]
pub struct AwsCliTokenCache {
    dir: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheFile {
    start_url: String,
    region: String,
    #[serde(with = "rolehop_model::credentials::zeroizing_string")]
    access_token: Zeroizing<String>,
    expires_at: String,
}

impl AwsCliTokenCache {
    /// `~/.aws/sso/cache`, as the AWS CLI finds it (`~` is `$HOME`).
    pub fn in_home() -> io::Result<Self> {
        let home = dirs::home_dir()
            .ok_or_else(|| io::Error::other("no home directory to find ~/.aws/sso/cache in"))?;
        Ok(Self::at(home.join(".aws").join("sso").join("cache")))
    }

    pub fn at(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// `<dir>/<sha1 hex of session name>.json`.
    pub fn path(&self, session_name: &str) -> PathBuf {
        let key = Sha1::digest(session_name.as_bytes());
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.json"))
    }

    /// Writes `token` for `i` (0600, atomically); gives the file's path.
    pub fn write(&self, i: &Integration, token: &PortalToken) -> io::Result<PathBuf> {
        durable::trust::create_missing_dir(&self.dir)?;
        let path = self.path(&i.name);
        let file = CacheFile {
            start_url: i.start_url.clone(),
            region: i.region.clone(),
            access_token: token.access_token.clone(),
            expires_at: token.expires_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        };
        let json = Zeroizing::new(serde_json::to_vec(&file).map_err(io::Error::other)?);
        durable::replace(&path, &json, 0o600)?;
        Ok(path)
    }

    /// Whether `session_name`'s file holds `access_token` (it is Rolehop's copy).
    fn holds(&self, path: &Path, access_token: &str) -> io::Result<bool> {
        let Some((bytes, _)) = durable::read_regular(path, MAX_CACHE_FILE)? else {
            return Ok(false);
        };
        Ok(serde_json::from_slice::<CacheFile>(&bytes)
            .is_ok_and(|f| f.access_token.as_str() == access_token))
    }

    /// Rewrites `i`'s file with `fresh` if it holds `old` (Rolehop exported it).
    pub fn refresh(&self, i: &Integration, old: &str, fresh: &PortalToken) -> io::Result<()> {
        if self.holds(&self.path(&i.name), old)? {
            self.write(i, fresh)?;
        }
        Ok(())
    }

    /// Deletes `session_name`'s file if it holds `access_token`; says whether it did.
    pub fn remove(&self, session_name: &str, access_token: &str) -> io::Result<bool> {
        let path = self.path(session_name);
        if !self.holds(&path, access_token)? {
            return Ok(false);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IntegrationId;

    fn integration() -> Integration {
        Integration {
            id: IntegrationId::new(),
            name: "corp".into(),
            start_url: "https://d-1.awsapps.com/start".into(),
            region: "eu-west-1".into(),
            scopes: vec!["sso:account:access".into()],
            login: Default::default(),
        }
    }

    fn token(access: &str) -> PortalToken {
        PortalToken {
            access_token: Zeroizing::new(access.into()),
            refresh_token: Some(Zeroizing::new("refresh-secret".into())),
            expires_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            flow: Default::default(),
        }
    }

    #[test]
    fn the_file_is_named_and_shaped_as_the_aws_clis_and_holds_no_refresh_token() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AwsCliTokenCache::at(dir.path().join("sso").join("cache"));
        let path = cache.write(&integration(), &token("bearer")).unwrap();
        // hashlib.sha1(b"corp").hexdigest(), as botocore's SSOTokenLoader keys it.
        assert_eq!(
            path.file_name().unwrap(),
            "ee0bfd2552fbd840c02cc48b6e823320543c450f.json"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            r#"{"startUrl":"https://d-1.awsapps.com/start","region":"eu-west-1","accessToken":"bearer","expiresAt":"2027-01-15T08:00:00Z"}"#
        );
        assert!(!text.contains("refresh-secret"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn only_rolehops_own_copy_is_refreshed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = AwsCliTokenCache::at(dir.path().to_owned());
        let i = integration();
        cache.write(&i, &token("mine")).unwrap();
        cache.refresh(&i, "mine", &token("fresh")).unwrap();
        assert!(!cache.remove("corp", "mine").unwrap());
        assert!(cache.path("corp").exists());
        // The AWS CLI's own login replaced it: Rolehop leaves it alone.
        cache.write(&i, &token("the-aws-clis")).unwrap();
        cache.refresh(&i, "fresh", &token("newer")).unwrap();
        assert!(!cache.remove("corp", "fresh").unwrap());
        let text = std::fs::read_to_string(cache.path("corp")).unwrap();
        assert!(text.contains("the-aws-clis"), "{text}");
        assert!(cache.remove("corp", "the-aws-clis").unwrap());
        assert!(!cache.path("corp").exists());
    }
}
