//! The wasmtime engine: component model, epoch interruption, and the tuned
//! pooling allocator (on-demand allocation when pooling cannot start); plus
//! the thread that ticks the epoch for deadlines.

use crate::RuntimeConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Core instances, memories and tables one component may use: a Rust guest
/// has 1-2 core instances; a WASI guest adds adapter and shim instances; a
/// componentize-py (Python) component links the interpreter from 38 core
/// instances (libc, libpython, its extension modules and their shims, all
/// on one memory and two tables), so the limit leaves room for that. The
/// limit counts slots, not memory: pool memory is reserved per memory.
const CORE_INSTANCES_PER_COMPONENT: u32 = 64;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;

fn pooling(config: &RuntimeConfig) -> PoolingAllocationConfig {
    let n = config.max_instances;
    let max_memory = usize::try_from(config.max_memory_bytes).unwrap_or(usize::MAX);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .total_memories(n.saturating_mul(MEMORIES_PER_COMPONENT))
        .total_tables(n.saturating_mul(TABLES_PER_COMPONENT))
        .total_stacks(n)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memory_size(max_memory)
        .linear_memory_keep_resident(config.keep_resident_bytes)
        .table_keep_resident(config.keep_resident_bytes)
        .async_stack_keep_resident(config.keep_resident_bytes.min(config.max_wasm_stack));
    pool
}

fn base(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    c.wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .max_wasm_stack(config.max_wasm_stack)
        .async_stack_size(config.max_wasm_stack + (256 << 10));
    c
}

/// Builds the engine; with `pooling`, falls back to on-demand allocation
/// (and says so) when the pool cannot reserve its memory.
pub(crate) fn build(config: &RuntimeConfig) -> Result<Engine, String> {
    if config.pooling {
        let mut c = base(config);
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(config)));
        match Engine::new(&c) {
            Ok(engine) => return Ok(engine),
            Err(e) => tracing::warn!("pooling allocator unavailable, allocating on demand: {e:#}"),
        }
    }
    Engine::new(&base(config)).map_err(|e| format!("cannot start the wasm engine: {e:#}"))
}

/// Ticks the engine's epoch every `tick` until dropped, from the first
/// [`EpochTicker::activate`] on: a proxy with no plugins never wakes for it.
pub(crate) struct EpochTicker {
    state: Arc<TickerState>,
    thread: std::thread::Thread,
}

#[derive(Default)]
struct TickerState {
    stop: AtomicBool,
    active: AtomicBool,
}

impl EpochTicker {
    pub(crate) fn start(engine: Engine, tick: std::time::Duration) -> Result<Self, String> {
        let state = Arc::new(TickerState::default());
        let shared = state.clone();
        let handle = std::thread::Builder::new()
            .name("ravelin-epoch".into())
            .spawn(move || {
                while !shared.stop.load(Ordering::Relaxed) {
                    if !shared.active.load(Ordering::Relaxed) {
                        std::thread::park();
                        continue;
                    }
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| format!("cannot start the epoch thread: {e}"))?;
        Ok(EpochTicker {
            state,
            thread: handle.thread().clone(),
        })
    }

    /// Starts ticking (idempotent). Called before any guest code can run;
    /// never undone, since chains may keep an unloaded plugin running.
    pub(crate) fn activate(&self) {
        if !self.state.active.swap(true, Ordering::Relaxed) {
            self.thread.unpark();
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}
