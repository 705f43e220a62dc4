//! Isolation: fresh instances share nothing; pooled instances are recycled
//! after a fault and after `recycle_after` exchanges.

use crate::harness::*;
use ravelin_runtime::Isolation;
use ravelin_test_guests::FAULTS;
use serde_json::json;

fn counter(isolation: Isolation, recycle_after: u32) -> ravelin_runtime::PluginSpec {
    let mut s = spec("global", FAULTS, json!({ "mode": "by-path" }));
    s.isolation = isolation;
    s.recycle_after = recycle_after;
    s
}

async fn global(chain: &ravelin_runtime::Chain) -> String {
    responded(run(chain, "/global").await.1).1
}

#[tokio::test]
async fn exchange_isolation_leaks_no_module_state() {
    let rt = runtime();
    let chain = chain(&rt, vec![counter(Isolation::Exchange, 10_000)]).await;
    for _ in 0..3 {
        assert_eq!(global(&chain).await, "1");
    }
}

#[tokio::test]
async fn a_pooled_instance_is_reused_until_it_traps() {
    let rt = runtime();
    let chain = chain(&rt, vec![counter(Isolation::Pooled, 10_000)]).await;
    assert_eq!(global(&chain).await, "1");
    assert_eq!(global(&chain).await, "2");
    let (status, _) = failed(run(&chain, "/trap").await.1);
    assert_eq!(status, 502);
    assert_eq!(
        global(&chain).await,
        "1",
        "the instance that trapped was discarded"
    );
    assert_eq!(global(&chain).await, "2");
    let (status, _) = failed(run(&chain, "/loop").await.1);
    assert_eq!(status, 503);
    assert_eq!(
        global(&chain).await,
        "1",
        "the instance past its deadline was discarded"
    );
}

#[tokio::test]
async fn the_instance_that_trapped_is_discarded() {
    let rt = runtime();
    let chain = chain(&rt, vec![counter(Isolation::Pooled, 10_000)]).await;
    // An instance goes back to its pool as soon as its plugin answers: two
    // exchanges in a row share it, even while both are still open.
    let (ex1, d1, _) = run(&chain, "/global").await;
    let (ex2, d2, _) = run(&chain, "/global").await;
    assert_eq!(
        (responded(d1).1, responded(d2).1),
        ("1".to_string(), "2".to_string())
    );
    drop((ex1, ex2));
    assert_eq!(global(&chain).await, "3");
    let (status, _) = failed(run(&chain, "/trap").await.1);
    assert_eq!(status, 502);
    assert_eq!(
        global(&chain).await,
        "1",
        "the instance that trapped was discarded; the next one is fresh"
    );
    assert_eq!(global(&chain).await, "2");
}

#[tokio::test]
async fn a_pooled_instance_is_recycled_after_n_exchanges() {
    let rt = runtime();
    let chain = chain(&rt, vec![counter(Isolation::Pooled, 3)]).await;
    assert_eq!(global(&chain).await, "1");
    assert_eq!(global(&chain).await, "2");
    assert_eq!(global(&chain).await, "3");
    assert_eq!(global(&chain).await, "1", "recycled after 3 exchanges");
}
