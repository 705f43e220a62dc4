//! Upstream clusters: endpoints with live state, a balancer, a pooled
//! client, active health checks, passive ejection, and safe retries.

mod accounting;
mod balancer;
mod body;
mod client;
mod connect;
mod endpoint;
mod health;
mod http1;
mod http2;
mod pool;
pub mod proxy_body;

use std::net::IpAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;

pub use proxy_body::{BoxError, ProxyBody, empty_body};

use client::{Client, ExchangeError};
pub use endpoint::EndpointState;
pub use http1::OriginUpgrade;

use crate::config::{Passive, Retries, Timeouts, Upstream};
use accounting::AccountedBody;
use balancer::Balancer;

/// One upstream cluster, built from config and kept across reloads while
/// its config is unchanged (so health state and pools survive).
pub struct Cluster {
    pub name: String,
    pub endpoints: Vec<Arc<EndpointState>>,
    balancer: Balancer,
    client: Client,
    passive: Passive,
    pub retries: Retries,
    response_timeout: std::time::Duration,
    /// Stops the health-check and pool-sweeping tasks when the cluster is dropped.
    stop: CancellationToken,
    /// The config this cluster was built from, to tell whether a reload changed it.
    fingerprint: String,
}

/// Why an attempt to an endpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Never connected: the request did not reach the endpoint.
    #[error("cannot connect to endpoint {endpoint}: {source}")]
    Connect { endpoint: String, source: BoxError },
    #[error("endpoint {endpoint} failed: {source}")]
    Exchange { endpoint: String, source: BoxError },
    #[error("endpoint {endpoint} did not answer within {timeout:?}")]
    Timeout {
        endpoint: String,
        timeout: std::time::Duration,
    },
    #[error("no endpoint of cluster {0} is available")]
    NoEndpoint(String),
}

impl Cluster {
    pub fn build(
        upstream: &Upstream,
        timeouts: &Timeouts,
        resolve: impl Fn(&std::path::Path) -> std::path::PathBuf,
    ) -> Result<Arc<Cluster>, String> {
        let client = Client::build(upstream, timeouts, resolve)?;
        let endpoints: Vec<_> = upstream
            .endpoints
            .iter()
            .map(|e| EndpointState::new(e.address.clone(), e.weight).map(Arc::new))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("upstream {}: {e}", upstream.name))?;
        let weights: Vec<u32> = upstream.endpoints.iter().map(|e| e.weight).collect();
        let cluster = Arc::new(Cluster {
            name: upstream.name.clone(),
            endpoints,
            balancer: Balancer::new(upstream.balancer, &weights),
            client,
            passive: upstream.passive,
            retries: upstream.retries,
            response_timeout: timeouts.upstream_response,
            stop: CancellationToken::new(),
            fingerprint: fingerprint(upstream, timeouts),
        });
        if let Some(check) = &upstream.health_check {
            health::spawn(
                Arc::downgrade(&cluster),
                check.clone(),
                cluster.stop.clone(),
            );
        }
        spawn_pool_sweeper(
            Arc::downgrade(&cluster),
            upstream.pool.idle_timeout,
            cluster.stop.clone(),
        );
        Ok(cluster)
    }

    /// Whether this cluster was built from exactly this config.
    pub fn same_config(&self, upstream: &Upstream, timeouts: &Timeouts) -> bool {
        self.fingerprint == fingerprint(upstream, timeouts)
    }

    /// The endpoint for the next attempt, skipping those already tried.
    pub fn pick(&self, client: IpAddr, tried: &[usize]) -> Option<usize> {
        self.balancer.pick(&self.endpoints, client, tried)
    }

    /// Sends one attempt to endpoint `index`, recording the outcome for
    /// passive ejection (connect failures and 5xx count as failures).
    pub async fn send(
        &self,
        index: usize,
        req: Request<ProxyBody>,
    ) -> Result<Response<ProxyBody>, UpstreamError> {
        let endpoint = &self.endpoints[index];
        let _in_flight = endpoint.start_request();
        let exchange = self.client.send(index, &endpoint.authority, req);
        let result = tokio::time::timeout(self.response_timeout, exchange).await;
        let address = || endpoint.address().to_string();
        let outcome = match result {
            Err(_) => Err(UpstreamError::Timeout {
                endpoint: address(),
                timeout: self.response_timeout,
            }),
            Ok(Err(ExchangeError::Connect(e))) => Err(UpstreamError::Connect {
                endpoint: address(),
                source: e.into(),
            }),
            Ok(Err(ExchangeError::Failed(e))) => Err(UpstreamError::Exchange {
                endpoint: address(),
                source: e,
            }),
            Ok(Ok(response)) => Ok(response),
        };
        match outcome {
            Ok(response) if !response.status().is_server_error() => {
                // Success or failure is known once the body has ended.
                let (endpoint, passive) = (endpoint.clone(), self.passive);
                Ok(
                    response
                        .map(|body| BodyExt::boxed(AccountedBody::new(body, endpoint, passive))),
                )
            }
            outcome => {
                if endpoint.record_failure(self.passive.consecutive_failures, self.passive.cooldown)
                {
                    tracing::warn!(cluster = %self.name, endpoint = %endpoint.address(), "endpoint ejected after consecutive failures");
                }
                outcome.map(|response| response.map(BodyExt::boxed))
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Closes idle connections past the pool's idle timeout, even on endpoints
/// no request checks out from any more; ends with the cluster.
fn spawn_pool_sweeper(cluster: Weak<Cluster>, idle_timeout: Duration, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut ticks = Ticks::new(cluster, idle_timeout.max(Duration::from_secs(1)), stop);
        while let Some(cluster) = ticks.next().await {
            cluster.client.evict_idle();
        }
    });
}

/// The beat of a cluster's background task: the cluster at each tick, until
/// it is stopped or dropped.
struct Ticks {
    cluster: Weak<Cluster>,
    interval: tokio::time::Interval,
    stop: CancellationToken,
}

impl Ticks {
    fn new(cluster: Weak<Cluster>, period: Duration, stop: CancellationToken) -> Ticks {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ticks {
            cluster,
            interval,
            stop,
        }
    }

    async fn next(&mut self) -> Option<Arc<Cluster>> {
        tokio::select! {
            _ = self.stop.cancelled() => return None,
            _ = self.interval.tick() => {}
        }
        self.cluster.upgrade()
    }
}

fn fingerprint(upstream: &Upstream, timeouts: &Timeouts) -> String {
    format!("{upstream:?}{timeouts:?}")
}
