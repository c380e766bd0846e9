//! A throw-away home for one test: workspace, AWS files and keychain service name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rolehop_core::EngineConfig;
use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::keychain::Keychain;
use tempfile::TempDir;

use crate::error::{PeerError, Result};

/// One temporary directory holding everything a test's Rolehop would touch, and a
/// keychain service name no other test uses. Removed on drop.
///
/// Layout: `rolehop/` (ROLEHOP_HOME), `aws/config`, `aws/credentials` (not created:
/// a test writes them or lets Rolehop create them), `home/` (HOME for children).
pub struct TestHome {
    dir: TempDir,
    keychain_service: String,
}

impl TestHome {
    pub fn new() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("rolehop-home-")
            .tempdir()
            .map_err(PeerError::io("creating a test home"))?;
        for sub in ["rolehop", "aws", "home"] {
            fs::create_dir_all(dir.path().join(sub))
                .map_err(PeerError::io(format!("creating {sub}/")))?;
        }
        // Rolehop's state directory as Rolehop itself makes it: the user's, 0700 (a
        // wider one is tightened with a warning, which would add a line to every
        // command's stderr).
        fs::set_permissions(
            dir.path().join("rolehop"),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .map_err(PeerError::io("making rolehop/ 0700"))?;
        Ok(Self {
            dir,
            keychain_service: format!("rolehop-test-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// The temporary directory itself.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The workspace directory, for `ROLEHOP_HOME`.
    pub fn rolehop_home(&self) -> PathBuf {
        self.root().join("rolehop")
    }

    /// The AWS config file, for `AWS_CONFIG_FILE`.
    pub fn aws_config_file(&self) -> PathBuf {
        self.root().join("aws/config")
    }

    /// The shared credentials file, for `AWS_SHARED_CREDENTIALS_FILE`.
    pub fn aws_credentials_file(&self) -> PathBuf {
        self.root().join("aws/credentials")
    }

    /// A keychain service name unique to this test (`rolehop-test-<uuid>`).
    pub fn keychain_service(&self) -> &str {
        &self.keychain_service
    }

    /// `ROLEHOP_HOME`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` and `HOME`,
    /// for a child process (the Rolehop CLI, the AWS CLI).
    pub fn env(&self) -> Vec<(String, String)> {
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("ROLEHOP_HOME".to_owned(), path(self.rolehop_home())),
            ("AWS_CONFIG_FILE".to_owned(), path(self.aws_config_file())),
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_owned(),
                path(self.aws_credentials_file()),
            ),
            ("HOME".to_owned(), path(self.root().join("home"))),
        ]
    }

    /// An engine's settings for this home: its workspace and keychain service, STS at
    /// `sts_endpoint` (`None`: wherever the engine resolves it, `AWS_ENDPOINT_URL_STS`
    /// or AWS's own), MFA prompts given up after `mfa_timeout`.
    pub fn engine_config(
        &self,
        sts_endpoint: Option<String>,
        mfa_timeout: Duration,
    ) -> EngineConfig {
        EngineConfig {
            home: self.rolehop_home(),
            keychain_service: self.keychain_service.clone(),
            keychain_store: Default::default(),
            sts_endpoint,
            mfa_timeout,
        }
    }

    /// The AWS files delivery on this home's files, ledger and keychain service, naming
    /// `rolehop_binary` in the `credential_process` lines it writes.
    pub fn aws_files_delivery(&self, rolehop_binary: impl Into<PathBuf>) -> AwsFilesDelivery {
        AwsFilesDelivery::new(AwsFilesConfig {
            credentials_file: self.aws_credentials_file(),
            config_file: self.aws_config_file(),
            state_dir: self.rolehop_home(),
            keychain: Keychain::new(self.keychain_service()),
            rolehop_binary: rolehop_binary.into(),
        })
    }

    /// Writes the AWS config file (a fixture, byte for byte).
    pub fn write_aws_config(&self, text: &str) -> io::Result<()> {
        fs::write(self.aws_config_file(), text)
    }

    /// Writes the shared credentials file (a fixture, byte for byte).
    pub fn write_aws_credentials(&self, text: &str) -> io::Result<()> {
        fs::write(self.aws_credentials_file(), text)
    }

    /// The AWS config file's text.
    pub fn read_aws_config(&self) -> io::Result<String> {
        fs::read_to_string(self.aws_config_file())
    }

    /// The shared credentials file's text.
    pub fn read_aws_credentials(&self) -> io::Result<String> {
        fs::read_to_string(self.aws_credentials_file())
    }
}

impl std::fmt::Debug for TestHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHome")
            .field("root", &self.root())
            .field("keychain_service", &self.keychain_service)
            .finish()
    }
}
