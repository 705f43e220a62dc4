//! Opening a transport to an endpoint: TCP (no delay, keepalive probes
//! after 60 s), then TLS re-encryption when the cluster asks for it (the
//! endpoint's host or the configured `server_name` as SNI, ALPN for the
//! cluster's protocol), both within the connect timeout, as nginx's
//! `proxy_connect_timeout` covers the TLS handshake too.

use std::sync::Arc;
use std::time::Duration;

use http::uri::Authority;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A connected transport, clear or encrypted.
pub trait Transport: AsyncRead + AsyncWrite + Send + Sync + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin> Transport for T {}

pub type Stream = Box<dyn Transport>;

const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Why no transport to an endpoint could be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot resolve the endpoint's address: {0}")]
    Resolve(std::io::Error),
    #[error("the endpoint's address resolved to nothing")]
    NoAddress,
    #[error("TCP connection not established within {0:?}")]
    Timeout(Duration),
    #[error("TCP connection refused or failed: {0}")]
    Tcp(std::io::Error),
    #[error("`{0}` is not a TLS server name")]
    ServerName(String),
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("TLS handshake not complete within the connect timeout ({0:?})")]
    TlsTimeout(Duration),
    #[error("HTTP handshake failed: {0}")]
    Handshake(hyper::Error),
    #[error("the connection closed before the request was sent: {0}")]
    Closed(super::proxy_body::BoxError),
    /// Another request's attempt to open the connection this one waited for.
    #[error(transparent)]
    Shared(std::sync::Arc<ConnectError>),
}

pub struct Connector {
    timeout: Duration,
    tls: Option<Tls>,
}

struct Tls {
    connector: TlsConnector,
    /// The SNI override; `None` sends the endpoint's host.
    server_name: Option<ServerName<'static>>,
}

impl Connector {
    /// `tls` is the client configuration (ALPN included) and the SNI
    /// override, for clusters that re-encrypt.
    pub fn new(
        timeout: Duration,
        tls: Option<(rustls::ClientConfig, Option<ServerName<'static>>)>,
    ) -> Self {
        let tls = tls.map(|(config, server_name)| Tls {
            connector: TlsConnector::from(Arc::new(config)),
            server_name,
        });
        Self { timeout, tls }
    }

    pub async fn connect(&self, authority: &Authority) -> Result<Stream, ConnectError> {
        let host = bare_host(authority);
        let default_port = if self.tls.is_some() { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default_port);
        let deadline = tokio::time::Instant::now() + self.timeout;
        let tcp = tokio::time::timeout_at(deadline, tcp((host, port)))
            .await
            .map_err(|_| ConnectError::Timeout(self.timeout))??;
        let Some(tls) = &self.tls else {
            return Ok(Box::new(tcp));
        };
        let name = match &tls.server_name {
            Some(name) => name.clone(),
            None => ServerName::try_from(host.to_string())
                .map_err(|_| ConnectError::ServerName(host.to_string()))?,
        };
        let stream = tokio::time::timeout_at(deadline, tls.connector.connect(name, tcp))
            .await
            .map_err(|_| ConnectError::TlsTimeout(self.timeout))?
            .map_err(ConnectError::Tls)?;
        Ok(Box::new(stream))
    }
}

/// The first address that accepts, or the last failure.
async fn tcp(address: (&str, u16)) -> Result<TcpStream, ConnectError> {
    let mut last = ConnectError::NoAddress;
    for addr in tokio::net::lookup_host(address)
        .await
        .map_err(ConnectError::Resolve)?
    {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(ConnectError::Tcp)?;
                let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
                socket2::SockRef::from(&stream)
                    .set_tcp_keepalive(&keepalive)
                    .map_err(ConnectError::Tcp)?;
                return Ok(stream);
            }
            Err(e) => last = ConnectError::Tcp(e),
        }
    }
    Err(last)
}

/// The host without the brackets of an IPv6 literal.
fn bare_host(authority: &Authority) -> &str {
    authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
}
