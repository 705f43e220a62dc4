//! The pooled HTTP client of one cluster: keep-alive pools per endpoint,
//! HTTP/1.1 or HTTP/2 (prior knowledge in clear text, ALPN over TLS), and
//! optional TLS re-encryption with a CA bundle or the system roots, an SNI
//! override and a client certificate for mTLS.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::{Timeouts, Upstream, UpstreamProtocol, UpstreamTls};
use crate::tls;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type ProxyBody = BoxBody<Bytes, BoxError>;
pub type HttpClient = Client<HttpsConnector<HttpConnector>, ProxyBody>;

/// Builds the client; `resolve` turns config-relative paths into real ones.
pub fn build(
    upstream: &Upstream,
    timeouts: &Timeouts,
    resolve: impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> Result<HttpClient, String> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(timeouts.connect));
    http.set_keepalive(Some(std::time::Duration::from_secs(60)));
    let tls_config = match &upstream.tls {
        Some(tls) => client_tls(tls, &resolve)?,
        None => tls::client_config_with_roots(rustls::RootCertStore::empty(), None)?,
    };
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config)
        .https_or_http();
    let builder = match upstream.tls.as_ref().and_then(|t| t.server_name.clone()) {
        Some(name) => {
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(
                name.try_into()
                    .map_err(|e| format!("`{}` is not a TLS server name: {e}", upstream.name))?,
            ))
        }
        None => builder,
    };
    let connector = match upstream.protocol {
        UpstreamProtocol::Http1 => builder.enable_http1().wrap_connector(http),
        UpstreamProtocol::Http2 => builder.enable_http2().wrap_connector(http),
    };
    let mut client = Client::builder(TokioExecutor::new());
    client
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(upstream.pool.idle_timeout)
        .pool_max_idle_per_host(upstream.pool.max_idle_per_endpoint)
        .http2_only(upstream.protocol == UpstreamProtocol::Http2)
        .http2_keep_alive_interval(std::time::Duration::from_secs(30))
        .http2_keep_alive_timeout(std::time::Duration::from_secs(10));
    Ok(client.build(connector))
}

fn client_tls(
    upstream_tls: &UpstreamTls,
    resolve: &impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> Result<rustls::ClientConfig, String> {
    let roots = match &upstream_tls.ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in tls::load_certs(&resolve(ca))? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: unusable CA certificate: {e}", ca.display()))?;
            }
            roots
        }
        None => tls::system_roots(),
    };
    let identity = match &upstream_tls.client_identity {
        Some((cert, key)) => Some((
            tls::load_certs(&resolve(cert))?,
            tls::load_key(&resolve(key))?,
        )),
        None => None,
    };
    tls::client_config_with_roots(roots, identity)
}
