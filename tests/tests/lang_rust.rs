//! The Rust reference A/B router (`plugins/ab-router/`, built by
//! `ravelin-test-guests`) against the behaviour every language's example
//! must show (`ravelin_tests::lang_behaviour`): the baseline the Python,
//! JavaScript and C examples are held to.

use std::path::Path;
use std::time::Duration;

use ravelin_test_guests as guests;
use ravelin_tests::lang_behaviour::{
    Subject, assert_ab_router, assert_bad_configs_refused, assert_hot_swap_under_load,
};

#[tokio::test(flavor = "multi_thread")]
async fn rust_ab_router_shows_the_shared_behaviour() {
    let subject = Subject {
        lang: "rust",
        component: Path::new(guests::AB_ROUTER),
        settings: "",
        ready_within: Duration::from_secs(15),
    };
    assert_ab_router(&subject).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_ab_router_hot_swaps_under_load_without_a_failed_request() {
    let subject = Subject {
        lang: "rust",
        component: Path::new(guests::AB_ROUTER),
        settings: "",
        ready_within: Duration::from_secs(15),
    };
    let report = assert_hot_swap_under_load(&subject, Duration::from_secs(60)).await;
    eprintln!("rust hot swap under load: {report:?}");
}

#[test]
fn rust_ab_router_refuses_a_bad_config_naming_the_problem() {
    assert_bad_configs_refused(&Subject {
        lang: "rust",
        component: Path::new(guests::AB_ROUTER),
        settings: "",
        ready_within: Duration::from_secs(15),
    });
}
