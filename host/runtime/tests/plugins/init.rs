//! Per-version init: with `init = "snapshot"` a 0.2 plugin's `configure`
//! runs once per version and every instance starts from the state it left;
//! with `init = "instance"` it runs in each new instance.

use crate::harness::*;
use ravelin_runtime::{InitMode, Isolation, PluginError, PluginSpec};
use ravelin_test_guests::{LEGACY_V01, V2_PROBE};
use serde_json::json;

/// A probe counting `configure` runs in kv, building a 1000-entry table in
/// `configure`, with a fresh instance per exchange.
fn probe(init: InitMode) -> PluginSpec {
    let config = json!({ "count_configure": true, "init_work": 1000 });
    let mut s = spec("probe", V2_PROBE, config);
    s.isolation = Isolation::Exchange;
    s.init = init;
    s
}

async fn init_facts(chain: &ravelin_runtime::Chain) -> String {
    responded(run(chain, "/v2/init").await.1).1
}

#[tokio::test]
async fn a_snapshot_runs_configure_once_and_every_instance_starts_from_its_state() {
    let rt = runtime();
    let chain = chain(&rt, vec![probe(InitMode::Snapshot)]).await;
    for _ in 0..3 {
        assert_eq!(init_facts(&chain).await, "local=1 kv=1 table=1000");
    }
}

#[tokio::test]
async fn init_per_instance_runs_configure_in_every_new_instance() {
    let rt = runtime();
    let chain = chain(&rt, vec![probe(InitMode::Instance)]).await;
    // The version's first instance ran it once; each exchange makes another.
    for runs in 2..5 {
        let expected = format!("local=1 kv={runs} table=1000");
        assert_eq!(init_facts(&chain).await, expected);
    }
}

#[tokio::test]
async fn a_configure_error_in_the_snapshot_refuses_the_version_with_its_message() {
    let rt = runtime();
    let bad = spec("probe", V2_PROBE, json!({ "init_work": "many" }));
    let Err(errors) = rt.prepare(vec![bad], None).await else {
        panic!("a config the plugin refuses must refuse the version");
    };
    assert!(
        matches!(&errors[..], [PluginError::Config { plugin, reason }] if plugin == "probe" && reason.contains("invalid type: string \"many\"")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn a_0_1_component_is_configured_per_instance_under_the_snapshot_default() {
    let rt = runtime();
    let mut s = spec("legacy", LEGACY_V01, serde_json::Value::Null);
    s.isolation = Isolation::Exchange;
    let chain = chain(&rt, vec![s]).await;
    for _ in 0..2 {
        let (_, _, parts) = run(&chain, "/").await;
        assert_eq!(header(&parts.headers, "x-legacy").as_deref(), Some("0.1"));
    }
}

fn instantiations(rt: &ravelin_runtime::Runtime, plugin: &str) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    rt.register_metrics(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    let prefix = format!("ravelin_plugin_instantiations_total{{plugin=\"{plugin}\"}} ");
    let line = text.lines().find(|l| l.starts_with(&prefix));
    line.map(|l| l[prefix.len()..].to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn prewarmed_instances_serve_the_first_concurrent_exchanges() {
    let rt = runtime();
    let mut s = spec("probe", V2_PROBE, json!({}));
    s.prewarm = 3;
    let chain = chain(&rt, vec![s]).await;
    assert_eq!(
        instantiations(&rt, "probe"),
        "3",
        "made when the version was built"
    );
    // Three exchanges open at once (the probe implements on-log, so each
    // keeps its instance until it ends) take the three warm instances.
    let open = [
        run(&chain, "/").await,
        run(&chain, "/").await,
        run(&chain, "/").await,
    ];
    assert_eq!(
        instantiations(&rt, "probe"),
        "3",
        "no instance made on the request path"
    );
    let fourth = run(&chain, "/").await;
    assert_eq!(instantiations(&rt, "probe"), "4");
    drop((open, fourth));
}

#[tokio::test]
async fn prewarm_is_refused_past_the_idle_pool_and_under_exchange_isolation() {
    let rt = runtime();
    let mut too_many = spec("probe", V2_PROBE, json!({}));
    too_many.prewarm = 10_000;
    let mut fresh = spec("fresh", V2_PROBE, json!({}));
    fresh.prewarm = 2;
    fresh.isolation = Isolation::Exchange;
    let Err(errors) = rt.prepare(vec![too_many, fresh], None).await else {
        panic!("both specs are invalid");
    };
    let text = format!("{errors:?}");
    assert!(text.contains("prewarm 10000 is over"), "{text}");
    assert!(text.contains("never reuses one"), "{text}");
}
