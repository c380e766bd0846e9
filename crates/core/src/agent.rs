//! Asking through the desktop app: a process with no terminal to prompt on (a
//! `credential-process` run by Terraform, the endpoint of `exec --server`) asks the
//! running desktop app for an MFA code over a local channel, and the app shows its MFA
//! dialog. [`AgentServer`] is the app's half, [`AgentPrompt`] the asking half (an
//! [`MfaPrompt`] like any other).
//!
//! # Who can connect, and why nothing else can
//!
//! The channel hands out MFA codes, so it answers only this user's Rolehop processes:
//!
//! - **Where**: a Unix socket `agent.sock` in the workspace's runtime directory
//!   (`<ROLEHOP_HOME>/run/`), which is checked to be the user's and 0700 before use
//!   ([`crate::durable::private_dir`]); the socket itself is 0600. Other users cannot
//!   even reach the socket's name.
//! - **Who**: the server reads the connecting process's uid from the kernel
//!   (`SO_PEERCRED`) and refuses any uid but its own; the client checks the server's uid
//!   the same way before sending anything.
//! - **Proof**: each launch of the app draws a fresh secret (32 random bytes from the
//!   OS) and writes it to `agent.secret` (0600) next to the socket. A request must carry
//!   it; the server compares it in constant time. A process of the same user that cannot
//!   read the file (a sandbox given the socket only) is refused.
//!
//! A refused connection is logged (uid, reason) without the secret it offered.
//!
//! # The protocol
//!
//! One request, one answer, each a frame: a 4-byte big-endian length, then that many
//! bytes of JSON (at most [`MAX_FRAME`]). The request ([`Ask`]) carries the secret and
//! the [`MfaRequest`] (the MFA device ARN and session names: nothing secret); the answer
//! ([`Answer`]) carries the code, or why there is none. The client closing its end
//! (its own timeout, Ctrl-C) withdraws the request: the dialog closes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use zeroize::Zeroizing;

use crate::durable::{self, NEW_FILE_MODE};
use crate::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};

/// The socket's file name in the runtime directory.
pub const SOCKET: &str = "agent.sock";
/// The secret's file name in the runtime directory.
pub const SECRET: &str = "agent.secret";
/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024;
/// How long a connection may take to send its request.
const REQUEST_WITHIN: Duration = Duration::from_secs(5);

/// A request: the launch's secret and what to ask for.
#[derive(Serialize, Deserialize)]
pub struct Ask {
    pub secret: String,
    pub request: MfaRequest,
}

impl std::fmt::Debug for Ask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask")
            .field("secret", &"<redacted>")
            .field("request", &self.request)
            .finish()
    }
}

/// The app's answer.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    Code {
        code: String,
    },
    Cancelled,
    Timeout {
        seconds: u64,
    },
    Unavailable {
        message: String,
    },
    /// The secret did not match.
    Refused,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Code { .. } => f.write_str("Code(<redacted>)"),
            Answer::Cancelled => f.write_str("Cancelled"),
            Answer::Timeout { seconds } => write!(f, "Timeout({seconds} s)"),
            Answer::Unavailable { message } => write!(f, "Unavailable({message:?})"),
            Answer::Refused => f.write_str("Refused"),
        }
    }
}

/// Writes `value` as one frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    value: &impl Serialize,
) -> io::Result<()> {
    let body = Zeroizing::new(serde_json::to_vec(value).map_err(io::Error::other)?);
    if body.len() > MAX_FRAME {
        return Err(too_large(body.len()));
    }
    let mut frame = Zeroizing::new(Vec::with_capacity(4 + body.len()));
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    writer.write_all(&frame).await?;
    writer.flush().await
}

/// Reads one frame and decodes it; refuses a frame over [`MAX_FRAME`] before reading it.
pub async fn read_frame<R: AsyncRead + Unpin, T: serde::de::DeserializeOwned>(
    reader: &mut R,
) -> io::Result<T> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(too_large(len));
    }
    let mut body = Zeroizing::new(vec![0u8; len]);
    reader.read_exact(&mut body).await?;
    serde_json::from_slice(&body).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn too_large(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a frame of {len} bytes is over the {MAX_FRAME}-byte limit"),
    )
}

