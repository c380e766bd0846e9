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
//! # What the app agrees to show
//!
//! A request names a session and an MFA device; the app shows it only when its
//! workspace, read at that moment, has that session as an IAM user with that very
//! device, and the session the request is for chains through it. The dialog then shows
//! the workspace's names, not the asker's. Anything else is answered
//! [`Answer::Unavailable`] with why, and no dialog opens. At most one dialog per MFA
//! device is open at a time: up to [`MAX_WAITING_PER_DEVICE`] more requests for it wait
//! their turn (within the same timeout), more are refused; at most [`MAX_CONNECTIONS`]
//! connections are served at once, more are closed as they arrive.
//!
//! # The protocol
//!
//! One request, one answer, each a frame: a 4-byte big-endian length, then that many
//! bytes of JSON (at most [`MAX_FRAME`]). The request ([`Ask`]) carries the secret and
//! the [`MfaRequest`] (the MFA device ARN and session names: nothing secret); the answer
//! ([`Answer`]) carries the code, or why there is none. The client closing its end
//! (its own timeout, Ctrl-C) withdraws the request: the dialog closes.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::Engine;
use crate::app_sign_in::{SignInAnswer, SignInRequest, SignInWindow};
use crate::durable::{self, NEW_FILE_MODE};
use crate::mfa::{MfaError, MfaFuture, MfaPrompt, MfaRequest};
use crate::model::SessionKind;
use crate::workspace::Workspace;

/// The socket's file name in the runtime directory.
pub const SOCKET: &str = "agent.sock";
/// The secret's file name in the runtime directory.
pub const SECRET: &str = "agent.secret";
/// The largest frame either side accepts.
pub const MAX_FRAME: usize = 16 * 1024;
/// How long a connection may take to send its request.
const REQUEST_WITHIN: Duration = Duration::from_secs(5);
/// How many requests for one MFA device may wait while its dialog is open.
pub const MAX_WAITING_PER_DEVICE: usize = 2;
/// The most connections served at once.
pub const MAX_CONNECTIONS: usize = 32;

/// A request: the launch's secret and what to ask for (an MFA code by default; a
/// federated sign-in, [`SignInRequest`]).
#[derive(Serialize, Deserialize)]
pub struct Ask<R = MfaRequest> {
    pub secret: String,
    pub request: R,
}

impl<R: std::fmt::Debug> std::fmt::Debug for Ask<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ask")
            .field("secret", &"<redacted>")
            .field("request", &self.request)
            .finish()
    }
}

/// What a connection may ask: an MFA code, or a federated sign-in in the app's login
/// window ([`crate::app_sign_in`]).
#[derive(Deserialize)]
#[serde(untagged)]
enum Incoming {
    Mfa(Ask),
    SignIn(Ask<SignInRequest>),
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
    /// Opens the channel in runtime directory `dir`; each request is checked against
    /// `engine`'s workspace and waits at most `timeout` (its turn and the dialog's
    /// answer).
    pub async fn start(
        dir: PathBuf,
        engine: Arc<Engine>,
        prompt: Arc<dyn MfaPrompt>,
        timeout: Duration,
    ) -> Result<Self, AgentError> {
        Self::start_with_sign_in(dir, engine, prompt, timeout, None).await
    }

