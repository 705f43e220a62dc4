//! The [`Outbound`] trait the host implements so plugins can call upstream
//! clusters, and the `outbound` import that enforces the plugin's allow-list,
//! the timeout and the exchange's cancellation around it.

use crate::bindings::v1::ravelin::plugin::outbound::{Host, OutboundRequest, OutboundResponse};
use crate::ctx::StoreCtx;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

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

/// Builds the `http` request from the guest's record.
fn to_http(request: OutboundRequest) -> Result<http::Request<Bytes>, String> {
    crate::guest_input::outbound_request(
        &request.method,
        &request.path_with_query,
        &request.headers,
        request.body,
    )
}

/// Copies the upstream's response into the guest's record.
fn from_http(response: http::Response<Bytes>) -> OutboundResponse {
    let (parts, body) = response.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    OutboundResponse {
        status: parts.status.as_u16(),
        headers,
        body: body.to_vec(),
    }
}

impl Host for StoreCtx {
    async fn send(
        &mut self,
        cluster: String,
        request: OutboundRequest,
        timeout_ms: u32,
    ) -> wasmtime::Result<Result<OutboundResponse, String>> {
        if !self.env.allowed_upstreams.contains(&cluster) {
            return Ok(Err(format!(
                "upstream cluster {cluster:?} is not in allowed_upstreams"
            )));
        }
        let request = match to_http(request) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let started = Instant::now();
        let call = self.env.outbound.send(&cluster, request, timeout);
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(response)) => Ok(from_http(response)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "upstream cluster {cluster:?} did not answer within {timeout:?}"
            )),
        };
        self.clock.host_wait += started.elapsed();
        Ok(result)
    }
}