/// Whether `offered` is the launch's secret, in time that does not depend on where
/// they differ.
pub fn secret_matches(offered: &str, secret: &str) -> bool {
    bool::from(offered.as_bytes().ct_eq(secret.as_bytes()))
}

/// Why the app could not open its channel.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot prepare {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("another Rolehop app already answers on {}", .0.display())]
    AlreadyServed(PathBuf),
    #[error("cannot draw the channel's secret: {0}")]
    Random(String),
}

/// The app's half: answers requests on the socket with `prompt` (the MFA dialog).
/// Dropping it stops the server and removes the socket and the secret file.
pub struct AgentServer {
    task: tokio::task::JoinHandle<()>,
    socket: PathBuf,
    secret_file: PathBuf,
}

impl AgentServer {
    /// Opens the channel in runtime directory `dir`; each request waits at most
    /// `timeout` for the dialog's answer.
    pub async fn start(
        dir: PathBuf,
        prompt: Arc<dyn MfaPrompt>,
        timeout: Duration,
    ) -> Result<Self, AgentError> {
        let secret =
            crate::endpoint::random_token().map_err(|e| AgentError::Random(e.to_string()))?;
        let socket = dir.join(SOCKET);
        let secret_file = dir.join(SECRET);
        let listener = {
            let (socket, secret_file, secret) =
                (socket.clone(), secret_file.clone(), secret.clone());
            tokio::task::spawn_blocking(move || prepare(&dir, &socket, &secret_file, &secret))
                .await
                .expect("agent set-up task")?
        };
        let listener = UnixListener::from_std(listener).map_err(|source| AgentError::Io {
            path: socket.clone(),
            source,
        })?;
        let secret: Arc<Zeroizing<String>> = Arc::new(secret);
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(stream, secret.clone(), prompt.clone(), timeout));
                    }
                    Err(e) => {
                        tracing::warn!("the MFA channel could not accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        tracing::info!(socket = %socket.display(), "MFA channel open for Rolehop's command line");
        Ok(Self {
            task,
            socket,
            secret_file,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for AgentServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.secret_file);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Checks the directory, clears a dead app's socket, writes the secret and binds.
fn prepare(
    dir: &Path,
    socket: &Path,
    secret_file: &Path,
    secret: &str,
) -> Result<std::os::unix::net::UnixListener, AgentError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| AgentError::Io { path, source }
    };
    durable::private_dir(dir).map_err(io_err(dir))?;
    match std::fs::symlink_metadata(socket) {
        Ok(meta) if meta.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(socket).is_ok() {
                return Err(AgentError::AlreadyServed(socket.to_owned()));
            }
            // A socket nobody listens on: left by an app that died.
            std::fs::remove_file(socket).map_err(io_err(socket))?;
        }
        Ok(_) => {
            return Err(AgentError::Io {
                path: socket.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "something other than Rolehop's socket is there; remove it",
                ),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(socket)(e)),
    }
    durable::replace(secret_file, secret.as_bytes(), NEW_FILE_MODE).map_err(io_err(secret_file))?;
    let listener = std::os::unix::net::UnixListener::bind(socket).map_err(io_err(socket))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(NEW_FILE_MODE))
        .map_err(io_err(socket))?;
    listener.set_nonblocking(true).map_err(io_err(socket))?;
    Ok(listener)
}

