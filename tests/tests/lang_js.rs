//! The JavaScript A/B router (`plugins/ab-router-js/`), built from source
//! with componentize-js by its `build.sh`, against the behaviour every
//! language's example must show (`ravelin_tests::lang_behaviour`), then
//! swapped under load.

use std::time::Duration;

use ravelin_tests::lang_behaviour::{
    Subject, assert_ab_router, assert_bad_configs_refused, assert_hot_swap_under_load,
};
use ravelin_tests::lang_build::build_example;

/// One test, so the 12 MiB example is built once for both checks.
#[tokio::test(flavor = "multi_thread")]
async fn js_ab_router_shows_the_shared_behaviour_and_hot_swaps_under_load() {
    let built = build_example("ab-router-js", "ab_router_js.wasm");
    let size = std::fs::metadata(&built.component).map_or(0, |m| m.len());
    eprintln!("js: built {size} bytes in {:?}", built.took);
    let subject = Subject {
        lang: "js",
        component: &built.component,
        settings: "",
        // Each version of the 12 MiB engine is compiled and snapshotted
        // before the proxy is ready: tens of seconds on a busy 2-core box.
        ready_within: Duration::from_secs(240),
    };
    assert_ab_router(&subject).await;
    assert_bad_configs_refused(&subject);
    let report = assert_hot_swap_under_load(&subject, Duration::from_secs(240)).await;
    eprintln!("js hot swap under load: {report:?}");
}
