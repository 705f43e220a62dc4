//! Active health checks: one task per cluster probes every endpoint at the
//! configured interval; `unhealthy_threshold` failed probes in a row mark an
//! endpoint down, `healthy_threshold` good ones bring it back. The task ends
//! when its cluster is dropped (a reload that replaced it).

use std::sync::{Arc, Weak};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use tokio_util::sync::CancellationToken;

use super::{Cluster, Ticks};
use crate::config::HealthCheck;

pub fn spawn(cluster: Weak<Cluster>, check: HealthCheck, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut streaks: Vec<i64> = Vec::new();
        let mut ticks = Ticks::new(cluster, check.interval, stop);
        while let Some(cluster) = ticks.next().await {
            streaks.resize(cluster.endpoints.len(), 0);
            let probes = (0..cluster.endpoints.len()).map(|i| probe(&cluster, i, &check));
            let results = futures_util::future::join_all(probes).await;
            for (i, ok) in results.into_iter().enumerate() {
                update(&cluster, i, ok, &mut streaks[i], &check);
            }
        }
    });
}

/// Positive streaks count successes, negative ones failures.
fn update(cluster: &Cluster, index: usize, ok: bool, streak: &mut i64, check: &HealthCheck) {
    *streak = match (ok, *streak) {
        (true, s) if s > 0 => s + 1,
        (true, _) => 1,
        (false, s) if s < 0 => s - 1,
        (false, _) => -1,
    };
    let endpoint = &cluster.endpoints[index];
    if endpoint.is_healthy() && -*streak >= i64::from(check.unhealthy_threshold) {
        endpoint.set_healthy(false);
        tracing::warn!(cluster = %cluster.name, endpoint = %endpoint.address(), "health check failed: endpoint marked down");
    } else if !endpoint.is_healthy() && *streak >= i64::from(check.healthy_threshold) {
        endpoint.set_healthy(true);
        tracing::info!(cluster = %cluster.name, endpoint = %endpoint.address(), "health check passed: endpoint back up");
    }
}

async fn probe(cluster: &Arc<Cluster>, index: usize, check: &HealthCheck) -> bool {
    let endpoint = &cluster.endpoints[index];
    let Ok(request) = http::Request::get(check.path.as_str())
        .header(http::header::USER_AGENT, "ravelin-health-check")
        .body(
            Empty::<Bytes>::new()
                .map_err(|never| match never {})
                .boxed(),
        )
    else {
        return false;
    };
    let answer = tokio::time::timeout(check.timeout, async {
        let response = cluster
            .client
            .send(index, &endpoint.authority, request)
            .await
            .ok()?;
        let status = response.status().as_u16();
        // Drain the body so the connection goes back to the pool.
        let _ = response.into_body().collect().await;
        Some(status)
    });
    match answer.await {
        Ok(Some(status)) if check.expected_statuses.is_empty() => (200..400).contains(&status),
        Ok(Some(status)) => check.expected_statuses.contains(&status),
        _ => false,
    }
}
