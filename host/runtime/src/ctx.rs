//! `StoreCtx`: what a plugin instance's store holds — its plugin's shared
//! environment, the exchange it serves right now, its memory limiter, its
//! hook clock, and (only if the guest imports WASI) a locked-down WASI context.

use crate::RequestInfo;
use crate::kv::KvStore;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// What every instance of one plugin version shares.
pub(crate) struct PluginEnv {
    pub name: Arc<str>,
    pub kv: KvStore,
    pub metrics: Arc<Metrics>,
    pub outbound: Arc<dyn Outbound>,
    pub allowed_upstreams: Vec<String>,
    pub memory_limit: u64,
    pub deadline: Duration,
}

/// Tracks how long the current hook has run, excluding outbound calls and
/// the time it spent yielded to the executor (waiting for a thread).
#[derive(Debug)]
pub(crate) struct HookClock {
    pub started: Instant,
    pub outbound_wait: Duration,
    /// Nanoseconds spent yielded; written by the yield future.
    pub yielded: Arc<AtomicU64>,
    pub expired: bool,
}

impl HookClock {
    fn new() -> Self {
        HookClock {
            started: Instant::now(),
            outbound_wait: Duration::ZERO,
            yielded: Arc::default(),
            expired: false,
        }
    }

    /// Time the guest itself has used in this hook.
    pub(crate) fn used(&self) -> Duration {
        let yielded = Duration::from_nanos(self.yielded.load(Ordering::Relaxed));
        self.started
            .elapsed()
            .saturating_sub(self.outbound_wait)
            .saturating_sub(yielded)
    }
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

/// The data of one instance's store.
pub(crate) struct StoreCtx {
    pub env: Arc<PluginEnv>,
    pub request: Option<http::request::Parts>,
    pub response: Option<http::response::Parts>,
    pub info: Arc<RequestInfo>,
    pub limiter: MemoryLimiter,
    pub clock: HookClock,
    wasi: Option<WasiState>,
}

struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl StoreCtx {
    pub(crate) fn new(env: Arc<PluginEnv>) -> Self {
        let limit = env.memory_limit;
        StoreCtx {
            env,
            request: None,
            response: None,
            info: Arc::default(),
            limiter: MemoryLimiter {
                limit,
                peak: 0,
                hit: false,
            },
            clock: HookClock::new(),
            wasi: None,
        }
    }

    /// Starts the clock for a hook call.
    pub(crate) fn start_hook(&mut self) {
        let clock = &mut self.clock;
        clock.started = Instant::now();
        clock.outbound_wait = Duration::ZERO;
        clock.yielded.store(0, Ordering::Relaxed);
        clock.expired = false;
        self.limiter.hit = false;
    }
}

impl WasiView for StoreCtx {
    /// Built on first use: guests that import no WASI never pay for it.
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let name = self.env.name.clone();
        let state = self.wasi.get_or_insert_with(|| WasiState {
            ctx: crate::wasi::locked_down(&name),
            table: ResourceTable::new(),
        });
        WasiCtxView {
            ctx: &mut state.ctx,
            table: &mut state.table,
        }
    }
}
