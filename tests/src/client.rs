//! Clients for the tests: a pooled hyper client (HTTP/1.1, or HTTP/2 and
//! TLS against the test CA), and raw sockets for requests no library would
//! send.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A response read whole.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    pub version: http::Version,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client trusting `roots` (or nothing, for plain HTTP), HTTP/1.1 or h2 by ALPN.
pub fn client(roots: Option<rustls::RootCertStore>, h2_only: bool) -> HttpsClient {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots.unwrap_or_else(rustls::RootCertStore::empty))
        .with_no_client_auth();
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    let connector = if h2_only {
        builder.enable_http2().build()
    } else {
        builder.enable_all_versions().build()
    };
    Client::builder(TokioExecutor::new())
        .http2_only(h2_only)
        .build(connector)
}

pub async fn send(client: &HttpsClient, request: Request<Full<Bytes>>) -> Result<Answer, String> {
    let response: Response<_> =
        tokio::time::timeout(Duration::from_secs(20), client.request(request))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| format!("{e:?}"))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok(Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
        version: parts.version,
    })
}

pub async fn get(client: &HttpsClient, url: &str) -> Result<Answer, String> {
    send(
        client,
        Request::get(url).body(Full::default()).expect("request"),
    )
    .await
}

/// Writes raw bytes and reads until the server closes or `wait` passes.
pub async fn raw(addr: SocketAddr, bytes: &[u8], wait: Duration) -> String {
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    if stream.write_all(bytes).await.is_err() {
        return String::new();
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}
