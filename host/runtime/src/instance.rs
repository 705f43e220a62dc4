//! One plugin instance: a store and the instantiated component, calling the
//! hooks under the deadline and the memory limit and turning failures into
//! [`PluginError`]s. An instance that failed, or whose call was abandoned,
//! is never reused.

use crate::PluginError;
use crate::RequestInfo;
use crate::bindings::ravelin::plugin::types::{BodyDecision, Decision};
use crate::bindings::{FilterPre, RequestHandle, ResponseHandle};
use crate::ctx::{PluginEnv, StoreCtx};
use std::sync::Arc;
use wasmtime::component::Resource;
use wasmtime::{Store, StoreContextMut, UpdateDeadline};

/// The hooks, named as in the WIT world (metric labels, error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hook {
    Configure,
    OnRequest,
    OnRequestBody,
    OnResponse,
    OnResponseBody,
}

impl Hook {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::Configure => "configure",
            Hook::OnRequest => "on-request",
            Hook::OnRequestBody => "on-request-body",
            Hook::OnResponse => "on-response",
            Hook::OnResponseBody => "on-response-body",
        }
    }
}

/// The longest trap message kept in an error.
const MAX_REASON: usize = 512;

fn reason(e: &wasmtime::Error) -> String {
    let mut text = format!("{e:#}");
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Called by wasmtime on every epoch tick while the guest runs: interrupts
/// it past the deadline, and otherwise yields to the executor (the time
/// spent waiting to be polled again does not count against the deadline).
fn deadline_check(mut ctx: StoreContextMut<'_, StoreCtx>) -> wasmtime::Result<UpdateDeadline> {
    let data = ctx.data_mut();
    if data.clock.used() >= data.env.deadline {
        data.clock.expired = true;
        return Ok(UpdateDeadline::Interrupt);
    }
    let yielded = data.clock.yielded.clone();
    Ok(UpdateDeadline::YieldCustom(
        1,
        Box::pin(async move {
            let paused = std::time::Instant::now();
            tokio::task::yield_now().await;
            let nanos = u64::try_from(paused.elapsed().as_nanos()).unwrap_or(u64::MAX);
            yielded.fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        }),
    ))
}

fn empty_request() -> http::request::Parts {
    http::Request::new(()).into_parts().0
}

fn empty_response() -> http::response::Parts {
    http::Response::new(()).into_parts().0
}

/// A live instance of one plugin version.
pub(crate) struct Instance {
    store: Store<StoreCtx>,
    filter: crate::bindings::Filter,
    /// Exchanges served so far.
    pub exchanges: u32,
    /// A hook call started and did not finish (its future was dropped).
    in_call: bool,
    /// A hook failed: the instance must not run again.
    pub faulted: bool,
}

impl Instance {
    /// Creates the store and instance, then runs `configure(config_json)`.
    pub(crate) async fn start(
        pre: &FilterPre<StoreCtx>,
        env: &Arc<PluginEnv>,
        config_json: &str,
    ) -> Result<Self, PluginError> {
        let mut store = Store::new(pre.engine(), StoreCtx::new(env.clone()));
        store.limiter(|ctx| &mut ctx.limiter);
        store.epoch_deadline_callback(deadline_check);
        store.set_epoch_deadline(1);
        store.data_mut().start_hook();
        let filter =
            pre.instantiate_async(&mut store)
                .await
                .map_err(|e| PluginError::Instantiate {
                    plugin: env.name.to_string(),
                    reason: if store.data().limiter.hit {
                        "memory limit reached".into()
                    } else {
                        reason(&e)
                    },
                })?;
        let mut instance = Instance {
            store,
            filter,
            exchanges: 0,
            in_call: false,
            faulted: false,
        };
        instance.begin();
        let result = instance
            .filter
            .call_configure(&mut instance.store, config_json)
            .await;
        match instance.finish(Hook::Configure, result)? {
            Ok(()) => Ok(instance),
            Err(message) => Err(PluginError::Config {
                plugin: env.name.to_string(),
                reason: message,
            }),
        }
    }

    /// Whether this instance may serve another exchange.
    pub(crate) fn reusable(&self, recycle_after: u32, recycle_memory: u64) -> bool {
        !self.faulted
            && !self.in_call
            && self.exchanges < recycle_after
            && self.store.data().limiter.peak <= recycle_memory
    }

    /// Forgets the last exchange's facts before the instance goes idle.
    pub(crate) fn reset(&mut self, empty: &Arc<RequestInfo>) {
        self.exchanges += 1;
        self.store.data_mut().info = empty.clone();
    }

    fn begin(&mut self) {
        self.store.data_mut().start_hook();
        self.store.set_epoch_deadline(1);
        self.in_call = true;
    }

    fn finish<R>(&mut self, hook: Hook, result: wasmtime::Result<R>) -> Result<R, PluginError> {
        self.in_call = false;
        let error = match result {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        self.faulted = true;
        let data = self.store.data();
        let plugin = data.env.name.to_string();
        let hook = hook.name();
        Err(if data.clock.expired {
            PluginError::Deadline {
                plugin,
                hook,
                limit: data.env.deadline,
            }
        } else if data.limiter.hit {
            PluginError::OutOfMemory {
                plugin,
                hook,
                limit: data.env.memory_limit,
            }
        } else {
            PluginError::Trap {
                plugin,
                hook,
                reason: reason(&error),
            }
        })
    }

    /// `on-request`, with `parts` lent to the guest for the call.
    pub(crate) async fn on_request(
        &mut self,
        parts: &mut http::request::Parts,
        info: &Arc<RequestInfo>,
    ) -> Result<Decision, PluginError> {
        let data = self.store.data_mut();
        data.request = Some(std::mem::replace(parts, empty_request()));
        data.info = info.clone();
        self.begin();
        let result = self
            .filter
            .call_on_request(&mut self.store, Resource::<RequestHandle>::new_borrow(0))
            .await;
        if let Some(p) = self.store.data_mut().request.take() {
            *parts = p;
        }
        self.finish(Hook::OnRequest, result)
    }

    /// `on-request-body`.
    pub(crate) async fn on_request_body(
        &mut self,
        parts: &mut http::request::Parts,
        info: &Arc<RequestInfo>,
        body: &[u8],
    ) -> Result<BodyDecision, PluginError> {
        let data = self.store.data_mut();
        data.request = Some(std::mem::replace(parts, empty_request()));
        data.info = info.clone();
        self.begin();
        let req = Resource::<RequestHandle>::new_borrow(0);
        let result = self
            .filter
            .call_on_request_body(&mut self.store, req, body)
            .await;
        if let Some(p) = self.store.data_mut().request.take() {
            *parts = p;
        }
        self.finish(Hook::OnRequestBody, result)
    }

    fn lend(
        &mut self,
        req: &mut http::request::Parts,
        resp: &mut http::response::Parts,
        info: &Arc<RequestInfo>,
    ) {
        let data = self.store.data_mut();
        data.request = Some(std::mem::replace(req, empty_request()));
        data.response = Some(std::mem::replace(resp, empty_response()));
        data.info = info.clone();
    }

    fn give_back(&mut self, req: &mut http::request::Parts, resp: &mut http::response::Parts) {
        let data = self.store.data_mut();
        if let Some(p) = data.request.take() {
            *req = p;
        }
        if let Some(p) = data.response.take() {
            *resp = p;
        }
    }

    /// `on-response`, with the request snapshot and the response lent.
    pub(crate) async fn on_response(
        &mut self,
        req: &mut http::request::Parts,
        resp: &mut http::response::Parts,
        info: &Arc<RequestInfo>,
    ) -> Result<Decision, PluginError> {
        self.lend(req, resp, info);
        self.begin();
        let (rq, rs) = (
            Resource::<RequestHandle>::new_borrow(0),
            Resource::<ResponseHandle>::new_borrow(0),
        );
        let result = self.filter.call_on_response(&mut self.store, rq, rs).await;
        self.give_back(req, resp);
        self.finish(Hook::OnResponse, result)
    }

    /// `on-response-body`.
    pub(crate) async fn on_response_body(
        &mut self,
        req: &mut http::request::Parts,
        resp: &mut http::response::Parts,
        info: &Arc<RequestInfo>,
        body: &[u8],
    ) -> Result<BodyDecision, PluginError> {
        self.lend(req, resp, info);
        self.begin();
        let (rq, rs) = (
            Resource::<RequestHandle>::new_borrow(0),
            Resource::<ResponseHandle>::new_borrow(0),
        );
        let result = self
            .filter
            .call_on_response_body(&mut self.store, rq, rs, body)
            .await;
        self.give_back(req, resp);
        self.finish(Hook::OnResponseBody, result)
    }
}
