//! The runtime's Prometheus metrics, labelled by plugin, and the counters and
//! histograms plugins define through the `metrics` import.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::Mutex;

/// Distinct guest metric names one runtime accepts (a cardinality bound).
const MAX_GUEST_SERIES: usize = 1024;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct PluginLabel {
    pub plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct HookLabel {
    pub plugin: String,
    pub hook: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FaultLabel {
    pub plugin: String,
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct GuestLabel {
    pub plugin: String,
    pub name: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1e-6, 4.0, 12))
}

fn guest_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 14))
}

/// Every metric the runtime exports. Families share their storage when
/// cloned, so registering clones is enough.
pub(crate) struct Metrics {
    pub calls: Family<HookLabel, Counter>,
    pub latency: HistogramFamily<HookLabel>,
    pub faults: Family<FaultLabel, Counter>,
    pub load_failures: Family<PluginLabel, Counter>,
    pub swaps: Family<PluginLabel, Counter>,
    pub instantiations: Family<PluginLabel, Counter>,
    pub kv_evictions: Counter,
    guest_counters: Family<GuestLabel, Counter>,
    guest_histograms: HistogramFamily<GuestLabel>,
    guest_series: Mutex<HashSet<(String, String)>>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        Metrics {
            calls: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            faults: Family::default(),
            load_failures: Family::default(),
            swaps: Family::default(),
            instantiations: Family::default(),
            kv_evictions: Counter::default(),
            guest_counters: Family::default(),
            guest_histograms: Family::new_with_constructor(guest_histogram),
            guest_series: Mutex::default(),
        }
    }

    /// Adds the runtime's metrics to the host's registry (prefix `ravelin_plugin`).
    pub(crate) fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("ravelin_plugin");
        r.register("hook_calls", "Plugin hook calls", self.calls.clone());
        r.register(
            "hook_duration_seconds",
            "Plugin hook duration",
            self.latency.clone(),
        );
        r.register(
            "faults",
            "Plugin traps, deadlines, out-of-memory and invalid answers",
            self.faults.clone(),
        );
        r.register(
            "load_failures",
            "Plugin versions refused at load",
            self.load_failures.clone(),
        );
        r.register("swaps", "Plugin versions swapped in", self.swaps.clone());
        r.register(
            "instantiations",
            "Plugin instances created",
            self.instantiations.clone(),
        );
        r.register(
            "kv_evictions",
            "Key-value entries evicted to stay in capacity",
            self.kv_evictions.clone(),
        );
        r.register(
            "guest",
            "Counters defined by plugins",
            self.guest_counters.clone(),
        );
        r.register(
            "guest_observations",
            "Histograms defined by plugins",
            self.guest_histograms.clone(),
        );
    }

    /// Whether `name` may be used as a guest metric name for `plugin`.
    fn admit(&self, plugin: &str, name: &str) -> bool {
        if !crate::guest_input::metric_name(name) {
            return false;
        }
        let mut series = self.guest_series.lock().unwrap_or_else(|p| p.into_inner());
        let key = (plugin.to_string(), name.to_string());
        series.contains(&key) || (series.len() < MAX_GUEST_SERIES && series.insert(key))
    }

    /// `counter-add` from a guest; invalid names are ignored (and logged).
    pub(crate) fn guest_counter(&self, plugin: &str, name: String, value: u64) {
        if self.admit(plugin, &name) {
            let label = GuestLabel {
                plugin: plugin.to_string(),
                name,
            };
            self.guest_counters.get_or_create(&label).inc_by(value);
        } else {
            tracing::debug!(plugin, metric = %name, "plugin metric refused: invalid name or too many series");
        }
    }

    /// `histogram-observe` from a guest.
    pub(crate) fn guest_observe(&self, plugin: &str, name: String, value: f64) {
        if self.admit(plugin, &name) && value.is_finite() {
            let label = GuestLabel {
                plugin: plugin.to_string(),
                name,
            };
            self.guest_histograms.get_or_create(&label).observe(value);
        } else {
            tracing::debug!(plugin, metric = %name, "plugin observation refused");
        }
    }
}
