//! A secret URL handed to a browser without putting it on a command line.
//!
//! A browser is started with its URL as an argument (`xdg-open URL`, and a cold-started
//! browser keeps it in its own argv), where every local user can read it in
//! `/proc/<pid>/cmdline`. The console's sign-in URL carries a SigninToken that signs
//! anyone in as the session for 15 minutes. So the browser gets a one-time loopback
//! address instead, `http://127.0.0.1:<port>/<256 random bits>`: the first request for
//! exactly that path is answered with a redirect to the secret URL, and the address then
//! closes; it also closes unanswered after its time to live. A request for any other
//! path gets 404 and changes nothing.

use std::time::Duration;

use subtle::ConstantTimeEq;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::endpoint::random_token;

/// How long a browser has to open the address.
pub const REDIRECT_TTL: Duration = Duration::from_secs(120);

/// The longest request head read from a browser.
const MAX_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// A one-time loopback address redirecting to a secret URL (see the module docs).
pub struct OneTimeRedirect {
    address: String,
    answered: oneshot::Receiver<()>,
    task: tokio::task::JoinHandle<()>,
}

impl OneTimeRedirect {
    /// Serves a redirect to `target` on a free loopback port, once, for at most `ttl`.
    pub async fn serve(target: Zeroizing<String>, ttl: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let path = random_token()
            .map_err(|e| std::io::Error::other(e.to_string()))
            .map(|token| Zeroizing::new(format!("/{}", token.as_str())))?;
        let address = format!("http://127.0.0.1:{port}{}", path.as_str());
        let (done, answered) = oneshot::channel();
        let task = tokio::spawn(async move {
            let serving = async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    if answer(stream, &path, &target).await {
                        let _ = done.send(());
                        return;
                    }
                }
            };
            // Unanswered after `ttl`: the listener closes with the task.
            let _ = tokio::time::timeout(ttl, serving).await;
        });
        Ok(Self {
            address,
            answered,
            task,
        })
    }

    /// The address to hand the browser: it holds no secret of the session's.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Waits until the browser has been redirected (`true`), or the time to live ran out
    /// (`false`).
    pub async fn redirected(&mut self) -> bool {
        (&mut self.answered).await.is_ok()
    }
}

impl Drop for OneTimeRedirect {
    /// The address closes with its value (the browser could not be started, the
    /// command ended).
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers one connection: a redirect when it asks for exactly `path` (then `true`),
/// else 404.
async fn answer(mut stream: TcpStream, path: &str, target: &str) -> bool {
    let Ok(Some(head)) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await else {
        return false;
    };
    let asked = head
        .split(|b| *b == b'\r' || *b == b'\n')
        .next()
        .and_then(|line| {
            let mut parts = line.split(|b| *b == b' ');
            match (parts.next(), parts.next()) {
                (Some(b"GET"), Some(target)) => Some(target.to_vec()),
                _ => None,
            }
        });
    let matches = asked.is_some_and(|asked| bool::from(asked.as_slice().ct_eq(path.as_bytes())));
    let response = if matches {
        Zeroizing::new(format!(
            "HTTP/1.1 302 Found\r\nLocation: {target}\r\nCache-Control: no-store\r\n\
             Referrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ))
    } else {
        Zeroizing::new(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        )
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    matches
}

/// The request head (up to the blank line), or `None` if it is longer than
/// [`MAX_HEAD`] or the connection ends first.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One raw HTTP GET of `path` on `port`: the status line and the Location header.
    async fn get(port: u16, path: &str) -> Option<(String, Option<String>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .ok()?;
        let mut text = String::new();
        stream.read_to_string(&mut text).await.ok()?;
        let status = text.lines().next()?.to_owned();
        let location = text
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .map(str::to_owned);
        Some((status, location))
    }

    fn split(address: &str) -> (u16, String) {
        let rest = address.strip_prefix("http://127.0.0.1:").unwrap();
        let (port, path) = rest.split_once('/').unwrap();
        (port.parse().unwrap(), format!("/{path}"))
    }

    #[tokio::test]
    async fn the_address_redirects_once_and_then_is_gone() {
        let target = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=secret";
        let mut redirect = OneTimeRedirect::serve(Zeroizing::new(target.into()), REDIRECT_TTL)
            .await
            .unwrap();
        assert!(!redirect.address().contains("secret"));
        let (port, path) = split(redirect.address());
        // Another path first: refused, and the real one still works after it.
        let (status, location) = get(port, "/favicon.ico").await.unwrap();
        assert!(status.contains("404"), "{status}");
        assert_eq!(location, None);
        let (status, location) = get(port, &path).await.unwrap();
        assert!(status.contains("302"), "{status}");
        assert_eq!(location.as_deref(), Some(target));
        assert!(redirect.redirected().await);
        assert!(
            get(port, &path).await.is_none(),
            "the address answered twice"
        );
    }

    #[tokio::test]
    async fn an_address_nobody_opens_closes_after_its_time_to_live() {
        let mut redirect = OneTimeRedirect::serve(
            Zeroizing::new("https://x".into()),
            Duration::from_millis(50),
        )
        .await
        .unwrap();
        let (port, path) = split(redirect.address());
        assert!(!redirect.redirected().await);
        assert!(get(port, &path).await.is_none(), "still answering");
    }
}
