//! Hot swap: a new plugin set replaces the running one while exchanges run,
//! and each exchange sees one version; a broken version is refused and
//! changes nothing; `prepare` reuses what did not change.

use crate::harness::*;
use ravelin_runtime::{Chain, Decision, PluginError, PluginSet, PluginSpec, Runtime};
use ravelin_test_guests::{NOOP, SWAP_A, SWAP_B};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
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

/// The swap guest at `path`, with a deadline generous enough for a machine
/// busy compiling (this file tests swaps, not deadlines).
fn swap_spec(path: &Path) -> PluginSpec {
    let mut s = spec("swap", path.to_str().expect("path"), json!(null));
    s.deadline = Duration::from_secs(2);
    s
}

/// What the host does on a reload: a new set from the running one.
async fn reprepare(
    rt: &Runtime,
    path: &Path,
    running: &PluginSet,
) -> Result<PluginSet, PluginError> {
    rt.prepare(vec![swap_spec(path)], Some(running))
        .await
        .map_err(|mut errors| errors.remove(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_swaps_under_load_fail_nothing_and_each_exchange_sees_one_version() {
    let path = temp_dir("load").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let mut set = plugins(&rt, vec![swap_spec(&path)]).await;
    // The host's snapshot, reduced to the route's chain.
    let running = Arc::new(RwLock::new(set.chain(&["swap"]).expect("chain")));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (running, stop) = (running.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut a, mut b, mut errors) = (0u32, 0u32, Vec::new());
                for _ in 0..200_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let chain: Chain = running.read().expect("lock").clone();
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
    for i in 0..20 {
        install(if i % 2 == 0 { SWAP_B } else { SWAP_A }, &path);
        let next = reprepare(&rt, &path, &set).await.expect("new version");
        assert_eq!(next.changes(Some(&set)).updated, ["swap"], "swap {i}");
        *running.write().expect("lock") = next.chain(&["swap"]).expect("chain");
        next.announce(Some(&set));
        set = next;
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
    assert_eq!(stats(&set, "swap").swaps, 20);
}

#[tokio::test]
async fn a_broken_version_is_refused_and_changes_nothing() {
    let path = temp_dir("broken").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let set = plugins(&rt, vec![swap_spec(&path)]).await;
    let chain = set.chain(&["swap"]).expect("chain");
    std::fs::write(&path, b"\0asm garbage").expect("write");
    let err = reprepare(&rt, &path, &set).await.expect_err("refused");
    assert!(matches!(err, PluginError::Load { .. }), "{err}");
    assert_eq!(one_exchange(&chain).await.as_deref(), Ok("a"));
    install(SWAP_A, &path);
    let same = reprepare(&rt, &path, &set).await.expect("same");
    assert_eq!(same.changes(Some(&set)).unchanged, ["swap"]);
    install(SWAP_B, &path);
    let next = reprepare(&rt, &path, &set).await.expect("b");
    assert_eq!(
        one_exchange(&chain).await.as_deref(),
        Ok("a"),
        "the running chain keeps its version"
    );
    let chain = next.chain(&["swap"]).expect("chain");
    assert_eq!(one_exchange(&chain).await.as_deref(), Ok("b"));
}

/// An exchange that started on a version finishes on it, even when the set
/// that held it is gone.
#[tokio::test]
async fn an_exchange_in_flight_finishes_on_its_version() {
    let path = temp_dir("flight").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let set = plugins(&rt, vec![swap_spec(&path)]).await;
    let (mut ex, decision, parts) = run(&set.chain(&["swap"]).expect("chain"), "/").await;
    assert!(matches!(decision, Decision::Continue));
    assert_eq!(header(&parts.headers, "x-version").as_deref(), Some("a"));
    install(SWAP_B, &path);
    let next = reprepare(&rt, &path, &set).await.expect("b");
    drop(set);
    let mut resp = response();
    assert!(matches!(
        ex.on_response(&mut resp).await,
        Decision::Continue
    ));
    assert_eq!(header(&resp.headers, "x-version").as_deref(), Some("a"));
    let chain = next.chain(&["swap"]).expect("chain");
    assert_eq!(one_exchange(&chain).await.as_deref(), Ok("b"));
}

#[tokio::test]
async fn prepare_reuses_unchanged_plugins_and_is_all_or_nothing() {
    let path = temp_dir("apply").join("swap.wasm");
    install(SWAP_A, &path);
    let rt = runtime();
    let swap = spec("swap", path.to_str().expect("path"), json!(null));
    let noop = spec("noop", NOOP, json!(null));
    let first = plugins(&rt, vec![swap.clone(), noop.clone()]).await;
    let changes = first.changes(None);
    assert_eq!((changes.added.len(), changes.unchanged.len()), (2, 0));
    let second = rt
        .prepare(vec![swap.clone(), noop.clone()], Some(&first))
        .await
        .expect("prepare");
    assert_eq!(second.changes(Some(&first)).unchanged.len(), 2);
    let mut changed = noop.clone();
    changed.config = json!({ "x": 1 });
    let third = rt
        .prepare(vec![swap.clone(), changed], Some(&second))
        .await
        .expect("prepare");
    let changes = third.changes(Some(&second));
    assert_eq!(
        (changes.updated, changes.unchanged),
        (vec!["noop".to_string()], vec!["swap".to_string()])
    );
    let broken = spec("broken", "/nonexistent.wasm", json!(null));
    let errors = rt
        .prepare(vec![swap.clone(), broken], Some(&third))
        .await
        .expect_err("refused");
    assert_eq!(errors.len(), 1);
    let fourth = rt.prepare(vec![swap], Some(&third)).await.expect("prepare");
    assert_eq!(fourth.changes(Some(&third)).removed, ["noop"]);
    assert!(fourth.chain(&["noop"]).is_err());
    assert!(third.chain(&["noop"]).is_ok(), "the older set is untouched");
}
