//! Start-up and shutdown: load the config, bind every listener, start the
//! accept loops, the admin listener and the reload triggers, then wait for
//! SIGTERM/SIGINT and drain within the graceful-shutdown deadline.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::admin::{self, Admin};
use crate::metrics::Metrics;
use crate::pipeline::Proxy;
use crate::plugins;
use crate::reload::{self, Reloader};
use crate::server::{self, Shared};

/// Runs the proxy until a shutdown signal; errors are start-up failures.
pub async fn run(path: PathBuf) -> Result<(), String> {
    let (config, _) = crate::config::Config::load(&path).map_err(|e| e.to_string())?;
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
    let mut accept_loops = Vec::new();
    for listener in &snapshot.config.listeners {
        let tcp = server::bind(listener).await?;
        let scheme = if listener.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(listener = %listener.name, "listening on {scheme}://{}", tcp.local_addr().map_err(|e| e.to_string())?);
        let (listener, shared) = (
            snapshot
                .config
                .listeners
                .iter()
                .position(|l| l.name == listener.name),
            shared.clone(),
        );
        // HTTP/3 beside it: UDP, on the port number the TCP side got.
        if let Some(index) = listener
            && let Some(http3) = &snapshot.config.listeners[index].http3
        {
            let config = &snapshot.config.listeners[index];
            let addr = tcp.local_addr().map_err(|e| e.to_string())?;
            let quic = server::http3::bind(config, http3, addr)?;
            tracing::info!(listener = %config.name, "listening on HTTP/3 udp://{addr}");
            let (snapshot, shared) = (snapshot.clone(), shared.clone());
            accept_loops.push(tokio::spawn(async move {
                server::http3::accept_loop(quic, &snapshot.config.listeners[index], shared).await;
            }));
        }
        let snapshot = snapshot.clone();
        accept_loops.push(tokio::spawn(async move {
            if let Some(index) = listener {
                server::accept_loop(tcp, &snapshot.config.listeners[index], shared).await;
            }
        }));
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
    for accept_loop in accept_loops {
        let _ = accept_loop.await;
    }
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
