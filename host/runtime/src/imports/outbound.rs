//! `outbound` (0.2): calls to allowed upstream clusters that run beside the
//! hook. `start` spawns the call and hands the guest a `pending` handle;
//! `wait` takes its answer. Calls are bound to the exchange: when it ends
//! (or its instance is discarded) the calls still running are cancelled.

use crate::bindings::v2::ravelin::plugin::outbound::{
    Host, HostPending, OutboundRequest, OutboundResponse,
};
use crate::bindings::v2::ravelin::plugin::types::Field;
use crate::ctx::StoreCtx;
use bytes::Bytes;
use std::time::Duration;
use tokio::task::JoinHandle;
use wasmtime::component::Resource;

type Res<T> = wasmtime::Result<T>;

/// The most calls of one exchange running at once.
const MAX_IN_FLIGHT: usize = 16;

/// A call in flight: the task sending it, until the guest waits for it.
pub struct PendingCall {
    task: Option<JoinHandle<Result<http::Response<Bytes>, String>>>,
}

/// Builds the `http` request from the guest's record.
fn to_http(request: OutboundRequest) -> Result<http::Request<Bytes>, String> {
    let headers: Vec<(String, Vec<u8>)> = request
        .headers
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    crate::guest_input::outbound_request(
        &request.method,
        &request.path_with_query,
        &headers,
        request.body,
    )
}

/// Copies the upstream's response into the guest's record.
fn from_http(response: http::Response<Bytes>) -> OutboundResponse {
    let (parts, body) = response.into_parts();
    let headers = crate::headers::fields(&parts.headers)
        .into_iter()
        .map(|(name, value)| Field { name, value })
        .collect();
    OutboundResponse {
        status: parts.status.as_u16(),
        headers,
        body: body.to_vec(),
    }
}

impl StoreCtx {
    /// Checks and spawns one call; its abort handle joins the exchange's.
    fn start_call(
        &mut self,
        cluster: String,
        request: OutboundRequest,
        timeout_ms: u32,
    ) -> Result<PendingCall, String> {
        if !self.env.allowed_upstreams.contains(&cluster) {
            return Err(format!(
                "upstream cluster {cluster:?} is not in allowed_upstreams"
            ));
        }
        self.calls.retain(|call| !call.is_finished());
        if self.calls.len() >= MAX_IN_FLIGHT {
            return Err(format!(
                "at most {MAX_IN_FLIGHT} outbound calls may run at once"
            ));
        }
        let request = to_http(request)?;
        let timeout = Duration::from_millis(u64::from(timeout_ms));
        let call = self.env.outbound.send(&cluster, request, timeout);
        let task = tokio::spawn(async move {
            match tokio::time::timeout(timeout, call).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "upstream cluster {cluster:?} did not answer within {timeout:?}"
                )),
            }
        });
        self.calls.push(task.abort_handle());
        Ok(PendingCall { task: Some(task) })
    }

    /// Waits for a call; the wait does not count against the hook's deadline.
    async fn wait_call(&mut self, call: &mut PendingCall) -> Result<OutboundResponse, String> {
        let task = call
            .task
            .take()
            .ok_or_else(|| "this call's answer was already taken".to_string())?;
        let result = self.clock.off_deadline(task).await;
        match result {
            Ok(answer) => answer.map(from_http),
            Err(e) if e.is_cancelled() => Err("the call was cancelled".into()),
            Err(e) => Err(format!("the call failed: {e}")),
        }
    }
}

impl Host for StoreCtx {
    fn start(
        &mut self,
        cluster: String,
        request: OutboundRequest,
        timeout_ms: u32,
    ) -> Res<Result<Resource<PendingCall>, String>> {
        match self.start_call(cluster, request, timeout_ms) {
            Ok(call) => Ok(Ok(self.table.push(call)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn send(
        &mut self,
        cluster: String,
        request: OutboundRequest,
        timeout_ms: u32,
    ) -> Res<Result<OutboundResponse, String>> {
        let mut call = match self.start_call(cluster, request, timeout_ms) {
            Ok(call) => call,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self.wait_call(&mut call).await)
    }
}

impl HostPending for StoreCtx {
    async fn wait(
        &mut self,
        pending: Resource<PendingCall>,
    ) -> Res<Result<OutboundResponse, String>> {
        let mut call = PendingCall {
            task: self.table.get_mut(&pending)?.task.take(),
        };
        Ok(self.wait_call(&mut call).await)
    }

    fn drop(&mut self, pending: Resource<PendingCall>) -> Res<()> {
        if let Some(task) = self.table.delete(pending)?.task {
            task.abort();
        }
        Ok(())
    }
}
