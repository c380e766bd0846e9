//! Opening the engine the way each command needs it: with the terminal MFA prompt, and
//! with the AWS files delivery for commands that start and stop sessions, or with no
//! delivery for the ones that only read credentials (`exec`, `credential-process`).

use std::sync::Arc;

use rolehop_core::awsfiles::{AwsFilesConfig, AwsFilesDelivery};
use rolehop_core::delivery::{Delivery, NoDelivery};
use rolehop_core::{Engine, EngineConfig};

use crate::failure::{Exit, Failure};
use crate::prompt::TerminalMfaPrompt;

/// What a command does with the AWS files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// Starting and stopping sessions writes credentials under their profiles.
    Deliver,
    /// Only credentials are read: nothing is written to the AWS files.
    Untouched,
}

pub async fn open_engine(files: Files) -> Result<Engine, Failure> {
    let config = EngineConfig::from_env();
    let delivery: Arc<dyn Delivery> = match files {
        Files::Deliver => aws_files_delivery(&config)?,
        Files::Untouched => Arc::new(NoDelivery),
    };
    let prompt = Arc::new(TerminalMfaPrompt {
        runtime_dir: config.runtime_dir(),
    });
    Ok(Engine::open(config, prompt, delivery).await?)
}

/// The delivery that writes the shared credentials and config files; its
/// `credential_process` lines run this very binary.
fn aws_files_delivery(config: &EngineConfig) -> Result<Arc<dyn Delivery>, Failure> {
    let binary = std::env::current_exe().map_err(|e| {
        Failure::new(
            Exit::Unexpected,
            format!("cannot tell where the rolehop binary is (for credential_process lines): {e}"),
        )
    })?;
    let files = AwsFilesConfig::from_env(config.home.clone(), config.keychain(), binary);
    Ok(Arc::new(AwsFilesDelivery::new(files)))
}
