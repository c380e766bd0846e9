//! A catalog at an https URL of the file itself: one GET through the one web client
//! (`crate::web`; no redirect followed, no
//! cookie, no credential sent), the answer read frame by frame and abandoned one frame
//! past 1 MiB, within [`BOUND`]. Plain http is taken only on a loopback address (a
//! server on the user's own machine, as tests run): anywhere else a catalog decides
//! which roles credentials are sent to, so it must not be open to anyone on the path.

use std::time::Duration;

use http_body_util::BodyExt;
use rolehop_model::catalog::{Location, MAX_BYTES};

use crate::validate::ValidationError;

/// The longest a download may take, connection included.
const BOUND: Duration = Duration::from_secs(30);

/// `url` (an http(s) URL ending in `.toml`) as a catalog location: https, or http on a
/// loopback host; a URL holding a user name is refused (nothing is sent but the GET).
pub(crate) fn locate(url: &url::Url) -> Result<Location, ValidationError> {
    if !url.username().is_empty() {
        return Err(ValidationError::new(
            "source",
            "must not hold a user name: a catalog URL is fetched without credentials",
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if url.scheme() == "http" && !loopback {
        return Err(ValidationError::new(
            "source",
            "must be https: a catalog decides which roles credentials are sent to (plain \
             http only on a loopback address)",
        ));
    }
    Ok(Location::Https(url.as_str().to_owned()))
}

/// The catalog's text at `url`, at most [`MAX_BYTES`].
pub(crate) async fn download(url: &str, require_signed: bool) -> Result<String, ValidationError> {
    if require_signed {
        return Err(ValidationError::new(
            "require_signed",
            "only a git repository's commits carry signatures; this catalog is a URL",
        ));
    }
    let failed = |why: String| ValidationError::new("source", format!("cannot read {url}: {why}"));
    match tokio::time::timeout(BOUND, get(url, &failed)).await {
        Ok(result) => result,
        Err(_) => Err(failed(format!(
            "no whole answer within {} s",
            BOUND.as_secs()
        ))),
    }
}

async fn get(
    url: &str,
    failed: &impl Fn(String) -> ValidationError,
) -> Result<String, ValidationError> {
    let uri: hyper::Uri = url.parse().map_err(|_| failed("it is not a URL".into()))?;
    let response = crate::web::client()
        .map_err(failed)?
        .get(uri)
        .await
        .map_err(|e| failed(crate::web::error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("the server answered {status}")));
    }
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| failed(e.to_string()))?;
        if let Some(data) = frame.data_ref() {
            bytes.extend_from_slice(data);
            if bytes.len() > MAX_BYTES {
                // Read no further: the connection is dropped with the body.
                return Err(ValidationError::new(
                    "catalog",
                    format!("the file is over {MAX_BYTES} bytes; a catalog may be at most 1 MiB"),
                ));
            }
        }
    }
    String::from_utf8(bytes).map_err(|_| ValidationError::new("catalog", "the file is not UTF-8"))
}
