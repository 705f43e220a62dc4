//! One QUIC connection: the handshake (with 0-RTT only when the listener
//! allows it), what the requests learn of the TLS session, and the HTTP/3
//! loop that hands each request stream to the pipeline; on shutdown,
//! GOAWAY, the requests in flight, then close with H3_NO_ERROR.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use quinn::VarInt;
use tokio_util::task::TaskTracker;

use super::super::Shared;
use super::request;
use crate::pipeline::ConnInfo;

/// H3_NO_ERROR (RFC 9114 §8.1).
const H3_NO_ERROR: u32 = 0x100;

type H3Connection = h3::server::Connection<h3_quinn::Connection, Bytes>;

/// What a connection's task needs besides the connection itself.
pub struct Task {
    pub shared: Shared,
    pub listener: Arc<str>,
    pub alt_svc: Option<HeaderValue>,
    pub early_data: bool,
}

impl Task {
    pub async fn serve(self, incoming: quinn::Incoming, config: Arc<quinn::ServerConfig>) {
        let peer = incoming.remote_address();
        let (handshake_timeout, max_header) = {
            let snapshot = self.shared.proxy.snapshot.load();
            let config = &snapshot.config;
            (
                config.timeouts.client_header,
                config.limits.max_request_header_bytes,
            )
        };
        let connecting = match incoming.accept_with(config) {
            Ok(connecting) => connecting,
            Err(e) => return tracing::debug!(client = %peer, "QUIC connection refused: {e}"),
        };
        let Some((connection, confirmed)) =
            handshake(connecting, self.early_data, handshake_timeout, peer).await
        else {
            return;
        };
        let info = Arc::new(self.conn_info(&connection, peer));
        let h3 = h3::server::builder()
            .max_field_section_size(max_header as u64)
            .build(h3_quinn::Connection::new(connection.clone()))
            .await;
        match h3 {
            Ok(h3) => self.requests(h3, info, confirmed).await,
            Err(e) => tracing::debug!(client = %peer, "HTTP/3 setup failed: {e}"),
        }
        connection.close(VarInt::from_u32(H3_NO_ERROR), b"");
    }

    /// Accepts request streams until the client leaves, or until shutdown
    /// has sent GOAWAY and the requests accepted before it are answered.
    async fn requests(
        &self,
        mut h3: H3Connection,
        info: Arc<ConnInfo>,
        confirmed: Arc<AtomicBool>,
    ) {
        let in_flight = TaskTracker::new();
        loop {
            let accepted = tokio::select! {
                accepted = h3.accept() => accepted,
                _ = self.shared.shutdown.cancelled(), if !in_flight.is_closed() => {
                    in_flight.close();
                    // GOAWAY: streams the client opens from now on are
                    // refused (H3_REQUEST_REJECTED, safe to retry).
                    if let Err(e) = h3.shutdown(0).await {
                        tracing::debug!(client = %info.peer, "HTTP/3 GOAWAY failed: {e}");
                        return;
                    }
                    continue;
                }
                _ = in_flight.wait(), if in_flight.is_closed() => return,
            };
            let resolver = match accepted {
                Ok(Some(resolver)) => resolver,
                Ok(None) => return,
                Err(e) => {
                    if !e.is_h3_no_error() {
                        tracing::debug!(client = %info.peer, "HTTP/3 connection ended: {e}");
                    }
                    return;
                }
            };
            let stream = request::Request {
                proxy: self.shared.proxy.clone(),
                conn: info.clone(),
                early: !confirmed.load(Ordering::Acquire),
            };
            // Tracked twice: the connection waits for its own requests
            // before closing, and the process for every one before exiting.
            self.shared
                .tracker
                .spawn(in_flight.track_future(stream.serve(resolver)));
        }
    }

    /// The session facts the pipeline and plugins see, as for HTTP/2 over TLS.
    fn conn_info(&self, connection: &quinn::Connection, peer: SocketAddr) -> ConnInfo {
        let handshake = connection
            .handshake_data()
            .and_then(|data| data.downcast::<quinn::crypto::rustls::HandshakeData>().ok());
        let leaf = connection
            .peer_identity()
            .and_then(|id| {
                id.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                    .ok()
            })
            .and_then(|chain| chain.first().map(crate::tls::client_cert));
        ConnInfo {
            peer,
            tls: true,
            listener: self.listener.clone(),
            sni: handshake.as_ref().and_then(|h| h.server_name.clone()),
            alpn: Some("h3".to_string()),
            tls_version: "TLSv1.3",
            // quinn does not expose the negotiated suite.
            tls_cipher: "",
            client_cert: leaf.map(Arc::new),
            alt_svc: self.alt_svc.clone(),
        }
    }
}

/// The finished handshake, or with early data allowed, the connection at
/// once with a flag that turns true when the handshake completes: requests
/// accepted before that came in 0-RTT data and may be replays.
async fn handshake(
    connecting: quinn::Connecting,
    early_data: bool,
    limit: Duration,
    peer: SocketAddr,
) -> Option<(quinn::Connection, Arc<AtomicBool>)> {
    let confirmed = Arc::new(AtomicBool::new(true));
    let connecting = if early_data {
        match connecting.into_0rtt() {
            Ok((connection, accepted)) => {
                confirmed.store(false, Ordering::Release);
                let flag = confirmed.clone();
                tokio::spawn(async move {
                    accepted.await;
                    flag.store(true, Ordering::Release);
                });
                return Some((connection, confirmed));
            }
            Err(connecting) => connecting,
        }
    } else {
        connecting
    };
    match tokio::time::timeout(limit, connecting).await {
        Ok(Ok(connection)) => Some((connection, confirmed)),
        Ok(Err(e)) => {
            tracing::debug!(client = %peer, "QUIC handshake failed: {e}");
            None
        }
        Err(_) => {
            tracing::debug!(client = %peer, "QUIC handshake timed out");
            None
        }
    }
}
