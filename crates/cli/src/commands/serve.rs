//! `rolehop serve SESSION`: a session's credentials on a local container credentials
//! endpoint (see `rolehop_core::endpoint`), until Ctrl-C or SIGTERM. `exec --server`
//! starts the same endpoint for the command it runs.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use rolehop_core::endpoint::{CredentialsEndpoint, EndpointError};
use rolehop_core::{Engine, SessionView};
use zeroize::Zeroizing;

use crate::args::{ServeArgs, ServeFormat};
use crate::commands::Outcome;
use crate::failure::{Exit, Failure};

/// Makes sure the session gives credentials now (asking for an MFA code on the terminal
/// if it must, so the endpoint never has to), and gives its view.
pub async fn ready(
    engine: &Engine,
    session: &str,
    mfa_code: Option<String>,
) -> Result<SessionView, Failure> {
    let code = mfa_code.map(|c| Zeroizing::new(c.trim().to_owned()));
    let (view, _creds) = engine.credentials(session, code, true).await?;
    Ok(view)
}

/// Starts the endpoint for `view`'s session (picked by id: a rename meanwhile keeps it).
pub async fn start(
    engine: &Arc<Engine>,
    view: &SessionView,
    port: u16,
) -> Result<CredentialsEndpoint, Failure> {
    CredentialsEndpoint::start(engine.clone(), &view.session.id.to_string(), port)
        .await
        .map_err(|e| {
            let exit = match &e {
                EndpointError::Bind { source, .. }
                    if source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    Exit::Conflict
                }
                _ => Exit::Unexpected,
            };
            Failure::new(exit, e.to_string())
        })
}

pub async fn run(engine: &Arc<Engine>, args: ServeArgs) -> Outcome {
    let view = ready(engine, &args.session, args.mfa_code).await?;
    let endpoint = start(engine, &view, args.port).await?;
    let mut out = std::io::stdout().lock();
    for (name, value) in endpoint.environment() {
        let line = match args.format {
            ServeFormat::Export => format!("export {name}={value}"),
            ServeFormat::Docker => format!("-e {name}={value}"),
        };
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure::new(Exit::Unexpected, format!("cannot print: {e}")))?;
    }
    drop(out);
    eprintln!(
        "rolehop: serving session '{}' on {} until interrupted (Ctrl-C)",
        view.session.name,
        endpoint.url()
    );
    interrupted().await?;
    endpoint.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn interrupted() -> Result<(), Failure> {
    let cannot =
        |e: std::io::Error| Failure::new(Exit::Unexpected, format!("cannot wait for signals: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(cannot)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(cannot),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(cannot)
    }
}
