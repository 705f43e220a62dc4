//! Start-up and shutdown: load the config, bind every listener, start the
//! accept loops, the admin listener and the reload triggers, then wait for
//! SIGTERM/SIGINT and drain within the graceful-shutdown deadline.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin::{self, Admin};
use crate::config::Scheduler;
use crate::metrics::Metrics;
use crate::pipeline::Proxy;
use crate::plugins;
use crate::reload::{self, Reloader};
use crate::server::{self, Shared};
use crate::snapshot::Snapshot;

/// Runs the proxy until a shutdown signal; errors are start-up failures.
pub async fn run(path: PathBuf) -> Result<(), String> {
    let (config, _) = crate::config::Config::load(&path).map_err(|e| e.to_string())?;
    // Before any upstream pool is built: pools are per worker.
    if config.server.scheduler == Scheduler::ThreadPerCore {
        crate::workers::set_count(config.server.workers());
    }
    let (runtime, outbound) = plugins::start_runtime(&config)?;
    let snapshot = reload::load(&path, None, &runtime)
        .await
        .map_err(|e| e.to_string())?;
    let mut metrics = Metrics::default();
    runtime.register_metrics(metrics.registry_mut());
    let acme_metrics = crate::tls::acme::AcmeMetrics::default();
    acme_metrics.register(metrics.registry_mut());
    let proxy = Arc::new(Proxy {
        snapshot: ArcSwap::from_pointee(snapshot),
        metrics,
        runtime: runtime.clone(),
    });
    outbound.attach(&proxy);
    let shared = Shared {
        proxy: proxy.clone(),
        shutdown: CancellationToken::new(),
        tracker: TaskTracker::new(),
    };
    let snapshot = proxy.snapshot.load_full();
    crate::tls::acme::start(&snapshot, &acme_metrics, &shared.shutdown)?;
    let workers = crate::workers::count();
    let mut accept_loops = JoinSet::new();
    let mut per_worker: Vec<Vec<WorkerListener>> = (0..workers).map(|_| Vec::new()).collect();
    for (index, listener) in snapshot.config.listeners.iter().enumerate() {
        let copies = crate::workers::bind(&listener.name, listener.addr, workers)?;
        let addr = copies[0]
            .local_addr()
            .map_err(|e| format!("listener {}: {e}", listener.name))?;
        let scheme = if listener.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(listener = %listener.name, "listening on {scheme}://{addr}");
        let limits = server::ConnectionLimits::of(listener);
        for (worker, copy) in per_worker.iter_mut().zip(copies) {
            worker.push((index, copy, limits.clone()));
        }
        // HTTP/3 beside it: UDP, on the port number the TCP side got.
        if let Some(http3) = &listener.http3 {
            let quic = server::http3::bind(listener, http3, addr)?;
            tracing::info!(listener = %listener.name, "listening on HTTP/3 udp://{addr}");
            let (snapshot, shared) = (snapshot.clone(), shared.clone());
            accept_loops.spawn(async move {
                server::http3::accept_loop(quic, &snapshot.config.listeners[index], shared).await;
            });
        }
    }
    let mut per_worker = per_worker.into_iter();
    let own = per_worker.next().unwrap_or_default();
    for (worker, listeners) in per_worker.enumerate() {
        let (snapshot, shared) = (snapshot.clone(), shared.clone());
        crate::workers::spawn(worker + 1, serve_worker(listeners, snapshot, shared))?;
    }
    if let Some(failure) = accept_on(own, &snapshot, &shared, &mut accept_loops).pop() {
        return Err(failure);
    }
    let reloader = Reloader::new(path, proxy.clone());
    reloader.watch()?;
    reloader.on_sighup()?;
    reloader.refresh_tags();
    if let Some(config) = &snapshot.config.admin {
        let addr = config.addr;
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("admin listener cannot bind {addr}: {e}"))?;
        tracing::info!("admin listening on http://{addr}");
        let admin = Admin {
            reloader: reloader.clone(),
            proxy: proxy.clone(),
            shutdown: shared.shutdown.clone(),
            token: config.token.clone(),
        };
        tokio::spawn(admin::serve(tcp, admin));
    }
    drop(snapshot);
    wait_for_signal().await?;
    let deadline = proxy.snapshot.load().config.server.graceful_shutdown;
    tracing::info!("shutting down: no new connections, draining for up to {deadline:?}");
    shared.shutdown.cancel();
    while accept_loops.join_next().await.is_some() {}
    shared.tracker.close();
    if tokio::time::timeout(deadline, shared.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "graceful-shutdown deadline passed with {} connections open: closing them",
            shared.tracker.len()
        );
    }
    Ok(())
}

/// Validates the file at `path` as `run` would load it: certificates read,
/// plugins pulled or found in the cache, compiled and their configuration
/// accepted. Returns warnings that do not make the file invalid: `oci://`
/// tags that are not pinned to a digest, plugins loaded from the cache
/// because the registry could not be reached.
pub async fn check(path: &std::path::Path) -> Result<Vec<String>, String> {
    let (config, _) = crate::config::Config::load(path).map_err(|e| e.to_string())?;
    let (runtime, _) = plugins::start_runtime(&config)?;
    let snapshot = reload::load(path, None, &runtime)
        .await
        .map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    for (name, source) in &snapshot.config.registry {
        let Some(resolved) = snapshot.registry.get(name) else {
            continue;
        };
        if let Some(why) = &resolved.offline {
            warnings.push(format!("plugins.{name}.source: {why}"));
        }
        if let crate::registry::Version::Tag(tag) = &source.reference.version {
            let pinned = source
                .reference
                .at(crate::registry::Version::Digest(resolved.digest.clone()));
            warnings.push(format!(
                "plugins.{name}.source: tag `{tag}` is not pinned (the registry decides what runs); \
                 it resolves to {}: pin it with source = \"oci://{pinned}\"",
                resolved.digest
            ));
        }
    }
    Ok(warnings)
}

/// One worker's share of a listener: the listener's index in the config,
/// the worker's copy of its socket, and the limits all copies share.
type WorkerListener = (usize, std::net::TcpListener, server::ConnectionLimits);

/// Starts accepting on one worker's listener copies, on this runtime;
/// returns why it could not on any of them.
fn accept_on(
    listeners: Vec<WorkerListener>,
    snapshot: &Arc<Snapshot>,
    shared: &Shared,
    accept_loops: &mut JoinSet<()>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (index, std, limits) in listeners {
        let tcp = match tokio::net::TcpListener::from_std(std) {
            Ok(tcp) => tcp,
            Err(e) => {
                let name = &snapshot.config.listeners[index].name;
                failures.push(format!("listener {name}: {e}"));
                continue;
            }
        };
        let (snapshot, shared) = (snapshot.clone(), shared.clone());
        accept_loops.spawn(async move {
            server::accept_loop(tcp, &snapshot.config.listeners[index], shared, limits).await;
        });
    }
    failures
}

/// A further worker's life: accept on its copies of the listeners until
/// shutdown, then keep its runtime turning for its connections' drain.
async fn serve_worker(listeners: Vec<WorkerListener>, snapshot: Arc<Snapshot>, shared: Shared) {
    let mut accept_loops = JoinSet::new();
    for failure in accept_on(listeners, &snapshot, &shared, &mut accept_loops) {
        tracing::error!(
            "worker {} cannot accept: {failure}",
            crate::workers::index()
        );
    }
    drop(snapshot);
    while accept_loops.join_next().await.is_some() {}
    shared.tracker.wait().await;
}

async fn wait_for_signal() -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot listen for SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot listen for SIGINT: {e}"))?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
