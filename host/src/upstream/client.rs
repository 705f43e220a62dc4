//! The HTTP client of one cluster: sends one request to one endpoint, over
//! a pooled HTTP/1.1 connection driven from the request's own task, or over
//! the endpoint's shared HTTP/2 connection (prior knowledge in clear text,
//! ALPN `h2` over TLS). TLS re-encryption uses a CA bundle or the system
//! roots, an SNI override and a client certificate for mTLS.

use std::sync::Arc;

use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, Uri, header};
use hyper::client::conn::TrySendError;
use rustls::pki_types::ServerName;

use super::body::UpstreamBody;
use super::connect::{ConnectError, Connector};
use super::http1::{Failure, Http1};
use super::http2;
use super::pool::IdlePool;
use super::proxy_body::{BoxError, ProxyBody};
use crate::config::{Timeouts, Upstream, UpstreamProtocol, UpstreamTls};
use crate::tls;
use crate::workers::PerWorker;

/// Why one request to an endpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The request never reached the endpoint.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The request went out, and then the exchange broke.
    #[error(transparent)]
    Failed(BoxError),
}

pub struct Client {
    connector: Connector,
    scheme: Scheme,
    /// Per endpoint, in the cluster's order.
    endpoints: Vec<Connections>,
}

/// One endpoint's connections, apart per worker: a connection stays on
/// the worker (and runtime) that opened it.
enum Connections {
    Http1(PerWorker<Arc<IdlePool<Http1>>>),
    Http2(PerWorker<http2::Shared>),
}

impl Client {
    /// Builds the client; `resolve` turns config-relative paths into real ones.
    pub fn build(
        upstream: &Upstream,
        timeouts: &Timeouts,
        resolve: impl Fn(&std::path::Path) -> std::path::PathBuf,
    ) -> Result<Self, String> {
        let tls = match &upstream.tls {
            Some(upstream_tls) => Some(client_tls(upstream, upstream_tls, &resolve)?),
            None => None,
        };
        let scheme = if tls.is_some() {
            Scheme::HTTPS
        } else {
            Scheme::HTTP
        };
        let endpoints = upstream
            .endpoints
            .iter()
            .map(|_| match upstream.protocol {
                UpstreamProtocol::Http1 => Connections::Http1(PerWorker::new(|| {
                    Arc::new(IdlePool::new(
                        upstream.pool.max_idle_per_endpoint,
                        upstream.pool.idle_timeout,
                    ))
                })),
                UpstreamProtocol::Http2 => Connections::Http2(PerWorker::new(Default::default)),
            })
            .collect();
        Ok(Self {
            connector: Connector::new(timeouts.connect, tls),
            scheme,
            endpoints,
        })
    }

    /// Sends `request` to endpoint `index` at `authority`, and returns the
    /// response once its head has arrived.
    pub async fn send(
        &self,
        index: usize,
        authority: &Authority,
        mut request: Request<ProxyBody>,
    ) -> Result<Response<UpstreamBody>, ExchangeError> {
        match &self.endpoints[index] {
            Connections::Http1(pools) => {
                // Origin form, and a Host header if the request has none.
                *request.uri_mut() = Uri::from(path_and_query(request.uri()));
                if !request.headers().contains_key(header::HOST)
                    && let Ok(host) = http::HeaderValue::from_str(authority.as_str())
                {
                    request.headers_mut().insert(header::HOST, host);
                }
                self.send_http1(pools.local(), authority, request).await
            }
            Connections::Http2(shared) => {
                let shared = shared.local();
                let mut parts = http::uri::Parts::default();
                parts.scheme = Some(self.scheme.clone());
                parts.authority = Some(authority.clone());
                parts.path_and_query = Some(path_and_query(request.uri()));
                if let Ok(uri) = Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
                self.send_http2(shared, authority, request).await
            }
        }
    }