/// One connection: the peer's uid, then its secret, then the dialog.
async fn serve(
    mut stream: UnixStream,
    secret: Arc<Zeroizing<String>>,
    prompt: Arc<dyn MfaPrompt>,
    timeout: Duration,
) {
    let me = crate::durable::trust::current_uid();
    let pid = match stream.peer_cred() {
        Ok(cred) if cred.uid() == me => cred.pid(),
        Ok(cred) => {
            tracing::warn!(
                uid = cred.uid(),
                "refused an MFA request from another user's process"
            );
            return;
        }
        Err(e) => {
            tracing::warn!("refused an MFA request whose sender could not be told: {e}");
            return;
        }
    };
    let ask: Ask = match tokio::time::timeout(REQUEST_WITHIN, read_frame(&mut stream)).await {
        Ok(Ok(ask)) => ask,
        Ok(Err(e)) => {
            tracing::warn!(?pid, "refused an MFA request that could not be read: {e}");
            return;
        }
        Err(_) => {
            tracing::warn!(
                ?pid,
                "refused an MFA connection that sent no request within 5 s"
            );
            return;
        }
    };
    if !secret_matches(&ask.secret, &secret) {
        tracing::warn!(?pid, "refused an MFA request without this launch's secret");
        let _ = write_frame(&mut stream, &Answer::Refused).await;
        return;
    }
    let mut request = ask.request;
    // The dialog keys requests by id: never trust another process to pick a fresh one.
    request.request_id = uuid::Uuid::new_v4();
    tracing::info!(?pid, session = %request.session_name, "MFA code asked for by another Rolehop process");
    let (mut reader, mut writer) = stream.split();
    let mut probe = [0u8; 1];
    let answer = tokio::select! {
        asked = tokio::time::timeout(timeout, prompt.ask(request)) => match asked {
            Ok(Ok(code)) => Answer::Code { code: code.to_string() },
            Ok(Err(MfaError::Cancelled)) => Answer::Cancelled,
            Ok(Err(MfaError::Timeout { seconds })) => Answer::Timeout { seconds },
            Ok(Err(MfaError::Unavailable(message))) => Answer::Unavailable { message },
            Err(_) => Answer::Timeout { seconds: timeout.as_secs() },
        },
        // The asker went away (its own timeout, Ctrl-C): dropping the question closes
        // the dialog.
        _ = reader.read(&mut probe) => return,
    };
    if let Err(e) = write_frame(&mut writer, &answer).await {
        tracing::warn!(?pid, "could not send the MFA answer back: {e}");
    }
}

/// The asking half: asks the desktop app listening in the runtime directory; with no
/// app there, fails with `fallback` (which says what to do instead).
pub struct AgentPrompt {
    dir: PathBuf,
    fallback: String,
}

impl AgentPrompt {
    pub fn new(dir: PathBuf, fallback: String) -> Self {
        Self { dir, fallback }
    }
}

