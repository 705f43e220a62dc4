//! No leak across generations: 200 swaps and 200 config changes leave the
//! process's resident memory within 10% of where it started. Its own test
//! binary, so no other test shares the process.

use ravelin_runtime::{Decision, NoOutbound, PluginSet, PluginSpec, Runtime, RuntimeConfig};
use ravelin_test_guests::{SWAP_A, SWAP_B};
use std::sync::Arc;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("rss");
    pages * 4096
}

async fn exchange(set: &PluginSet) {
    let chain = set.chain(&["swap"]).expect("chain");
    let mut ex = chain.exchange(Default::default());
    let (mut parts, ()) = http::Request::new(()).into_parts();
    assert!(matches!(
        ex.on_request(&mut parts).await,
        Decision::Continue
    ));
}

/// `count` generations, each a new component file and then a new config,
/// every one built from the set before it as the host's reload does.
async fn generations(
    rt: &Runtime,
    path: &std::path::Path,
    mut set: PluginSet,
    count: usize,
) -> PluginSet {
    for i in 0..count {
        let tmp = path.with_extension("tmp");
        std::fs::copy(if i % 2 == 0 { SWAP_B } else { SWAP_A }, &tmp).expect("copy");
        std::fs::rename(&tmp, path).expect("rename");
        let mut spec = PluginSpec::new("swap", path);
        let next = rt
            .prepare(vec![spec.clone()], Some(&set))
            .await
            .expect("swap");
        assert_eq!(next.changes(Some(&set)).updated, ["swap"]);
        exchange(&next).await;
        spec.config = serde_json::json!({ "generation": i });
        set = rt
            .prepare(vec![spec], Some(&next))
            .await
            .expect("reconfigure");
        exchange(&set).await;
    }
    set
}

#[tokio::test]
async fn two_hundred_swaps_and_reloads_do_not_grow_memory() {
    let dir = std::env::temp_dir().join(format!("ravelin-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("swap.wasm");
    std::fs::copy(SWAP_A, &path).expect("copy");
    let rt = Runtime::new(
        RuntimeConfig {
            max_instances: 32,
            ..RuntimeConfig::default()
        },
        Arc::new(NoOutbound),
        None,
    )
    .expect("runtime");
    let set = rt.load(PluginSpec::new("swap", &path)).await.expect("load");
    // Warm-up: the blocking pool's threads (compilation runs there) and their
    // allocator arenas settle within the first tens of generations; after
    // that RSS is flat (measured: ±0.3% over 400 more).
    let set = generations(&rt, &path, set, 60).await;
    let before = rss_bytes();
    generations(&rt, &path, set, 200).await;
    let after = rss_bytes();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        after <= before + before / 10,
        "RSS grew from {before} to {after} bytes"
    );
}
