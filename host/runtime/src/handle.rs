//! `PluginHandle`: a named plugin whose current version is swapped
//! atomically. Exchanges take the version current when they start and keep
//! it; a new version is built off the request path and refused (the old one
//! serving on) if anything about it is wrong.

use crate::PluginError;
use crate::config::PluginSpec;
use crate::instance::Hook;
use crate::metrics::{FaultLabel, HookLabel, PluginLabel};
use crate::runtime::Shared;
use crate::stats::{BurstLog, Counters, PluginStats};
use crate::version::{PluginVersion, read_source};
use arc_swap::ArcSwap;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::Arc;
use std::time::Duration;

/// Metric handles per hook, resolved once so the request path does no label
/// lookups.
struct HookMetrics {
    calls: Vec<Counter>,
    latency: Vec<Histogram>,
}

const HOOKS: [Hook; 5] = [
    Hook::Configure,
    Hook::OnRequest,
    Hook::OnRequestBody,
    Hook::OnResponse,
    Hook::OnResponseBody,
];

/// A loaded plugin, shared by every chain that names it.
pub struct PluginHandle {
    name: String,
    current: ArcSwap<PluginVersion>,
    counters: Counters,
    burst: BurstLog,
    hook_metrics: HookMetrics,
    shared: Arc<Shared>,
    reload_lock: tokio::sync::Mutex<()>,
}

/// What [`PluginHandle::reload`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The source has the digest of the running version: nothing to do.
    Unchanged,
    /// A new version (this digest) now serves new exchanges.
    Swapped(String),
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("name", &self.name)
            .field("digest", &self.digest())
            .finish()
    }
}

impl PluginHandle {
    pub(crate) fn new(shared: Arc<Shared>, version: Arc<PluginVersion>) -> Self {
        let name = version.spec.name.clone();
        let label = |hook: Hook| HookLabel {
            plugin: name.clone(),
            hook: hook.name(),
        };
        let hook_metrics = HookMetrics {
            calls: HOOKS
                .iter()
                .map(|h| shared.metrics.calls.get_or_create(&label(*h)).clone())
                .collect(),
            latency: HOOKS
                .iter()
                .map(|h| shared.metrics.latency.get_or_create(&label(*h)).clone())
                .collect(),
        };
        PluginHandle {
            name,
            current: ArcSwap::new(version),
            counters: Counters::default(),
            burst: BurstLog::default(),
            hook_metrics,
            shared,
            reload_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The running version's spec.
    pub fn spec(&self) -> PluginSpec {
        self.current.load().spec.clone()
    }

    /// The running version's digest (hex SHA-256 of the component).
    pub fn digest(&self) -> String {
        self.current.load().digest.clone()
    }

    /// Calls, errors, latency, digest and load time, for the admin listing.
    pub fn stats(&self) -> PluginStats {
        let version = self.current.load();
        let (calls, errors, mean_latency, swaps) = self.counters.read();
        PluginStats {
            name: self.name.clone(),
            source: version.spec.source.clone(),
            digest: version.digest.clone(),
            loaded_at: version.loaded_at,
            calls,
            errors,
            mean_latency,
            swaps,
        }
    }

    pub(crate) fn current(&self) -> Arc<PluginVersion> {
        self.current.load_full()
    }

    /// Re-reads the source file and swaps in the new version if its digest
    /// changed. A broken version is refused (logged, counted) and the
    /// running one keeps serving.
    pub async fn reload(&self) -> Result<ReloadOutcome, PluginError> {
        let _one_at_a_time = self.reload_lock.lock().await;
        let spec = self.spec();
        let bytes = read_source(&spec).await.inspect_err(|e| self.refused(e))?;
        if crate::cache::digest(&bytes) == self.current.load().digest {
            return Ok(ReloadOutcome::Unchanged);
        }
        let version = PluginVersion::build(&self.shared, spec, bytes)
            .await
            .inspect_err(|e| self.refused(e))?;
        let digest = version.digest.clone();
        self.install(version);
        Ok(ReloadOutcome::Swapped(digest))
    }

    /// Makes `version` current; exchanges already running keep theirs.
    pub(crate) fn install(&self, version: Arc<PluginVersion>) {
        let digest = version.digest.clone();
        let old = self.current.swap(version);
        if old.digest != digest || old.spec != self.current.load().spec {
            self.counters
                .swaps
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.shared
                .metrics
                .swaps
                .get_or_create(&PluginLabel {
                    plugin: self.name.clone(),
                })
                .inc();
            tracing::info!(plugin = %self.name, digest = %digest, previous = %old.digest, "plugin version swapped in");
        }
    }

    /// Logs and counts a refused version.
    pub(crate) fn refused(&self, error: &PluginError) {
        self.shared
            .metrics
            .load_failures
            .get_or_create(&PluginLabel {
                plugin: self.name.clone(),
            })
            .inc();
        tracing::error!(plugin = %self.name, "new plugin version refused, the running one keeps serving: {error}");
    }

    /// Records one hook call in the stats and metrics.
    pub(crate) fn record(&self, hook: Hook, elapsed: Duration, error: Option<&PluginError>) {
        let i = HOOKS.iter().position(|h| *h == hook).unwrap_or(0);
        self.counters.record(elapsed, error.is_some());
        if let Some(c) = self.hook_metrics.calls.get(i) {
            c.inc();
        }
        if let Some(h) = self.hook_metrics.latency.get(i) {
            h.observe(elapsed.as_secs_f64());
        }
        if let Some(e) = error {
            let label = FaultLabel {
                plugin: self.name.clone(),
                kind: e.kind(),
            };
            self.shared.metrics.faults.get_or_create(&label).inc();
            self.burst.fault(e);
        }
    }
}
