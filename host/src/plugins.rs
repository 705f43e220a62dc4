//! The host's side of the plugin runtime: starting it, the outbound HTTP
//! client plugins call upstream clusters through, and turning a plugin's
//! answer into a proxy response.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use ravelin_runtime::{Outbound, OutboundFuture, Runtime, RuntimeConfig};

use crate::compress::full;
use crate::config::{Config, Kv};
use crate::pipeline::Proxy;
use crate::upstream::ProxyBody;

/// The largest response body an outbound call returns to a plugin.
const MAX_OUTBOUND_BODY: usize = 4 << 20;

/// Sends plugins' outbound requests through the clusters of the snapshot
/// running at the time of the call.
#[derive(Default)]
pub struct HostOutbound {
    proxy: OnceLock<Weak<Proxy>>,
}

impl HostOutbound {
    /// Connects the outbound client to the proxy once it exists.
    pub fn attach(&self, proxy: &Arc<Proxy>) {
        let _ = self.proxy.set(Arc::downgrade(proxy));
    }
}

impl Outbound for HostOutbound {
    fn send(
        &self,
        cluster: &str,
        request: http::Request<Bytes>,
        timeout: Duration,
    ) -> OutboundFuture {
        let proxy = self.proxy.get().and_then(Weak::upgrade);
        let cluster = cluster.to_string();
        Box::pin(async move {
            let proxy = proxy.ok_or_else(|| "the proxy is shutting down".to_string())?;
            let cluster = proxy
                .snapshot
                .load()
                .clusters
                .get(&cluster)
                .cloned()
                .ok_or_else(|| "no such upstream".to_string())?;
            let index = cluster
                .pick(std::net::Ipv4Addr::LOCALHOST.into(), &[])
                .ok_or_else(|| "no endpoint available".to_string())?;
            let request = request.map(full);
            let call = async {
                let response = cluster
                    .send(index, request)
                    .await
                    .map_err(|e| e.to_string())?;
                let (parts, body) = response.into_parts();
                Ok::<_, String>(http::Response::from_parts(parts, read_limited(body).await?))
            };
            tokio::time::timeout(timeout, call)
                .await
                .map_err(|_| "timed out".to_string())?
        })
    }
}

/// Reads an outbound answer's body, at most [`MAX_OUTBOUND_BODY`] bytes.
async fn read_limited(mut body: ProxyBody) -> Result<Bytes, String> {
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the answer: {e}"))?;
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
        }
        if buf.len() > MAX_OUTBOUND_BODY {
            return Err("the answer is too large".to_string());
        }
    }
    Ok(buf.freeze())
}

/// Starts the runtime with its compiled-artifact cache in
/// `server.plugin_cache_dir` and the kv backend `[kv]` chooses. A Redis
/// backend connects on first use: Redis being down does not stop the start.
pub fn start_runtime(config: &Config) -> Result<(Arc<Runtime>, Arc<HostOutbound>), String> {
    let outbound = Arc::new(HostOutbound::default());
    let defaults = RuntimeConfig::default();
    let runtime_config = RuntimeConfig {
        cache_dir: Some(config.server.plugin_cache_dir.clone()),
        kv_capacity_bytes: match config.kv {
            Kv::Memory { capacity_bytes } => capacity_bytes,
            Kv::Redis(_) => defaults.kv_capacity_bytes,
        },
        ..defaults
    };
    let kv = crate::kv::port(&config.kv)?;
    let runtime = Runtime::new(runtime_config, outbound.clone(), kv)
        .map_err(|e| format!("cannot start the plugin runtime: {e}"))?;
    Ok((Arc::new(runtime), outbound))
}

/// A plugin's own response, as the proxy sends it.
pub fn response(response: http::Response<Bytes>) -> http::Response<ProxyBody> {
    response.map(full)
}
