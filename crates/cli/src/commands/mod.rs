//! One module per command group. Each handler translates its arguments into engine
//! calls and renders the result; the rules themselves live in `rolehop-core`.

pub mod console;
pub mod credential_process;
pub mod exec;
pub mod import;
pub mod profile;
pub mod serve;
pub mod session;
pub mod settings;
pub mod sso;
pub mod trust;

use std::process::ExitCode;

use crate::failure::Failure;

/// What every handler returns: the exit code on success, a [`Failure`] otherwise.
pub type Outcome = Result<ExitCode, Failure>;

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
