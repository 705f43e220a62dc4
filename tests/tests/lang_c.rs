//! The C A/B router (`plugins/ab-router-c/`), built from source with
//! wit-bindgen, clang and wasm-tools by its `build.sh`, against the
//! behaviour every language's example must show
//! (`ravelin_tests::lang_behaviour`), then swapped under load; and the
//! project `ravelin plugin new --lang c` writes, built and run.

use std::time::Duration;

use ravelin_tests::lang_behaviour::{
    Subject, assert_ab_router, assert_bad_configs_refused, assert_hot_swap_under_load,
};
use ravelin_tests::lang_build::{build_example, build_scaffold, run_scaffold};
use ravelin_tests::plugin_cli::{plugin_command, said};

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
    assert_bad_configs_refused(&subject);
    let report = assert_hot_swap_under_load(&subject, Duration::from_secs(60)).await;
    eprintln!("c hot swap under load: {report:?}");
}

/// `ravelin plugin new --lang c` writes a project that builds on its own
/// and runs in `ravelin plugin test`.
#[test]
fn scaffolded_c_plugin_builds_and_runs_in_plugin_test() {
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().display().to_string();
    let created = plugin_command(&["new", "deny-c", "--lang", "c", "--dir", &dir], "", &[]);
    assert!(created.status.success(), "{}", said(&created));
    let project = parent.path().join("deny-c");
    build_scaffold(&project);
    let out = run_scaffold(&project.join("target/deny-c.wasm"));
    assert!(
        out.contains("x-plugin: deny-c"),
        "the header set upstream:\n{out}"
    );
}
