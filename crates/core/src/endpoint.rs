//! The container credentials endpoint: a session's credentials served the way ECS
//! serves a task's, so any AWS SDK fetches them (and fetches them again before they
//! expire) from `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN` as its `Authorization` header.
//!
//! It listens on 127.0.0.1 only, and answers a GET only when the header equals a
//! per-endpoint random bearer token (32 bytes from the OS, compared in constant time):
//! a request without it gets 401, with another value 403, and both are logged (never
//! the token). Answers come from [`Engine::credentials`] without prompting, so the
//! engine's cache decides: cached hops are reused while they stay valid past the
//! workspace's rotation margin, and fresh ones are minted when they come near expiry.
//! A process that runs for hours therefore keeps working across rotations.
//!
//! The last answer is kept and served again while it stays valid past that same margin
//! and the workspace file is unchanged (a stat), so a cached request costs no workspace
//! read and no chain walk; refreshes are single-flight.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::Engine;
use crate::credentials::Credentials;
use crate::error::EngineError;

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}{hint}", hint = if source.kind() == std::io::ErrorKind::AddrInUse { " (another program uses that port; pick another with --port, or 0 for a free one)" } else { "" })]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot draw a random token for the credentials endpoint: {0}")]
    Random(String),
}

/// A running endpoint. Dropping it (or [`CredentialsEndpoint::stop`]) stops listening.
pub struct CredentialsEndpoint {
    addr: SocketAddr,
    token: Zeroizing<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What every request handler shares.
struct Served {
    engine: Arc<Engine>,
    selector: String,
    token: Zeroizing<String>,
    /// The last credentials served, and the rotation margin they were checked against.
    last: tokio::sync::Mutex<Option<(Credentials, chrono::Duration)>>,
}

impl CredentialsEndpoint {
    /// Serves session `selector`'s credentials on 127.0.0.1:`port` (0: a free port).
    pub async fn start(
        engine: Arc<Engine>,
        selector: &str,
        port: u16,
    ) -> Result<Self, EndpointError> {
        let token = random_token()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|source| EndpointError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EndpointError::Bind { port, source })?;
        let served = Arc::new(Served {
            engine,
            selector: selector.to_owned(),
            token: token.clone(),
            last: tokio::sync::Mutex::default(),
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(listener, served, stopped));
        tracing::info!("credentials endpoint for session '{selector}' listens on {addr}");
        Ok(Self {
            addr,
            token,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The value for `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The value for `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub fn authorization(&self) -> &str {
        &self.token
    }

    /// The two variables an SDK needs to use this endpoint, in that order.
    pub fn environment(&self) -> [(&'static str, String); 2] {
        [
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", self.url()),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                self.authorization().to_owned(),
            ),
        ]
    }

    /// Stops listening and waits until the listener is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for CredentialsEndpoint {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// 32 random bytes from the OS, hex-encoded.
pub(crate) fn random_token() -> Result<Zeroizing<String>, EndpointError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut()).map_err(|e| EndpointError::Random(e.to_string()))?;
    let mut text = Zeroizing::new(String::with_capacity(64));
    for b in bytes.iter() {
        text.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        text.push(char::from_digit(u32::from(b & 0xf), 16).expect("nibble"));
    }
    Ok(text)
}

async fn accept(listener: TcpListener, served: Arc<Served>, mut stopped: oneshot::Receiver<()>) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: try again shortly rather than
                    // spin or leave the child without credentials for good.
                    tracing::warn!("credentials endpoint: cannot accept a connection: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let served = served.clone();
        tokio::spawn(async move {
            let service = service_fn(|req| {
                let served = served.clone();
                async move { Ok::<_, Infallible>(served.answer(&req, peer).await) }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!("credentials endpoint: connection from {peer} ended: {e}");
            }
        });
    }
}

impl Served {
    async fn answer(&self, req: &Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        match req.headers().get(AUTHORIZATION) {
            None => {
                tracing::warn!(
                    "credentials endpoint: refused {} {} from {peer}: no Authorization header",
                    req.method(),
                    req.uri().path()
                );
                return error(StatusCode::UNAUTHORIZED, "Authorization header missing");
            }
            Some(given) if !bool::from(given.as_bytes().ct_eq(self.token.as_bytes())) => {
                tracing::warn!(
                    "credentials endpoint: refused {} {} from {peer}: wrong authorization token",
                    req.method(),
                    req.uri().path()
                );
                return error(StatusCode::FORBIDDEN, "Authorization token does not match");
            }
            Some(_) => {}
        }
        if req.method() != Method::GET {
            return error(StatusCode::METHOD_NOT_ALLOWED, "only GET is served");
        }
        match self.credentials().await {
            Ok(creds) => {
                // SDKs require an expiry; keys without one are good for at least an hour.
                let expiration = creds
                    .expiration
                    .unwrap_or_else(|| Utc::now() + chrono::Duration::hours(1));
                let body = Zeroizing::new(
                    json!({
                        "AccessKeyId": creds.access_key_id,
                        "SecretAccessKey": creds.secret_access_key.as_str(),
                        "Token": creds.session_token.as_ref().map(|t| t.as_str()),
                        "Expiration": expiration.to_rfc3339_opts(SecondsFormat::Secs, true),
                    })
                    .to_string(),
                );
                respond(StatusCode::OK, Bytes::from(body.as_bytes().to_vec()))
            }
            Err(e) => {
                tracing::warn!(
                    "credentials endpoint: cannot serve session '{}': {e}",
                    self.selector
                );
                error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
            }
        }
    }
}

impl Served {
    /// The last answer while it is still good, else the engine's (one refresh at a time:
    /// concurrent requests wait for it rather than each walking the chain).
    async fn credentials(&self) -> Result<Credentials, EngineError> {
        let mut last = self.last.lock().await;
        if let Some((creds, margin)) = last.as_ref()
            && creds.valid_for(Utc::now(), *margin)
            && !self.engine.workspace_changed_on_disk()
        {
            return Ok(creds.clone());
        }
        let margin = self
            .engine
            .workspace()
            .await?
            .settings
            .rotation_margin_seconds;
        let (_, creds) = self.engine.credentials(&self.selector, None, false).await?;
        *last = Some((creds.clone(), chrono::Duration::seconds(i64::from(margin))));
        Ok(creds)
    }
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let code = status.canonical_reason().unwrap_or("Error");
    let body = json!({ "Code": code, "Message": message }).to_string();
    respond(status, Bytes::from(body))
}

fn respond(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(*a, *b);
    }
}
