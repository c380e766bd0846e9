//! A fault-injecting reverse proxy in front of moto, for the STS fault suites.
//!
//! Rolehop's STS client is pointed at the proxy; the proxy forwards each request to moto,
//! or answers it with the fault the test switched on: a 400 `Throttling` error, a bare
//! 429, a 500 or 503, a connection it reads and never answers, or moto's real answer cut
//! short. It counts the requests it saw, so a suite can check the retry policy (and that
//! nothing storms). A connection refused needs no proxy: see [`refused_endpoint`].
//!
//! Plain threads and `std::net`: one request per connection (`Connection: close`), which
//! is all the SDK needs to be told.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does with the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward to moto.
    None,
    /// 400 with STS's `Throttling` error body.
    Throttling,
    /// 429 with no body.
    TooManyRequests,
    /// 500 with no body.
    InternalError,
    /// 503 with no body.
    Unavailable,
    /// Read the request, never answer (the connection stays open).
    Hang,
    /// Forward to moto and send back its headers with half its body, then close.
    TruncatedBody,
}

struct Shared {
    fault: Mutex<Fault>,
    requests: AtomicUsize,
    stop: AtomicBool,
}

/// The running proxy; stopped when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (moto's endpoint,
    /// `http://127.0.0.1:port`).
    pub fn start(upstream: &str) -> io::Result<Self> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}")))?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            fault: Mutex::new(Fault::None),
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let accept = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = accept.clone();
                thread::spawn(move || {
                    let _ = serve(stream, upstream, &shared);
                });
            }
        });
        Ok(Self { addr, shared })
    }

    /// The endpoint to give Rolehop: `http://127.0.0.1:port`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the fault for the requests that follow, and resets the count.
    pub fn set(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
        self.shared.requests.store(0, Ordering::SeqCst);
    }

    /// How many requests the proxy read since the last [`FaultProxy::set`].
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// An endpoint nothing listens on: a loopback port bound and released.
pub fn refused_endpoint() -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}"))
}

/// Reads one request: its head and its `Content-Length` body.
fn read_request(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(buf);
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The request with `Connection: close` in place of any connection header.
fn closing(request: &[u8]) -> Vec<u8> {
    let end = find(request, b"\r\n\r\n").unwrap_or(request.len());
    let head = String::from_utf8_lossy(&request[..end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(request.get(end + 4..).unwrap_or_default());
    bytes
}

/// Moto's whole answer to `request`.
fn forward(request: &[u8], upstream: SocketAddr) -> io::Result<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream)?;
    moto.set_read_timeout(Some(Duration::from_secs(30)))?;
    moto.write_all(&closing(request))?;
    let mut answer = Vec::new();
    moto.read_to_end(&mut answer)?;
    Ok(answer)
}

fn canned(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const THROTTLING: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>";

fn serve(mut stream: TcpStream, upstream: SocketAddr, shared: &Shared) -> io::Result<()> {
    let request = read_request(&mut stream)?;
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let fault = *shared.fault.lock().unwrap();
    let answer = match fault {
        Fault::None => forward(&request, upstream)?,
        Fault::Throttling => canned("400 Bad Request", THROTTLING),
        Fault::TooManyRequests => canned("429 Too Many Requests", ""),
        Fault::InternalError => canned("500 Internal Server Error", ""),
        Fault::Unavailable => canned("503 Service Unavailable", ""),
        Fault::Hang => {
            // Hold the connection open, unanswered, until the proxy stops.
            while !shared.stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(100));
            }
            return Ok(());
        }
        Fault::TruncatedBody => {
            let answer = forward(&request, upstream)?;
            let body_at = find(&answer, b"\r\n\r\n").map_or(answer.len(), |e| e + 4);
            let cut = body_at + (answer.len() - body_at) / 2;
            answer[..cut].to_vec()
        }
    };
    stream.write_all(&answer)?;
    stream.flush()?;
    stream.shutdown(Shutdown::Both)
}
