//! Contract 0.2 in the runtime: outbound calls in flight are cancelled with
//! their exchange, a plugin without response hooks gives its instance
//! back as soon as its request hook returns, the client certificate
//! reaches `tls-info`, and `clock.sleep-ms` pauses without counting
//! against the deadline, within its bounds.

use crate::harness::*;
use bytes::Bytes;
use ravelin_runtime::{Decision, Outbound, OutboundFuture};
use ravelin_test_guests::{NOOP, V2_PROBE};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Counts a call's future when it starts and when it is dropped.
struct Started(Arc<AtomicUsize>);

impl Drop for Started {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// An upstream that never answers; it counts calls begun and dropped.
#[derive(Default)]
struct Silent {
    begun: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Outbound for Silent {
    fn send(&self, _: &str, _: http::Request<Bytes>, _: Duration) -> OutboundFuture {
        self.begun.fetch_add(1, Ordering::SeqCst);
        let guard = Started(self.dropped.clone());
        Box::pin(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
            Err("unreachable".to_string())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_are_cancelled_when_the_exchange_ends() {
    let silent = Arc::new(Silent::default());
    let (begun, dropped) = (silent.begun.clone(), silent.dropped.clone());
    let rt = runtime_with(silent);
    let mut probe = spec("probe", V2_PROBE, json!({ "cluster": "side" }));
    probe.allowed_upstreams = vec!["side".into()];
    probe.deadline = Duration::from_secs(2);
    let chain = chain(&rt, vec![probe]).await;
    let exchange = async {
        let (_ex, decision, _) = run(&chain, "/v2/concurrent?n=3").await;
        decision
    };
    let outcome = tokio::time::timeout(Duration::from_millis(300), exchange).await;
    assert!(outcome.is_err(), "the calls never answer: {outcome:?}");
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(begun.load(Ordering::SeqCst), 3, "three calls ran at once");
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "all three were cancelled"
    );
}

#[tokio::test]
async fn a_plugin_without_response_hooks_gives_its_instance_back_at_once() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("noop", NOOP, json!(null))]).await;
    // Both exchanges stay open; the second still finds the first's instance.
    let (first, d1, _) = run(&chain, "/").await;
    let (second, d2, _) = run(&chain, "/").await;
    assert!(matches!((d1, d2), (Decision::Continue, Decision::Continue)));
    let mut registry = prometheus_client::registry::Registry::default();
    rt.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(
        text.contains(r#"ravelin_plugin_instantiations_total{plugin="noop"} 1"#),
        "{text}"
    );
    drop((first, second));
}

#[tokio::test]
async fn the_client_certificate_reaches_tls_info_with_prefixed_names() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", V2_PROBE, json!(null))]).await;
    let (_ex, decision, _) = run(&chain, "/v2/client-cert").await;
    assert_eq!(
        responded(decision),
        (
            200,
            "subject=CN=alice, O=Example sans=dns:alice.example,ip:192.0.2.7 der=5".into()
        )
    );
    let mut plain = chain.exchange(ravelin_runtime::RequestInfo::default());
    let decision = plain.on_request(&mut request("/v2/client-cert")).await;
    assert_eq!(responded(decision), (200, "none".into()));
}

#[tokio::test]
async fn sleeping_does_not_count_against_the_deadline() {
    let rt = runtime();
    let mut probe = spec("sleeper", V2_PROBE, json!(null));
    probe.deadline = Duration::from_millis(50);
    let chain = chain(&rt, vec![probe]).await;
    let started = std::time::Instant::now();
    let (_ex, decision, _) = run(&chain, "/v2/sleep?ms=100&times=3").await;
    let (status, body) = responded(decision);
    assert_eq!((status, body.as_str()), (200, "slept 3 x 100 ms"));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it slept {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sleeping_past_its_bounds_traps() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("sleeper", V2_PROBE, json!(null))]).await;
    // One call over a second.
    let (_ex, decision, _) = run(&chain, "/v2/sleep?ms=1001&times=1").await;
    let (status, error) = failed(decision);
    assert_eq!(status, 502);
    assert!(error.to_string().contains("sleep-ms(1001)"), "{error}");
    // Six calls of a second: the sixth passes five seconds in all.
    let started = std::time::Instant::now();
    let (_ex, decision, _) = run(&chain, "/v2/sleep?ms=1000&times=6").await;
    let (status, error) = failed(decision);
    assert_eq!(status, 502);
    assert!(error.to_string().contains("in all"), "{error}");
    assert!(
        started.elapsed() < Duration::from_millis(5900),
        "{:?}",
        started.elapsed()
    );
}
