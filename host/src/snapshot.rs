//! The running configuration as one immutable value: router, clusters, TLS
//! settings, limits and the plugin versions. A request loads it once; a
//! reload builds a new one and swaps it whole, so no request ever sees half
//! of each, and a refused reload changes nothing at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use ravelin_runtime::{Chain, PluginSet, Runtime};
use rustls::ServerConfig;

use crate::config::{Config, ConfigError, ListenerTls, Problem};
use crate::registry::{Resolved, resolve_plugins};
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
    /// The certificate resolvers of ACME listeners by listener name, carried
    /// from snapshot to snapshot: their renewal tasks fill them.
    pub acme: HashMap<String, Arc<tls::acme::AcmeResolver>>,
    /// The plugin versions this snapshot runs.
    pub plugins: PluginSet,
    /// The plugin chain of each route, by route index (`None`: no plugins).
    pub route_chains: Vec<Option<Chain>>,
    /// What each `oci://` plugin source resolved to, by plugin name.
    pub registry: BTreeMap<String, Resolved>,
}

impl Snapshot {
    /// Builds the runtime objects for `config`: certificates loaded,
    /// clusters built (those of `previous` whose config did not change are
    /// kept) and plugin versions compiled and initialised through `runtime`
    /// (those of `previous` whose spec and source did not change are kept).
    /// Nothing running changes: the caller swaps the result in whole.
    /// Every problem is reported, plugins and host alike.
    pub async fn build(
        mut config: Config,
        previous: Option<&Snapshot>,
        file: &str,
        runtime: &Runtime,
    ) -> Result<Snapshot, ConfigError> {
        // Registry sources become cached files first: the runtime loads files.
        let cache_dir = &config.server.plugin_cache_dir;
        let resolved = resolve_plugins(&config.registry, cache_dir)
            .await
            .map_err(|problems| ConfigError {
                file: file.to_string(),
                problems: problems
                    .into_iter()
                    .map(|(name, message)| problem(format!("plugins.{name}.source"), message))
                    .collect(),
            })?;
        for spec in &mut config.plugins {
            if let Some(found) = resolved.get(&spec.name) {
                spec.source = found.path.clone();
            }
        }
        let plugins = runtime
            .prepare(config.plugins.clone(), previous.map(|p| &p.plugins))
            .await;
        let host = Self::build_host(config, previous);
        let (mut snapshot, plugins) = match (host, plugins) {
            (Ok(snapshot), Ok(plugins)) => (snapshot, plugins),
            (host, plugins) => {
                let mut problems = host.err().unwrap_or_default();
                for e in plugins.err().unwrap_or_default() {
                    problems.push(problem(format!("plugins.{}", e.plugin()), e.to_string()));
                }
                return Err(ConfigError {
                    file: file.to_string(),
                    problems,
                });
            }
        };
        let mut problems = Vec::new();
        for (i, route) in snapshot.router.routes().iter().enumerate() {
            let chain = match route.plugins.is_empty() {
                true => None,
                false => match plugins.chain(&route.plugins) {
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
            return Err(ConfigError {
                file: file.to_string(),
                problems,
            });
        }
        snapshot.plugins = plugins;
        snapshot.registry = resolved;
        Ok(snapshot)
    }

    /// The parts that need no plugins: TLS and clusters.
    fn build_host(
        mut config: Config,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, Vec<Problem>> {
        let mut problems = Vec::new();
        if let Some(previous) = previous
            && previous.config.kv != config.kv
        {
            let message =
                "the kv backend is chosen at start-up: restart the proxy to apply a change to [kv]";
            problems.push(problem("kv".into(), message.into()));
        }
        if let Some(previous) = previous {
            acme_unchanged(&previous.config, &config, &mut problems);
        }
        let mut tls = HashMap::new();
        let mut acme = HashMap::new();
        for (i, listener) in config.listeners.iter().enumerate() {
            let Some(settings) = &listener.tls else {
                continue;
            };
            let resolver = settings.acme.as_ref().map(|_| {
                let carried = previous.and_then(|p| p.acme.get(&listener.name));
                carried.cloned().unwrap_or_default()
            });
            let key = format!("listeners[{i}].tls");
            if let Some(server) =
                server_tls(&key, settings, resolver.clone(), &config, &mut problems)
            {
                tls.insert(listener.name.clone(), server);
            }
            if let Some(resolver) = resolver {
                acme.insert(listener.name.clone(), resolver);
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
            return Err(problems);
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
            acme,
            config,
            plugins: PluginSet::default(),
            route_chains: Vec::new(),
            registry: BTreeMap::new(),
        })
    }
}

/// The server configuration of one TLS listener (certificates and CA
/// bundle read now), or its problems under `key`.
fn server_tls(
    key: &str,
    settings: &ListenerTls,
    acme: Option<Arc<tls::acme::AcmeResolver>>,
    config: &Config,
    problems: &mut Vec<Problem>,
) -> Option<Arc<ServerConfig>> {
    let resolve = |p: &std::path::Path| config.resolve(p);
    let certificates = match (&settings.acme, acme) {
        // ACME: the resolver its renewal task fills (see tls::acme).
        (Some(acme), Some(resolver)) => tls::acme::check(acme, resolve)
            .map(|()| resolver as Arc<dyn rustls::server::ResolvesServerCert>)
            .map_err(|message| problems.push(problem(format!("{key}.acme.directory_ca"), message))),
        _ => tls::cert_resolver(&settings.certificates, resolve)
            .map_err(|message| problems.push(problem(key.to_string(), message))),
    };
    let clients = tls::client_verifier(settings.client_auth.as_ref(), resolve)
        .map_err(|message| problems.push(problem(format!("{key}.client_auth.ca"), message)));
    let mut server = tls::server_config(certificates.ok()?, clients.ok()?)
        .map_err(|message| problems.push(problem(key.to_string(), message)))
        .ok()?;
    if settings.acme.is_some() {
        // TLS-ALPN-01 validation offers only this protocol.
        let protocols = &mut Arc::make_mut(&mut server).alpn_protocols;
        protocols.push(tls::acme::ACME_TLS_ALPN.to_vec());
    }
    Some(server)
}

/// ACME renewal tasks start with the proxy: a reload may not add, drop or
/// change a listener's `acme` table.
fn acme_unchanged(previous: &Config, config: &Config, problems: &mut Vec<Problem>) {
    let acme = |c: &Config, name: &str| {
        c.listeners
            .iter()
            .find(|l| l.name == name)
            .and_then(|l| l.tls.as_ref()?.acme.clone())
    };
    for (i, listener) in config.listeners.iter().enumerate() {
        if acme(previous, &listener.name) != acme(config, &listener.name) {
            let message = "ACME settings are applied at start-up: restart the proxy to apply a change to [listeners.tls.acme]";
            problems.push(problem(format!("listeners[{i}].tls.acme"), message.into()));
        }
    }
}

fn problem(key: String, message: String) -> Problem {
    Problem {
        key,
        line: None,
        message,
    }
}
