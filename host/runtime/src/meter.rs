//! `PluginMeter`: what is measured about one named plugin across all its
//! versions — hook calls, latency, faults, swaps and refused versions, in
//! the admin stats and the Prometheus metrics. It holds no version: which
//! version runs is the config snapshot's business (see [`crate::PluginSet`]).

use crate::PluginError;
use crate::instance::Hook;
use crate::metrics::{FaultLabel, HookLabel, Metrics, PluginLabel};
use crate::stats::{BurstLog, Counters};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The measurements of one plugin name, shared by its versions.
pub(crate) struct PluginMeter {
    name: Arc<str>,
    pub(crate) counters: Counters,
    burst: BurstLog,
    /// Per hook (indexed by [`Hook::index`]), resolved once so the request
    /// path does no label lookups.
    calls: Vec<Counter>,
    latency: Vec<Histogram>,
    metrics: Arc<Metrics>,
}

impl PluginMeter {
    pub(crate) fn new(name: &str, metrics: Arc<Metrics>) -> Self {
        let label = |hook: Hook| HookLabel {
            plugin: name.to_string(),
            hook: hook.name(),
        };
        PluginMeter {
            name: Arc::from(name),
            counters: Counters::default(),
            burst: BurstLog::default(),
            calls: Hook::ALL
                .iter()
                .map(|h| metrics.calls.get_or_create(&label(*h)).clone())
                .collect(),
            latency: Hook::ALL
                .iter()
                .map(|h| metrics.latency.get_or_create(&label(*h)).clone())
                .collect(),
            metrics,
        }
    }

    fn label(&self) -> PluginLabel {
        PluginLabel {
            plugin: self.name.to_string(),
        }
    }

    /// Counts a new version that went into service.
    pub(crate) fn swapped(&self, digest: &str, previous: &str) {
        self.counters.swaps.fetch_add(1, Ordering::Relaxed);
        self.metrics.swaps.get_or_create(&self.label()).inc();
        tracing::info!(plugin = %self.name, %digest, %previous, "plugin version swapped in");
    }

    /// Logs and counts a refused version.
    pub(crate) fn refused(&self, error: &PluginError) {
        self.metrics
            .load_failures
            .get_or_create(&self.label())
            .inc();
        tracing::error!(plugin = %self.name, "plugin version refused: {error}");
    }

    /// Counts a new instance of any version.
    pub(crate) fn instantiated(&self) {
        self.metrics
            .instantiations
            .get_or_create(&self.label())
            .inc();
    }

    /// Records one hook call in the stats and metrics; faults are logged at
    /// most once per burst.
    pub(crate) fn record(&self, hook: Hook, elapsed: Duration, error: Option<&PluginError>) {
        // The admin summary is about serving requests: building a version
        // (its `configure`) has its own series below, not a share of the mean.
        if hook != Hook::Configure {
            self.counters.record(elapsed, error.is_some());
        }
        if let Some(c) = self.calls.get(hook.index()) {
            c.inc();
        }
        if let Some(h) = self.latency.get(hook.index()) {
            h.observe(elapsed.as_secs_f64());
        }
        if let Some(e) = error {
            let label = FaultLabel {
                plugin: self.name.to_string(),
                kind: e.kind(),
            };
            self.metrics.faults.get_or_create(&label).inc();
            self.burst.fault(e);
        }
    }
}