    /// [`AgentServer::start`], also answering federated sign-in requests with
    /// `sign_in` (the desktop's login window), each within `timeout` too.
    pub async fn start_with_sign_in(
        dir: PathBuf,
        engine: Arc<Engine>,
        prompt: Arc<dyn MfaPrompt>,
        timeout: Duration,
        sign_in: Option<Arc<dyn SignInWindow>>,
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
        let channel = Arc::new(Channel {
            secret,
            engine,
            prompt,
            sign_in,
            timeout,
            devices: DeviceTurns::default(),
        });
        let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let Ok(slot) = slots.clone().try_acquire_owned() else {
                            tracing::warn!(
                                "the MFA channel closed a connection: {MAX_CONNECTIONS} are open already"
                            );
                            continue;
                        };
                        let channel = channel.clone();
                        tokio::spawn(async move {
                            channel.serve(stream).await;
                            drop(slot);
                        });
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

/// What every connection shares.
struct Channel {
    secret: Zeroizing<String>,
    engine: Arc<Engine>,
    prompt: Arc<dyn MfaPrompt>,
    sign_in: Option<Arc<dyn SignInWindow>>,
    timeout: Duration,
    devices: DeviceTurns,
}

impl Channel {
    /// One connection: the peer's uid, then its secret, then the workspace's word, then
    /// the device's turn, then the dialog.
    async fn serve(&self, mut stream: UnixStream) {
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
        let incoming = tokio::time::timeout(REQUEST_WITHIN, read_frame(&mut stream)).await;
        let ask: Ask = match incoming {
            Ok(Ok(Incoming::Mfa(ask))) => ask,
            Ok(Ok(Incoming::SignIn(ask))) => return self.serve_sign_in(stream, pid, ask).await,
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
        if !secret_matches(&ask.secret, &self.secret) {
            tracing::warn!(?pid, "refused an MFA request without this launch's secret");
            let _ = write_frame(&mut stream, &Answer::Refused).await;
            return;
        }
        let request = match self.engine.workspace().await {
            Ok(ws) => admitted(&ws, &ask.request),
            Err(e) => Err(format!(
                "the Rolehop desktop app cannot read its workspace to check the request: {e}"
            )),
        };
        let mut request = match request {
            Ok(request) => request,
            Err(why) => {
                tracing::warn!(?pid, "refused an MFA request: {why}");
                let _ = write_frame(&mut stream, &Answer::Unavailable { message: why }).await;
                return;
            }
        };
        // The dialog keys requests by id: never trust another process to pick a fresh one.
        request.request_id = uuid::Uuid::new_v4();
        let Some(place) = self.devices.join(&request.mfa_serial) else {
            let why = format!(
                "the Rolehop desktop app is already asking for the code of MFA device {} and \
                 {MAX_WAITING_PER_DEVICE} more requests for it are waiting; try again once \
                 they are answered",
                request.mfa_serial
            );
            tracing::warn!(?pid, session = %request.session_name, "refused an MFA request: too many for one device");
            let _ = write_frame(&mut stream, &Answer::Unavailable { message: why }).await;
            return;
        };
        tracing::info!(?pid, session = %request.session_name, "MFA code asked for by another Rolehop process");
        let (mut reader, mut writer) = stream.split();
        let mut probe = [0u8; 1];
        let timeout = self.timeout;
        let asked = async {
            let _turn = place.turn().await;
            self.prompt.ask(request).await
        };
        let answer = tokio::select! {
            asked = tokio::time::timeout(timeout, asked) => match asked {
                Ok(Ok(code)) => Answer::Code { code: code.to_string() },
                Ok(Err(MfaError::Cancelled)) => Answer::Cancelled,
                Ok(Err(MfaError::Timeout { seconds })) => Answer::Timeout { seconds },
                Ok(Err(MfaError::Unavailable(message))) => Answer::Unavailable { message },
                Err(_) => Answer::Timeout { seconds: timeout.as_secs() },
            },
            // The asker went away (its own timeout, Ctrl-C): dropping the question closes
            // the dialog, or gives up its turn.
            _ = reader.read(&mut probe) => return,
        };
        if let Err(e) = write_frame(&mut writer, &answer).await {
            tracing::warn!(?pid, "could not send the MFA answer back: {e}");
        }
    }
}

impl Channel {
    /// A federated sign-in request from a checked peer: its secret, then the
    /// workspace's word (a federated start the click would make), then the login
    /// window, whose outcome is the answer. The asker going away closes the window.
    async fn serve_sign_in(
        &self,
        mut stream: UnixStream,
        pid: Option<i32>,
        ask: Ask<SignInRequest>,
    ) {
        if !secret_matches(&ask.secret, &self.secret) {
            tracing::warn!(
                ?pid,
                "refused a sign-in request without this launch's secret"
            );
            let _ = write_frame(&mut stream, &SignInAnswer::Refused).await;
            return;
        }
        let unavailable = |message: String| SignInAnswer::Unavailable { message };
        let wanted = match &self.sign_in {
            None => Err(unavailable(
                "this Rolehop process has no login window to sign in with".into(),
            )),
            Some(window) => match self
                .engine
                .federated_sign_in(ask.request.sign_in.as_str())
                .await
            {
                Ok(Some(sign_in)) => Ok((window.clone(), sign_in)),
                Ok(None) => Err(unavailable(format!(
                    "session '{}' needs no sign-in at an identity provider: it is not \
                     federated, or it is active",
                    ask.request.sign_in
                ))),
                Err(e) => Err(unavailable(e.to_string())),
            },
        };
        let (window, sign_in) = match wanted {
            Ok(found) => found,
            Err(answer) => {
                let _ = write_frame(&mut stream, &answer).await;
                return;
            }
        };
        tracing::info!(?pid, session = %sign_in.session_name, "federated sign-in asked for by another Rolehop process");
        let (mut reader, mut writer) = stream.split();
        let mut probe = [0u8; 1];
        let timeout = self.timeout;
        let answer = tokio::select! {
            outcome = tokio::time::timeout(timeout, window.sign_in_and_start(sign_in)) => match outcome {
                Ok(outcome) => SignInAnswer::from(outcome),
                Err(_) => unavailable(format!(
                    "nobody signed in within {} s; the login window was closed",
                    timeout.as_secs()
                )),
            },
            // The asker went away (Ctrl-C): dropping the sign-in closes the window.
            _ = reader.read(&mut probe) => return,
        };
        if let Err(e) = write_frame(&mut writer, &answer).await {
            tracing::warn!(?pid, "could not send the sign-in's answer back: {e}");
        }
    }
}

/// The request as the app will show it, when `ws` has `asked.session` as an IAM user
/// with MFA device `asked.mfa_serial` and `asked.for_session` names a session whose
/// chain starts at that user; else why not. The names shown are the workspace's.
pub fn admitted(ws: &Workspace, asked: &MfaRequest) -> Result<MfaRequest, String> {
    let refused = |why: String| {
        Err(format!(
            "the Rolehop desktop app refused to ask for an MFA code: {why}"
        ))
    };
    let Some(user) = ws.get(asked.session) else {
        return refused(format!(
            "its workspace has no session with id {}",
            asked.session
        ));
    };
    let user = &user.session;
    let device = match &user.kind {
        SessionKind::IamUser(u) => u.mfa_serial.as_deref(),
        _ => None,
    };
    if device != Some(asked.mfa_serial.as_str()) {
        return refused(format!(
            "session '{}' has no MFA device {} in its workspace",
            user.name, asked.mfa_serial
        ));
    }
    let target = ws
        .sessions
        .iter()
        .map(|s| &s.session)
        .find(|s| s.name == asked.for_session);
    let Some(target) = target.filter(|t| ws.chain(t.id).first().map(|s| s.id) == Some(user.id))
    else {
        return refused(format!(
            "its workspace has no session '{}' reached through '{}'",
            asked.for_session, user.name
        ));
    };
    Ok(MfaRequest {
        request_id: asked.request_id,
        session: user.id,
        session_name: user.name.clone(),
        mfa_serial: asked.mfa_serial.clone(),
        for_session: target.name.clone(),
    })
}

/// Whose turn it is, per MFA device: one dialog open, a few requests waiting.
#[derive(Default)]
struct DeviceTurns(Mutex<HashMap<String, Line>>);

/// One device's line: its turn (one permit) and how many hold a place in it.
struct Line {
    turn: Arc<Semaphore>,
    places: usize,
}

impl DeviceTurns {
    /// A place in `device`'s line; `None` when its dialog is open and
    /// [`MAX_WAITING_PER_DEVICE`] requests wait already.
    fn join(&self, device: &str) -> Option<Place<'_>> {
        let mut lines = self.0.lock().expect("device turns");
        let line = lines.entry(device.to_owned()).or_insert_with(|| Line {
            turn: Arc::new(Semaphore::new(1)),
            places: 0,
        });
        if line.places > MAX_WAITING_PER_DEVICE {
            return None;
        }
        line.places += 1;
        Some(Place {
            turns: self,
            device: device.to_owned(),
            turn: line.turn.clone(),
        })
    }
}

/// A request's place in its device's line, given up when dropped.
struct Place<'a> {
    turns: &'a DeviceTurns,
    device: String,
    turn: Arc<Semaphore>,
}

impl Place<'_> {
    async fn turn(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.turn
            .acquire()
            .await
            .expect("a device's turn is never closed")
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut lines = self.turns.0.lock().expect("device turns");
        if let Some(line) = lines.get_mut(&self.device) {
            line.places -= 1;
            if line.places == 0 {
                lines.remove(&self.device);
            }
        }
    }
}

