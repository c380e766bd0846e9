//! The browser login of IAM Identity Center: the OAuth authorization code grant with
//! PKCE (RFC 6749 §4.1, RFC 7636), as the AWS CLI runs it since 2.22. The person's
//! browser opens the portal's `/authorize` with a `state` and an S256 challenge; the
//! portal sends it back to a one-shot listener on 127.0.0.1 ([`LoopbackListener`])
//! with a code, which only this process can redeem (it alone holds the verifier).
//! Unlike a device code, such a code is useless to whoever phished the link.
//!
//! The verifier, the code and `state` are secrets of this login: never logged, never
//! in an error, zeroized when dropped.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use zeroize::Zeroizing;

/// The path the portal redirects to (the AWS CLI's).
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// How long a browser login waits for the redirect (the AWS CLI's ten minutes), unless
/// `ROLEHOP_SSO_LOGIN_TIMEOUT_SECS` says otherwise ([`timeout_from_env`]).
pub const BROWSER_LOGIN_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a browser login ended without a code. No variant carries the code, the
/// verifier or the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserLoginError {
    /// The listener could not be opened (the port is taken, or not ours to use).
    #[error("redirect-port: cannot listen on 127.0.0.1:{port} for the browser's answer: {reason}")]
    Listen { port: u16, reason: String },
    /// Nothing came back: the browser was closed, or the person never finished.
    #[error(
        "the browser did not come back within {} s (closed before the sign-in finished?); \
         nothing was stored; run the login again",
        .after.as_secs()
    )]
    TimedOut { after: Duration },
    /// The person (or the portal) refused: the redirect carried `error`.
    #[error("the sign-in was refused in the browser ({error}{}); nothing was stored", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    /// The redirect's `state` is not this login's: it was not started here.
    #[error(
        "the browser came back with a state that is not this login's, so the answer was \
         refused (a redirect this login did not start); nothing was stored"
    )]
    WrongState,
    /// The redirect carried neither a code nor an error.
    #[error("the browser came back with no authorization code; nothing was stored")]
    NoCode,
}

/// A PKCE pair: the verifier stays here, the challenge goes in the browser's URL.
pub struct Pkce {
    pub verifier: Zeroizing<String>,
    pub challenge: String,
}

impl Pkce {
    /// 48 random bytes as base64url: a 64-character verifier of RFC 7636's unreserved
    /// characters; the challenge is base64url(SHA-256(verifier)) without padding (S256).
    pub fn new() -> Result<Self, getrandom::Error> {
        let verifier = Zeroizing::new(random_text(48)?);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Ok(Self {
            verifier,
            challenge,
        })
    }
}

/// A fresh `state` for one login: 32 random bytes, base64url.
pub fn new_state() -> Result<Zeroizing<String>, getrandom::Error> {
    random_text(32).map(Zeroizing::new)
}

fn random_text(len: usize) -> Result<String, getrandom::Error> {
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(&*bytes))
}

