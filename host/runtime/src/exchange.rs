//! `Exchange`: one request passing through a chain. One driver (`drive`)
//! runs any hook of any plugin: it checks out the plugin's instance, lends
//! it the exchange, records the call and applies the failure policy. The
//! public steps — request, request body, response, response body whole or
//! in chunks, log — only choose which plugins run, in which order, with
//! which part of the body. An instance is held from its plugin's first hook
//! to its last and given back as soon as the plugin needs nothing more;
//! dropping the exchange mid-hook abandons that hook (and its outbound
//! calls) and discards the instance.

mod chunks;
mod slot;

pub use chunks::ChunkDecision;

use crate::body::{BodyAsk, OverLimit};
use crate::ctx::Attributes;
use crate::decision::{BodyDecision, Decision, Failure};
use crate::instance::{Answer, Call, Hook, LogInfo};
use crate::version::PluginVersion;
use crate::{PluginError, RequestInfo};
use bytes::Bytes;
use slot::{Slot, Stage};
use std::sync::Arc;
use std::time::Instant;

/// A copy of the request's head for the later hooks (the host has
/// forwarded the original by then).
fn snapshot(parts: &http::request::Parts) -> http::request::Parts {
    let mut copy = http::Request::new(()).into_parts().0;
    copy.method = parts.method.clone();
    copy.uri = parts.uri.clone();
    copy.version = parts.version;
    copy.headers = parts.headers.clone();
    copy
}

fn too_large() -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::from_static(b"request body too large\n"));
    *response.status_mut() = http::StatusCode::PAYLOAD_TOO_LARGE;
    response
}

fn empty_request() -> http::request::Parts {
    http::Request::new(()).into_parts().0
}

/// What a body hook is given: the body, or its first bytes.
enum BodyInput {
    Whole,
    Prefix(usize),
    Skip,
    Refuse,
}

/// How plugin `ask` takes a body of `len` bytes (`complete`: nothing more
/// follows).
fn body_input(ask: BodyAsk, len: usize, complete: bool) -> BodyInput {
    if len <= ask.max() && complete {
        return BodyInput::Whole;
    }
    match ask.over() {
        OverLimit::Reject => BodyInput::Refuse,
        OverLimit::Skip => BodyInput::Skip,
        OverLimit::InspectPrefix => BodyInput::Prefix(ask.max().min(len)),
    }
}

/// One request's pass through a [`crate::Chain`]. Call `on_request`, then
/// (if asked for) `on_request_body`, then after the upstream `on_response`
/// and (if asked for) `on_response_body` or `on_response_chunk` per chunk;
/// then `on_log` (if [`Exchange::wants_log`]) or drop it.
pub struct Exchange {
    slots: Vec<Slot>,
    info: Arc<RequestInfo>,
    attributes: Attributes,
    request: Option<http::request::Parts>,
    /// Plugins whose request hooks ran and continued: the later hooks run
    /// for these.
    ran: usize,
    /// Plugins whose request hooks ran, including one that answered:
    /// `on-log` runs for these.
    logged: usize,
    stage: Stage,
    /// Response body bytes went to the client: a plugin can no longer answer.
    streamed: bool,
}

impl Exchange {
    pub(crate) fn new(versions: &[Arc<PluginVersion>], info: RequestInfo) -> Self {
        Exchange {
            slots: versions.iter().cloned().map(Slot::new).collect(),
            info: Arc::new(info),
            attributes: Attributes::default(),
            request: None,
            ran: 0,
            logged: 0,
            stage: Stage::Request,
            streamed: false,
        }
    }

    /// Runs one hook of plugin `i`. `Err(None)`: a fail-open plugin failed
    /// and is skipped from now on.
    async fn drive(&mut self, i: usize, call: Call<'_>) -> Result<Answer, Option<Failure>> {
        let hook = call.hook();
        let Exchange {
            slots,
            info,
            attributes,
            ..
        } = self;
        let slot = &mut slots[i];
        let started = Instant::now();
        let result = match slot.instance().await {
            Ok(instance) => {
                let hooks = instance.hooks;
                let called = instance.call(call, info, attributes).await;
                called.map(|(answer, ask)| (answer, ask, hooks))
            }
            Err(e) => Err(e),
        };
        let result = result.map(|(answer, ask, hooks)| {
            slot.learn(hook, hooks, ask);
            answer
        });
        slot.settle(hook, started, result)
    }

    /// Fails plugin `i` for `error` (not its guest's doing) under its policy.
    fn fail(&mut self, i: usize, hook: Hook, error: PluginError) -> Option<Failure> {
        self.slots[i]
            .settle(hook, Instant::now(), Err(error))
            .err()
            .flatten()
    }