impl MfaPrompt for AgentPrompt {
    fn ask(&self, request: MfaRequest) -> MfaFuture {
        let (dir, fallback) = (self.dir.clone(), self.fallback.clone());
        Box::pin(async move {
            let unavailable = |why: &str| {
                tracing::debug!("the desktop app cannot ask for the MFA code: {why}");
                MfaError::Unavailable(fallback.clone())
            };
            let secret_file = dir.join(SECRET);
            let secret = tokio::task::spawn_blocking(move || {
                durable::read_regular(&secret_file, MAX_FRAME as u64)
            })
            .await
            .expect("secret read task");
            let secret = match secret {
                Ok(Some((bytes, _))) => {
                    Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned())
                }
                Ok(None) => return Err(unavailable("no app is running")),
                Err(e) => return Err(unavailable(&e.to_string())),
            };
            let mut stream = match UnixStream::connect(dir.join(SOCKET)).await {
                Ok(stream) => stream,
                Err(e) => return Err(unavailable(&e.to_string())),
            };
            let me = crate::durable::trust::current_uid();
            match stream.peer_cred() {
                Ok(cred) if cred.uid() == me => {}
                _ => return Err(unavailable("the socket is not served by this user's app")),
            }
            tracing::info!(session = %request.session_name, "asking for the MFA code through the Rolehop desktop app");
            let ask = Ask {
                secret: secret.to_string(),
                request,
            };
            let sent = write_frame(&mut stream, &ask).await;
            drop(Zeroizing::new(ask.secret));
            sent.map_err(|e| unavailable(&e.to_string()))?;
            let answer: Answer = read_frame(&mut stream).await.map_err(|_| {
                MfaError::Unavailable(
                    "the Rolehop desktop app closed while asking for the MFA code".into(),
                )
            })?;
            match answer {
                Answer::Code { code } => Ok(Zeroizing::new(code)),
                Answer::Cancelled => Err(MfaError::Cancelled),
                Answer::Timeout { seconds } => Err(MfaError::Timeout { seconds }),
                Answer::Unavailable { message } => Err(MfaError::Unavailable(message)),
                Answer::Refused => Err(MfaError::Unavailable(format!(
                    "the Rolehop desktop app refused to ask (this launch's secret in {} did \
                     not match); {fallback}",
                    dir.join(SECRET).display()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> MfaRequest {
        MfaRequest {
            request_id: uuid::Uuid::new_v4(),
            session: crate::SessionId::new(),
            session_name: "alice".into(),
            mfa_serial: "arn:aws:iam::123456789012:mfa/alice".into(),
            for_session: "production".into(),
        }
    }

    #[tokio::test]
    async fn a_frame_is_a_big_endian_length_then_json() {
        let mut wire = Vec::new();
        write_frame(&mut wire, &Answer::Cancelled).await.unwrap();
        let body = br#"{"answer":"cancelled"}"#;
        assert_eq!(&wire[..4], &(body.len() as u32).to_be_bytes());
        assert_eq!(&wire[4..], body);
        let back: Answer = read_frame(&mut wire.as_slice()).await.unwrap();
        assert_eq!(back, Answer::Cancelled);
    }

    #[tokio::test]
    async fn a_request_round_trips_through_a_frame() {
        let ask = Ask {
            secret: "s".repeat(64),
            request: request(),
        };
        let mut wire = Vec::new();
        write_frame(&mut wire, &ask).await.unwrap();
        let back: Ask = read_frame(&mut wire.as_slice()).await.unwrap();
        assert_eq!(back.request, ask.request);
        assert_eq!(back.secret, ask.secret);
        assert!(
            !format!("{back:?}").contains("sss"),
            "the secret shows in Debug"
        );
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_refused_before_it_is_read() {
        let mut wire = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
        wire.extend_from_slice(b"{}");
        let err = read_frame::<_, Answer>(&mut wire.as_slice())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[tokio::test]
    async fn a_cut_off_or_garbled_frame_is_an_error() {
        let mut cut = 10u32.to_be_bytes().to_vec();
        cut.extend_from_slice(b"{\"an");
        assert!(read_frame::<_, Answer>(&mut cut.as_slice()).await.is_err());
        let mut garbled = 3u32.to_be_bytes().to_vec();
        garbled.extend_from_slice(b"xyz");
        let err = read_frame::<_, Answer>(&mut garbled.as_slice())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn only_the_exact_secret_matches() {
        let secret = "ab".repeat(32);
        assert!(secret_matches(&secret, &secret));
        assert!(!secret_matches("", &secret));
        assert!(!secret_matches(&secret[..63], &secret));
        assert!(!secret_matches(&format!("{secret}0"), &secret));
        assert!(!secret_matches(
            &"ab".repeat(31).replace("ab", "ba"),
            &secret
        ));
    }

    #[tokio::test]
    async fn the_server_answers_only_a_request_carrying_its_secret() {
        use std::os::unix::fs::PermissionsExt;
        // The in-process "dialog": a code given up front (the desktop suite drives the
        // real one).
        let prompt = Arc::new(crate::mfa::OneCode::new(
            Zeroizing::new("123456".into()),
            Arc::new(crate::mfa::NoPrompt("no second code".into())),
        ));
        let home = tempfile::tempdir().unwrap();
        let run = home.path().join("run");
        let server = AgentServer::start(run.clone(), prompt, Duration::from_secs(5))
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&run), 0o700);
        assert_eq!(mode(&run.join(SOCKET)), 0o600);
        assert_eq!(mode(&run.join(SECRET)), 0o600);

        let mut wrong = UnixStream::connect(server.socket()).await.unwrap();
        let ask = Ask {
            secret: "0".repeat(64),
            request: request(),
        };
        write_frame(&mut wrong, &ask).await.unwrap();
        let refused: Answer = read_frame(&mut wrong).await.unwrap();
        assert_eq!(refused, Answer::Refused);

        let asker = AgentPrompt::new(run.clone(), "no app".into());
        let code = asker.ask(request()).await.unwrap();
        assert_eq!(code.as_str(), "123456");

        drop(server);
        assert!(!run.join(SOCKET).exists() && !run.join(SECRET).exists());
        let err = asker.ask(request()).await.unwrap_err();
        assert_eq!(err, MfaError::Unavailable("no app".into()));
    }

    #[test]
    fn a_code_never_shows_in_debug() {
        let answer = Answer::Code {
            code: "123456".into(),
        };
        assert!(!format!("{answer:?}").contains("123456"));
    }
}
