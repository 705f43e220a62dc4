//! `Exchange`: one request passing through a chain. It holds one instance
//! per plugin for its whole life (request and response hooks share it),
//! applies each plugin's failure policy, and gives the instances back when
//! dropped. Dropping it mid-hook abandons that hook (and its outbound
//! calls); the instance is then discarded.

use crate::bindings::ravelin::plugin::types as wit;
use crate::config::FailPolicy;
use crate::decision::{BodyDecision, Decision, Failure, to_response};
use crate::handle::PluginHandle;
use crate::instance::{Hook, Instance};
use crate::version::PluginVersion;
use crate::{PluginError, RequestInfo};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

/// One plugin's part in an exchange.
struct Slot {
    handle: Arc<PluginHandle>,
    version: Arc<PluginVersion>,
    instance: Option<Instance>,
    /// A fail-open plugin that failed: skipped for the rest of the exchange.
    skipped: bool,
}

/// What a hook produced, before the failure policy applies.
enum Outcome {
    Continue,
    Replace(Bytes),
    Respond(http::Response<Bytes>),
}

impl Slot {
    async fn instance(&mut self) -> Result<&mut Instance, PluginError> {
        if self.instance.is_none() {
            self.instance = Some(self.version.checkout().await?);
        }
        self.instance
            .as_mut()
            .ok_or_else(|| PluginError::Instantiate {
                plugin: self.handle.name().to_string(),
                reason: "no instance".into(),
            })
    }

    fn guest_error(&self, hook: Hook, reason: String) -> PluginError {
        PluginError::Guest {
            plugin: self.handle.name().to_string(),
            hook: hook.name(),
            reason,
        }
    }

    /// Converts a hook's raw answer, checking sizes against the spec.
    fn outcome(&self, hook: Hook, decision: wit::BodyDecision) -> Result<Outcome, PluginError> {
        let max = self.version.spec.max_body_bytes;
        match decision {
            wit::BodyDecision::Continue => Ok(Outcome::Continue),
            wit::BodyDecision::Replace(body) => crate::guest_input::body(body, max)
                .map(Outcome::Replace)
                .map_err(|reason| self.guest_error(hook, reason)),
            wit::BodyDecision::Respond(init) => to_response(init, max)
                .map(Outcome::Respond)
                .map_err(|reason| self.guest_error(hook, reason)),
        }
    }

    /// Records the call; on failure discards the instance and applies the
    /// policy: `None` means "skip this plugin and go on".
    fn settle(
        &mut self,
        hook: Hook,
        started: Instant,
        result: Result<Outcome, PluginError>,
    ) -> Result<Outcome, Option<Failure>> {
        self.handle
            .record(hook, started.elapsed(), result.as_ref().err());
        result.map_err(|error| {
            self.instance = None;
            match self.version.spec.fail {
                FailPolicy::Open => {
                    self.skipped = true;
                    None
                }
                FailPolicy::Closed => Some(Failure { error }),
            }
        })
    }
}

fn body_decision(d: wit::Decision) -> wit::BodyDecision {
    match d {
        wit::Decision::Continue => wit::BodyDecision::Continue,
        wit::Decision::Respond(init) => wit::BodyDecision::Respond(init),
    }
}

/// A copy of the request's head for the response hooks (the host has
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

/// One request's pass through a [`crate::Chain`]. Call `on_request`, then
/// (if asked for) `on_request_body`, then after the upstream `on_response`
/// and (if asked for) `on_response_body`; then drop it.
pub struct Exchange {
    slots: Vec<Slot>,
    info: Arc<RequestInfo>,
    request: Option<http::request::Parts>,
    /// Plugins whose request hooks ran and continued: the response hooks
    /// run for these, in reverse.
    ran: usize,
}

impl Exchange {
    pub(crate) fn new(handles: &[Arc<PluginHandle>], info: RequestInfo) -> Self {
        let slots = handles
            .iter()
            .map(|h| Slot {
                handle: h.clone(),
                version: h.current(),
                instance: None,
                skipped: false,
            })
            .collect();
        Exchange {
            slots,
            info: Arc::new(info),
            request: None,
            ran: 0,
        }
    }

