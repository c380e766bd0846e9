//! `rolehop credential-process SESSION`: the AWS `credential_process` contract.
//!
//! The AWS CLI and SDKs run this on every credential refresh, sometimes many times at
//! once, with a terminal that belongs to someone else: so it never prompts on it, writes
//! nothing, and answers from the cached credentials whenever they are still valid (an
//! active session's from the kernel keyring, without opening the keychain). A new MFA
//! code is asked through the desktop app when it runs (`rolehop_core::agent`); another
//! Rolehop process already asking for that code is waited for.

use std::process::ExitCode;

use rolehop_core::Engine;

use crate::commands::Outcome;
use crate::render::credential_process_json;

pub async fn run(engine: &Engine, session: &str) -> Outcome {
    let creds = engine.credential_process(session).await?;
    println!("{}", credential_process_json(&creds));
    Ok(ExitCode::SUCCESS)
}