/// `ROLEHOP_SSO_LOGIN_TIMEOUT_SECS` (whole seconds, at least 1) when set, else
/// [`BROWSER_LOGIN_TIMEOUT`]. The suites shorten it to see a closed browser's timeout.
pub fn timeout_from_env() -> Duration {
    std::env::var("ROLEHOP_SSO_LOGIN_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(BROWSER_LOGIN_TIMEOUT, Duration::from_secs)
}

/// The one-shot listener the browser is redirected to, on 127.0.0.1 only.
pub struct LoopbackListener {
    listener: TcpListener,
    port: u16,
}

/// What the callback carried, as the listener reads it.
enum Callback {
    Code(Zeroizing<String>),
    Failed(BrowserLoginError),
}

impl LoopbackListener {
    /// Listens on 127.0.0.1:`port`, or a free port when `None`.
    pub async fn bind(port: Option<u16>) -> Result<Self, BrowserLoginError> {
        let wanted = port.unwrap_or(0);
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, wanted)))
            .await
            .map_err(|e| BrowserLoginError::Listen {
                port: wanted,
                reason: e.to_string(),
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| BrowserLoginError::Listen {
                port: wanted,
                reason: e.to_string(),
            })?
            .port();
        Ok(Self { listener, port })
    }

    /// The redirect URI this listener answers: `http://127.0.0.1:<port>/oauth/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Serves until the browser brings the callback (other paths, a favicon, get a 404
    /// and the wait goes on), or `timeout` passes. The callback is answered with a page
    /// telling the person they may close the window (or what went wrong); its `state`
    /// must be `state`. Then the listener closes: a second redirect finds nobody.
    pub async fn wait_for_code(
        self,
        state: &str,
        timeout: Duration,
    ) -> Result<Zeroizing<String>, BrowserLoginError> {
        let (tx, mut rx) = mpsc::channel::<Callback>(1);
        let expected = Zeroizing::new(state.to_owned());
        let mut connections = Vec::new();
        let waited = tokio::time::timeout(timeout, async {
            loop {
                tokio::select! {
                    outcome = rx.recv() => break outcome,
                    accepted = self.listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let (tx, expected) = (tx.clone(), expected.clone());
                        connections.push(tokio::spawn(async move {
                            let service = service_fn(move |req| {
                                let (tx, expected) = (tx.clone(), expected.clone());
                                async move { Ok::<_, Infallible>(answer(&req, &expected, &tx)) }
                            });
                            // One request a connection: the page goes out and the
                            // connection closes before the listener does.
                            let _ = http1::Builder::new()
                                .keep_alive(false)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }));
                    }
                }
            }
        })
        .await;
        drop(self.listener);
        // Let the answer page reach the browser (bounded: a stalled browser cannot hold
        // the login).
        for connection in connections {
            let _ = tokio::time::timeout(Duration::from_secs(2), connection).await;
        }
        match waited {
            Ok(Some(Callback::Code(code))) => Ok(code),
            Ok(Some(Callback::Failed(e))) => Err(e),
            Ok(None) | Err(_) => Err(BrowserLoginError::TimedOut { after: timeout }),
        }
    }
}

/// Answers one request to the listener; a callback is also sent to the waiting login.
fn answer(
    req: &Request<Incoming>,
    expected: &str,
    tx: &mpsc::Sender<Callback>,
) -> Response<Full<Bytes>> {
    if req.uri().path() != CALLBACK_PATH {
        return page(
            StatusCode::NOT_FOUND,
            "Not found",
            "Nothing is served here.",
        );
    }
    let mut params: Vec<(String, Zeroizing<String>)> =
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), Zeroizing::new(v.into_owned())))
            .collect();
    let mut take = |name: &str| {
        params
            .iter()
            .position(|(k, _)| k == name)
            .map(|i| params.swap_remove(i).1)
    };
    let (code, state, error, description) = (
        take("code"),
        take("state"),
        take("error"),
        take("error_description"),
    );
    let state_matches = state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())));
    let (outcome, response) = if !state_matches {
        (
            Callback::Failed(BrowserLoginError::WrongState),
            page(
                StatusCode::BAD_REQUEST,
                "Login refused",
                "This answer does not belong to the login Rolehop is waiting for. \
                 Nothing was stored. You can close this window.",
            ),
        )
    } else if let Some(error) = error {
        let outcome = Callback::Failed(BrowserLoginError::Refused {
            error: crate::display_text::capped(error.to_string()),
            description: description.map(|d| crate::display_text::capped(d.to_string())),
        });
        let body = "The sign-in was refused. Nothing was stored. You can close this window.";
        (outcome, page(StatusCode::OK, "Login refused", body))
    } else if let Some(code) = code.filter(|c| !c.is_empty()) {
        (
            Callback::Code(code),
            page(
                StatusCode::OK,
                "Rolehop is signed in",
                "The login is complete. You can close this window and return to Rolehop.",
            ),
        )
    } else {
        (
            Callback::Failed(BrowserLoginError::NoCode),
            page(
                StatusCode::BAD_REQUEST,
                "Login failed",
                "No authorization code came back. You can close this window.",
            ),
        )
    };
    // Only the first callback counts; a second finds the channel full or closed.
    let _ = tx.try_send(outcome);
    response
}