/// Why the command line got no answer at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoAnswer {
    /// No app listens in this runtime directory (no secret file, nothing on the socket).
    #[error("the Rolehop desktop app is not running")]
    NotRunning,
    #[error("the Rolehop desktop app did not answer: {0}")]
    Broken(String),
}

/// Connects to the app listening in runtime directory `dir`: the launch's secret from
/// its file, and the socket, checked to be served by this user's process.
async fn connect(dir: &Path) -> Result<(UnixStream, Zeroizing<String>), NoAnswer> {
    let secret_file = dir.join(SECRET);
    let secret =
        tokio::task::spawn_blocking(move || durable::read_regular(&secret_file, MAX_FRAME as u64))
            .await
            .expect("secret read task");
    let secret = match secret {
        Ok(Some((bytes, _))) => Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()),
        Ok(None) => return Err(NoAnswer::NotRunning),
        Err(e) => return Err(NoAnswer::Broken(e.to_string())),
    };
    let stream = UnixStream::connect(dir.join(SOCKET))
        .await
        .map_err(|_| NoAnswer::NotRunning)?;
    let me = crate::durable::trust::current_uid();
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == me => Ok((stream, secret)),
        _ => Err(NoAnswer::Broken(
            "the socket is not served by this user's app".into(),
        )),
    }
}

