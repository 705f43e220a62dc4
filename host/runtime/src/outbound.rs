//! The outbound port: the [`Outbound`] trait the host implements so plugins
//! can call upstream clusters (the runtime opens no socket), and
//! [`NoOutbound`] for tools and tests.

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What [`Outbound::send`] returns: the upstream's response or why there is none.
pub type OutboundFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, String>> + Send + 'static>>;

/// Sends a plugin's HTTP request to an upstream cluster. Implemented by the
/// host with its balancer and connection pools.
///
/// The runtime has already checked that the plugin may call `cluster`, and
/// it bounds the call by `timeout` itself too. Dropping the returned future
/// must cancel the call: the runtime drops it when the request exchange is
/// dropped (for example because the client went away).
pub trait Outbound: Send + Sync + 'static {
    /// Sends `request` (its URI is the path and query) to `cluster`.
    fn send(
        &self,
        cluster: &str,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> OutboundFuture;
}

/// An [`Outbound`] with no clusters: every call fails. For tools and tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOutbound;

impl Outbound for NoOutbound {
    fn send(
        &self,
        cluster: &str,
        _request: http::Request<Bytes>,
        _timeout: Duration,
    ) -> OutboundFuture {
        let message = format!("no upstream cluster {cluster:?} is available here");
        Box::pin(async move { Err(message) })
    }
}
