//! What the suites that run Rolehop's engine against STS through the fault proxy share:
//! the peers (moto, a private gnome-keyring), an engine delivering to the test home's
//! AWS files, and the byte-for-byte check of the user's files.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::keychain::Keychain;
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use rolehop_core::{AccessKeys, Engine, EngineConfig, NewIamUser};
use rolehop_e2e::Peers;
use zeroize::Zeroizing;

pub const USER_CONFIG: &str = "# mine\n[profile mine]\nregion = eu-west-1\n";
pub const USER_CREDENTIALS: &str =
    "[mine]\naws_access_key_id = AKIAUSEROWNKEY000000\naws_secret_access_key = users-own\n";

/// No session in these suites has MFA: a prompt is counted (a suite asserts none) and
/// cancelled.
#[derive(Default)]
pub struct NoPrompt {
    pub asked: AtomicUsize,
}

impl MfaPrompt for NoPrompt {
    fn ask(&self, _: MfaRequest) -> MfaFuture {
        self.asked.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(MfaError::Cancelled) })
    }
}

pub fn peers() -> Peers {
    let peers = Peers::builder()
        .with_moto()
        .with_secret_service()
        .start()
        .expect("peers start");
    // SAFETY: first thing in the test, before any thread exists (nextest runs each test
    // in its own process).
    unsafe { peers.secret_service().export_to_this_process() };
    peers
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An engine whose STS is `endpoint`, delivering to the test home's AWS files, which
/// hold the user's own profile first.
pub async fn open_engine(peers: &Peers, endpoint: String, prompt: Arc<NoPrompt>) -> Engine {
    let home = peers.home();
    home.write_aws_config(USER_CONFIG).unwrap();
    home.write_aws_credentials(USER_CREDENTIALS).unwrap();
    let config = EngineConfig {
        home: home.rolehop_home(),
        keychain_service: home.keychain_service().to_owned(),
        keychain_store: Default::default(),
        sts_endpoint: Some(endpoint),
        mfa_timeout: Duration::from_secs(30),
    };
    let delivery = AwsFilesDelivery::new(AwsFilesConfig {
        credentials_file: home.aws_credentials_file(),
        config_file: home.aws_config_file(),
        state_dir: home.rolehop_home(),
        keychain: Keychain::new(home.keychain_service()),
        rolehop_binary: PathBuf::from("rolehop"),
    });
    Engine::open(config, prompt, Arc::new(delivery))
        .await
        .expect("engine opens")
}

/// Adds IAM user `name` (profile `<name>-identity`) with keys moto made for it.
pub async fn add_user(engine: &Engine, peers: &Peers, name: &str) {
    let user = peers.moto().create_user(name).unwrap();
    engine
        .add_iam_user(
            NewIamUser {
                name: name.into(),
                profile: format!("{name}-identity"),
                region: Some("us-east-1".into()),
                ..Default::default()
            },
            AccessKeys {
                access_key_id: user.access_key_id,
                secret_access_key: Zeroizing::new(user.secret_access_key),
            },
        )
        .await
        .unwrap();
}

/// The user's AWS files as bytes.
pub fn aws_files(peers: &Peers) -> Vec<u8> {
    let mut bytes = std::fs::read(peers.home().aws_config_file()).unwrap();
    bytes.extend(std::fs::read(peers.home().aws_credentials_file()).unwrap());
    bytes
}

/// How many bytes differ between two snapshots (a length change counts in full).
pub fn bytes_changed(before: &[u8], after: &[u8]) -> usize {
    let differing = before.iter().zip(after).filter(|(a, b)| a != b).count();
    differing + before.len().abs_diff(after.len())
}
