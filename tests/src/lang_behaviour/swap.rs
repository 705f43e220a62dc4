//! A hot swap under load: a new version of a language's A/B router is
//! swapped in while clients keep sending; no request may fail.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Subject, config, echo_origin};
use crate::client;
use crate::origin::{Origin, respond};
use crate::proxy::Proxy;

/// What [`assert_hot_swap_under_load`] saw.
#[derive(Debug)]
pub struct SwapReport {
    /// Requests answered 200 by either version.
    pub served: u64,
    /// Requests that failed (any status but 200, or no answer).
    pub failed: u64,
    /// From the reload request to the first answer from the new version.
    pub first_new_answer: Duration,
    /// How long the reload request took (building the new version).
    pub reload: Duration,
}

/// How many clients keep sending during the swap.
const SWAP_CLIENTS: usize = 4;

/// Starts the proxy with `subject` as version 1 (`lang` = `<lang>-v1`),
/// keeps `SWAP_CLIENTS` clients sending while the config changes to
/// version 2 and the proxy reloads, and stops once version 2 has answered
/// 20 requests or `limit` passed. Asserts no request failed and version 2
/// took over; returns the counts and timings.
pub async fn assert_hot_swap_under_load(subject: &Subject<'_>, limit: Duration) -> SwapReport {
    let app = echo_origin().await;
    let flags = Origin::serve("flags", |_| async { respond(200, "on") }).await;
    let (v1, v2) = (
        format!("{}-v1", subject.lang),
        format!("{}-v2", subject.lang),
    );
    let proxy = Proxy::start_within(&config(subject, &v1, &app, &flags), subject.ready_within);
    let url = proxy.url("/load");
    let (stop, served, failed, new_seen) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let first_new = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..SWAP_CLIENTS {
        let (url, v2) = (url.clone(), v2.clone());
        let (stop, served, failed) = (stop.clone(), served.clone(), failed.clone());
        let (new_seen, first_new) = (new_seen.clone(), first_new.clone());
        clients.spawn(async move {
            let client = client::client(None, false);
            while !stop.load(Ordering::Relaxed) {
                match client::get(&client, &url).await {
                    Ok(answer) if answer.status == 200 => {
                        served.fetch_add(1, Ordering::Relaxed);
                        if answer.header("x-ab-lang") == Some(v2.as_str()) {
                            new_seen.fetch_add(1, Ordering::Relaxed);
                            let mut first = first_new.lock().expect("lock");
                            first.get_or_insert_with(Instant::now);
                        }
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let deadline = Instant::now() + limit;
    while served.load(Ordering::Relaxed) < 50 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.write_config(&config(subject, &v2, &app, &flags));
    let reload_started = Instant::now();
    let admin = proxy.admin;
    let (status, why) = tokio::task::spawn_blocking(move || {
        crate::proxy::admin_post(admin, "/reload", limit).unwrap_or((0, String::new()))
    })
    .await
    .expect("reload task");
    let reload = reload_started.elapsed();
    assert_eq!(status, 200, "reload refused: {why}\n{}", proxy.log());
    while new_seen.load(Ordering::Relaxed) < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    while clients.join_next().await.is_some() {}
    let first_new = *first_new.lock().expect("lock");
    let report = SwapReport {
        served: served.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        first_new_answer: first_new.map_or(limit, |at| at.duration_since(reload_started)),
        reload,
    };
    assert_eq!(
        report.failed, 0,
        "failed requests during the swap: {report:?}"
    );
    assert!(
        new_seen.load(Ordering::Relaxed) >= 20,
        "version 2 did not take over within {limit:?}: {report:?}\n{}",
        proxy.log()
    );
    report
}
