//! `rolehop exec SESSION -- COMMAND ...`: run a command with a session's credentials
//! in its environment, and leave with its exit code. With `--server` the command gets a
//! local credentials endpoint instead of keys (see `serve`), and this process serves it
//! until the command exits.

use std::ffi::OsString;
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::Arc;

use rolehop_core::{Engine, SessionView};
use zeroize::Zeroizing;

use crate::args::ExecArgs;
use crate::commands::{Outcome, named_or_picked, serve};
use crate::failure::{Exit, Failure};
use crate::render::rfc3339;

/// Set in the command's environment to the session's name, so a nested `rolehop exec`
/// notices it would mix two sessions' credentials.
pub const EXEC_MARKER: &str = "ROLEHOP_EXEC_SESSION";

/// Variables from the caller's environment that would point the AWS tools elsewhere.
const UNSET: [&str; 3] = ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN"];

/// With `--server`: credentials the caller's environment may hold, which SDKs would
/// take before the endpoint's (static keys) or instead of it (another endpoint).
const UNSET_FOR_SERVER: [&str; 6] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

pub async fn run(engine: &Arc<Engine>, args: ExecArgs) -> Outcome {
    if let Some(outer) = std::env::var_os(EXEC_MARKER).filter(|_| !args.force) {
        return Err(Failure::new(
            Exit::Conflict,
            format!(
                "already inside `rolehop exec` for session '{}'; pass --force to run a \
                 nested exec with the credentials of '{}' instead",
                outer.to_string_lossy(),
                args.session.as_deref().unwrap_or("the session you pick")
            ),
        ));
    }
    let session = named_or_picked(
        engine,
        args.session,
        "rolehop exec [OPTIONS] <SESSION> -- <COMMAND>...",
    )
    .await?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = Command::new(program);
    command.args(rest);
    for var in UNSET {
        command.env_remove(var);
    }
    if args.server {
        return run_served(engine, session, args.mfa_code, args.port, command, program).await;
    }
    let code = args.mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()));
    // The terminal prompt asks only when standard input is a terminal, and otherwise
    // says to pass --mfa-code.
    let (view, creds) = engine.credentials(&session, code, true).await?;
    note_use(engine, &view).await;

    command
        .env("AWS_ACCESS_KEY_ID", &creds.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.as_str());
    match &creds.session_token {
        Some(token) => command.env("AWS_SESSION_TOKEN", token.as_str()),
        None => command.env_remove("AWS_SESSION_TOKEN"),
    };
    match creds.expiration {
        Some(exp) => command.env("AWS_CREDENTIAL_EXPIRATION", rfc3339(exp)),
        None => command.env_remove("AWS_CREDENTIAL_EXPIRATION"),
    };
    describe_session(&mut command, &view);
    drop(creds);
    // The command replaces this process: what the engine still holds must be saved now.
    engine.flush().await?;
    run_command(command, program)
}

/// Records the use for the picker's order. The command runs even when the workspace
/// cannot be written (the credentials are in hand): only the order is lost, and said.
async fn note_use(engine: &Engine, view: &SessionView) {
    if let Err(e) = engine.note_use(view.session.id).await {
        eprintln!(
            "rolehop: warning: could not record the use of '{}' for the session picker: {e}",
            view.session.name
        );
    }
}

/// The session's name (for nested-exec detection) and region.
fn describe_session(command: &mut Command, view: &SessionView) {
    command.env(EXEC_MARKER, &view.session.name);
    if let Some(region) = &view.effective_region {
        command
            .env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
    }
}

/// `exec --server`: the command runs as a child with the endpoint's two variables and no
/// keys; the endpoint stops when it exits, and its exit code is passed on.
async fn run_served(
    engine: &Arc<Engine>,
    session: String,
    mfa_code: Option<String>,
    port: u16,
    mut command: Command,
    program: &OsString,
) -> Outcome {
    let view = serve::ready(engine, &session, mfa_code).await?;
    note_use(engine, &view).await;
    for var in UNSET_FOR_SERVER {
        command.env_remove(var);
    }
    describe_session(&mut command, &view);
    let endpoint = serve::start(engine, &view, port).await?;
    command.envs(endpoint.environment());
    let spawned = tokio::process::Command::from(command).spawn();
    let status = match spawned {
        Ok(mut child) => wait_forwarding(&mut child).await.map_err(|e| {
            Failure::new(
                Exit::Unexpected,
                format!("lost track of '{}': {e}", program.to_string_lossy()),
            )
        }),
        Err(e) => Err(spawn_failure(program, e)),
    };
    endpoint.stop().await;
    Ok(exit_code(status?))
}

/// Waits for the child. SIGTERM and SIGHUP sent to this process are passed on to it;
/// Ctrl-C reaches it from the terminal directly, and this process keeps serving until
/// the child is gone.
#[cfg(unix)]
async fn wait_forwarding(child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        let forward = tokio::select! {
            status = child.wait() => return status,
            _ = term.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
            _ = int.recv() => continue,
        };
        if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) on our own child's pid, which `wait` has not reaped yet.
            unsafe {
                libc::kill(pid, forward);
            }
        }
    }
}

#[cfg(not(unix))]
async fn wait_forwarding(child: &mut tokio::process::Child) -> std::io::Result<ExitStatus> {
    child.wait().await
}

/// The child's exit code; a child killed by a signal ends this process with 128 + the
/// signal, as shells report it.
fn exit_code(status: ExitStatus) -> ExitCode {
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
    }
    ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(1),
    )
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
    Ok(exit_code(status))
}
