//! The one HTTPS client of plain web requests, those that are not AWS SDK calls (the
//! console's federation endpoint, a catalog's URL): hyper with rustls, its crypto
//! provider named (with ring and aws-lc-rs both built, as the updater's reqwest brings
//! ring, rustls has no default of its own), the platform's root certificates, HTTP/1.1.
//! `https_or_http`: each caller decides where plain http is allowed (a loopback server).

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A client of bodiless requests (GET).
pub(crate) type WebClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The client, or why the platform's root certificates could not be loaded.
pub(crate) fn client() -> Result<WebClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no TLS root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// The whole cause of a client error (hyper's top-level message alone says "client error").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