    /// Runs `on-request` in route order. Plugins may change `parts`. A
    /// `Respond` skips the remaining plugins and the upstream; the response
    /// hooks then run only for the plugins before the one that answered.
    pub async fn on_request(&mut self, parts: &mut http::request::Parts) -> Decision {
        let info = self.info.clone();
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            if slot.skipped {
                continue;
            }
            let started = Instant::now();
            let result = match slot.instance().await {
                Ok(instance) => instance.on_request(parts, &info).await,
                Err(e) => Err(e),
            };
            let result = result.and_then(|d| slot.outcome(Hook::OnRequest, body_decision(d)));
            match slot.settle(Hook::OnRequest, started, result) {
                Ok(Outcome::Respond(response)) => {
                    return self.stop_at(i, parts, Decision::Respond(response));
                }
                Err(Some(failure)) => return self.stop_at(i, parts, Decision::Fail(failure)),
                Ok(_) | Err(None) => {}
            }
        }
        self.stop_at(self.slots.len(), parts, Decision::Continue)
    }

    fn stop_at(
        &mut self,
        ran: usize,
        parts: &http::request::Parts,
        decision: Decision,
    ) -> Decision {
        self.ran = ran;
        self.request = Some(snapshot(parts));
        decision
    }

    /// The largest request body the body hooks accept, or `None` when no
    /// plugin of this exchange wants the request body (do not buffer it).
    pub fn request_body_limit(&self) -> Option<usize> {
        let wanting = self.slots[..self.ran]
            .iter()
            .filter(|s| s.version.spec.request_body && !s.skipped);
        wanting.map(|s| s.version.spec.max_body_bytes).min()
    }

    /// The largest response body the body hooks accept, or `None` when no
    /// plugin of this exchange wants the response body.
    pub fn response_body_limit(&self) -> Option<usize> {
        let wanting = self.slots[..self.ran]
            .iter()
            .filter(|s| s.version.spec.response_body && !s.skipped);
        wanting.map(|s| s.version.spec.max_body_bytes).min()
    }

    /// Runs `on-request-body` in route order for the plugins that want it,
    /// each seeing the body the previous one left. A body over a plugin's
    /// limit is answered with 413.
    pub async fn on_request_body(
        &mut self,
        parts: &mut http::request::Parts,
        mut body: Bytes,
    ) -> BodyDecision {
        let info = self.info.clone();
        for slot in self.slots[..self.ran].iter_mut() {
            if slot.skipped || !slot.version.spec.request_body {
                continue;
            }
            if body.len() > slot.version.spec.max_body_bytes {
                return BodyDecision::Respond(too_large());
            }
            let started = Instant::now();
            let result = match slot.instance().await {
                Ok(instance) => instance.on_request_body(parts, &info, &body).await,
                Err(e) => Err(e),
            };
            let result = result.and_then(|d| slot.outcome(Hook::OnRequestBody, d));
            match slot.settle(Hook::OnRequestBody, started, result) {
                Ok(Outcome::Replace(b)) => body = b,
                Ok(Outcome::Respond(response)) => return BodyDecision::Respond(response),
                Err(Some(failure)) => return BodyDecision::Fail(failure),
                Ok(Outcome::Continue) | Err(None) => {}
            }
        }
        self.request = Some(snapshot(parts));
        BodyDecision::Continue(body)
    }

    /// Runs `on-response` in reverse route order. A `Respond` replaces the
    /// response and skips the remaining response hooks.
    pub async fn on_response(&mut self, parts: &mut http::response::Parts) -> Decision {
        let info = self.info.clone();
        let mut request = self
            .request
            .take()
            .unwrap_or_else(|| http::Request::new(()).into_parts().0);
        let mut decision = Decision::Continue;
        for slot in self.slots[..self.ran].iter_mut().rev() {
            if slot.skipped {
                continue;
            }
            let started = Instant::now();
            let result = match slot.instance().await {
                Ok(instance) => instance.on_response(&mut request, parts, &info).await,
                Err(e) => Err(e),
            };
            let result = result.and_then(|d| slot.outcome(Hook::OnResponse, body_decision(d)));
            match slot.settle(Hook::OnResponse, started, result) {
                Ok(Outcome::Respond(response)) => decision = Decision::Respond(response),
                Err(Some(failure)) => decision = Decision::Fail(failure),
                Ok(_) | Err(None) => continue,
            }
            break;
        }
        self.request = Some(request);
        decision
    }

    /// Runs `on-response-body` in reverse route order for the plugins that
    /// want it.
    pub async fn on_response_body(
        &mut self,
        parts: &mut http::response::Parts,
        mut body: Bytes,
    ) -> BodyDecision {
        let info = self.info.clone();
        let mut request = self
            .request
            .take()
            .unwrap_or_else(|| http::Request::new(()).into_parts().0);
        let mut decision = None;
        for slot in self.slots[..self.ran].iter_mut().rev() {
            if slot.skipped || !slot.version.spec.response_body {
                continue;
            }
            if body.len() > slot.version.spec.max_body_bytes {
                decision = Self::overflow(slot);
                if decision.is_some() {
                    break;
                }
                continue;
            }
            let started = Instant::now();
            let result = match slot.instance().await {
                Ok(instance) => {
                    instance
                        .on_response_body(&mut request, parts, &info, &body)
                        .await
                }
                Err(e) => Err(e),
            };
            let result = result.and_then(|d| slot.outcome(Hook::OnResponseBody, d));
            match slot.settle(Hook::OnResponseBody, started, result) {
                Ok(Outcome::Replace(b)) => body = b,
                Ok(Outcome::Respond(response)) => decision = Some(BodyDecision::Respond(response)),
                Err(Some(failure)) => decision = Some(BodyDecision::Fail(failure)),
                Ok(Outcome::Continue) | Err(None) => continue,
            }
            break;
        }
        self.request = Some(request);
        decision.unwrap_or(BodyDecision::Continue(body))
    }

    /// A response body over a plugin's limit: fail-closed plugins fail the
    /// exchange, fail-open ones are skipped.
    fn overflow(slot: &mut Slot) -> Option<BodyDecision> {
        let reason = format!(
            "the response body exceeds max_body_bytes ({})",
            slot.version.spec.max_body_bytes
        );
        let error = slot.guest_error(Hook::OnResponseBody, reason);
        match slot.settle(Hook::OnResponseBody, Instant::now(), Err(error)) {
            Err(Some(failure)) => Some(BodyDecision::Fail(failure)),
            _ => None,
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if let Some(instance) = slot.instance.take() {
                slot.version.checkin(instance);
            }
        }
    }
}
