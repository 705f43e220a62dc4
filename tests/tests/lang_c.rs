//! The C A/B router (`plugins/ab-router-c/`), built from source with
//! wit-bindgen, clang and wasm-tools by its `build.sh`, against the
//! behaviour every language's example must show
//! (`ravelin_tests::lang_behaviour`), then swapped under load.

use std::time::Duration;

use ravelin_tests::lang_behaviour::{Subject, assert_ab_router, assert_hot_swap_under_load};
use ravelin_tests::lang_build::build_example;

/// One test, so the example is built once for both checks.
#[tokio::test(flavor = "multi_thread")]
async fn c_ab_router_shows_the_shared_behaviour_and_hot_swaps_under_load() {
    let built = build_example("ab-router-c", "ab_router_c.wasm");
    let size = std::fs::metadata(&built.component).map_or(0, |m| m.len());
    eprintln!("c: built {size} bytes in {:?}", built.took);
    let subject = Subject {
        lang: "c",
        component: &built.component,
        settings: "",
        ready_within: Duration::from_secs(15),
    };
    assert_ab_router(&subject).await;
    let report = assert_hot_swap_under_load(&subject, Duration::from_secs(60)).await;
    eprintln!("c hot swap under load: {report:?}");
}
