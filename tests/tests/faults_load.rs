//! Faults under load: bounded request loops (at most 300 requests or 20 s)
//! through the real proxy while real origins are killed and restarted,
//! stall, reset mid-body, answer garbage, and while the config is reloaded
//! 20 times. Each test prints sent / succeeded / failed (by reason); zero
//! failures is asserted only where the design promises it: a dead, stalling
//! or broken endpoint behind a healthy one is hidden by retries of
//! idempotent requests, and a reload never tears a request. Where nothing
//! can hide the fault (a single broken origin), the test asserts the safe
//! outcome instead: a 5xx or a visibly broken body, never a truncated body
//! passed off as complete, and recovery once the origin is back. Plugins
//! too: 20 hot swaps under load lose nothing, and a plugin that starts
//! trapping fails only its own route, with clean 502s.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use ravelin_test_guests as guests;
use ravelin_tests::client::{HttpsClient, client};
use ravelin_tests::faulty::{Fault, FaultyOrigin, Tally, load};
use ravelin_tests::origin::respond;
use ravelin_tests::{Origin, Proxy};

const MAX_REQUESTS: usize = 300;
const MAX_TIME: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn config(endpoints: &[std::net::SocketAddr], upstream_extra: &str, timeouts: &str) -> String {
    let endpoints: Vec<String> = endpoints
        .iter()
        .map(|a| format!("{{ address = \"{a}\" }}"))
        .collect();
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[timeouts]
{timeouts}

[upstreams.app]
endpoints = [{}]
{upstream_extra}

[[routes]]
path_prefix = "/"
upstream = "app"
"#,
        endpoints.join(", ")
    )
}

/// One GET through the proxy: Ok only for a 200 with the whole body.
async fn get_once(http: &HttpsClient, url: &str) -> Result<(), String> {
    get_once_on(http, url, None).await
}