    /// Ends a stage: remembers the request for the later hooks if any
    /// plugin has some, and gives back the instances no longer needed.
    fn end_stage(&mut self, stage: Stage, parts: Option<&http::request::Parts>) {
        self.stage = stage;
        let later = self.slots[..self.logged]
            .iter()
            .any(|s| s.needs_instance(stage));
        if let Some(parts) = parts.filter(|_| later) {
            self.request = Some(snapshot(parts));
        }
        let (ran, logged) = (self.ran, self.logged);
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let keep = match i {
                i if i < ran => slot.needs_instance(stage),
                i if i < logged => !slot.skipped && slot.hooks.on_log,
                _ => false,
            };
            if !keep {
                slot.release();
            }
        }
    }

    /// Runs `on-request` in route order. Plugins may change `parts` and ask
    /// for the request body. A `Respond` skips the remaining plugins and the
    /// upstream; the later hooks then run only for the plugins before it.
    pub async fn on_request(&mut self, parts: &mut http::request::Parts) -> Decision {
        let mut decision = Decision::Continue;
        self.ran = self.slots.len();
        self.logged = self.slots.len();
        for i in 0..self.slots.len() {
            if self.slots[i].skipped {
                continue;
            }
            match self.drive(i, Call::Request { req: parts }).await {
                Ok(Answer::Respond(response)) => {
                    decision = Decision::Respond(response);
                    self.logged = i + 1;
                }
                Err(Some(failure)) => {
                    decision = Decision::Fail(failure);
                    self.logged = i;
                }
                Ok(_) | Err(None) => continue,
            }
            self.ran = i;
            break;
        }
        self.end_stage(Stage::Request, Some(parts));
        decision
    }

    fn wanting(&self, ask: impl Fn(&Slot) -> Option<BodyAsk>) -> impl Iterator<Item = BodyAsk> {
        self.slots[..self.ran]
            .iter()
            .filter(|s| !s.skipped)
            .filter_map(ask)
    }

    /// How much of the request body to read before `on_request_body`: the
    /// largest any plugin asked for whole, or `None` when none did.
    pub fn request_body_limit(&self) -> Option<usize> {
        let whole = |s: &Slot| {
            s.request_body
                .filter(|a| matches!(a, BodyAsk::Whole { .. }))
        };
        self.wanting(whole).map(|a| a.max()).max()
    }

    /// Whether a plugin asked for the request body in chunks
    /// (`on_request_chunk` for each chunk on its way upstream).
    pub fn request_streams(&self) -> bool {
        let stream = |s: &Slot| {
            s.request_body
                .filter(|a| matches!(a, BodyAsk::Stream { .. }))
        };
        self.wanting(stream).next().is_some()
    }

    /// How much of the response body to read before `on_response_body`, or
    /// `None` when no plugin asked for it whole.
    pub fn response_body_limit(&self) -> Option<usize> {
        let whole = |s: &Slot| {
            s.response_body
                .filter(|a| matches!(a, BodyAsk::Whole { .. }))
        };
        self.wanting(whole).map(|a| a.max()).max()
    }

    /// Whether a plugin asked for the response body in chunks.
    pub fn response_streams(&self) -> bool {
        let stream = |s: &Slot| {
            s.response_body
                .filter(|a| matches!(a, BodyAsk::Stream { .. }))
        };
        self.wanting(stream).next().is_some()
    }

    /// Whether a plugin wants `on-log` once the response is sent.
    pub fn wants_log(&self) -> bool {
        self.slots[..self.logged]
            .iter()
            .any(|s| !s.skipped && s.hooks.on_log)
    }

    /// Runs `on-request-body` in route order for the plugins that asked,
    /// each seeing the body the previous one left. `complete` is false when
    /// `body` is only the first part of a larger body: each plugin's
    /// over-limit rule then applies, and the body cannot be replaced.
    /// `trailers` are the body's (empty when none); plugins that saw the
    /// whole body may read and change them.
    pub async fn on_request_body(
        &mut self,
        parts: &mut http::request::Parts,
        mut body: Bytes,
        complete: bool,
        trailers: &mut http::HeaderMap,
    ) -> BodyDecision {
        for i in 0..self.ran {
            let Some(ask) = self.slots[i]
                .request_body
                .filter(|a| !self.slots[i].skipped && matches!(a, BodyAsk::Whole { .. }))
            else {
                continue;
            };
            let (input, truncated) = match body_input(ask, body.len(), complete) {
                BodyInput::Whole => (body.clone(), false),
                BodyInput::Prefix(n) => (body.slice(..n), true),
                BodyInput::Skip => continue,
                BodyInput::Refuse => return BodyDecision::Respond(too_large()),
            };
            let call = Call::RequestBody {
                req: parts,
                body: &input,
                truncated,
                trailers: (!truncated).then_some(&mut *trailers),
            };
            match self.drive(i, call).await {
                Ok(Answer::Replace(b)) if !truncated => body = b,
                Ok(Answer::Respond(response)) => return BodyDecision::Respond(response),
                Err(Some(failure)) => return BodyDecision::Fail(failure),
                Ok(_) | Err(None) => {}
            }
        }
        if !self.request_streams() {
            self.end_stage(Stage::RequestBody, Some(parts));
        } else if self.request.is_some() {
            // The chunk hooks still to come see the head as it now is.
            self.request = Some(snapshot(parts));
        }
        BodyDecision::Continue(body)
    }

    /// Runs `on-response` in reverse route order; plugins may ask for the
    /// response body. A `Respond` replaces the response and skips the
    /// remaining response hooks.
    pub async fn on_response(&mut self, parts: &mut http::response::Parts) -> Decision {
        let mut request = self.request.take().unwrap_or_else(empty_request);
        let mut decision = Decision::Continue;
        for i in (0..self.ran).rev() {
            if self.slots[i].skipped || !self.slots[i].hooks.on_response {
                continue;
            }
            let call = Call::Response {
                req: &mut request,
                resp: parts,
            };
            match self.drive(i, call).await {
                Ok(Answer::Respond(response)) => decision = Decision::Respond(response),
                Err(Some(failure)) => decision = Decision::Fail(failure),
                Ok(_) | Err(None) => continue,
            }
            break;
        }
        self.request = Some(request);
        self.end_stage(Stage::Response, None);
        decision
    }

    /// Runs `on-response-body` in reverse route order for the plugins that
    /// asked for the body whole. `complete` as for `on_request_body`; a body
    /// over a plugin's limit under `reject` fails that plugin under its
    /// failure policy. `trailers` as for `on_request_body`.
    pub async fn on_response_body(
        &mut self,
        parts: &mut http::response::Parts,
        mut body: Bytes,
        complete: bool,
        trailers: &mut http::HeaderMap,
    ) -> BodyDecision {
        let mut request = self.request.take().unwrap_or_else(empty_request);
        let mut decision = None;
        for i in (0..self.ran).rev() {
            let slot = &self.slots[i];
            let Some(ask) = slot
                .response_body
                .filter(|a| !slot.skipped && matches!(a, BodyAsk::Whole { .. }))
            else {
                continue;
            };
            let (input, truncated) = match body_input(ask, body.len(), complete) {
                BodyInput::Whole => (body.clone(), false),
                BodyInput::Prefix(n) => (body.slice(..n), true),
                BodyInput::Skip => continue,
                BodyInput::Refuse => {
                    let error = self.slots[i].too_large(Hook::OnResponseBody, ask);
                    match self.fail(i, Hook::OnResponseBody, error) {
                        Some(failure) => {
                            decision = Some(BodyDecision::Fail(failure));
                            break;
                        }
                        None => continue,
                    }
                }
            };
            let call = Call::ResponseBody {
                req: &mut request,
                resp: parts,
                body: &input,
                truncated,
                trailers: (!truncated).then_some(&mut *trailers),
            };
            match self.drive(i, call).await {
                Ok(Answer::Replace(b)) if !truncated => body = b,
                Ok(Answer::Respond(response)) => decision = Some(BodyDecision::Respond(response)),
                Err(Some(failure)) => decision = Some(BodyDecision::Fail(failure)),
                Ok(_) | Err(None) => continue,
            }
            break;
        }
        self.request = Some(request);
        if !self.response_streams() {
            self.end_stage(Stage::ResponseBody, None);
        }
        decision.unwrap_or(BodyDecision::Continue(body))
    }

    /// Runs `on-log` in route order for the plugins that want it, then ends
    /// the exchange. Failures are counted and logged, and the first of a
    /// fail-closed plugin is returned (the response is gone: the proxy
    /// drops it; the offline harness reports it).
    pub async fn on_log(mut self, info: LogInfo) -> Option<Failure> {
        let mut request = self.request.take().unwrap_or_else(empty_request);
        let mut failure = None;
        for i in 0..self.logged {
            if self.slots[i].skipped || !self.slots[i].hooks.on_log {
                continue;
            }
            let call = Call::Log {
                req: &mut request,
                info,
            };
            if let Err(Some(failed)) = self.drive(i, call).await {
                failure.get_or_insert(failed);
            }
        }
        failure
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            slot.release();
        }
    }
}
