//! How the app's started sessions reach the AWS files: the one place that picks the
//! engine's [`Delivery`].

use std::path::PathBuf;
use std::sync::Arc;

use rolehop_core::EngineConfig;
use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::delivery::Delivery;

/// The AWS files delivery for this engine's home: temporary keys in the shared
/// credentials file, or `credential_process` lines that run the `rolehop` CLI.
pub fn delivery(config: &EngineConfig) -> Arc<dyn Delivery> {
    let files = AwsFilesConfig::from_env(
        config.home.clone(),
        config.keychain(),
        rolehop_cli(),
    );
    Arc::new(AwsFilesDelivery::new(files))
}

/// The `rolehop` CLI that `credential_process` lines run: `$ROLEHOP_CLI`, else the one
/// installed next to this app, else `rolehop` from the PATH.
fn rolehop_cli() -> PathBuf {
    if let Some(cli) = std::env::var_os("ROLEHOP_CLI").filter(|v| !v.is_empty()) {
        return PathBuf::from(cli);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("rolehop")))
        .filter(|cli| cli.exists())
        .unwrap_or_else(|| PathBuf::from("rolehop"))
}
