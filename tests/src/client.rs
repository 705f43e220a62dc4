//! Clients for the tests: a pooled hyper client (HTTP/1.1, or HTTP/2 and
//! TLS against the test CA, with a client certificate for mTLS), and raw sockets for requests no library would
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

use crate::certs::Identity;

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
    let tls = tls_config(roots.unwrap_or_else(rustls::RootCertStore::empty)).with_no_client_auth();
    with_tls(tls, h2_only)
}

/// An HTTPS client trusting `roots` that presents `identity`'s certificate
/// when the server asks (mTLS), HTTP/1.1 or h2 by ALPN. A new client opens
/// new connections: one per handshake a test wants to see.
pub fn client_with_identity(roots: rustls::RootCertStore, identity: &Identity) -> HttpsClient {
    let (chain, key) = identity.rustls();
    let tls = tls_config(roots)
        .with_client_auth_cert(chain, key)
        .expect("client certificate");
    with_tls(tls, false)
}

/// Opens a TLS connection to `addr` (trusting `roots`, presenting
/// `identity`'s certificate when the server asks) and waits for the
/// server's verdict on the handshake without sending a byte — a byte sent
/// to a server that refuses could make its close a reset that loses the
/// alert. `Err` holds the TLS error (the server's alert, such as
/// `CertificateRequired`) when the server refused the client; `Ok` means
/// the connection is still open after `wait`.
pub async fn tls_handshake(
    addr: SocketAddr,
    roots: rustls::RootCertStore,
    identity: Option<&Identity>,
    wait: Duration,
) -> Result<(), String> {
    let builder = tls_config(roots);
    let tls = match identity.map(Identity::rustls) {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls));
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::from(addr.ip());
    let mut stream = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(wait, stream.read(&mut byte)).await {
        Err(_) => Ok(()),
        Ok(Ok(0)) => Err("closed by the server".into()),
        Ok(Ok(_)) => Err("unexpected data from the server".into()),
        Ok(Err(e)) => Err(e.to_string()),
    }
}

fn tls_config(
    roots: rustls::RootCertStore,
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
}

fn with_tls(tls: rustls::ClientConfig, h2_only: bool) -> HttpsClient {
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
