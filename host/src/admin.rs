//! The admin listener (loopback by default): `/healthz` (the process is
//! up), `/ready` (serving, not draining), `/metrics` (Prometheus text),
//! `/upstreams` (endpoint health as JSON), `/plugins` (version digest,
//! load time, calls, errors, latency), `POST /reload` (the config) and
//! `POST /plugins/NAME/reload`. Who may call them is `auth.rs`'s job.

mod auth;

use std::convert::Infallible;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::compress::full;
use crate::config::AdminToken;
use crate::reload::Reloader;
use crate::upstream::ProxyBody;

#[derive(Clone)]
pub struct Admin {
    pub reloader: Arc<Reloader>,
    pub proxy: Arc<crate::pipeline::Proxy>,
    pub shutdown: CancellationToken,
    /// The bearer token every request but the probes needs (read at start-up).
    pub token: Option<AdminToken>,
}

pub async fn serve(listener: TcpListener, admin: Admin) {
    loop {
        let accepted = tokio::select! {
            _ = admin.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let admin = admin.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(admin.clone(), req));
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(admin: Admin, req: Request<Incoming>) -> Result<Response<ProxyBody>, Infallible> {
    let allowed = auth::check(
        req.method(),
        req.uri().path(),
        req.headers(),
        admin.token.as_ref(),
    );
    let response = match (allowed, req.method(), req.uri().path()) {
        (Err(auth::Denied::Unauthorized), _, _) => {
            let mut response = text(StatusCode::UNAUTHORIZED, "unauthorized\n".into());
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ravelin admin\""),
            );
            response
        }
        (Err(auth::Denied::FromBrowser), _, _) => text(
            StatusCode::FORBIDDEN,
            "the admin listener does not serve browsers\n".into(),
        ),
        (Ok(()), method, path) => route(&admin, method, path).await,
    };
    Ok(response)
}

async fn route(admin: &Admin, method: &Method, path: &str) -> Response<ProxyBody> {
    match (method, path) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n".into()),
        (&Method::GET, "/ready") if admin.shutdown.is_cancelled() => {
            text(StatusCode::SERVICE_UNAVAILABLE, "draining\n".into())
        }
        (&Method::GET, "/ready") => text(StatusCode::OK, "ready\n".into()),
        (&Method::GET, "/metrics") => {
            let snapshot = admin.proxy.snapshot.load();
            let mut response = text(StatusCode::OK, admin.proxy.metrics.render(&snapshot));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
        }
        (&Method::GET, "/upstreams") => json(upstreams(admin)),
        (&Method::GET, "/plugins") => json(plugins(admin)),
        (&Method::POST, path) if path.starts_with("/plugins/") && path.ends_with("/reload") => {
            let name = &path["/plugins/".len()..path.len() - "/reload".len()];
            reload_plugin(admin, name).await
        }
        (&Method::POST, "/reload") => match admin.reloader.reload().await {
            Ok(()) => text(StatusCode::OK, "reloaded\n".into()),
            Err(error) => text(StatusCode::UNPROCESSABLE_ENTITY, format!("{error}\n")),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: try /healthz, /ready, /metrics, /upstreams, /plugins, POST /reload or POST /plugins/NAME/reload\n".into(),
        ),
    }
}

fn plugins(admin: &Admin) -> serde_json::Value {
    let snapshot = admin.proxy.snapshot.load();
    let stats = snapshot.plugins.stats();
    let listed: Vec<_> = stats
        .iter()
        .map(|p| {
            let loaded_at = p
                .loaded_at
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            // A registry plugin is named by its reference and manifest
            // digest, not by the cache file the runtime loaded.
            let registry = snapshot.config.registry.get(&p.name).map(|source| {
                let resolved = snapshot.registry.get(&p.name);
                serde_json::json!({
                    "reference": format!("oci://{}", source.reference),
                    "manifest_digest": resolved.map(|r| r.digest.as_str()),
                    "cached_file": resolved.map(|r| r.path.display().to_string()),
                    "offline": resolved.and_then(|r| r.offline.as_deref()),
                })
            });
            let source = match &registry {
                Some(registry) => registry["reference"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                None => p.source.display().to_string(),
            };
            serde_json::json!({
                "name": p.name,
                "source": source,
                "registry": registry,
                "digest": p.digest,
                "loaded_at_unix": loaded_at,
                "calls": p.calls,
                "errors": p.errors,
                "mean_latency_us": p.mean_latency.as_micros() as u64,
                "swaps": p.swaps,
            })
        })
        .collect();
    serde_json::Value::Array(listed)
}

/// Rebuilds the snapshot (as `POST /reload`: a plugin version belongs to a
/// snapshot) and says whether plugin `name` got a new version.
async fn reload_plugin(admin: &Admin, name: &str) -> Response<ProxyBody> {
    let digest = |admin: &Admin| {
        let snapshot = admin.proxy.snapshot.load();
        snapshot.plugins.digest(name).map(str::to_string)
    };
    let Some(before) = digest(admin) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("no plugin is named `{name}`\n"),
        );
    };
    if let Err(error) = admin.reloader.reload().await {
        return text(StatusCode::UNPROCESSABLE_ENTITY, format!("{error}\n"));
    }
    match digest(admin) {
        Some(after) if after == before => text(StatusCode::OK, "unchanged\n".into()),
        Some(after) => text(StatusCode::OK, format!("swapped {after}\n")),
        None => text(StatusCode::OK, format!("`{name}` is no longer declared\n")),
    }
}

fn upstreams(admin: &Admin) -> serde_json::Value {
    let snapshot = admin.proxy.snapshot.load();
    let clusters: serde_json::Map<String, serde_json::Value> = snapshot
        .clusters
        .iter()
        .map(|(name, cluster)| {
            let endpoints: Vec<_> = cluster
                .endpoints
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "address": e.address(),
                        "weight": e.weight,
                        "healthy": e.is_healthy(),
                        "ejected": e.is_ejected(),
                        "in_flight": e.in_flight(),
                    })
                })
                .collect();
            (name.clone(), serde_json::Value::Array(endpoints))
        })
        .collect();
    serde_json::Value::Object(clusters)
}

fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json(value: serde_json::Value) -> Response<ProxyBody> {
    let mut response = Response::new(full(serde_json::to_vec_pretty(&value).unwrap_or_default()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
