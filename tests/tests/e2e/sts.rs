//! What the suites that run Rolehop's engine against STS through the fault proxy share
//! (their peers and runtime are [`crate::engine`]'s): an engine delivering to the test
//! home's AWS files, and the byte-for-byte check of the user's files.

use std::sync::Arc;
use std::time::Duration;

use rolehop_core::mfa::MfaError;
use rolehop_core::{Engine, NewIamUser};
use rolehop_e2e::Peers;

use crate::engine::CountingPrompt;

pub const USER_CONFIG: &str = "# mine\n[profile mine]\nregion = eu-west-1\n";
pub const USER_CREDENTIALS: &str =
    "[mine]\naws_access_key_id = AKIAUSEROWNKEY000000\naws_secret_access_key = users-own\n";

/// No session in these suites has MFA: a prompt is counted (a suite asserts none) and
/// cancelled.
pub fn no_prompt() -> Arc<CountingPrompt> {
    CountingPrompt::failing(MfaError::Cancelled)
}

/// An engine whose STS is `endpoint`, delivering to the test home's AWS files, which
/// hold the user's own profile first.
pub async fn open_engine(peers: &Peers, endpoint: String, prompt: Arc<CountingPrompt>) -> Engine {
    let home = peers.home();
    home.write_aws_config(USER_CONFIG).unwrap();
    home.write_aws_credentials(USER_CREDENTIALS).unwrap();
    let config = home.engine_config(Some(endpoint), Duration::from_secs(30));
    let delivery = home.aws_files_delivery("rolehop");
    Engine::builder(config, prompt)
        .delivery(Arc::new(delivery))
        .open()
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
            user.access_keys(),
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
