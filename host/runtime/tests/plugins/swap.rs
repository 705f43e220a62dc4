//! Hot swap: concurrent exchanges across swaps each see one version; broken
//! versions are refused; the watcher reloads; `apply` reuses what did not
//! change.

use crate::harness::*;
use ravelin_runtime::{Decision, PluginError, ReloadOutcome, Runtime};
use ravelin_test_guests::{NOOP, SWAP_A, SWAP_B};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ravelin-swap-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Replaces `to` with a copy of `from` atomically (write, then rename).
fn install(from: &str, to: &Path) {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).expect("copy");
    std::fs::rename(&tmp, to).expect("rename");
}

/// One exchange; returns the version its request and response hooks saw,
/// or an error if they disagree or anything failed.
async fn one_exchange(chain: &ravelin_runtime::Chain) -> Result<String, String> {
    let (mut ex, decision, parts) = run(chain, "/").await;
    if !matches!(decision, Decision::Continue) {
        return Err(format!("{decision:?}"));
    }
    let on_request = header(&parts.headers, "x-version").ok_or("no version on the request")?;
    let mut resp = response();
    if !matches!(ex.on_response(&mut resp).await, Decision::Continue) {
        return Err("response failed".into());
    }
    let on_response = header(&resp.headers, "x-version").ok_or("no version on the response")?;
    if on_request != on_response {
        return Err(format!(
            "request saw {on_request}, response saw {on_response}"
        ));
    }
    Ok(on_request)
}

/// Loads the swap guest from `path`, with a deadline generous enough for a
/// machine busy compiling (this file tests swaps, not deadlines).
async fn load_swap(rt: &Runtime, path: &Path) -> ravelin_runtime::Chain {
    let mut s = spec("swap", path.to_str().expect("path"), json!(null));
    s.deadline = Duration::from_secs(2);
    chain(rt, vec![s]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_swaps_under_load_fail_nothing_and_each_exchange_sees_one_version() {
    let path = temp_dir("load").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let chain = load_swap(&rt, &path).await;
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (chain, stop) = (chain.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut a, mut b, mut errors) = (0u32, 0u32, Vec::new());
                for _ in 0..200_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match one_exchange(&chain).await.as_deref() {
                        Ok("a") => a += 1,
                        Ok("b") => b += 1,
                        Ok(other) => errors.push(format!("unknown version {other}")),
                        Err(e) => errors.push(e.to_string()),
                    }
                    tokio::task::yield_now().await;
                }
                (a, b, errors)
            })
        })
        .collect();
    let handle = rt.plugin("swap").expect("plugin");
    for i in 0..20 {
        install(if i % 2 == 0 { SWAP_B } else { SWAP_A }, &path);
        assert!(
            matches!(handle.reload().await, Ok(ReloadOutcome::Swapped(_))),
            "swap {i}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (mut a, mut b) = (0, 0);
    for worker in workers {
        let (wa, wb, errors) = worker.await.expect("worker");
        assert!(errors.is_empty(), "{errors:?}");
        (a, b) = (a + wa, b + wb);
    }
    assert!(a > 0 && b > 0, "both versions served: a={a} b={b}");
    assert_eq!(handle.stats().swaps, 20);
}

#[tokio::test]
async fn a_broken_version_is_refused_and_the_old_one_serves_on() {
    let path = temp_dir("broken").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let chain = load_swap(&rt, &path).await;
    let handle = rt.plugin("swap").expect("plugin");
    let digest = handle.digest();
    std::fs::write(&path, b"\0asm garbage").expect("write");
    let err = handle.reload().await.expect_err("refused");
    assert!(matches!(err, PluginError::Load { .. }), "{err}");
    assert_eq!(handle.digest(), digest);
    assert_eq!(one_exchange(&chain).await.as_deref(), Ok("a"));
    install(SWAP_A, &path);
    assert_eq!(handle.reload().await, Ok(ReloadOutcome::Unchanged));
    install(SWAP_B, &path);
    let results = rt.reload_all().await;
    assert!(
        matches!(results.as_slice(), [(name, Ok(ReloadOutcome::Swapped(_)))] if name == "swap"),
        "{results:?}"
    );
    assert_eq!(one_exchange(&chain).await.as_deref(), Ok("b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_swaps_in_a_changed_file() {
    let path = temp_dir("watch").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let chain = load_swap(&rt, &path).await;
    rt.watch().expect("watch");
    install(SWAP_B, &path);
    for _ in 0..100 {
        if one_exchange(&chain).await.as_deref() == Ok("b") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the watcher did not swap in version b within 5 s");
}

#[tokio::test]
async fn apply_reuses_unchanged_plugins_and_is_all_or_nothing() {
    let path = temp_dir("apply").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let swap = spec("swap", path.to_str().expect("path"), json!(null));
    let noop = spec("noop", NOOP, json!(null));
    let report = rt
        .apply(vec![swap.clone(), noop.clone()])
        .await
        .expect("apply");
    assert_eq!((report.added.len(), report.unchanged.len()), (2, 0));
    let report = rt
        .apply(vec![swap.clone(), noop.clone()])
        .await
        .expect("apply");
    assert_eq!(report.unchanged.len(), 2, "{report:?}");
    let mut changed = noop.clone();
    changed.config = json!({ "x": 1 });
    let report = rt.apply(vec![swap.clone(), changed]).await.expect("apply");
    assert_eq!(
        (report.updated.clone(), report.unchanged.clone()),
        (vec!["noop".to_string()], vec!["swap".to_string()])
    );
    let broken = spec("broken", "/nonexistent.wasm", json!(null));
    let errors = rt
        .apply(vec![swap.clone(), broken])
        .await
        .expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert!(
        rt.plugin("noop").is_some(),
        "a refused apply changes nothing"
    );
    let report = rt.apply(vec![swap]).await.expect("apply");
    assert_eq!(report.removed, ["noop"]);
    assert!(rt.plugin("noop").is_none());
    assert!(rt.chain(&["noop"]).is_err());
}
