//! `StoreCtx`: what a plugin instance's store holds — its plugin's shared
//! environment, the exchange it serves right now (request, response,
//! attributes, what the running hook asked for), its memory limiter, its hook
//! clock, the guest's kv stores and outbound calls, and (only if the guest
//! imports WASI) a locked-down WASI context.

use crate::LogTap;
use crate::RequestInfo;
use crate::body::BodyAsk;
use crate::hook_clock::HookClock;
use crate::instance::Hook;
use crate::kv::KvPort;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// What every instance of one plugin version shares.
pub(crate) struct PluginEnv {
    pub name: Arc<str>,
    pub kv: Arc<dyn KvPort>,
    pub metrics: Arc<Metrics>,
    pub outbound: Arc<dyn Outbound>,
    pub allowed_upstreams: Vec<String>,
    pub memory_limit: u64,
    pub deadline: Duration,
    pub configure_deadline: Duration,
    /// The plugin's `max_body_kb`, in bytes: the cap on any body it asks for.
    pub max_body_bytes: usize,
    /// Where the plugin's log lines go besides `tracing`, if anywhere.
    pub log_tap: Option<LogTap>,
}

/// Refuses memory growth past the plugin's limit and records the peak.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    pub limit: u64,
    pub peak: u64,
    pub hit: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = u64::try_from(desired).unwrap_or(u64::MAX);
        if desired > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The attributes one exchange's plugins share (`set-attribute`): bounded
/// in count and bytes, so a plugin cannot grow them without limit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Attributes(Vec<(String, String)>);

/// The most attributes of one exchange.
const MAX_ATTRIBUTES: usize = 64;
/// The most bytes of names and values of one exchange's attributes.
const MAX_ATTRIBUTE_BYTES: usize = 64 << 10;

impl Attributes {
    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name` to `value`, within the bounds.
    pub fn set(&mut self, name: String, value: String) -> Result<(), String> {
        let used: usize = self.0.iter().map(|(n, v)| n.len() + v.len()).sum();
        let replaced = self.0.iter().position(|(n, _)| *n == name);
        let freed = replaced.map_or(0, |i| self.0[i].0.len() + self.0[i].1.len());
        if used - freed + name.len() + value.len() > MAX_ATTRIBUTE_BYTES {
            return Err(format!(
                "attributes are limited to {MAX_ATTRIBUTE_BYTES} bytes"
            ));
        }
        match replaced {
            Some(i) => self.0[i].1 = value,
            None if self.0.len() >= MAX_ATTRIBUTES => {
                return Err(format!("attributes are limited to {MAX_ATTRIBUTES}"));
            }
            None => self.0.push((name, value)),
        }
        Ok(())
    }
}

/// The data of one instance's store.
pub(crate) struct StoreCtx {
    pub env: Arc<PluginEnv>,
    pub request: Option<http::request::Parts>,
    pub response: Option<http::response::Parts>,
    /// The trailers of the body the running hook sees, when known (lent).
    pub trailers: Option<http::HeaderMap>,
    pub info: Arc<RequestInfo>,
    /// The exchange's attributes, lent for the call.
    pub attributes: Attributes,
    /// The hook running now (imports allowed in some hooks only).
    pub hook: Option<Hook>,
    /// What the running hook asked for with `want-body`.
    pub body_ask: Option<BodyAsk>,
    /// kv stores and outbound calls the guest holds (0.2).
    pub table: ResourceTable,
    /// The current exchange's outbound calls, cancelled when it ends.
    pub calls: Vec<tokio::task::AbortHandle>,
    pub limiter: MemoryLimiter,
    pub clock: HookClock,
    wasi: Option<WasiState>,
}

struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl StoreCtx {
    /// The CPU time the running hook may use: `configure` has its own.
    pub(crate) fn deadline(&self) -> Duration {
        match self.hook {
            Some(Hook::Configure) => self.env.configure_deadline,
            _ => self.env.deadline,
        }
    }

    pub(crate) fn new(env: Arc<PluginEnv>) -> Self {
        let limit = env.memory_limit;
        StoreCtx {
            env,
            request: None,
            response: None,
            trailers: None,
            info: Arc::default(),
            attributes: Attributes::default(),
            hook: None,
            body_ask: None,
            table: ResourceTable::new(),
            calls: Vec::new(),
            limiter: MemoryLimiter {
                limit,
                peak: 0,
                hit: false,
            },
            clock: HookClock::new(),
            wasi: None,
        }
    }

    /// The request of the running hook.
    pub(crate) fn req(&mut self) -> wasmtime::Result<&mut http::request::Parts> {
        self.request
            .as_mut()
            .ok_or_else(|| wasmtime::format_err!("no request is being handled"))
    }

    /// The response of the running hook.
    pub(crate) fn resp(&mut self) -> wasmtime::Result<&mut http::response::Parts> {
        self.response
            .as_mut()
            .ok_or_else(|| wasmtime::format_err!("no response is being handled"))
    }

    /// Cancels the exchange's outbound calls still running.
    pub(crate) fn cancel_calls(&mut self) {
        for call in self.calls.drain(..) {
            call.abort();
        }
    }

    /// Starts the clock for a hook call.
    pub(crate) fn start_hook(&mut self) {
        self.clock.start();
        self.limiter.hit = false;
    }
}

impl Drop for StoreCtx {
    /// A discarded instance's calls end with it.
    fn drop(&mut self) {
        self.cancel_calls();
    }
}

impl WasiView for StoreCtx {
    /// Built on first use: guests that import no WASI never pay for it.
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let env = self.env.clone();
        let state = self.wasi.get_or_insert_with(|| WasiState {
            ctx: crate::wasi::locked_down(&env.name, env.log_tap.clone()),
            table: ResourceTable::new(),
        });
        WasiCtxView {
            ctx: &mut state.ctx,
            table: &mut state.table,
        }
    }
}
