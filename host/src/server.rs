//! Client-facing listeners: accept loops with connection limits, the TLS
//! handshake (certificate by SNI, ALPN, client certificate), one task per
//! client serving HTTP/2 (hyper) or HTTP/1.1 (our own codec, which lets
//! go of its buffer between requests: see `http1`), idle keep-alive
//! timeouts, and graceful drain on shutdown.

mod http1;
pub mod http3;
mod idle;
mod limits;
mod prefixed;
mod stamp;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Listener;
use crate::metrics::ListenerLabel;
use crate::pipeline::{self, ClientBody, ConnInfo, Proxy};
use crate::upstream::BoxError;
use http1::Watch;
use idle::IdleIo;
pub use limits::ConnectionLimits;
use prefixed::Prefixed;

/// What the connection tasks share: the proxy, and the drain signal.
#[derive(Clone)]
pub struct Shared {
    pub proxy: Arc<Proxy>,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
}

/// Accepts connections until shutdown, within `limits` (which the
/// listener's copies on every worker share).
pub async fn accept_loop(
    tcp: TcpListener,
    listener: &Listener,
    shared: Shared,
    limits: ConnectionLimits,
) {
    let name: Arc<str> = Arc::from(listener.name.as_str());
    let label = ListenerLabel {
        listener: listener.name.clone(),
    };
    // HTTP/3 on the same port number: every response says so.
    let alt_svc = listener
        .http3
        .as_ref()
        .and(tcp.local_addr().ok())
        .map(|addr| http3::alt_svc(addr.port()));
    loop {
        let accepted = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = tcp.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                tracing::warn!(listener = %name, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(permit) = limits.admit(peer.ip()) else {
            shared
                .proxy
                .metrics
                .refused_connections
                .get_or_create(&label)
                .inc();
            tracing::debug!(listener = %name, client = %peer.ip(), "connection refused: limit reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        // Boxed: the connection's task hands it down through three async
        // fns, and each keeps room for its own copy for the connection's
        // whole life (a parked one's included).
        let conn = Box::new(ConnInfo {
            alt_svc: alt_svc.clone(),
            sni: None,
            alpn: None,
            tls_version: "",
            tls_cipher: "",
            client_cert: None,
            peer,
            tls: false,
            listener: name.clone(),
        });
        let shared_for_task = shared.clone();
        let gauge = shared
            .proxy
            .metrics
            .open_connections
            .get_or_create(&label)
            .clone();
        shared.tracker.spawn(async move {
            gauge.inc();
            serve_connection(stream, conn, &shared_for_task).await;
            gauge.dec();
            drop(permit);
        });
    }
}

/// The connection's task owns `shared` and lends it: passed down by value,
/// each async fn on the way would keep room for its copy (or two) all the
/// connection's life.
async fn serve_connection(stream: TcpStream, conn: Box<ConnInfo>, shared: &Shared) {
    let (tls, handshake_timeout) = {
        let snapshot = shared.proxy.snapshot.load();
        let tls = snapshot.tls.get(&*conn.listener).cloned();
        (tls, snapshot.config.timeouts.client_header)
    };
    match tls {
        // Boxed: a TLS connection's state is several KiB larger, and an
        // unboxed branch would make every plain connection's task that big.
        // The box is bound before it is awaited: awaited as a temporary,
        // the unboxed future kept its room in this one all the same.
        Some(tls) => {
            let tls = Box::pin(serve_tls(stream, tls, handshake_timeout, conn, shared));
            tls.await
        }
        None => serve_http(stream, conn, shared).await,
    }
}

async fn serve_tls(
    stream: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    handshake_timeout: Duration,
    mut conn: Box<ConnInfo>,
    shared: &Shared,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(mut tls_stream)) => {
            record_session(&mut conn, tls_stream.get_ref().1);
            if conn.alpn.as_deref().map(str::as_bytes) == Some(crate::tls::acme::ACME_TLS_ALPN) {
                // TLS-ALPN-01 validation: the handshake was the answer.
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls_stream).await;
                return;
            }
            serve_http(tls_stream, conn, shared).await;
        }
        Ok(Err(e)) => tracing::debug!(client = %conn.peer, "TLS handshake failed: {e}"),
        Err(_) => tracing::debug!(client = %conn.peer, "TLS handshake timed out"),
    }
}

/// What the connection's requests (and their plugins) learn of the TLS
/// session: SNI, ALPN, version, cipher and the verified client certificate.
fn record_session(conn: &mut ConnInfo, session: &rustls::ServerConnection) {
    conn.tls = true;
    conn.sni = session.server_name().map(str::to_string);
    conn.alpn = session
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    conn.tls_version = match session.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "",
    };
    conn.tls_cipher = session
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("");
    // Only a certificate the listener's verifier accepted gets this far.
    let leaf = session.peer_certificates().and_then(|chain| chain.first());
    conn.client_cert = leaf.map(|leaf| Arc::new(crate::tls::client_cert(leaf)));
}

