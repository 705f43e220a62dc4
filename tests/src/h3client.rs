//! An HTTP/3 client for the tests: quinn and the `h3` client over loopback
//! UDP, trusting the test CA, one QUIC connection per [`H3Client`]. Its
//! answers are [`Answer`]s, comparable with the HTTP/2 client's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::Request;

use crate::client::Answer;

type SendRequest = h3::client::SendRequest<h3_quinn::OpenStreams, Bytes>;

/// A clone shares the connection: clones send requests concurrently.
#[derive(Clone)]
pub struct H3Client {
    // Kept for the connection's lifetime: dropping it closes the socket.
    _endpoint: quinn::Endpoint,
    connection: quinn::Connection,
    send: SendRequest,
}

/// A TLS 1.3 client config with ALPN `h3`, trusting `roots`, ready to send
/// early data on a resumed session (rustls keeps tickets in memory, per
/// config: connections of one endpoint share them).
fn crypto(roots: rustls::RootCertStore) -> Result<quinn::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    tls.enable_early_data = true;
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).map_err(|e| e.to_string())?;
    Ok(quinn::ClientConfig::new(Arc::new(quic)))
}

/// A client endpoint whose connections share TLS session tickets: the
/// first connects in full, later ones can resume and send 0-RTT data.
pub struct Resuming {
    endpoint: quinn::Endpoint,
}

impl Resuming {
    pub fn new(roots: rustls::RootCertStore) -> Result<Resuming, String> {
        let local: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let mut endpoint = quinn::Endpoint::client(local).map_err(|e| e.to_string())?;
        endpoint.set_default_client_config(crypto(roots)?);
        Ok(Resuming { endpoint })
    }

    /// A connection with a full handshake.
    pub async fn connect(&self, addr: SocketAddr, server_name: &str) -> Result<H3Client, String> {
        let connecting = self
            .endpoint
            .connect(addr, server_name)
            .map_err(|e| e.to_string())?;
        let connection = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| "QUIC handshake timed out".to_string())?
            .map_err(|e| format!("QUIC handshake: {e}"))?;
        H3Client::over(self.endpoint.clone(), connection).await
    }

    /// A connection that sends its requests in 0-RTT data at once, with
    /// whether the server accepted them as such (known once the handshake
    /// is done); `None` when the server's ticket allows no early data.
    pub async fn connect_early(
        &self,
        addr: SocketAddr,
        server_name: &str,
    ) -> Result<Option<(H3Client, quinn::ZeroRttAccepted)>, String> {
        let connecting = self
            .endpoint
            .connect(addr, server_name)
            .map_err(|e| e.to_string())?;
        let Ok((connection, accepted)) = connecting.into_0rtt() else {
            return Ok(None);
        };
        let client = H3Client::over(self.endpoint.clone(), connection).await?;
        Ok(Some((client, accepted)))
    }
}

impl H3Client {
    /// Connects to `addr` (UDP) as `server_name`, trusting `roots`.
    pub async fn connect(
        addr: SocketAddr,
        server_name: &str,
        roots: rustls::RootCertStore,
    ) -> Result<H3Client, String> {
        let local: SocketAddr = if addr.is_ipv4() {
            "127.0.0.1:0".parse().expect("address")
        } else {
            "[::1]:0".parse().expect("address")
        };
        let mut endpoint = quinn::Endpoint::client(local).map_err(|e| e.to_string())?;
        endpoint.set_default_client_config(crypto(roots)?);
        let connecting = endpoint
            .connect(addr, server_name)
            .map_err(|e| e.to_string())?;
        let connection = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| "QUIC handshake timed out".to_string())?
            .map_err(|e| format!("QUIC handshake: {e}"))?;
        Self::over(endpoint, connection).await
    }

    /// HTTP/3 over `connection`.
    async fn over(
        endpoint: quinn::Endpoint,
        connection: quinn::Connection,
    ) -> Result<H3Client, String> {
        let (mut driver, send) = h3::client::new(h3_quinn::Connection::new(connection.clone()))
            .await
            .map_err(|e| format!("HTTP/3 setup: {e}"))?;
        // The driver reads the server's control stream (SETTINGS, GOAWAY).
        tokio::spawn(async move { driver.wait_idle().await });
        Ok(H3Client {
            _endpoint: endpoint,
            connection,
            send,
        })
    }

    /// Sends `request` (its body, if any, in one DATA frame) and reads the
    /// whole answer.
    pub async fn send(&mut self, request: Request<Bytes>) -> Result<Answer, String> {
        tokio::time::timeout(Duration::from_secs(20), self.exchange(request))
            .await
            .map_err(|_| "timed out".to_string())?
    }

    pub async fn get(&mut self, url: &str) -> Result<Answer, String> {
        self.send(Request::get(url).body(Bytes::new()).expect("request"))
            .await
    }

    async fn exchange(&mut self, request: Request<Bytes>) -> Result<Answer, String> {
        let (parts, body) = request.into_parts();
        let mut stream = self
            .send
            .send_request(Request::from_parts(parts, ()))
            .await
            .map_err(|e| format!("send request: {e}"))?;
        // A server that answers early (413) stops the body: the answer
        // still comes, so a failed send only matters if it does not.
        let mut sent = Ok(());
        if !body.is_empty() {
            sent = stream.send_data(body).await;
        }
        if sent.is_ok() {
            sent = stream.finish().await;
        }
        let response = match stream.recv_response().await {
            Ok(response) => response,
            Err(e) => return Err(format!("response: {e} (sending: {sent:?})")),
        };
        let mut body = BytesMut::new();
        while let Some(mut chunk) = stream
            .recv_data()
            .await
            .map_err(|e| format!("response body: {e}"))?
        {
            body.extend_from_slice(&chunk.copy_to_bytes(chunk.remaining()));
        }
        let (parts, ()) = response.into_parts();
        Ok(Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.freeze(),
            version: parts.version,
        })
    }

    /// Waits up to `limit` for the connection to close: why it did.
    pub async fn closed(&self, limit: Duration) -> Option<quinn::ConnectionError> {
        tokio::time::timeout(limit, self.connection.closed())
            .await
            .ok()
    }

    /// Waits up to `limit` for the server to close the connection; the
    /// application error code it closed with, if it did.
    pub async fn closed_with(&self, limit: Duration) -> Option<u64> {
        match self.closed(limit).await? {
            quinn::ConnectionError::ApplicationClosed(close) => Some(close.error_code.into_inner()),
            _ => None,
        }
    }
}
