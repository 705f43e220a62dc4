//! `Runtime`: the engine, the linker with the host API, the shared KV store
//! and metrics, and the set of named plugins the host's config declares.

use crate::bindings::Filter;
use crate::chain::Chain;
use crate::ctx::StoreCtx;
use crate::engine::{self, EpochTicker};
use crate::handle::PluginHandle;
use crate::kv::KvStore;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::stats::PluginStats;
use crate::version::{PluginVersion, read_source};
use crate::watch::SourceWatcher;
use crate::{PluginError, PluginSpec, RuntimeConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

/// What every plugin version of one runtime shares.
pub(crate) struct Shared {
    pub engine: Engine,
    pub linker: Linker<StoreCtx>,
    pub config: RuntimeConfig,
    pub kv: KvStore,
    pub metrics: Arc<Metrics>,
    pub outbound: Arc<dyn Outbound>,
    pub ticker: EpochTicker,
}

pub(crate) struct Inner {
    pub shared: Arc<Shared>,
    pub plugins: RwLock<HashMap<String, Arc<PluginHandle>>>,
    pub watcher: Mutex<Option<SourceWatcher>>,
}

/// The plugin runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

/// What [`Runtime::apply`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Plugins that were not loaded before.
    pub added: Vec<String>,
    /// Plugins whose source or spec changed: a new version was swapped in.
    pub updated: Vec<String>,
    /// Plugins reused as they were.
    pub unchanged: Vec<String>,
    /// Plugins no longer declared (chains built earlier keep them alive).
    pub removed: Vec<String>,
}

fn spec_error(plugin: &str, reason: impl Into<String>) -> PluginError {
    PluginError::Spec {
        plugin: plugin.to_string(),
        reason: reason.into(),
    }
}

