//! One hook call in either contract version: what it works on (lent to the
//! store for the call, given back after), the call itself, and its answer
//! in one shape whatever the hook and the version.

use super::{Guest, Hook, Instance, empty_request, empty_response};
use crate::bindings::{RequestHandle, ResponseHandle, v1, v2};
use crate::body::BodyAsk;
use crate::ctx::Attributes;
use crate::{PluginError, RequestInfo};
use bytes::Bytes;
use http::{request, response};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Resource;

/// What happened to an exchange, for `on-log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogInfo {
    /// The status sent to the client.
    pub status: u16,
    /// Request body bytes read from the client.
    pub request_body_bytes: u64,
    /// Response body bytes sent to the client.
    pub response_body_bytes: u64,
    /// From the request head to the end of the response.
    pub duration: Duration,
    /// Whether the whole response went out.
    pub completed: bool,
}

/// One hook call and the parts of the exchange it works on.
pub(crate) enum Call<'a> {
    Request {
        req: &'a mut request::Parts,
    },
    RequestBody {
        req: &'a mut request::Parts,
        body: &'a [u8],
        truncated: bool,
        /// The request's trailers, when the whole body was read.
        trailers: Option<&'a mut http::HeaderMap>,
    },
    RequestChunk {
        req: &'a mut request::Parts,
        chunk: &'a [u8],
        end: bool,
        /// The request's trailers, on the last call.
        trailers: Option<&'a mut http::HeaderMap>,
    },
    Response {
        req: &'a mut request::Parts,
        resp: &'a mut response::Parts,
    },
    ResponseBody {
        req: &'a mut request::Parts,
        resp: &'a mut response::Parts,
        body: &'a [u8],
        truncated: bool,
        /// The response's trailers, when the whole body was read.
        trailers: Option<&'a mut http::HeaderMap>,
    },
    ResponseChunk {
        req: &'a mut request::Parts,
        resp: &'a mut response::Parts,
        chunk: &'a [u8],
        end: bool,
        /// The response's trailers, on the last call.
        trailers: Option<&'a mut http::HeaderMap>,
    },
    Log {
        req: &'a mut request::Parts,
        info: LogInfo,
    },
}

/// The arguments of a call besides the request and response.
#[derive(Clone, Copy)]
enum Args<'a> {
    None,
    Body(&'a [u8], bool),
    Chunk(&'a [u8], bool),
    Log(LogInfo),
}

/// What a call lends the store: the request, the response and the
/// trailers the hook may see, and the hook's other arguments.
struct Lent<'a> {
    req: &'a mut request::Parts,
    resp: Option<&'a mut response::Parts>,
    trailers: Option<&'a mut http::HeaderMap>,
    args: Args<'a>,
}

impl<'a> Call<'a> {
    pub(crate) fn hook(&self) -> Hook {
        match self {
            Call::Request { .. } => Hook::OnRequest,
            Call::RequestBody { .. } => Hook::OnRequestBody,
            Call::RequestChunk { .. } => Hook::OnRequestChunk,
            Call::Response { .. } => Hook::OnResponse,
            Call::ResponseBody { .. } => Hook::OnResponseBody,
            Call::ResponseChunk { .. } => Hook::OnResponseChunk,
            Call::Log { .. } => Hook::OnLog,
        }
    }

    fn split(self) -> Lent<'a> {
        let lent = |req, resp, trailers, args| Lent {
            req,
            resp,
            trailers,
            args,
        };
        match self {
            Call::Request { req } => lent(req, None, None, Args::None),
            Call::RequestBody {
                req,
                body,
                truncated,
                trailers,
            } => lent(req, None, trailers, Args::Body(body, truncated)),
            Call::RequestChunk {
                req,
                chunk,
                end,
                trailers,
            } => lent(req, None, trailers, Args::Chunk(chunk, end)),
            Call::Response { req, resp } => lent(req, Some(resp), None, Args::None),
            Call::ResponseBody {
                req,
                resp,
                body,
                truncated,
                trailers,
            } => lent(req, Some(resp), trailers, Args::Body(body, truncated)),
            Call::ResponseChunk {
                req,
                resp,
                chunk,
                end,
                trailers,
            } => lent(req, Some(resp), trailers, Args::Chunk(chunk, end)),
            Call::Log { req, info } => lent(req, None, None, Args::Log(info)),
        }
    }
}

/// What a hook answered, in one shape for every hook and version.
#[derive(Debug)]
pub(crate) enum Answer {
    Continue,
    Replace(Bytes),
    Hold,
    Respond(http::Response<Bytes>),
}

/// A hook's answer as the guest gave it.
enum Raw {
    Unit,
    V1(v1::ravelin::plugin::types::BodyDecision),
    V2(v2::ravelin::plugin::types::BodyDecision),
    V2Chunk(v2::ravelin::plugin::types::ChunkDecision),
}

fn v1_body(d: v1::ravelin::plugin::types::Decision) -> Raw {
    use v1::ravelin::plugin::types::{BodyDecision, Decision};
    Raw::V1(match d {
        Decision::Continue => BodyDecision::Continue,
        Decision::Respond(init) => BodyDecision::Respond(init),
    })
}

fn v2_body(d: v2::ravelin::plugin::types::Decision) -> Raw {
    use v2::ravelin::plugin::types::{BodyDecision, Decision};
    Raw::V2(match d {
        Decision::Continue => BodyDecision::Continue,
        Decision::Respond(init) => BodyDecision::Respond(init),
    })
}

fn v2_response(
    init: v2::ravelin::plugin::types::ResponseInit,
    max: usize,
) -> Result<Answer, String> {
    let headers = init
        .headers
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    crate::guest_input::response(init.status, headers, init.body, max).map(Answer::Respond)
}

