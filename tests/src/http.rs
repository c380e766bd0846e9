//! Just enough HTTP/1.1 to talk to moto's control API on the loopback interface.
//!
//! Moto's `/moto-api/` endpoints are plain unauthenticated requests; a TcpStream with
//! `Connection: close` does the job without an HTTP client crate.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: the status code and the body as text.
pub(crate) struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends one request and reads the whole response.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<(&str, &str)>,
) -> io::Result<Response> {
    let timeout = Some(Duration::from_secs(10));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;

    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let payload = match body {
        Some((content_type, payload)) => {
            request.push_str(&format!("Content-Type: {content_type}\r\n"));
            payload
        }
        None => "",
    };
    request.push_str(&format!(
        "Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    ));
    stream.write_all(request.as_bytes())?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP response: {head:?}"),
            )
        })?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}
