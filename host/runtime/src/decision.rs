//! What the host passes in ([`RequestInfo`]) and gets back ([`Decision`],
//! [`BodyDecision`], [`Failure`]) for each exchange.

use crate::PluginError;
use bytes::Bytes;
use http::StatusCode;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Facts about the request that are not in its `http` parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The client's address as the proxy determined it (the TCP peer, or
    /// what a trusted proxy forwarded).
    pub client_addr: Option<SocketAddr>,
    /// The TCP peer's address.
    pub peer_addr: Option<SocketAddr>,
    /// The client's TLS session, if it used TLS.
    pub tls: Option<TlsInfo>,
    /// The name of the route that matched.
    pub route: String,
    /// The proxy's id for this request.
    pub request_id: String,
}

/// The client's TLS session, as plugins see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The SNI server name.
    pub sni: Option<String>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// The protocol version, such as `TLSv1.3`.
    pub version: String,
    /// The cipher suite, such as `TLS13_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// The certificate the client presented and the listener verified
    /// (mutual TLS), shared by the connection's requests.
    pub client_cert: Option<Arc<ClientCert>>,
}

/// A client certificate the listener verified against its CA bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCert {
    /// The leaf certificate, DER-encoded.
    pub der: Vec<u8>,
    /// The subject distinguished name as text, attributes in certificate
    /// order, such as `CN=alice, O=Example`.
    pub subject: String,
    /// The subjectAltNames of the kinds below, in certificate order.
    pub sans: Vec<San>,
}

/// One subjectAltName of a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    Dns(String),
    Ip(IpAddr),
    Uri(String),
    Email(String),
}

/// `dns:`, `ip:`, `uri:` or `email:` and the name, as contract 0.2 gives it.
impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(name) => write!(f, "dns:{name}"),
            San::Ip(addr) => write!(f, "ip:{addr}"),
            San::Uri(uri) => write!(f, "uri:{uri}"),
            San::Email(email) => write!(f, "email:{email}"),
        }
    }
}

/// A plugin failed and its policy is `fail = "closed"`: answer with
/// [`Failure::response`] (no detail), log [`Failure::error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong, for the log.
    pub error: PluginError,
}

impl Failure {
    /// 502 or 503 (see [`PluginError::status`]).
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }

    /// The response to send the client: the status and an empty body.
    pub fn response(&self) -> http::Response<Bytes> {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = self.status();
        response
    }
}

/// What the chain decided in `on_request` or `on_response`.
#[derive(Debug)]
pub enum Decision {
    /// Go on (to the upstream, or to the client).
    Continue,
    /// A plugin answered: send this response instead. After `on_request` the
    /// upstream is skipped.
    Respond(http::Response<Bytes>),
    /// A fail-closed plugin failed.
    Fail(Failure),
}

/// What the chain decided in a body hook.
#[derive(Debug)]
pub enum BodyDecision {
    /// Go on with this body (the plugins may have replaced it).
    Continue(Bytes),
    /// A plugin answered: send this response instead.
    Respond(http::Response<Bytes>),
    /// A fail-closed plugin failed.
    Fail(Failure),
}
