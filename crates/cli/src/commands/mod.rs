//! One module per command group. Each handler translates its arguments into engine
//! calls and renders the result; the rules themselves live in `rolehop-core`.

pub mod catalog;
pub mod console;
pub mod credential_process;
pub mod exec;
pub mod import;
pub mod keys;
pub mod org;
pub mod profile;
pub mod saml;
pub mod serve;
pub mod session;
pub mod settings;
pub mod sso;
pub mod trust;

use std::process::ExitCode;

use crate::failure::Failure;

/// What every handler returns: the exit code on success, a [`Failure`] otherwise.
pub type Outcome = Result<ExitCode, Failure>;

/// The session a command names, or, when it names none, the one picked on the terminal
/// (see [`crate::picker`]); with no terminal, the usage error naming SESSION.
pub async fn named_or_picked(
    engine: &rolehop_core::Engine,
    session: Option<String>,
    usage: &str,
) -> Result<String, Failure> {
    if let Some(session) = session {
        return Ok(session);
    }
    if !crate::picker::available() {
        return Err(crate::picker::missing_session(usage));
    }
    let sessions = engine.sessions_by_recent_use().await?;
    let picked = tokio::task::spawn_blocking(move || crate::picker::pick(&sessions))
        .await
        .map_err(|e| {
            Failure::new(
                crate::failure::Exit::Unexpected,
                format!("the picker failed: {e}"),
            )
        })??;
    match picked {
        Some(view) => Ok(view.session.id.to_string()),
        None => Err(crate::picker::cancelled()),
    }
}

/// Prints JSON (pretty, for people who pipe it to `jq` and read it too).
pub fn print_json(value: &impl serde::Serialize) -> Outcome {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        Failure::new(
            crate::failure::Exit::Unexpected,
            format!("cannot print JSON: {e}"),
        )
    })?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