/// Not an async fn, like `http1::serve`: its arguments would take room in
/// every connection's task twice over.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would keep its arguments twice"
)]
fn serve_http<IO>(io: IO, conn: Box<ConnInfo>, shared: &Shared) -> impl Future<Output = ()>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    async move {
        let snapshot = shared.proxy.snapshot.load_full();
        let (timeouts, limits) = (snapshot.config.timeouts, snapshot.config.limits);
        drop(snapshot);
        let max_head = limits.max_request_header_bytes.max(8192);
        let watch = Watch {
            head_limit: timeouts.client_header,
            idle_limit: timeouts.idle_keepalive,
            shutdown: shared.shutdown.clone(),
        };
        let conn = Arc::<ConnInfo>::from(conn);
        // The first bytes tell HTTP/2's preface from HTTP/1.1 (its "PRI"
        // begins no HTTP/1.1 request) when ALPN has not, and bound how long
        // a silent new connection is kept.
        let Some((io, first)) = first_bytes(io, &watch).await else {
            return;
        };
        // HTTP/2 is boxed, like the TLS branch (and the box bound before it is
        // awaited, for the same reason): HTTP/1.1 connections, parked ones
        // above all, do not carry its size.
        if conn.alpn.as_deref() == Some("h2") || first.starts_with(H2_PREFACE_START) {
            let io = Prefixed::new(first, io);
            let h2 = Box::pin(serve_h2(io, conn, shared, watch, max_head));
            return h2.await;
        }
        let http1 = Arc::new(http1::Http1Conn {
            proxy: shared.proxy.clone(),
            conn,
            max_head,
            watch,
        });
        http1::serve(io, &first, http1).await;
    }
}

const H2_PREFACE_START: &[u8] = b"PRI";

/// Reads until the first bytes tell HTTP/2's preface from HTTP/1.1, for
/// no longer than a request head may take: `None` when the client closes
/// first, stays silent, or the proxy drains. It takes the socket and gives
/// it back, not borrows it: a local an async fn has borrowed keeps its room
/// in the future to the end of its scope, so `serve_http` would carry a
/// second socket through every HTTP/1.1 connection's life.
async fn first_bytes<IO: AsyncRead + Unpin>(mut io: IO, watch: &Watch) -> Option<(IO, Bytes)> {
    let mut first = BytesMut::new();
    let read = async {
        let mut buf = [0u8; 16];
        while first.len() < H2_PREFACE_START.len() && H2_PREFACE_START.starts_with(&first) {
            match tokio::io::AsyncReadExt::read(&mut io, &mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => first.extend_from_slice(&buf[..n]),
            }
        }
        true
    };
    let arrived = tokio::select! {
        arrived = read => arrived,
        _ = tokio::time::sleep(watch.head_limit) => false,
        _ = watch.shutdown.cancelled() => false,
    };
    arrived.then(|| (io, first.freeze()))
}

/// Serves HTTP/2 (by ALPN, or prior knowledge on a plain listener).
async fn serve_h2<IO>(io: IO, conn: Arc<ConnInfo>, shared: &Shared, watch: Watch, max_head: usize)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(max_head).unwrap_or(u32::MAX))
        .max_concurrent_streams(256)
        .max_pending_accept_reset_streams(Some(64))
        .max_local_error_reset_streams(Some(256))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    let proxy = shared.proxy.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        pipeline::handle(proxy.clone(), conn.clone(), client_request(req))
    });
    let (io, last_activity) = IdleIo::new(io);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let period = watch.idle_limit.min(watch.head_limit) / 4 + Duration::from_millis(1);
    let mut check = tokio::time::interval(period);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = shared.shutdown.cancelled(), if !draining => {
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
            _ = check.tick() => {
                if !draining && last_activity.age() >= watch.idle_limit {
                    connection.as_mut().graceful_shutdown();
                    draining = true;
                }
            }
        }
    }
}

/// A hyper request as the pipeline takes it: the body boxed.
fn client_request(req: hyper::Request<Incoming>) -> Request<ClientBody> {
    req.map(|body| body.map_err(BoxError::from).boxed())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `serve` returns for `'a`.
    fn future_size<'a, R>(_serve: impl FnOnce(TcpStream, Box<ConnInfo>, &'a Shared) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    /// A parked HTTP/1.1 connection's task stays as small as it is now
    /// (docs/benchmarks.md, issue 14 item 4): with tokio's task header it
    /// fits jemalloc's 768 B size class, where it took the 1 KiB class
    /// while hyper served HTTP/1.1. The sizes are this toolchain's
    /// (release, debug).
    #[test]
    fn a_parked_connection_task_stays_in_its_size_class() {
        let size = future_size(serve_connection);
        let limit = if cfg!(debug_assertions) { 632 } else { 600 };
        assert!(
            size <= limit,
            "serve_connection's future is {size} B, over {limit} B: the task of every \
             parked connection grew (box what grew, or measure the idle figure and \
             change the limit)"
        );
    }
}
