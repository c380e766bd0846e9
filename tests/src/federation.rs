//! A stand-in for AWS's federation endpoint (console sign-in): real AWS is out of reach
//! here and no emulator serves it, so `ROLEHOP_FEDERATION_URL` points Rolehop at this
//! loopback HTTP server, which records each request's target and answers as AWS
//! documents it.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

/// The stand-in: answers every request with `status` and `body`, and sends each
/// request's path and query to [`Federation::requests`].
pub struct Federation {
    pub url: String,
    pub requests: mpsc::Receiver<String>,
}

impl Federation {
    pub fn answering(status: &'static str, body: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/federation", listener.local_addr().expect("addr"));
        let (sent, requests) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                // The rest of the head, up to the blank line.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let _ = sent.send(target);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, requests }
    }
}

/// The query of a URL or request target, decoded, as (name, value) pairs.
pub fn query(url: &str) -> Vec<(String, String)> {
    let (_, query) = url
        .split_once('?')
        .unwrap_or_else(|| panic!("no query: {url}"));
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The one value of `name` in `pairs` (panics unless there is exactly one).
pub fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} in {pairs:?}");
    found[0]
}

/// What a browser gets when it opens `address`, an `http://127.0.0.1:PORT/PATH` the app
/// or the CLI handed it: the `Location` of a redirect, or `None` if the address does
/// not answer with one (closed, or 404).
pub fn follow(address: &str) -> Option<String> {
    use std::io::{Read, Write};
    let rest = address.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    if !text.starts_with("HTTP/1.1 302") {
        return None;
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(str::to_owned)
}