impl Runtime {
    /// Starts the engine (pooling allocator, epoch thread) and links the
    /// host API. `outbound` carries plugins' HTTP calls to upstream clusters.
    pub fn new(config: RuntimeConfig, outbound: Arc<dyn Outbound>) -> Result<Self, PluginError> {
        let fail = |reason: String| spec_error("(runtime)", reason);
        let engine = engine::build(&config).map_err(fail)?;
        let mut linker = Linker::<StoreCtx>::new(&engine);
        Filter::add_to_linker::<StoreCtx, HasSelf<StoreCtx>>(&mut linker, |ctx| ctx)
            .and_then(|()| wasmtime_wasi::p2::add_to_linker_async(&mut linker))
            .map_err(|e| fail(format!("cannot link the host API: {e:#}")))?;
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick).map_err(fail)?;
        let shared = Shared {
            engine,
            linker,
            kv: KvStore::new(config.kv_capacity_bytes),
            metrics: Arc::new(Metrics::new()),
            outbound,
            config,
            ticker,
        };
        let inner = Inner {
            shared: Arc::new(shared),
            plugins: RwLock::default(),
            watcher: Mutex::default(),
        };
        Ok(Runtime {
            inner: Arc::new(inner),
        })
    }

    fn plugins(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<PluginHandle>>> {
        self.inner.plugins.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Loads one plugin (or replaces the one of that name, swapping it in
    /// atomically). On error nothing changes.
    pub async fn load(&self, spec: PluginSpec) -> Result<Arc<PluginHandle>, PluginError> {
        let name = spec.name.clone();
        if let Some(version) = self.prepare(spec).await? {
            let mut plugins = self
                .inner
                .plugins
                .write()
                .unwrap_or_else(|p| p.into_inner());
            self.insert(&mut plugins, version);
        }
        self.rewatch();
        self.plugin(&name)
            .ok_or_else(|| spec_error(&name, "vanished while loading"))
    }

    /// Installs `version` in its handle, or a new handle; true if new.
    fn insert(
        &self,
        plugins: &mut HashMap<String, Arc<PluginHandle>>,
        version: Arc<PluginVersion>,
    ) -> bool {
        match plugins.get(&version.spec.name) {
            Some(handle) => {
                handle.install(version);
                false
            }
            None => {
                let name = version.spec.name.clone();
                plugins.insert(
                    name,
                    Arc::new(PluginHandle::new(self.inner.shared.clone(), version)),
                );
                true
            }
        }
    }

    /// Makes the loaded set exactly `specs` (after a config reload): plugins
    /// whose spec and source digest are unchanged are reused, changed ones
    /// get a new version, new ones are loaded, missing ones are dropped.
    /// All or nothing: if any plugin fails, nothing changes and every error
    /// is returned.
    pub async fn apply(&self, specs: Vec<PluginSpec>) -> Result<ApplyReport, Vec<PluginError>> {
        let mut report = ApplyReport::default();
        let mut errors = Vec::new();
        let mut built: Vec<(String, Arc<PluginVersion>)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for spec in specs {
            if !seen.insert(spec.name.clone()) {
                errors.push(spec_error(&spec.name, "declared twice"));
                continue;
            }
            match self.prepare(spec).await {
                Ok(Some(version)) => built.push((version.spec.name.clone(), version)),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            for e in &errors {
                tracing::error!("plugin set refused, the running one keeps serving: {e}");
            }
            return Err(errors);
        }
        let mut plugins = self
            .inner
            .plugins
            .write()
            .unwrap_or_else(|p| p.into_inner());
        report.unchanged = plugins
            .keys()
            .filter(|n| seen.contains(*n))
            .cloned()
            .collect();
        report.removed = plugins
            .keys()
            .filter(|n| !seen.contains(*n))
            .cloned()
            .collect();
        plugins.retain(|n, _| seen.contains(n));
        for (name, version) in built {
            report.unchanged.retain(|n| *n != name);
            if self.insert(&mut plugins, version) {
                report.added.push(name);
            } else {
                report.updated.push(name);
            }
        }
        drop(plugins);
        self.rewatch();
        Ok(report)
    }

    /// Builds a new version for `spec`, or `None` when the running one has
    /// the same spec and source digest.
    async fn prepare(&self, spec: PluginSpec) -> Result<Option<Arc<PluginVersion>>, PluginError> {
        let existing = self.plugin(&spec.name);
        let bytes = read_source(&spec).await;
        if let Some(handle) = &existing {
            let bytes = bytes.as_ref().map_err(|e| {
                handle.refused(e);
                e.clone()
            })?;
            if handle.spec() == spec && crate::cache::digest(bytes) == handle.digest() {
                return Ok(None);
            }
        }
        // Guest code runs from here on (its configure hook): deadlines need ticks.
        self.inner.shared.ticker.activate();
        let version = PluginVersion::build(&self.inner.shared, spec, bytes?).await;
        if let (Some(handle), Err(e)) = (&existing, &version) {
            handle.refused(e);
        }
        version.map(Some)
    }

    /// The plugin named `name`.
    pub fn plugin(&self, name: &str) -> Option<Arc<PluginHandle>> {
        self.plugins().get(name).cloned()
    }

    /// A chain of the named plugins, in route order. Fails on an unknown name.
    pub fn chain<S: AsRef<str>>(&self, names: &[S]) -> Result<Chain, PluginError> {
        let plugins = self.plugins();
        let handles = names
            .iter()
            .map(|n| {
                let n = n.as_ref();
                plugins
                    .get(n)
                    .cloned()
                    .ok_or_else(|| spec_error(n, "no plugin of that name is declared"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Chain::new(handles))
    }

    /// Re-reads every plugin's source and swaps in those that changed (the
    /// admin listener's "reload plugins"); one result per plugin, by name.
    pub async fn reload_all(&self) -> Vec<(String, Result<crate::ReloadOutcome, PluginError>)> {
        let mut handles: Vec<_> = self.plugins().values().cloned().collect();
        handles.sort_by(|a, b| a.name().cmp(b.name()));
        let mut results = Vec::with_capacity(handles.len());
        for handle in handles {
            results.push((handle.name().to_string(), handle.reload().await));
        }
        results
    }

    /// Every loaded plugin's stats, sorted by name.
    pub fn stats(&self) -> Vec<PluginStats> {
        let mut stats: Vec<_> = self.plugins().values().map(|h| h.stats()).collect();
        stats.sort_by(|a, b| a.name.cmp(&b.name));
        stats
    }

    /// Adds the runtime's metrics (prefix `ravelin_plugin_`, label `plugin`)
    /// to the host's registry.
    pub fn register_metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        self.inner.shared.metrics.register(registry);
    }
}