impl Raw {
    /// The answer, checked against the plugin's body limit.
    fn answer(self, max: usize) -> Result<Answer, String> {
        use v1::ravelin::plugin::types::BodyDecision as B1;
        use v2::ravelin::plugin::types::{BodyDecision as B2, ChunkDecision as C2};
        let replace = |b: Vec<u8>| crate::guest_input::body(b, max).map(Answer::Replace);
        match self {
            Raw::Unit | Raw::V1(B1::Continue) | Raw::V2(B2::Continue) | Raw::V2Chunk(C2::Pass) => {
                Ok(Answer::Continue)
            }
            Raw::V1(B1::Replace(b)) | Raw::V2(B2::Replace(b)) | Raw::V2Chunk(C2::Replace(b)) => {
                replace(b)
            }
            Raw::V2Chunk(C2::Hold) => Ok(Answer::Hold),
            Raw::V1(B1::Respond(init)) => {
                crate::guest_input::response(init.status, init.headers, init.body, max)
                    .map(Answer::Respond)
            }
            Raw::V2(B2::Respond(init)) | Raw::V2Chunk(C2::Respond(init)) => v2_response(init, max),
        }
    }
}

fn log_info(info: LogInfo) -> v2::ravelin::plugin::types::LogInfo {
    v2::ravelin::plugin::types::LogInfo {
        status: info.status,
        request_body_bytes: info.request_body_bytes,
        response_body_bytes: info.response_body_bytes,
        duration_us: u64::try_from(info.duration.as_micros()).unwrap_or(u64::MAX),
        completed: info.completed,
    }
}

impl Instance {
    /// Runs one hook: lends the exchange's parts and attributes to the store,
    /// calls the guest under the deadline, gives them back, and returns the
    /// answer with the body the hook asked for (`want-body`), if any.
    pub(crate) async fn call(
        &mut self,
        call: Call<'_>,
        info: &Arc<RequestInfo>,
        attributes: &mut Attributes,
    ) -> Result<(Answer, Option<BodyAsk>), PluginError> {
        let hook = call.hook();
        let Lent {
            req,
            mut resp,
            mut trailers,
            args,
        } = call.split();
        let data = self.store.data_mut();
        data.info = info.clone();
        data.attributes = std::mem::take(attributes);
        data.request = Some(std::mem::replace(req, empty_request()));
        if let Some(resp) = resp.as_deref_mut() {
            data.response = Some(std::mem::replace(resp, empty_response()));
        }
        data.trailers = trailers.as_deref_mut().map(std::mem::take);
        self.begin(hook);
        let result = self.dispatch(hook, args).await;
        let data = self.store.data_mut();
        if let Some(p) = data.request.take() {
            *req = p;
        }
        if let (Some(resp), Some(p)) = (resp, data.response.take()) {
            *resp = p;
        }
        if let (Some(trailers), Some(t)) = (trailers, data.trailers.take()) {
            *trailers = t;
        }
        *attributes = std::mem::take(&mut data.attributes);
        let ask = data.body_ask.take();
        let max = data.env.max_body_bytes;
        let raw = self.finish(hook, result)?;
        let answer = raw.answer(max).map_err(|reason| PluginError::Guest {
            plugin: self.store.data().env.name.to_string(),
            hook: hook.name(),
            reason,
        })?;
        Ok((answer, ask))
    }

    async fn dispatch(&mut self, hook: Hook, args: Args<'_>) -> wasmtime::Result<Raw> {
        let store = &mut self.store;
        let req = || Resource::<RequestHandle>::new_borrow(0);
        let resp = || Resource::<ResponseHandle>::new_borrow(0);
        match (&self.guest, hook, args) {
            (Guest::V1(g), Hook::OnRequest, _) => {
                g.call_on_request(store, req()).await.map(v1_body)
            }
            (Guest::V1(g), Hook::OnRequestBody, Args::Body(body, _)) => g
                .call_on_request_body(store, req(), body)
                .await
                .map(Raw::V1),
            (Guest::V1(g), Hook::OnResponse, _) => {
                g.call_on_response(store, req(), resp()).await.map(v1_body)
            }
            (Guest::V1(g), Hook::OnResponseBody, Args::Body(body, _)) => g
                .call_on_response_body(store, req(), resp(), body)
                .await
                .map(Raw::V1),
            (Guest::V2(g), Hook::OnRequest, _) => {
                g.call_on_request(store, req()).await.map(v2_body)
            }
            (Guest::V2(g), Hook::OnRequestBody, Args::Body(body, truncated)) => g
                .call_on_request_body(store, req(), body, truncated)
                .await
                .map(Raw::V2),
            (Guest::V2(g), Hook::OnRequestChunk, Args::Chunk(chunk, end)) => g
                .call_on_request_chunk(store, req(), chunk, end)
                .await
                .map(Raw::V2Chunk),
            (Guest::V2(g), Hook::OnResponse, _) => {
                g.call_on_response(store, req(), resp()).await.map(v2_body)
            }
            (Guest::V2(g), Hook::OnResponseBody, Args::Body(body, truncated)) => g
                .call_on_response_body(store, req(), resp(), body, truncated)
                .await
                .map(Raw::V2),
            (Guest::V2(g), Hook::OnResponseChunk, Args::Chunk(chunk, end)) => g
                .call_on_response_chunk(store, req(), resp(), chunk, end)
                .await
                .map(Raw::V2Chunk),
            (Guest::V2(g), Hook::OnLog, Args::Log(info)) => g
                .call_on_log(store, req(), log_info(info))
                .await
                .map(|()| Raw::Unit),
            (_, hook, _) => Err(wasmtime::format_err!(
                "the host called {} in a way this component's contract has no hook for",
                hook.name()
            )),
        }
    }
}
