//! `outbound` (0.1): one blocking call at a time, through the outbound port,
//! with the plugin's allow-list and timeout; the wait does not count
//! against the hook's deadline.

use crate::bindings::v1::ravelin::plugin::outbound::{Host, OutboundRequest, OutboundResponse};
use crate::ctx::StoreCtx;
use bytes::Bytes;
use std::time::Duration;

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
        let call = self.env.outbound.send(&cluster, request, timeout);
        let result = match self
            .clock
            .off_deadline(tokio::time::timeout(timeout, call))
            .await
        {
            Ok(Ok(response)) => Ok(from_http(response)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "upstream cluster {cluster:?} did not answer within {timeout:?}"
            )),
        };
        Ok(result)
    }
}
