//! The JavaScript A/B router (`plugins/ab-router-js/`), built from source
//! with componentize-js by its `build.sh`, against the behaviour every
//! language's example must show (`ravelin_tests::lang_behaviour`).

use std::time::Duration;

use ravelin_tests::lang_behaviour::{Subject, assert_ab_router};
use ravelin_tests::lang_build::build_example;

#[tokio::test(flavor = "multi_thread")]
async fn js_ab_router_shows_the_shared_behaviour() {
    let built = build_example("ab-router-js", "ab_router_js.wasm");
    let size = std::fs::metadata(&built.component).map_or(0, |m| m.len());
    eprintln!("js: built {size} bytes in {:?}", built.took);
    let subject = Subject {
        lang: "js",
        component: &built.component,
        settings: "",
        // The debug build compiles the 12 MiB engine and snapshots it per
        // version before the proxy is ready.
        ready_within: Duration::from_secs(180),
    };
    assert_ab_router(&subject).await;
}
