//! What the CLI asks a person for: MFA codes and access keys, on the terminal without
//! echo, and only when standard input is a terminal. Piped input is read as data;
//! with no terminal and no data, the command fails and says which flag to pass.

use std::io::{BufRead, IsTerminal};

use rolehop_core::AccessKeys;
use rolehop_core::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use zeroize::Zeroizing;

use crate::failure::{Exit, Failure, input_error};

/// Whether a person is at the keyboard (standard input is a terminal).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks for MFA codes on the controlling terminal, without echo; with no terminal,
/// through the desktop app when it runs (see `rolehop_core::agent`).
pub struct TerminalMfaPrompt {
    /// The workspace's runtime directory, where the desktop app listens.
    pub runtime_dir: std::path::PathBuf,
}

impl MfaPrompt for TerminalMfaPrompt {
    fn ask(&self, request: MfaRequest) -> MfaFuture {
        let runtime_dir = self.runtime_dir.clone();
        Box::pin(async move {
            if !interactive() {
                let fallback = format!(
                    "'{}' needs a code from MFA device {} and there is no terminal to ask on; \
                     pass --mfa-code CODE (or keep the Rolehop desktop app running: it asks \
                     for the code)",
                    request.session_name, request.mfa_serial
                );
                return rolehop_core::agent::AgentPrompt::new(runtime_dir, fallback)
                    .ask(request)
                    .await;
            }
            let question = if request.for_session == request.session_name {
                format!(
                    "MFA code for {} ({}): ",
                    request.session_name, request.mfa_serial
                )
            } else {
                format!(
                    "MFA code for {} ({}), to start {}: ",
                    request.session_name, request.mfa_serial, request.for_session
                )
            };
            let answer =
                match tokio::task::spawn_blocking(move || rpassword::prompt_password(question))
                    .await
                {
                    Ok(Ok(answer)) => answer,
                    // Ctrl-C at the prompt: rpassword reads the terminal raw, so it sees
                    // the key and raises SIGINT itself. That is an interruption, not a
                    // cancel: wait for the interrupt guard (`crate::interrupt`) to end the
                    // command, instead of racing it with a failed start.
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                        std::future::pending().await
                    }
                    _ => return Err(MfaError::Cancelled),
                };
            Ok(Zeroizing::new(answer.trim().to_owned()))
        })
    }
}

/// Reads an IAM user's access key id and secret access key: from the terminal without
/// echo, or from standard input, one per line. Never from a flag or the environment.
pub fn read_access_keys() -> Result<AccessKeys, Failure> {
    let (id, secret) = if interactive() {
        let id = rpassword::prompt_password("AWS access key id: ")
            .map_err(|e| input_error("the access key id", e))?;
        let secret = Zeroizing::new(
            rpassword::prompt_password("AWS secret access key: ")
                .map_err(|e| input_error("the secret access key", e))?,
        );
        (id, secret)
    } else {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock();
        let mut id = String::new();
        lines
            .read_line(&mut id)
            .map_err(|e| input_error("the access key id from standard input", e))?;
        let mut secret = Zeroizing::new(String::new());
        lines
            .read_line(&mut secret)
            .map_err(|e| input_error("the secret access key from standard input", e))?;
        (id, secret)
    };
    let id = id.trim().to_owned();
    let secret = Zeroizing::new(secret.trim().to_owned());
    if id.is_empty() || secret.is_empty() {
        return Err(Failure::new(
            Exit::Invalid,
            "access keys: expected the access key id and the secret access key on standard \
             input, one per line (or run on a terminal to be asked for them)",
        ));
    }
    Ok(AccessKeys {
        access_key_id: id,
        secret_access_key: secret,
    })
}
