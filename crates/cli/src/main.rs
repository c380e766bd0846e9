//! `rolehop`: the command line on Rolehop's engine. It parses, calls the engine and
//! renders; every rule lives in `rolehop-core`. See `rolehop --help` and README.md.

mod args;
mod commands;
mod complete;
mod failure;
mod interrupt;
mod logs;
mod picker;
mod prompt;
mod render;
mod role_picker;
mod wiring;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use rolehop_core::Engine;
use rolehop_core::import::ImportOptions;

use crate::args::{Cli, Command, ImportCommand, SamlCommand};
use crate::commands::Outcome;
use crate::failure::{Exit, Failure};
use crate::wiring::{Files, open_engine};

fn main() -> ExitCode {
    quiet_failures();
    // Before anything writes to stdout: a completion request is answered and exits here.
    complete::answer_if_asked(<Cli as clap::CommandFactory>::command);
    let cli = Cli::parse();
    logs::install(cli.verbose);
    if let Command::Completions { shell } = cli.command {
        return match complete::write_script(shell, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                Failure::new(Exit::Unexpected, format!("cannot print the script: {e}")).report()
            }
        };
    }
    // One thread is plenty for one command; the engine's keychain and file work goes to
    // tokio's blocking pool either way.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Failure::new(Exit::Unexpected, format!("cannot start: {e}")).report();
        }
    };
    let code = match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    };
    // A prompt interrupted by Ctrl-C still blocks a thread on the terminal: don't wait.
    runtime.shutdown_background();
    code
}

async fn run(command: Command) -> Outcome {
    // `exec`, `credential-process` and `trust` only read credentials: they never write
    // the AWS files.
    let files = match &command {
        Command::Exec(_)
        | Command::CredentialProcess { .. }
        | Command::Trust(_)
        | Command::Saml(SamlCommand::Roles { .. })
        | Command::Serve(_)
        | Command::Console(_) => Files::Untouched,
        _ => Files::Deliver,
    };
    // Shared: the credentials endpoint answers from tasks of its own.
    let engine = Arc::new(open_engine(files).await?);
    // Ctrl-C must end a start in flight cleanly. `credential-process` never prompts and
    // writes nothing, and `serve` / `exec --server` handle their signals themselves
    // (the endpoint lives as long as its child): those are left unguarded.
    let guarded = match &command {
        Command::CredentialProcess { .. } | Command::Serve(_) => false,
        Command::Exec(exec) => !exec.server,
        _ => true,
    };
    let outcome = if guarded {
        interrupt::guard(&engine, dispatch(&engine, command)).await
    } else {
        dispatch(&engine, command).await
    };
    // A failed start still records the failure on its session: save it either way.
    let flushed = engine.flush().await;
    let code = outcome?;
    flushed?;
    Ok(code)
}

async fn dispatch(engine: &Arc<Engine>, command: Command) -> Outcome {
    match command {
        Command::Profile(c) => commands::profile::run(engine, c).await,
        Command::Session(c) => commands::session::run(engine, c).await,
        Command::CredentialProcess { session } => {
            commands::credential_process::run(engine, &session).await
        }
        Command::Exec(args) => commands::exec::run(engine, args).await,
        Command::Serve(args) => commands::serve::run(engine, args).await,
        Command::Console(args) => commands::console::run(engine, args).await,
        Command::Import(ImportCommand::AwsConfig {
            import_keys,
            remove_keys,
            dry_run,
            json,
        }) => {
            let options = ImportOptions {
                import_keys,
                remove_keys,
                dry_run,
            };
            commands::import::run(engine, options, json).await
        }
        Command::Settings(c) => commands::settings::run(engine, c).await,
        Command::Trust(c) => commands::trust::run(engine, c).await,
        Command::Org(c) => commands::org::run(engine, c).await,
        Command::Sso(c) => commands::sso::run(engine, c).await,
        Command::Saml(c) => commands::saml::run(engine, c).await,
        Command::Catalog(c) => commands::catalog::run(engine, c).await,
        Command::Completions { .. } => unreachable!("handled before the runtime starts"),
    }
}

/// Failures a user should never see as a stack trace: a closed pipe (`rolehop session
/// list | head`) ends the process quietly, as it does for every Unix tool, and a bug
/// prints one line asking for a report.
fn quiet_failures() {
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "rolehop: internal error{location}; please report it (nothing secret is in this message)"
        );
    }));
}
