//! `Runtime`: the engine, the linker with the host API, the shared KV store
//! and metrics; it builds the [`PluginSet`] a config snapshot declares.

use crate::bindings::{v1, v2};
use crate::ctx::StoreCtx;
use crate::engine::{self, EpochTicker};
use crate::kv::{KvPort, MemoryKv};
use crate::meter::PluginMeter;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::set::PluginSet;
use crate::version::{PluginVersion, read_inputs};
use crate::{LogTap, PluginError, PluginSpec, RuntimeConfig};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

/// What every plugin version of one runtime shares.
pub(crate) struct Shared {
    pub engine: Engine,
    pub linker: Linker<StoreCtx>,
    pub config: RuntimeConfig,
    pub kv: Arc<dyn KvPort>,
    pub metrics: Arc<Metrics>,
    pub outbound: Arc<dyn Outbound>,
    pub ticker: EpochTicker,
    pub log_tap: Option<LogTap>,
}

pub(crate) struct Inner {
    pub shared: Arc<Shared>,
    /// Measurements by plugin name, kept across versions and snapshots.
    meters: Mutex<HashMap<String, Arc<PluginMeter>>>,
}

/// The plugin runtime: compiles and initialises plugin versions and keeps
/// what they share (engine, host API, kv, metrics). It does not decide
/// which versions run: a [`PluginSet`] of the config snapshot does. Cheap to
/// clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

fn spec_error(plugin: &str, reason: impl Into<String>) -> PluginError {
    PluginError::Spec {
        plugin: plugin.to_string(),
        reason: reason.into(),
    }
}

impl Runtime {
    /// Starts the engine (pooling allocator, epoch thread) and links the
    /// host API. `outbound` carries plugins' HTTP calls to upstream clusters;
    /// `kv` is the kv backend (none: a [`MemoryKv`] of
    /// `config.kv_capacity_bytes`).
    pub fn new(
        config: RuntimeConfig,
        outbound: Arc<dyn Outbound>,
        kv: Option<Arc<dyn KvPort>>,
    ) -> Result<Self, PluginError> {
        Self::with_log_tap(config, outbound, kv, None)
    }

    /// [`Runtime::new`], and every log line of its plugins also goes to
    /// `log_tap` (if any).
    pub fn with_log_tap(
        config: RuntimeConfig,
        outbound: Arc<dyn Outbound>,
        kv: Option<Arc<dyn KvPort>>,
        log_tap: Option<LogTap>,
    ) -> Result<Self, PluginError> {
        let fail = |reason: String| spec_error("(runtime)", reason);
        let engine = engine::build(&config).map_err(fail)?;
        let mut linker = Linker::<StoreCtx>::new(&engine);
        v1::Filter::add_to_linker::<StoreCtx, HasSelf<StoreCtx>>(&mut linker, |ctx| ctx)
            .and_then(|()| {
                v2::Filter::add_to_linker::<StoreCtx, HasSelf<StoreCtx>>(&mut linker, |ctx| ctx)
            })
            .and_then(|()| wasmtime_wasi::p2::add_to_linker_async(&mut linker))
            .map_err(|e| fail(format!("cannot link the host API: {e:#}")))?;
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick).map_err(fail)?;
        let metrics = Arc::new(Metrics::new());
        let kv = kv.unwrap_or_else(|| {
            Arc::new(
                MemoryKv::new(config.kv_capacity_bytes)
                    .counting_evictions(metrics.kv_evictions.clone()),
            )
        });
        let shared = Shared {
            engine,
            linker,
            kv,
            metrics,
            outbound,
            config,
            ticker,
            log_tap,
        };
        let inner = Inner {
            shared: Arc::new(shared),
            meters: Mutex::default(),
        };
        Ok(Runtime {
            inner: Arc::new(inner),
        })
    }

    /// The measurements of plugin `name`, created on first use.
    fn meter(&self, name: &str) -> Arc<PluginMeter> {
        let mut meters = self.inner.meters.lock().unwrap_or_else(|p| p.into_inner());
        meters
            .entry(name.to_string())
            .or_insert_with(|| Arc::new(PluginMeter::new(name, self.inner.shared.metrics.clone())))
            .clone()
    }

    /// Builds the plugin set `specs` declare, reusing each version of
    /// `previous` whose spec and source digest are unchanged and compiling
    /// (cached by digest) and initialising the others. Nothing running
    /// changes: the caller swaps the set in with the rest of its snapshot,
    /// or drops it. All or nothing: every refused plugin is returned.
    pub async fn prepare(
        &self,
        specs: Vec<PluginSpec>,
        previous: Option<&PluginSet>,
    ) -> Result<PluginSet, Vec<PluginError>> {
        let mut versions = BTreeMap::new();
        let mut errors = Vec::new();
        for spec in specs {
            if versions.contains_key(&spec.name) {
                errors.push(spec_error(&spec.name, "declared twice"));
                continue;
            }
            let name = spec.name.clone();
            match self.version(spec, previous).await {
                Ok(version) => {
                    versions.insert(name, version);
                }
                Err(e) => errors.push(e),
            }
        }
        match errors.is_empty() {
            true => Ok(PluginSet::new(versions)),
            false => Err(errors),
        }
    }

    /// A set of one plugin (tools and tests).
    pub async fn load(&self, spec: PluginSpec) -> Result<PluginSet, PluginError> {
        self.prepare(vec![spec], None)
            .await
            .map_err(|mut errors| errors.remove(0))
    }

    /// `previous`'s version for `spec` when its spec and digest match, else
    /// a new one.
    async fn version(
        &self,
        spec: PluginSpec,
        previous: Option<&PluginSet>,
    ) -> Result<Arc<PluginVersion>, PluginError> {
        let meter = self.meter(&spec.name);
        let inputs = read_inputs(&spec).await.inspect_err(|e| meter.refused(e))?;
        let running = previous.and_then(|p| p.version(&spec.name)).filter(|v| {
            v.spec == spec
                && v.config_json == inputs.config_json
                && v.digest == crate::cache::digest(&inputs.bytes)
        });
        if let Some(running) = running {
            return Ok(running.clone());
        }
        // Guest code runs from here on (its configure hook): deadlines need ticks.
        self.inner.shared.ticker.activate();
        PluginVersion::build(&self.inner.shared, spec, inputs, meter.clone())
            .await
            .inspect_err(|e| meter.refused(e))
    }

    /// Adds the runtime's metrics (prefix `ravelin_plugin_`, label `plugin`)
    /// to the host's registry.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.inner.shared.metrics.register(registry);
    }
}
