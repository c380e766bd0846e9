//! `rolehop exec SESSION -- COMMAND ...`: run a command with a session's credentials
//! in its environment, and leave with its exit code.

use std::ffi::OsString;
use std::process::Command;
#[cfg(not(unix))]
use std::process::ExitCode;

use rolehop_core::Engine;
use zeroize::Zeroizing;

use crate::args::ExecArgs;
use crate::commands::Outcome;
use crate::failure::{Exit, Failure};
use crate::render::rfc3339;

/// Set in the command's environment to the session's name, so a nested `rolehop exec`
/// notices it would mix two sessions' credentials.
pub const EXEC_MARKER: &str = "ROLEHOP_EXEC_SESSION";

/// Variables from the caller's environment that would point the AWS tools elsewhere.
const UNSET: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

pub async fn run(engine: &Engine, args: ExecArgs) -> Outcome {
    if let Some(outer) = std::env::var_os(EXEC_MARKER).filter(|_| !args.force) {
        return Err(Failure::new(
            Exit::Conflict,
            format!(
                "already inside `rolehop exec` for session '{}'; pass --force to run a \
                 nested exec with the credentials of '{}' instead",
                outer.to_string_lossy(),
                args.session
            ),
        ));
    }
    let code = args.mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()));
    // The terminal prompt asks only when standard input is a terminal, and otherwise
    // says to pass --mfa-code.
    let (view, creds) = engine.credentials(&args.session, code, true).await?;

    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(rest);
    for var in UNSET {
        command.env_remove(var);
    }
    command
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.as_str())
        .env(EXEC_MARKER, &view.session.name);
    match &creds.session_token {
        Some(token) => command.env("AWS_SESSION_TOKEN", token.as_str()),
        None => command.env_remove("AWS_SESSION_TOKEN"),
    };
    match creds.expiration {
        Some(exp) => command.env("AWS_CREDENTIAL_EXPIRATION", rfc3339(exp)),
        None => command.env_remove("AWS_CREDENTIAL_EXPIRATION"),
    };
    if let Some(region) = &view.effective_region {
        command
            .env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
    }
    drop(creds);
    // The command replaces this process: what the engine still holds must be saved now.
    engine.flush().await?;
    run_command(command, program)
}

fn spawn_failure(program: &OsString, e: std::io::Error) -> Failure {
    let name = program.to_string_lossy();
    match e.kind() {
        std::io::ErrorKind::NotFound => Failure::new(
            Exit::CommandNotFound,
            format!("cannot run '{name}': command not found"),
        ),
        _ => Failure::new(Exit::CannotRun, format!("cannot run '{name}': {e}")),
    }
}

/// On Unix the command replaces this process (signals and the exit code are its own);
/// elsewhere it runs as a child whose exit code is passed on.
#[cfg(unix)]
fn run_command(mut command: Command, program: &OsString) -> Outcome {
    use std::os::unix::process::CommandExt;
    let e = command.exec();
    Err(spawn_failure(program, e))
}

#[cfg(not(unix))]
fn run_command(mut command: Command, program: &OsString) -> Outcome {
    let status = command.status().map_err(|e| spawn_failure(program, e))?;
    let code = status.code().unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