fn page(status: StatusCode, title: &str, text: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    //! The listener against a real loopback connection; the portal side is proven end to
    //! end against the stand-in (`cli_sso`).

    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_challenge_is_the_unpadded_base64url_sha256_of_a_fresh_64_character_verifier() {
        // Computed apart, with Python's hashlib and base64 as the stand-in checks it:
        // base64.urlsafe_b64encode(sha256(verifier)) without its '='.
        let verifier = "dBjftJeZ4CVP-mJ92IZ7fXpOlt7ee93ZtdPvDJW0Zr4";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        assert_eq!(challenge, "BVdkWUxDM25Z_SBU5KOcTzZqJN0tlT0_f6OxdYlo5wE");
        let pkce = Pkce::new().unwrap();
        assert_eq!(
            pkce.challenge,
            URL_SAFE_NO_PAD.encode(Sha256::digest(pkce.verifier.as_bytes()))
        );
        assert_eq!(pkce.verifier.len(), 64);
        assert!(
            pkce.verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        );
        assert_ne!(
            pkce.verifier.as_str(),
            Pkce::new().unwrap().verifier.as_str()
        );
    }

    async fn get(port: u16, path: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).await.unwrap();
        out
    }

    async fn run(paths: &[&str]) -> Result<Zeroizing<String>, BrowserLoginError> {
        let listener = LoopbackListener::bind(None).await.unwrap();
        let port = listener.port;
        let waiting = tokio::spawn(listener.wait_for_code("s3", Duration::from_secs(30)));
        for path in paths {
            get(port, path).await;
        }
        waiting.await.unwrap()
    }

    #[tokio::test]
    async fn the_callback_with_this_logins_state_gives_the_code_after_other_paths_are_ignored() {
        let code = run(&["/favicon.ico", "/oauth/callback?code=c0de&state=s3"])
            .await
            .unwrap();
        assert_eq!(code.as_str(), "c0de");
    }

    #[tokio::test]
    async fn a_wrong_state_a_refusal_and_a_missing_code_each_fail_by_name() {
        assert_eq!(
            run(&["/oauth/callback?code=c0de&state=other"])
                .await
                .unwrap_err(),
            BrowserLoginError::WrongState
        );
        assert_eq!(
            run(&["/oauth/callback?code=c0de"]).await.unwrap_err(),
            BrowserLoginError::WrongState
        );
        let refused = run(&["/oauth/callback?error=access_denied&state=s3"])
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("refused in the browser (access_denied)")
        );
        assert_eq!(
            run(&["/oauth/callback?state=s3"]).await.unwrap_err(),
            BrowserLoginError::NoCode
        );
    }

    #[tokio::test]
    async fn the_browser_is_told_it_can_close_and_nothing_answers_after() {
        let listener = LoopbackListener::bind(None).await.unwrap();
        let port = listener.port;
        let waiting = tokio::spawn(listener.wait_for_code("s3", Duration::from_secs(30)));
        let page = get(port, "/oauth/callback?code=c0de&state=s3").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("You can close this window"), "{page}");
        assert!(!page.contains("c0de"), "{page}");
        waiting.await.unwrap().unwrap();
        assert!(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn no_redirect_before_the_timeout_is_a_timeout() {
        let listener = LoopbackListener::bind(None).await.unwrap();
        let e = listener
            .wait_for_code("s3", Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(e, BrowserLoginError::TimedOut { .. }), "{e}");
    }

    #[tokio::test]
    async fn a_taken_port_is_refused_naming_the_redirect_port() {
        let taken = LoopbackListener::bind(None).await.unwrap();
        let e = LoopbackListener::bind(Some(taken.port))
            .await
            .err()
            .unwrap();
        assert!(e.to_string().starts_with("redirect-port: "), "{e}");
    }
}
