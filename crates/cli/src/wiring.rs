//! Opening the engine the way each command needs it: with the terminal MFA prompt, and
//! with the AWS files delivery for commands that start and stop sessions, or with no
//! delivery for the ones that only read credentials (`exec`, `credential-process`).
//! The wiring itself is the core's ([`Engine::builder`]).

use std::sync::Arc;

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
    let prompt = Arc::new(TerminalMfaPrompt {
        runtime_dir: config.runtime_dir(),
    });
    let builder = Engine::builder(config, prompt);
    let builder = match files {
        // `credential_process` lines run this very binary.
        Files::Deliver => builder.aws_files(Some(this_binary()?)),
        Files::Untouched => builder,
    };
    Ok(builder.open().await?)
}

fn this_binary() -> Result<std::path::PathBuf, Failure> {
    std::env::current_exe().map_err(|e| {
        Failure::new(
            Exit::Unexpected,
            format!("cannot tell where the rolehop binary is (for credential_process lines): {e}"),
        )
    })
}
