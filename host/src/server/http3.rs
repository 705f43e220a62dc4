//! HTTP/3: a QUIC endpoint on the TLS listener's port number over UDP. Each
//! connection is checked (address validation by retry token, connection
//! limits) before any handshake work, handshakes with the listener's
//! certificates from the current snapshot, and hands each request stream
//! to the same pipeline as HTTP/1.1 and HTTP/2. On shutdown it sends
//! GOAWAY, lets the requests in flight finish, and closes with H3_NO_ERROR.

mod config;
mod connection;
mod request;

use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderValue;

use super::Shared;
use super::limits::ConnectionLimits;
use crate::config::{Http3, Listener};
use crate::metrics::ListenerLabel;
use config::QuicConfigs;

/// A bound QUIC endpoint and the configs its connections get.
pub struct Endpoint {
    endpoint: quinn::Endpoint,
    configs: QuicConfigs,
}

/// Binds the UDP side of `listener` at `addr` (the TCP side's address, so
/// the port number is the same), failing start-up with a clear error.
pub fn bind(listener: &Listener, http3: &Http3, addr: SocketAddr) -> Result<Endpoint, String> {
    let socket = std::net::UdpSocket::bind(addr).map_err(|e| {
        format!(
            "listener {} cannot bind UDP {addr} for HTTP/3: {e}",
            listener.name
        )
    })?;
    let configs = QuicConfigs::new(Arc::from(listener.name.as_str()));
    let endpoint = config::endpoint(socket, http3, &configs)
        .map_err(|e| format!("listener {}: HTTP/3 endpoint: {e}", listener.name))?;
    Ok(Endpoint { endpoint, configs })
}

impl Endpoint {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }
}

/// `Alt-Svc` advertising HTTP/3 on `port` for a day.
pub fn alt_svc(port: u16) -> HeaderValue {
    HeaderValue::from_str(&format!("h3=\":{port}\"; ma=86400"))
        .unwrap_or(HeaderValue::from_static("clear"))
}

/// Accepts QUIC connections until shutdown, then waits (in the task
/// tracker, so within the drain deadline) for the open ones to close.
pub async fn accept_loop(bound: Endpoint, listener: &Listener, shared: Shared) {
    let Endpoint {
        endpoint,
        mut configs,
    } = bound;
    let name: Arc<str> = Arc::from(listener.name.as_str());
    let Some(http3) = listener.http3.clone() else {
        return;
    };
    let limits = ConnectionLimits::of(listener);
    let label = ListenerLabel {
        listener: listener.name.clone(),
    };
    let alt_svc = endpoint.local_addr().ok().map(|a| alt_svc(a.port()));
    loop {
        let incoming = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            incoming = endpoint.accept() => incoming,
        };
        let Some(incoming) = incoming else { break };
        // Against spoofed sources: no handshake state, and no reply larger
        // than the packet, until the client proves it gets our packets.
        if http3.retry && !incoming.remote_address_validated() && incoming.may_retry() {
            let _ = incoming.retry();
            continue;
        }
        let peer = incoming.remote_address();
        let Some(permit) = limits.admit(peer.ip()) else {
            shared
                .proxy
                .metrics
                .refused_connections
                .get_or_create(&label)
                .inc();
            tracing::debug!(listener = %name, client = %peer.ip(), "QUIC connection refused: limit reached");
            incoming.refuse();
            continue;
        };
        let Some(server_config) = configs.current(&shared.proxy) else {
            incoming.refuse();
            continue;
        };
        let gauge = shared
            .proxy
            .metrics
            .open_connections
            .get_or_create(&label)
            .clone();
        let task = connection::Task {
            shared: shared.clone(),
            listener: name.clone(),
            alt_svc: alt_svc.clone(),
            early_data: server_config.early_data,
        };
        shared.tracker.spawn(async move {
            gauge.inc();
            task.serve(incoming, server_config.quinn).await;
            gauge.dec();
            drop(permit);
        });
    }
    // No new connections; the open ones drain in their tasks. Waiting for
    // the endpoint to go idle sends their CONNECTION_CLOSE frames out.
    endpoint.set_server_config(None);
    shared
        .tracker
        .spawn(async move { endpoint.wait_idle().await });
}
