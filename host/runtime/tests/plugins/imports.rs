//! Each host import: kv, metrics, clock and random, log, outbound HTTP.

use crate::harness::*;
use bytes::Bytes;
use ravelin_runtime::{Decision, Outbound, OutboundFuture};
use ravelin_test_guests::PROBE;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

#[tokio::test]
async fn kv_get_set_delete_increment() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (_ex, decision, _) = run(&chain, "/kv").await;
    let (_, body) = responded(decision);
    assert_eq!(
        body,
        "set=true get=Some(\"1\") incr=Ok(5),Ok(10) deleted=true after=None bad=true"
    );
}

#[tokio::test]
async fn kv_is_namespaced_per_plugin_and_outlives_instances() {
    let rt = runtime();
    let mut fresh = spec("one", PROBE, Value::Null);
    fresh.isolation = ravelin_runtime::Isolation::Exchange;
    let one = chain(&rt, vec![fresh]).await;
    let two = chain(&rt, vec![spec("two", PROBE, Value::Null)]).await;
    for expected in ["Ok(1)", "Ok(2)", "Ok(3)"] {
        assert_eq!(responded(run(&one, "/count").await.1).1, expected);
    }
    assert_eq!(responded(run(&two, "/count").await.1).1, "Ok(1)");
}

#[tokio::test]
async fn metrics_are_exported_with_the_plugin_label() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (_ex, decision, _) = run(&chain, "/metrics").await;
    assert!(matches!(decision, Decision::Continue));
    let mut registry = prometheus_client::registry::Registry::default();
    rt.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(
        text.contains(r#"ravelin_plugin_guest_total{plugin="probe",name="probe_hits"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"ravelin_plugin_guest_observations_count{plugin="probe",name="probe_size"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"ravelin_plugin_hook_calls_total{plugin="probe",hook="on-request"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn clock_and_random() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (_, body) = responded(run(&chain, "/clock").await.1);
    let now: u64 = body
        .split_whitespace()
        .find_map(|w| w.strip_prefix("now="))
        .and_then(|n| n.parse().ok())
        .expect("now");
    let host_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    assert!(host_now.abs_diff(now) < 5_000, "{now} vs {host_now}");
    assert!(body.ends_with("bytes=16 distinct=true"), "{body}");
}

#[tokio::test]
async fn log_lines_do_not_disturb_the_exchange() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    assert!(matches!(run(&chain, "/log").await.1, Decision::Continue));
}

/// An outbound that answers after `delay`, counting calls and noticing when
/// a call is dropped before it finished.
struct FakeUpstream {
    delay: Duration,
    calls: AtomicUsize,
    dropped: Arc<AtomicBool>,
}

struct DropFlag(Arc<AtomicBool>, bool);

impl Drop for DropFlag {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

impl Outbound for FakeUpstream {
    fn send(
        &self,
        cluster: &str,
        request: http::Request<Bytes>,
        _timeout: Duration,
    ) -> OutboundFuture {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (delay, flag) = (self.delay, DropFlag(self.dropped.clone(), false));
        let body = format!(
            "{cluster} {} {}",
            request.uri(),
            request.headers().contains_key("x-probe")
        );
        Box::pin(async move {
            let mut flag = flag;
            tokio::time::sleep(delay).await;
            flag.1 = true;
            Ok(http::Response::new(Bytes::from(body)))
        })
    }
}

fn fake(delay: Duration) -> Arc<FakeUpstream> {
    Arc::new(FakeUpstream {
        delay,
        calls: AtomicUsize::new(0),
        dropped: Arc::default(),
    })
}

fn outbound_spec(allowed: &[&str]) -> ravelin_runtime::PluginSpec {
    let mut s = spec("probe", PROBE, Value::Null);
    s.allowed_upstreams = allowed.iter().map(|c| c.to_string()).collect();
    s.deadline = Duration::from_millis(50);
    s
}

#[tokio::test]
async fn outbound_reaches_allowed_clusters_and_its_wait_is_not_cpu_time() {
    let upstream = fake(Duration::from_millis(200));
    let rt = runtime_with(upstream.clone());
    let chain = chain(&rt, vec![outbound_spec(&["authz"])]).await;
    let (_, body) = responded(run(&chain, "/outbound?authz").await.1);
    assert_eq!(body, "authz /introspect true");
    let (status, body) = responded(run(&chain, "/outbound?billing").await.1);
    assert_eq!(status, 502);
    assert!(body.contains("not in allowed_upstreams"), "{body}");
    assert_eq!(
        upstream.calls.load(Ordering::SeqCst),
        1,
        "a refused cluster is never called"
    );
}

#[tokio::test]
async fn dropping_the_exchange_cancels_its_outbound_call() {
    let upstream = fake(Duration::from_secs(30));
    let rt = runtime_with(upstream.clone());
    let chain = chain(&rt, vec![outbound_spec(&["authz"])]).await;
    let pending = run(&chain, "/outbound?authz");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), pending)
            .await
            .is_err()
    );
    assert_eq!(upstream.calls.load(Ordering::SeqCst), 1);
    // The call runs on a task of its own, aborted with the exchange: it is
    // dropped at that task's next poll.
    for _ in 0..100 {
        if upstream.dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        upstream.dropped.load(Ordering::SeqCst),
        "the outbound call must be dropped with its exchange"
    );
    let (_, decision, _) = run(&chain, "/").await;
    assert!(
        matches!(decision, Decision::Continue),
        "the plugin serves on: {decision:?}"
    );
}