/// [`get_once`] with a `Host` header, for routes chosen by host.
async fn get_once_on(http: &HttpsClient, url: &str, host: Option<&str>) -> Result<(), String> {
    let mut request = http::Request::get(url);
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let request = request.body(Full::<Bytes>::default()).expect("request");
    let response = tokio::time::timeout(Duration::from_secs(30), http.request(request))
        .await
        .map_err(|_| "client timeout".to_string())?
        .map_err(|e| format!("client error: {}", short(&e)))?;
    let status = response.status().as_u16();
    let declared: Option<usize> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body broken: {}", short(&e)))?
        .to_bytes();
    if let Some(declared) = declared
        && declared != body.len()
    {
        return Err(format!(
            "TRUNCATED: {} of {declared} bytes passed off as complete",
            body.len()
        ));
    }
    if status == 200 {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

fn short(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text.chars().take(60).collect()
}

async fn wait_until(done: &AtomicUsize, n: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while done.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Two endpoints; one is killed a third of the way in (open connections
/// dropped at once) and restarted on the same address two thirds in.
/// Idempotent requests are retried on the other endpoint: zero failures.
#[test]
fn killed_endpoint_behind_a_healthy_one_loses_nothing() {
    runtime().block_on(async {
        let a = Origin::start("a").await;
        let b = Origin::start("b").await;
        let b_addr = b.addr;
        let proxy = Proxy::start(&config(&[a.addr, b.addr], "", ""));
        let done = Arc::new(AtomicUsize::new(0));
        let run = tokio::spawn(drive(proxy.url(""), done.clone()));
        wait_until(&done, MAX_REQUESTS / 3, MAX_TIME).await;
        b.kill();
        drop(b);
        wait_until(&done, 2 * MAX_REQUESTS / 3, MAX_TIME).await;
        let b = Origin::start_at("b", b_addr).await;
        let tally = run.await.expect("load");
        println!(
            "{}",
            tally.line("endpoint killed and restarted behind a healthy one")
        );
        println!(
            "origin a served {}, restarted b served {}",
            a.count(),
            b.count()
        );
        assert_eq!(tally.failures(), 0, "{}", tally.line("killed endpoint"));
    });
}

/// The load loop every test uses: `MAX_REQUESTS` GETs or `MAX_TIME`, 4 at
/// a time, against `base`; `done` counts finished requests.
async fn drive(base: String, done: Arc<AtomicUsize>) -> Tally {
    let http = client(None, false);
    let url = format!("{base}/load");
    load(MAX_REQUESTS, MAX_TIME, 4, move |_| {
        let (http, url, done) = (http.clone(), url.clone(), done.clone());
        async move {
            let outcome = get_once(&http, &url).await;
            done.fetch_add(1, Ordering::Relaxed);
            outcome
        }
    })
    .await
}

/// The only endpoint is killed and restarted: requests fail while it is
/// down (nothing can hide that), with a 502/503 and never a hang; once it is
/// back, requests succeed again.
#[test]
fn single_origin_killed_and_restarted_recovers() {
    runtime().block_on(async {
        let a = Origin::start("a").await;
        let a_addr = a.addr;
        let proxy = Proxy::start(&config(
            &[a.addr],
            "passive = { consecutive_failures = 5, cooldown = \"1s\" }",
            "",
        ));
        let done = Arc::new(AtomicUsize::new(0));
        let run = tokio::spawn(drive(proxy.url(""), done.clone()));
        wait_until(&done, MAX_REQUESTS / 3, MAX_TIME).await;
        a.kill();
        drop(a);
        wait_until(&done, MAX_REQUESTS / 2, MAX_TIME).await;
        let a = Origin::start_at("a", a_addr).await;
        let tally = run.await.expect("load");
        println!("{}", tally.line("only origin killed and restarted"));
        for line in proxy.log().lines().filter(|l| {
            l.contains("panic") || l.contains("ERROR") || l.contains("connection ended")
        }) {
            println!("proxy log: {line}");
        }
        for why in tally.failed.keys() {
            assert!(
                why.starts_with("status 50"),
                "a failure other than a clean 5xx: {why}"
            );
        }
        // Recovery: once the cooldown has passed, requests succeed again.
        let http = client(None, false);
        let url = proxy.url("/after");
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut after = get_once(&http, &url).await;
        while after.is_err() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            after = get_once(&http, &url).await;
        }
        println!(
            "after restart: {after:?}; restarted origin served {}",
            a.count()
        );
        assert_eq!(
            after,
            Ok(()),
            "the proxy did not recover after the origin came back"
        );
        let recovery = load(50, MAX_TIME, 4, move |_| {
            let (http, url) = (http.clone(), url.clone());
            async move { get_once(&http, &url).await }
        })
        .await;
        println!("{}", recovery.line("after recovery"));
        // Under parallel load a pooled client connection is now and then
        // closed by the proxy without a response (docs/security.md open
        // finding 11, cause not found): tolerated here, and reported.
        let closed = recovery
            .failed
            .iter()
            .filter(|(why, _)| why.contains("connection closed"))
            .map(|(_, n)| n)
            .sum::<usize>();
        assert_eq!(
            recovery.failures(),
            closed,
            "{}",
            recovery.line("after recovery")
        );
        assert!(
            recovery.succeeded >= 45,
            "{}",
            recovery.line("after recovery")
        );
    });
}

/// One of two endpoints stalls past `upstream_response`: each stalled
/// attempt times out and the idempotent request is retried on the other
/// endpoint (and the staller is ejected after 3 failures): zero failures.
#[test]
fn stalling_endpoint_behind_a_healthy_one_loses_nothing() {
    runtime().block_on(async {
        let a = Origin::start("a").await;
        let stall = Origin::serve("stall", |_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            respond(200, "late")
        })
        .await;
        let proxy = Proxy::start(&config(
            &[a.addr, stall.addr],
            "passive = { consecutive_failures = 3, cooldown = \"5s\" }",
            "upstream_response = \"1s\"",
        ));
        let tally = drive(proxy.url(""), Arc::new(AtomicUsize::new(0))).await;
        println!("{}", tally.line("stalling endpoint behind a healthy one"));
        println!("stalling origin received {} attempts", stall.count());
        assert_eq!(tally.failures(), 0, "{}", tally.line("stalling endpoint"));
    });
}

/// A single stalling origin: every request ends in 504 at
/// `upstream_response`, never hangs.
#[test]
fn single_stalling_origin_times_out_cleanly() {
    runtime().block_on(async {
        let stall = Origin::serve("stall", |_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            respond(200, "late")
        })
        .await;
        let proxy = Proxy::start(&config(
            &[stall.addr],
            "retries = { attempts = 0 }",
            "upstream_response = \"1s\"",
        ));
        let http = client(None, false);
        let url = proxy.url("/stall");
        let tally = load(12, MAX_TIME, 4, move |_| {
            let (http, url) = (http.clone(), url.clone());
            async move { get_once(&http, &url).await }
        })
        .await;
        println!("{}", tally.line("single stalling origin"));
        for why in tally.failed.keys() {
            assert!(
                why == "status 504" || why == "status 503",
                "not a clean timeout: {why}"
            );
        }
    });
}

/// Origins that reset mid-body or answer garbage, behind a healthy one.
/// A reset before any response byte and garbage are retried (GET); a reset
/// after the headers went out cannot be retried: the client must see a
/// broken body, never a short body passed off as complete.
#[test]
fn resetting_and_garbage_origins() {
    runtime().block_on(async {
        for (fault, alone_ok) in [
            (Fault::Garbage, false),
            (Fault::ResetBeforeAnswer, false),
            (Fault::ResetMidBody, false),
        ] {
            // Alone: nothing can hide the fault; outcomes must be clean.
            let bad = FaultyOrigin::start(fault).await;
            let proxy = Proxy::start(&config(&[bad.addr], "", ""));
            let http = client(None, false);
            let url = proxy.url("/fault");
            let tally = load(100, MAX_TIME, 4, move |_| {
                let (http, url) = (http.clone(), url.clone());
                async move { get_once(&http, &url).await }
            })
            .await;
            println!("{}", tally.line(&format!("{fault:?} origin alone")));
            if std::env::var_os("FAULTS_SHOW_LOG").is_some() {
                for line in proxy
                    .log()
                    .lines()
                    .filter(|l| {
                        l.contains("connection ended") || l.contains("panic") || l.contains("WARN")
                    })
                    .take(8)
                {
                    println!(
                        "  proxy log: {}",
                        line.chars().take(240).collect::<String>()
                    );
                }
            }
            assert!(
                tally.failed.keys().all(|why| !why.starts_with("TRUNCATED")),
                "{}",
                tally.line("truncation")
            );
            assert!(
                alone_ok || tally.succeeded == 0,
                "a broken origin produced a success"
            );
            drop(proxy);

            // Behind a healthy endpoint.
            let good = Origin::start("good").await;
            let proxy = Proxy::start(&config(
                &[good.addr, bad.addr],
                "passive = { consecutive_failures = 3, cooldown = \"5s\" }",
                "",
            ));
            let tally = drive(proxy.url(""), Arc::new(AtomicUsize::new(0))).await;
            println!(
                "{}",
                tally.line(&format!("{fault:?} origin behind a healthy one"))
            );
            println!(
                "faulty origin accepted {} connections",
                bad.accepted.load(Ordering::Relaxed)
            );
            assert!(
                tally.failed.keys().all(|why| !why.starts_with("TRUNCATED")),
                "{}",
                tally.line("truncation")
            );
            if !matches!(fault, Fault::ResetMidBody) {
                assert_eq!(
                    tally.failures(),
                    0,
                    "{}",
                    tally.line(&format!("{fault:?} behind a healthy one"))
                );
            }
        }
    });
}

/// 20 config reloads (a route and the Via pseudonym change each time) while
/// requests run: a reload never tears a request, so zero failures.
#[test]
fn twenty_reloads_under_load_lose_nothing() {
    runtime().block_on(async {
        let a = Origin::start("a").await;
        let text = |i: usize| {
            format!(
                r#"
[server]
via = "ravelin-{i}"

[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
name = "extra-{i}"
path = "/extra-{i}"
upstream = "app"

[[routes]]
path_prefix = "/"
upstream = "app"
"#,
                a.addr
            )
        };
        let proxy = Proxy::start(&text(0));
        let done = Arc::new(AtomicUsize::new(0));
        let run = tokio::spawn(drive(proxy.url(""), done.clone()));
        let reloads_before = proxy.log().matches("configuration reloaded").count();
        for i in 1..=20 {
            wait_until(&done, i * MAX_REQUESTS / 22, MAX_TIME).await;
            proxy.write_config(&text(i));
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let tally = run.await.expect("load");
        let reloads = proxy.log().matches("configuration reloaded").count() - reloads_before;
        println!("{}", tally.line("20 config reloads under load"));
        println!("config writes 20, reloads logged {reloads}");
        assert_eq!(tally.failures(), 0, "{}", tally.line("reloads"));
        assert!(reloads >= 1, "no reload was applied");
        // The last config is the one in force.
        let http = client(None, false);
        let answer = ravelin_tests::client::get(&http, &proxy.url("/extra-20"))
            .await
            .expect("after reloads");
        assert_eq!(
            answer.header("via"),
            Some("1.1 ravelin-20"),
            "the last reload is not in force"
        );
    });
}

/// Swaps of a plugin under load, as the design promises them: a request
/// runs on one version from its request hook to its response hook, and a
/// swap loses no request.
const SWAPS: usize = 20;

/// An origin that reports the request's `x-version` back as
/// `x-seen-version`, after 5 ms, so requests overlap the swaps.
async fn version_echo() -> Origin {
    Origin::serve("app", |req| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let mut response = respond(200, "app");
        if let Some(v) = req.headers.get("x-version") {
            response.headers_mut().insert("x-seen-version", v.clone());
        }
        response
    })
    .await
}

/// Swaps applied so far, from the admin listener's `/plugins`.
fn swaps(proxy: &Proxy) -> usize {
    let (_, listing) = proxy.admin("/plugins");
    let plugins: serde_json::Value = serde_json::from_str(&listing).unwrap_or_default();
    plugins[0]["swaps"].as_u64().unwrap_or(0) as usize
}

/// 20 hot swaps of a plugin (versions a and b in turn, by replacing its
/// file) under load, then a broken version: zero failures, and each answer
/// comes whole from one version (the `x-version` its request hook set is
/// the one its response hook set). Requests are spread over the swaps:
/// request i waits for swap i × 21 / 300, and swap n starts while the
/// requests before it are still running. The broken version is refused and
/// the running one serves on.
#[test]
fn plugin_hot_swaps_under_load_lose_nothing() {
    runtime().block_on(async {
        let origin = version_echo().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let live = dir.path().join("live.wasm");
        std::fs::copy(guests::SWAP_A, &live).expect("copy plugin");
        let text = config(&[origin.addr], "", "")
            + &format!("\n[plugins.swap]\nsource = \"{}\"\n", live.display());
        let text = text.replace("upstream = \"app\"\n", "upstream = \"app\"\nplugins = [\"swap\"]\n");
        let proxy = Proxy::start(&text);
        let (done, applied) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let versions = Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
        let http = client(None, false);
        let url = proxy.url("/swap");
        let run = {
            let (done, applied, versions) = (done.clone(), applied.clone(), versions.clone());
            tokio::spawn(load(MAX_REQUESTS, MAX_TIME, 4, move |i| {
                let (http, url) = (http.clone(), url.clone());
                let (done, applied, versions) = (done.clone(), applied.clone(), versions.clone());
                async move {
                    wait_until(&applied, i * (SWAPS + 1) / MAX_REQUESTS, MAX_TIME).await;
                    let outcome = ravelin_tests::client::get(&http, &url).await.and_then(|a| {
                        let (sent, seen) = (a.header("x-version"), a.header("x-seen-version"));
                        match (a.status, sent, seen) {
                            (200, Some(v), Some(w)) if v == w => {
                                versions.lock().expect("lock").insert(v.to_string());
                                Ok(())
                            }
                            (200, v, w) => Err(format!("versions mixed: {v:?} / {w:?}")),
                            (status, _, _) => Err(format!("status {status}")),
                        }
                    });
                    done.fetch_add(1, Ordering::Relaxed);
                    outcome
                }
            }))
        };
        let per_swap = MAX_REQUESTS / (SWAPS + 1);
        for n in 1..=SWAPS {
            wait_until(&done, n * per_swap - per_swap / 2, MAX_TIME).await;
            let next = if n % 2 == 1 { guests::SWAP_B } else { guests::SWAP_A };
            let staged = dir.path().join("staged.wasm");
            std::fs::copy(next, &staged).expect("stage plugin");
            std::fs::rename(&staged, &live).expect("swap plugin");
            let deadline = Instant::now() + Duration::from_secs(10);
            while swaps(&proxy) < n && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            applied.store(swaps(&proxy), Ordering::Relaxed);
        }
        // A broken version while the last requests run: refused.
        std::fs::write(dir.path().join("staged.wasm"), b"not a component").expect("stage");
        std::fs::rename(dir.path().join("staged.wasm"), &live).expect("swap broken");
        let refused = proxy.wait_for_log("plugin version refused", Duration::from_secs(10));
        let tally = run.await.expect("load");
        println!("{}", tally.line("20 plugin hot swaps under load"));
        let after = ravelin_tests::client::get(&client(None, false), &proxy.url("/after"))
            .await
            .map(|a| (a.status, a.header("x-version").map(str::to_string)));
        println!(
            "swaps applied {}, versions served {:?}, broken version refused {refused}, after it: {after:?}",
            swaps(&proxy),
            versions.lock().expect("lock")
        );
        assert_eq!(tally.failures(), 0, "{}", tally.line("plugin hot swaps"));
        assert_eq!(swaps(&proxy), SWAPS, "every swap applied, the broken one not");
        assert!(refused, "the broken version was not refused:\n{}", proxy.log());
        let versions = versions.lock().expect("lock").clone();
        assert!(versions.contains("a") && versions.contains("b"), "{versions:?}");
        assert_eq!(after, Ok((200, Some("a".to_string()))), "the running version serves on");
    });
}

/// A plugin that starts trapping under load: route `faulty.test` runs the
/// faults guest (fail closed), which passes the first third of the requests
/// and traps on every later one (`/trap`); route `other.test` runs the same
/// component under another name, alongside. Failures stay on the faulty
/// route and are clean 502s, counted as plugin faults; the other route
/// loses nothing.
#[test]
fn a_plugin_that_starts_trapping_fails_only_its_route() {
    runtime().block_on(async {
        let origin = Origin::start("app").await;
        let text = config(&[origin.addr], "", "")
            .replace("[[routes]]\npath_prefix = \"/\"\nupstream = \"app\"\n", "")
            + &format!(
                r#"
[plugins.faulty]
source = "{faults}"
config = {{ mode = "by-path" }}
deadline_ms = 100

[plugins.other]
source = "{faults}"
config = {{ mode = "by-path" }}
deadline_ms = 100

[[routes]]
hosts = ["faulty.test"]
upstream = "app"
plugins = ["faulty"]

[[routes]]
hosts = ["other.test"]
upstream = "app"
plugins = ["other"]
"#,
                faults = guests::FAULTS
            );
        let proxy = Proxy::start(&text);
        let http = client(None, false);
        let on = |host: &'static str, trap_from: usize| {
            let (http, base) = (http.clone(), proxy.url(""));
            load(MAX_REQUESTS, MAX_TIME, 4, move |i| {
                let http = http.clone();
                let path = if i >= trap_from { "/trap" } else { "/pass" };
                let url = format!("{base}{path}");
                async move { get_once_on(&http, &url, Some(host)).await }
            })
        };
        let (faulty, other) = tokio::join!(
            on("faulty.test", MAX_REQUESTS / 3),
            on("other.test", usize::MAX)
        );
        println!(
            "{}",
            faulty.line("a plugin that starts trapping: its route")
        );
        println!(
            "{}",
            other.line("a plugin that starts trapping: another route")
        );
        let metrics = proxy.admin("/metrics").1;
        let faults = |plugin: &str| -> f64 {
            let label = format!("plugin=\"{plugin}\"");
            metrics
                .lines()
                .filter(|l| l.contains("plugin_faults") && l.contains(&label))
                .inspect(|l| println!("{l}"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        let (faulty_faults, other_faults) = (faults("faulty"), faults("other"));
        assert_eq!(other.failures(), 0, "{}", other.line("other route"));
        assert_eq!(other_faults, 0.0, "the other plugin never faulted");
        assert_eq!(
            faulty_faults as usize,
            faulty.failures(),
            "every trap is counted as a plugin fault"
        );
        let passing = faulty.sent.min(MAX_REQUESTS / 3);
        assert_eq!(faulty.succeeded, passing, "{}", faulty.line("faulty route"));
        assert_eq!(
            faulty.failed.get("status 502").copied().unwrap_or(0),
            faulty.sent - passing,
            "every trap is a clean 502: {}",
            faulty.line("faulty route")
        );
    });
}

/// One keep-alive client connection, 100 sequential GETs, the only origin
/// answering garbage: every request gets its own 502 on the same
/// connection; the proxy never drops the client connection instead.
#[test]
fn keep_alive_client_connection_survives_upstream_errors() {
    runtime().block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let bad = FaultyOrigin::start(Fault::Garbage).await;
        let proxy = Proxy::start(&config(&[bad.addr], "", ""));
        let mut stream = tokio::net::TcpStream::connect(proxy.http)
            .await
            .expect("connect");
        let mut statuses = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        for i in 0..100 {
            let request = format!("GET /keep/{i} HTTP/1.1\r\nHost: a.test\r\n\r\n");
            if stream.write_all(request.as_bytes()).await.is_err() {
                break;
            }
            let mut got = Vec::new();
            let complete = loop {
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break Some(head.split(' ').nth(1).unwrap_or("?").to_string());
                    }
                }
                match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
                    _ => break None,
                }
            };
            match complete {
                Some(status) => statuses.push(status),
                None => {
                    statuses.push(format!("closed after {i} requests"));
                    break;
                }
            }
        }
        let ok = statuses.iter().filter(|s| *s == "502").count();
        println!(
            "keep-alive against a garbage origin: {ok} x 502 of 100; last {:?}",
            statuses.last()
        );
        assert_eq!(ok, 100, "statuses: {statuses:?}");
    });
}
