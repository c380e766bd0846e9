//! `rolehop serve SESSION`: a session's credentials on a local container credentials
//! endpoint (see `rolehop_core::endpoint`), until Ctrl-C or SIGTERM. `exec --server`
//! starts the same endpoint for the command it runs.

use std::io::Write;
use std::path::{Path, PathBuf};
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
    let interrupt = Interrupt::listen()?;
    let endpoint = start(engine, &view, args.port).await?;
    let variables = endpoint.environment();
    // Held until serving ends: the file goes with it.
    let mut env_file = None;
    let lines = match args.format {
        ServeFormat::Export => variables
            .iter()
            .map(|(name, value)| Zeroizing::new(format!("export {name}={value}")))
            .collect(),
        ServeFormat::Docker => {
            let file = EnvFile::create(&engine.config().runtime_dir(), &variables)?;
            let flag = Zeroizing::new(format!("--env-file {}", file.0.display()));
            env_file = Some(file);
            vec![flag]
        }
    };
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{}", line.as_str())
            .and_then(|()| out.flush())
            .map_err(|e| Failure::new(Exit::Unexpected, format!("cannot print: {e}")))?;
    }
    drop(out);
    eprintln!(
        "rolehop: serving session '{}' on {} until interrupted (Ctrl-C)",
        view.session.name,
        endpoint.url()
    );
    interrupt.wait().await?;
    endpoint.stop().await;
    drop(env_file);
    Ok(ExitCode::SUCCESS)
}

/// The `docker run --env-file` file of one `serve`: the endpoint's variables, in
/// Rolehop's runtime directory (0700), readable by the user alone (0600), removed when
/// the value is dropped (serving ended, or an error on the way).
struct EnvFile(PathBuf);

impl EnvFile {
    fn create(dir: &Path, variables: &[(&str, String)]) -> Result<Self, Failure> {
        let cannot = |e: std::io::Error| {
            Failure::new(
                Exit::Unexpected,
                format!("cannot write the env file in {}: {e}", dir.display()),
            )
        };
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(cannot)?;
        let path = dir.join(format!("serve-{}.env", std::process::id()));
        // A file of a dead process with this pid: not ours to append to.
        let _ = std::fs::remove_file(&path);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(cannot)?;
        let created = Self(path);
        let text = Zeroizing::new(
            variables
                .iter()
                .map(|(name, value)| format!("{name}={value}\n"))
                .collect::<String>(),
        );
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(cannot)?;
        Ok(created)
    }
}

impl Drop for EnvFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Ctrl-C (SIGINT) or, on Unix, SIGTERM, listened for from its making: a signal that
/// comes while the variables are printed ends `serve` cleanly too.
struct Interrupt {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Interrupt {
    fn listen() -> Result<Self, Failure> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let term = signal(SignalKind::terminate()).map_err(cannot_wait)?;
            let int = signal(SignalKind::interrupt()).map_err(cannot_wait)?;
            Ok(Self { term, int })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    async fn wait(mut self) -> Result<(), Failure> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => Ok(()),
                _ = self.term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.map_err(cannot_wait)
        }
    }
}

fn cannot_wait(e: std::io::Error) -> Failure {
    Failure::new(Exit::Unexpected, format!("cannot wait for signals: {e}"))
}
