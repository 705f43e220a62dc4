//! The runtime's Prometheus metrics, labelled by plugin, and the counters and
//! histograms plugins define through the `metrics` import.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

/// Series (name and label values) one plugin may create (a cardinality bound).
const MAX_GUEST_SERIES: usize = 1024;
/// The most labels of one guest series.
const MAX_GUEST_LABELS: usize = 4;
/// The longest guest label value, in bytes.
const MAX_LABEL_VALUE: usize = 128;

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

/// A guest series: `plugin`, `name`, then the guest's own labels.
type GuestLabels = Vec<(String, String)>;

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
    guest_counters: Family<GuestLabels, Counter>,
    guest_gauges: Family<GuestLabels, Gauge<f64, AtomicU64>>,
    guest_histograms: HistogramFamily<GuestLabels>,
    guest_dropped: Family<PluginLabel, Counter>,
    guest_series: Mutex<GuestSeries>,
}

/// The guest series created so far, and how many each plugin has.
#[derive(Default)]
struct GuestSeries {
    known: HashSet<GuestLabels>,
    per_plugin: HashMap<String, usize>,
}

/// The series key for `name` and `labels` of `plugin`, if they are valid.
fn guest_labels(plugin: &str, name: String, labels: Vec<(String, String)>) -> Option<GuestLabels> {
    let valid = crate::guest_input::metric_name(&name)
        && labels.len() <= MAX_GUEST_LABELS
        && labels.iter().all(|(n, v)| {
            crate::guest_input::metric_name(n)
                && n != "plugin"
                && n != "name"
                && v.len() <= MAX_LABEL_VALUE
        });
    valid.then(|| {
        let mut key = vec![
            ("plugin".to_string(), plugin.to_string()),
            ("name".to_string(), name),
        ];
        key.extend(labels);
        key
    })
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
            guest_gauges: Family::default(),
            guest_histograms: Family::new_with_constructor(guest_histogram),
            guest_dropped: Family::default(),
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
            "guest_gauge",
            "Gauges defined by plugins",
            self.guest_gauges.clone(),
        );
        r.register(
            "guest_observations",
            "Histograms defined by plugins",
            self.guest_histograms.clone(),
        );
        r.register(
            "guest_dropped",
            "Plugin metric updates dropped: invalid name or labels, or past the series bound",
            self.guest_dropped.clone(),
        );
    }

    /// The series key for a guest update, if valid and within the bound;
    /// a refused update is counted.
    fn admit(
        &self,
        plugin: &str,
        name: String,
        labels: Vec<(String, String)>,
    ) -> Option<GuestLabels> {
        let admitted = guest_labels(plugin, name, labels).filter(|key| {
            let mut series = self.guest_series.lock().unwrap_or_else(|p| p.into_inner());
            if series.known.contains(key) {
                return true;
            }
            let count = series.per_plugin.entry(plugin.to_string()).or_default();
            if *count >= MAX_GUEST_SERIES {
                return false;
            }
            *count += 1;
            series.known.insert(key.clone());
            true
        });
        if admitted.is_none() {
            let label = PluginLabel {
                plugin: plugin.to_string(),
            };
            self.guest_dropped.get_or_create(&label).inc();
        }
        admitted
    }

    /// `counter-add` from a guest.
    pub(crate) fn guest_counter(
        &self,
        plugin: &str,
        name: String,
        labels: Vec<(String, String)>,
        value: u64,
    ) {
        if let Some(key) = self.admit(plugin, name, labels) {
            self.guest_counters.get_or_create(&key).inc_by(value);
        }
    }

    /// `gauge-set` from a guest.
    pub(crate) fn guest_gauge(
        &self,
        plugin: &str,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) {
        if !value.is_finite() {
            return;
        }
        if let Some(key) = self.admit(plugin, name, labels) {
            self.guest_gauges.get_or_create(&key).set(value);
        }
    }

    /// `histogram-observe` from a guest.
    pub(crate) fn guest_observe(
        &self,
        plugin: &str,
        name: String,
        labels: Vec<(String, String)>,
        value: f64,
    ) {
        if !value.is_finite() {
            return;
        }
        if let Some(key) = self.admit(plugin, name, labels) {
            self.guest_histograms.get_or_create(&key).observe(value);
        }
    }
}
