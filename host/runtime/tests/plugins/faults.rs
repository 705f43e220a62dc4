//! Faults: each gives the configured failure, and the rest keeps serving.

use crate::harness::*;
use ravelin_runtime::{Decision, FailPolicy, PluginError, Runtime};
use ravelin_test_guests::{FAULTS, SWAP_A};
use serde_json::json;
use std::time::{Duration, Instant};

fn faulty(name: &str, mode: &str) -> ravelin_runtime::PluginSpec {
    let mut s = spec(name, FAULTS, json!({ "mode": mode }));
    s.memory_limit = 32 << 20;
    s.deadline = Duration::from_millis(50);
    s
}

/// After a fault, another plugin (and the same one, fresh) still serves.
async fn others_keep_serving(rt: &Runtime) {
    let healthy = chain(rt, vec![spec("healthy", SWAP_A, serde_json::Value::Null)]).await;
    let (_, decision, parts) = run(&healthy, "/").await;
    assert!(matches!(decision, Decision::Continue));
    assert_eq!(header(&parts.headers, "x-version").as_deref(), Some("a"));
}

#[tokio::test]
async fn a_trap_fails_closed_with_502() {
    let rt = runtime();
    let set = plugins(&rt, vec![faulty("trap", "trap")]).await;
    let chain = set.chain(&["trap"]).expect("chain");
    let (status, error) = failed(run(&chain, "/").await.1);
    assert_eq!(status, 502);
    assert!(
        matches!(
            error,
            PluginError::Trap {
                hook: "on-request",
                ..
            }
        ),
        "{error}"
    );
    others_keep_serving(&rt).await;
    assert_eq!(stats(&set, "trap").errors, 1);
}

#[tokio::test]
async fn an_endless_loop_is_stopped_at_the_deadline() {
    let rt = runtime();
    let chain = chain(&rt, vec![faulty("loop", "loop")]).await;
    let started = Instant::now();
    let (status, error) = failed(run(&chain, "/").await.1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status, 503);
    assert!(matches!(error, PluginError::Deadline { .. }), "{error}");
    others_keep_serving(&rt).await;
}

#[tokio::test]
async fn allocating_past_the_limit_is_out_of_memory() {
    let rt = runtime();
    let mut hog = faulty("hog", "hog");
    hog.deadline = Duration::from_secs(10);
    let chain = chain(&rt, vec![hog]).await;
    let (status, error) = failed(run(&chain, "/").await.1);
    assert_eq!(status, 502);
    assert!(
        matches!(error, PluginError::OutOfMemory { limit, .. } if limit == 32 << 20),
        "{error}"
    );
    others_keep_serving(&rt).await;
}

#[tokio::test]
async fn a_panic_is_a_trap() {
    let rt = runtime();
    let chain = chain(&rt, vec![faulty("panic", "panic")]).await;
    let (status, error) = failed(run(&chain, "/").await.1);
    assert_eq!(status, 502);
    assert!(matches!(error, PluginError::Trap { .. }), "{error}");
    others_keep_serving(&rt).await;
}

#[tokio::test]
async fn a_50_mib_body_is_refused() {
    let rt = runtime();
    let mut big = faulty("big", "big");
    big.memory_limit = 160 << 20;
    big.deadline = Duration::from_secs(10);
    let chain = chain(&rt, vec![big]).await;
    let (status, error) = failed(run(&chain, "/").await.1);
    assert_eq!(status, 502, "{error}");
    assert!(matches!(error, PluginError::Guest { .. }), "{error}");
    others_keep_serving(&rt).await;
}

#[tokio::test]
async fn fail_open_skips_the_failing_plugin() {
    let rt = runtime();
    let mut open = faulty("open", "trap");
    open.fail = FailPolicy::Open;
    let set = plugins(&rt, vec![open, spec("a", SWAP_A, serde_json::Value::Null)]).await;
    let chain = set.chain(&["open", "a"]).expect("chain");
    for _ in 0..3 {
        let (mut ex, decision, parts) = run(&chain, "/").await;
        assert!(matches!(decision, Decision::Continue), "{decision:?}");
        assert_eq!(header(&parts.headers, "x-version").as_deref(), Some("a"));
        assert!(matches!(
            ex.on_response(&mut response()).await,
            Decision::Continue
        ));
    }
    assert_eq!(stats(&set, "open").errors, 3);
}

#[tokio::test]
async fn faults_are_counted_in_metrics() {
    let rt = runtime();
    let chain = chain(&rt, vec![faulty("counted", "loop")]).await;
    let _ = run(&chain, "/").await;
    let mut registry = prometheus_client::registry::Registry::default();
    rt.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(
        text.contains(r#"ravelin_plugin_faults_total{plugin="counted",kind="deadline"} 1"#),
        "{text}"
    );
}