/// Asks the app listening in runtime directory `dir` to sign in and start `session`
/// in its login window ([`crate::app_sign_in`]), and waits for its answer (as long as
/// the person takes, up to the app's timeout). Only the session's name is sent.
pub async fn ask_the_app_to_sign_in(dir: &Path, session: &str) -> Result<SignInAnswer, NoAnswer> {
    let (mut stream, secret) = connect(dir).await?;
    let ask = Ask {
        secret: secret.to_string(),
        request: SignInRequest {
            sign_in: session.to_owned(),
        },
    };
    let sent = write_frame(&mut stream, &ask).await;
    drop(Zeroizing::new(ask.secret));
    sent.map_err(|e| NoAnswer::Broken(e.to_string()))?;
    read_frame(&mut stream)
        .await
        .map_err(|_| NoAnswer::Broken("it closed the connection before answering".into()))
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
            let (mut stream, secret) = match connect(&dir).await {
                Ok(found) => found,
                Err(e) => return Err(unavailable(&e.to_string())),
            };
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

    const ALICE_MFA: &str = "arn:aws:iam::123456789012:mfa/alice";

    /// A workspace with alice (an IAM user with an MFA device) and a role chained from
    /// her, and the request alice's chain would send for that role.
    async fn alice(home: &tempfile::TempDir) -> (Arc<Engine>, MfaRequest) {
        let engine = crate::endpoint::tests::engine_with_user(home, "alice", Some(ALICE_MFA)).await;
        engine
            .add_role(crate::NewRole {
                name: "production".into(),
                profile: "production".into(),
                parent: "alice".into(),
                role_arn: "arn:aws:iam::123456789012:role/Deploy".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let id = engine.session("alice").await.unwrap().session.id;
        let request = MfaRequest {
            request_id: uuid::Uuid::new_v4(),
            session: id,
            session_name: "alice".into(),
            mfa_serial: ALICE_MFA.into(),
            for_session: "production".into(),
        };
        (engine, request)
    }

    /// The in-process "dialog" (the desktop suite drives the real one): records what it
    /// was shown and how many were open at once; each answers "123456" when the test
    /// lets one through.
    struct Dialog {
        shown: Mutex<Vec<MfaRequest>>,
        open: std::sync::atomic::AtomicUsize,
        most_open: std::sync::atomic::AtomicUsize,
        answer: Semaphore,
    }

    impl Default for Dialog {
        fn default() -> Self {
            Self {
                shown: Mutex::default(),
                open: Default::default(),
                most_open: Default::default(),
                answer: Semaphore::new(0),
            }
        }
    }

    #[derive(Clone, Default)]
    struct DialogPrompt(Arc<Dialog>);

    impl DialogPrompt {
        fn answering() -> Self {
            let prompt = Self::default();
            prompt.0.answer.add_permits(1000);
            prompt
        }

        fn shown(&self) -> Vec<MfaRequest> {
            self.0.shown.lock().unwrap().clone()
        }
    }

    impl MfaPrompt for DialogPrompt {
        fn ask(&self, request: MfaRequest) -> MfaFuture {
            use std::sync::atomic::Ordering::SeqCst;
            let dialog = self.0.clone();
            Box::pin(async move {
                dialog.shown.lock().unwrap().push(request);
                let open = dialog.open.fetch_add(1, SeqCst) + 1;
                dialog.most_open.fetch_max(open, SeqCst);
                /// Closes the dialog however the question ends (answered or dropped).
                struct Closed<'a>(&'a Dialog);
                impl Drop for Closed<'_> {
                    fn drop(&mut self) {
                        self.0.open.fetch_sub(1, SeqCst);
                    }
                }
                let _closed = Closed(&dialog);
                dialog.answer.acquire().await.unwrap().forget();
                Ok(Zeroizing::new("123456".to_owned()))
            })
        }
    }

    /// A server over `alice`'s workspace in `home`, its runtime directory, the dialog it
    /// asks, and alice's MFA request.
    async fn serving(home: &tempfile::TempDir) -> (AgentServer, PathBuf, DialogPrompt, MfaRequest) {
        let (engine, alice) = alice(home).await;
        let run = home.path().join("run");
        let dialog = DialogPrompt::answering();
        let server = AgentServer::start(
            run.clone(),
            engine,
            Arc::new(dialog.clone()),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        (server, run, dialog, alice)
    }

    #[tokio::test]
    async fn the_server_answers_only_a_request_carrying_its_secret() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let (server, run, dialog, alice) = serving(&home).await;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&run), 0o700);
        assert_eq!(mode(&run.join(SOCKET)), 0o600);
        assert_eq!(mode(&run.join(SECRET)), 0o600);

        let mut wrong = UnixStream::connect(server.socket()).await.unwrap();
        let ask = Ask {
            secret: "0".repeat(64),
            request: alice.clone(),
        };
        write_frame(&mut wrong, &ask).await.unwrap();
        let refused: Answer = read_frame(&mut wrong).await.unwrap();
        assert_eq!(refused, Answer::Refused);
        assert!(dialog.shown().is_empty(), "a refused request was shown");

        let asker = AgentPrompt::new(run.clone(), "no app".into());
        let code = asker.ask(alice.clone()).await.unwrap();
        assert_eq!(code.as_str(), "123456");

        drop(server);
        assert!(!run.join(SOCKET).exists() && !run.join(SECRET).exists());
        let err = asker.ask(alice).await.unwrap_err();
        assert_eq!(err, MfaError::Unavailable("no app".into()));
    }

    /// Finding 5 of issue 23: the app shows a request only for a session and MFA device
    /// its workspace has together (and a target reached through that session), with the
    /// workspace's names; anything else is refused with why, and no dialog opens. On
    /// main every one of these was shown as the asker named it.
    #[tokio::test]
    async fn a_request_the_workspace_does_not_bear_out_is_refused_without_a_dialog() {
        let home = tempfile::tempdir().unwrap();
        let (engine, alice) = alice(&home).await;
        let run = home.path().join("run");
        let dialog = DialogPrompt::answering();
        let _server = AgentServer::start(
            run.clone(),
            engine.clone(),
            Arc::new(dialog.clone()),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        let asker = AgentPrompt::new(run.clone(), "no app".into());
        let role = engine.session("production").await.unwrap().session.id;
        let cases = [
            (
                MfaRequest {
                    session: crate::SessionId::new(),
                    ..alice.clone()
                },
                "no session with id",
            ),
            (
                MfaRequest {
                    mfa_serial: "arn:aws:iam::123456789012:mfa/mallory".into(),
                    ..alice.clone()
                },
                "has no MFA device arn:aws:iam::123456789012:mfa/mallory",
            ),
            (
                MfaRequest {
                    session: role,
                    mfa_serial: ALICE_MFA.into(),
                    ..alice.clone()
                },
                "has no MFA device",
            ),
            (
                MfaRequest {
                    for_session: "bank-of-mallory".into(),
                    ..alice.clone()
                },
                "no session 'bank-of-mallory' reached through 'alice'",
            ),
        ];
        for (request, why) in cases {
            let err = asker.ask(request.clone()).await.unwrap_err();
            let MfaError::Unavailable(message) = &err else {
                panic!("{request:?}: {err:?}")
            };
            assert!(
                message.contains("refused to ask") && message.contains(why),
                "{request:?}: {message}"
            );
        }
        assert!(dialog.shown().is_empty(), "shown: {:?}", dialog.shown());

        // The asker's own names are not what the dialog shows.
        let renamed = MfaRequest {
            session_name: "Your bank: enter the code".into(),
            ..alice.clone()
        };
        assert_eq!(asker.ask(renamed).await.unwrap().as_str(), "123456");
        let shown = dialog.shown();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].session_name, "alice");
        assert_eq!(shown[0].for_session, "production");
    }

    /// Finding 5 of issue 23: at most one dialog per MFA device is open; a few more
    /// requests wait their turn, and one past them is refused at once. On main every
    /// request opened its own dialog.
    /// Part 5 of issue 21: a sign-in request rides the same channel: refused without
    /// the launch's secret, and answered "unavailable" (no window opened) by a process
    /// with no login window or for a session that is not federated.
    #[tokio::test]
    async fn part5_a_sign_in_request_is_checked_like_an_mfa_request() {
        let home = tempfile::tempdir().unwrap();
        let (server, run, dialog, _alice) = serving(&home).await;
        let mut wrong = UnixStream::connect(server.socket()).await.unwrap();
        let ask = Ask {
            secret: "0".repeat(64),
            request: SignInRequest {
                sign_in: "alice".into(),
            },
        };
        write_frame(&mut wrong, &ask).await.unwrap();
        let refused: SignInAnswer = read_frame(&mut wrong).await.unwrap();
        assert_eq!(refused, SignInAnswer::Refused);
        assert!(
            !format!("{ask:?}").contains("000"),
            "the secret shows in Debug"
        );

        let answer = ask_the_app_to_sign_in(&run, "alice").await.unwrap();
        let SignInAnswer::Unavailable { message } = answer else {
            panic!("{answer:?}");
        };
        assert!(message.contains("no login window"), "{message}");
        assert!(dialog.shown().is_empty());

        drop(server);
        assert_eq!(
            ask_the_app_to_sign_in(&run, "alice").await,
            Err(NoAnswer::NotRunning)
        );
    }

    #[tokio::test]
    async fn one_dialog_per_device_at_a_time_the_next_wait_and_more_are_refused() {
        use std::sync::atomic::Ordering::SeqCst;
        let home = tempfile::tempdir().unwrap();
        let (engine, alice) = alice(&home).await;
        let run = home.path().join("run");
        let dialog = DialogPrompt::default();
        let _server = AgentServer::start(
            run.clone(),
            engine,
            Arc::new(dialog.clone()),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let asker = Arc::new(AgentPrompt::new(run.clone(), "no app".into()));
        // One request more than the line holds, all at once.
        let (done, mut answers) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..MAX_WAITING_PER_DEVICE + 2 {
            let (asker, request, done) = (asker.clone(), alice.clone(), done.clone());
            tokio::spawn(async move { done.send(asker.ask(request).await).unwrap() });
        }
        // Nothing is answered yet: the first to end is the one the line had no room for.
        let first = tokio::time::timeout(Duration::from_secs(30), answers.recv())
            .await
            .expect("no request was refused")
            .unwrap();
        let Err(MfaError::Unavailable(message)) = &first else {
            panic!("{first:?}")
        };
        assert!(message.contains("already asking"), "{message}");
        assert!(
            dialog.shown().len() <= 1,
            "a second dialog opened for one device"
        );

        dialog.0.answer.add_permits(MAX_WAITING_PER_DEVICE + 1);
        for _ in 0..=MAX_WAITING_PER_DEVICE {
            let answer = answers.recv().await.unwrap();
            assert_eq!(answer.unwrap().as_str(), "123456");
        }
        assert_eq!(dialog.shown().len(), MAX_WAITING_PER_DEVICE + 1);
        assert_eq!(dialog.0.most_open.load(SeqCst), 1, "dialogs open at once");
    }

    #[test]
    fn a_code_never_shows_in_debug() {
        let answer = Answer::Code {
            code: "123456".into(),
        };
        assert!(!format!("{answer:?}").contains("123456"));
    }
}