    /// Drops the idle connections past the pool's idle timeout.
    pub fn evict_idle(&self) {
        for connections in &self.endpoints {
            if let Connections::Http1(pools) = connections {
                pools.iter().for_each(|pool| pool.evict_expired());
            }
        }
    }

    async fn send_http1(
        &self,
        pool: &Arc<IdlePool<Http1>>,
        authority: &Authority,
        mut request: Request<ProxyBody>,
    ) -> Result<Response<UpstreamBody>, ExchangeError> {
        if let Some(conn) = pool.take() {
            match conn.exchange(request, pool).await {
                Ok(response) => return Ok(response.map(UpstreamBody::Http1)),
                // Closed before a byte went out: the request is whole, and
                // goes on a new connection.
                Err(Failure::Unsent(unsent, _)) => request = *unsent,
                Err(Failure::Failed(error)) => return Err(ExchangeError::Failed(error.into())),
            }
        }
        // Opening a connection (TCP, TLS) is the rare path and its future
        // the largest: boxed, it costs an allocation when taken instead of
        // its room in every request's future, which is moved (copied
        // whole) into its box and into the response timeout.
        let conn = Http1::new(Box::pin(self.connector.connect(authority)).await?);
        match conn.exchange(request, pool).await {
            Ok(response) => Ok(response.map(UpstreamBody::Http1)),
            Err(Failure::Unsent(_, error)) => Err(ConnectError::Closed(error.into()).into()),
            Err(Failure::Failed(error)) => Err(ExchangeError::Failed(error.into())),
        }
    }

    async fn send_http2(
        &self,
        shared: &http2::Shared,
        authority: &Authority,
        mut request: Request<ProxyBody>,
    ) -> Result<Response<UpstreamBody>, ExchangeError> {
        if let Some(mut sender) = shared.get() {
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(response.map(UpstreamBody::Http2)),
                Err(error) => request = unsent(error)?,
            }
        }
        // Boxed for the reason `send_http1` boxes its opening.
        let open = async { http2::handshake(self.connector.connect(authority).await?).await };
        let mut sender = Box::pin(shared.connection(open)).await?;
        match sender.try_send_request(request).await {
            Ok(response) => Ok(response.map(UpstreamBody::Http2)),
            Err(error) => Err(never_sent(error)),
        }
    }
}

/// The request back from a reused connection that closed before sending
/// it, or the exchange's failure.
fn unsent(
    mut error: TrySendError<Request<ProxyBody>>,
) -> Result<Request<ProxyBody>, ExchangeError> {
    error
        .take_message()
        .ok_or_else(|| ExchangeError::Failed(error.into_error().into()))
}

/// A new connection's failure: one that sent nothing is a connect error.
fn never_sent(mut error: TrySendError<Request<ProxyBody>>) -> ExchangeError {
    match error.take_message() {
        Some(_) => ConnectError::Closed(error.into_error().into()).into(),
        None => ExchangeError::Failed(error.into_error().into()),
    }
}

fn path_and_query(uri: &Uri) -> PathAndQuery {
    uri.path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"))
}

/// The TLS client configuration, with ALPN for the cluster's protocol, and
/// the SNI override.
fn client_tls(
    upstream: &Upstream,
    upstream_tls: &UpstreamTls,
    resolve: &impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> Result<(rustls::ClientConfig, Option<ServerName<'static>>), String> {
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
    let mut config = tls::client_config_with_roots(roots, identity)?;
    config.alpn_protocols = match upstream.protocol {
        UpstreamProtocol::Http1 => vec![b"http/1.1".to_vec()],
        UpstreamProtocol::Http2 => vec![b"h2".to_vec()],
    };
    let server_name = match &upstream_tls.server_name {
        Some(name) => Some(ServerName::try_from(name.clone()).map_err(|e| {
            format!(
                "upstream {}: server_name `{name}` is not a TLS server name: {e}",
                upstream.name
            )
        })?),
        None => None,
    };
    Ok((config, server_name))
}

#[cfg(test)]
mod tests;
