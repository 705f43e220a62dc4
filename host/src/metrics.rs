//! Prometheus metrics, served on the admin listener's `/metrics`: requests
//! by route and status, latency, upstream endpoint health, open
//! connections, and config reloads.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::snapshot::Snapshot;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: Arc<str>,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    pub upstream: String,
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabel {
    pub listener: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    pub endpoint_healthy: Family<EndpointLabels, Gauge>,
    pub open_connections: Family<ListenerLabel, Gauge>,
    pub refused_connections: Family<ListenerLabel, Counter>,
    pub reloads: Family<OutcomeLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        // The root has no prefix: the plugin runtime adds its own
        // (`ravelin_plugin_`) beside the host's `ravelin_` sub-registry.
        let mut registry = Registry::default();
        let host = registry.sub_registry_with_prefix("ravelin");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(
            (|| Histogram::new(exponential_buckets(0.0005, 2.0, 16))) as fn() -> Histogram,
        );
        let endpoint_healthy = Family::<EndpointLabels, Gauge>::default();
        let open_connections = Family::<ListenerLabel, Gauge>::default();
        let refused_connections = Family::<ListenerLabel, Counter>::default();
        let reloads = Family::<OutcomeLabel, Counter>::default();
        host.register(
            "requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        host.register(
            "request_duration_seconds",
            "Time from request head to response head",
            latency.clone(),
        );
        host.register(
            "upstream_endpoint_healthy",
            "1 when an endpoint takes traffic, 0 when down or ejected",
            endpoint_healthy.clone(),
        );
        host.register(
            "open_connections",
            "Client connections open, by listener",
            open_connections.clone(),
        );
        host.register(
            "refused_connections",
            "Connections refused by a connection limit",
            refused_connections.clone(),
        );
        host.register(
            "config_reloads",
            "Config reloads, by outcome",
            reloads.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            endpoint_healthy,
            open_connections,
            refused_connections,
            reloads,
        }
    }
}

impl Metrics {
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// The Prometheus text exposition, with endpoint health read fresh.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        self.endpoint_healthy.clear();
        for cluster in snapshot.clusters.values() {
            for endpoint in &cluster.endpoints {
                let labels = EndpointLabels {
                    upstream: cluster.name.clone(),
                    endpoint: endpoint.address().to_string(),
                };
                self.endpoint_healthy
                    .get_or_create(&labels)
                    .set(i64::from(endpoint.is_available()));
            }
        }
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
