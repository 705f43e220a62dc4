//! The running configuration as one immutable value: router, clusters, TLS
//! settings and limits. A request loads it once; a reload builds a new one
//! and swaps it whole, so no request ever sees half of each.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ravelin_runtime::{Chain, PluginError, Runtime};
use rustls::ServerConfig;

use crate::config::{Config, ConfigError, Problem};
use crate::router::Router;
use crate::tls;
use crate::upstream::Cluster;

pub struct Snapshot {
    pub config: Config,
    pub router: Router,
    pub clusters: BTreeMap<String, Arc<Cluster>>,
    /// The cluster of each route, by route index.
    pub route_clusters: Vec<Arc<Cluster>>,
    /// TLS settings by listener name.
    pub tls: HashMap<String, Arc<ServerConfig>>,
    /// The plugin chain of each route, by route index (`None`: no plugins).
    pub route_chains: Vec<Option<Chain>>,
}

impl Snapshot {
    /// Builds the runtime objects for `config`, loading certificates and
    /// keeping the clusters of `previous` whose config did not change.
    /// Plugins are loaded (compiled, configured) through `runtime` first;
    /// unchanged ones are reused.
    pub async fn build(
        config: Config,
        previous: Option<&Snapshot>,
        file: &str,
        runtime: &Runtime,
    ) -> Result<Snapshot, ConfigError> {
        let error = |problems| ConfigError {
            file: file.to_string(),
            problems,
        };
        if let Err(errors) = runtime.apply(config.plugins.clone()).await {
            let problems = errors
                .iter()
                .map(|e| problem(plugin_key(e), e.to_string()))
                .collect();
            return Err(error(problems));
        }
        let mut snapshot = Self::build_host(config, previous, file)?;
        let mut problems = Vec::new();
        for (i, route) in snapshot.router.routes().iter().enumerate() {
            let chain = match route.plugins.is_empty() {
                true => None,
                false => match runtime.chain(&route.plugins) {
                    Ok(chain) => Some(chain),
                    Err(e) => {
                        problems.push(problem(format!("routes[{i}].plugins"), e.to_string()));
                        None
                    }
                },
            };
            snapshot.route_chains.push(chain);
        }
        if !problems.is_empty() {
            return Err(error(problems));
        }
        Ok(snapshot)
    }

    /// The parts that need no plugins: TLS and clusters.
    fn build_host(
        mut config: Config,
        previous: Option<&Snapshot>,
        file: &str,
    ) -> Result<Snapshot, ConfigError> {
        let mut problems = Vec::new();
        let mut tls = HashMap::new();
        for (i, listener) in config.listeners.iter().enumerate() {
            let Some(certificates) = &listener.tls else {
                continue;
            };
            match tls::server_config(certificates, |p| config.resolve(p)) {
                Ok(server) => {
                    tls.insert(listener.name.clone(), server);
                }
                Err(message) => problems.push(problem(format!("listeners[{i}].tls"), message)),
            }
        }
        let mut clusters = BTreeMap::new();
        for (name, upstream) in &config.upstreams {
            let reused = previous
                .and_then(|p| p.clusters.get(name))
                .filter(|c| c.same_config(upstream, &config.timeouts))
                .cloned();
            match reused.map(Ok).unwrap_or_else(|| {
                Cluster::build(upstream, &config.timeouts, |p| config.resolve(p))
            }) {
                Ok(cluster) => {
                    clusters.insert(name.clone(), cluster);
                }
                Err(message) => problems.push(problem(format!("upstreams.{name}.tls"), message)),
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError {
                file: file.to_string(),
                problems,
            });
        }
        let routes = std::mem::take(&mut config.routes);
        let route_clusters = routes
            .iter()
            .map(|r| clusters[&r.upstream].clone())
            .collect();
        Ok(Snapshot {
            router: Router::new(routes),
            clusters,
            route_clusters,
            tls,
            config,
            route_chains: Vec::new(),
        })
    }
}

/// The config key a plugin error belongs to.
fn plugin_key(error: &PluginError) -> String {
    let text = error.to_string();
    let name = text
        .strip_prefix("plugin ")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("");
    format!("plugins.{name}")
}

fn problem(key: String, message: String) -> Problem {
    Problem {
        key,
        line: None,
        message,
    }
}
