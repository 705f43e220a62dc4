//! The proxy's life: `ravelin check` on every example and on bad files, hot
//! reload (file change, SIGHUP, admin) without losing a request, a bad
//! reload keeping the running config, graceful shutdown, the admin
//! endpoints and the access log.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ravelin_test_guests as guests;
use ravelin_tests::client::{self, get};
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::{Proxy, proxy};

fn config(origin: &Origin, route_extra: &str) -> String {
    format!(
        r#"
[server]
access_log = "json"

[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
upstream = "app"
{route_extra}
"#,
        origin.addr
    )
}

#[test]
fn every_example_config_passes_check() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let dir = tempfile::tempdir().unwrap();
    // The examples name certificates under certs/: make stand-ins.
    std::fs::create_dir_all(dir.path().join("certs")).unwrap();
    let pki = ravelin_tests::Pki::new();
    pki.issue(&["localhost"], &dir.path().join("certs"), "localhost");
    std::fs::write(dir.path().join("certs/clients-ca.pem"), &pki.ca_pem).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let mut text = std::fs::read_to_string(&path).unwrap();
            // The examples load plugins from plugins/target; use the test builds.
            for (name, built) in [
                ("waf", guests::WAF),
                ("auth", guests::AUTH),
                ("rewrite", guests::REWRITE),
            ] {
                text = text.replace(
                    &format!("../plugins/target/wasm32-wasip2/release/{name}.wasm"),
                    built,
                );
            }
            let out = proxy::check(dir.path(), &text);
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 2,
        "expected example configs in {}",
        examples.display()
    );
}

#[test]
fn bad_configs_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[[listeners]]\nlisten = \"127.0.0.1:1\"\nmax_conections = 5\n",
            "check.toml:3:",
            "unknown field `max_conections`",
        ),
        (
            "[[listeners]]\nlisten = \"127.0.0.1:1\"\n\n[upstreams.a]\nendpoints = [{ address = \"127.0.0.1:2\" }]\n\n[[routes]]\nupstream = \"b\"\n",
            "check.toml:8:",
            "no upstream is named `b`",
        ),
        (
            "[[listeners]]\nlisten = \"127.0.0.1:1\"\ntls.certificates = [{ cert = \"missing.pem\", key = \"missing.key\" }]\n",
            "check.toml:3:",
            "missing.pem",
        ),
        (
            "[timeouts]\nconnect = \"soon\"\n",
            "check.toml:2:",
            "not a duration",
        ),
    ];
    for (text, location, message) in cases {
        let out = proxy::check(dir.path(), text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "accepted: {text}");
        assert!(
            stderr.contains(location) && stderr.contains(message),
            "{text}\n=> {stderr}"
        );
    }
}

/// Sends requests in a loop from 4 tasks until `stop`; returns (sent, failures).
async fn request_loop(url: String, stop: Arc<AtomicBool>) -> (usize, Vec<String>) {
    let c = client::client(None, false);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (c, url, stop) = (c.clone(), url.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let (mut sent, mut failures) = (0, Vec::new());
            let deadline = Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && sent < 20_000 {
                sent += 1;
                match get(&c, &url).await {
                    Ok(a) if a.status == 200 => {}
                    Ok(a) => failures.push(format!("status {}", a.status)),
                    Err(e) => failures.push(e),
                }
            }
            (sent, failures)
        }));
    }
    let mut total = (0, Vec::new());
    for task in tasks {
        let (sent, failures) = task.await.unwrap();
        total.0 += sent;
        total.1.extend(failures);
    }
    total
}

#[tokio::test(flavor = "multi_thread")]
async fn reloads_during_a_request_loop_lose_nothing() {
    let a = Origin::start("a").await;
    let b = Origin::start("b").await;
    let proxy = Proxy::start(&config(&a, ""));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn(request_loop(proxy.url("/"), stop.clone()));
    for i in 0..20 {
        let target = if i % 2 == 0 { &b } else { &a };
        proxy.write_config(&config(target, ""));
        tokio::time::sleep(Duration::from_millis(150)).await;
        if i % 5 == 4 {
            proxy.signal("HUP");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let (sent, failures) = load.await.unwrap();
    assert!(sent > 100, "only {sent} requests were sent");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(a.count() > 0 && b.count() > 0, "both configs served");
    let metrics = proxy.admin("/metrics").1;
    assert!(
        metrics.contains("ravelin_config_reloads_total{outcome=\"success\"}"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_reload_keeps_the_running_config_and_logs_the_line() {
    let a = Origin::start("a").await;
    let proxy = Proxy::start(&config(&a, ""));
    proxy.write_config(&config(&a, "methods = [\"GET\"]\nbogus_key = 1\n"));
    assert!(
        proxy.wait_for_log("configuration not reloaded", Duration::from_secs(10)),
        "{}",
        proxy.log()
    );
    assert!(
        proxy.log().contains("unknown field `bogus_key`"),
        "{}",
        proxy.log()
    );
    assert!(
        proxy.log().contains("ravelin.toml:17:"),
        "the line is named: {}",
        proxy.log()
    );
    let answer = get(&client::client(None, false), &proxy.url("/"))
        .await
        .unwrap();
    assert_eq!(answer.text(), "a", "still serving the old config");
    let (status, body) = proxy.admin("/metrics");
    assert_eq!(status, 200);
    assert!(
        body.contains("ravelin_config_reloads_total{outcome=\"failure\"}"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let slow = Origin::serve("slow", |_| async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        origin::respond(200, "done")
    })
    .await;
    let mut proxy = Proxy::start(&config(&slow, ""));
    let url = proxy.url("/");
    let in_flight = tokio::spawn(async move { get(&client::client(None, false), &url).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let status = proxy
        .terminate(Duration::from_secs(10))
        .expect("exited within the deadline");
    assert!(status.success(), "{status}");
    let answer = in_flight.await.unwrap().unwrap();
    assert_eq!(answer.text(), "done");
    assert!(
        tokio::net::TcpStream::connect(proxy.http).await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_endpoints_and_json_access_log() {
    let a = Origin::start("a").await;
    let proxy = Proxy::start(&config(&a, "name = \"main\""));
    get(&client::client(None, false), &proxy.url("/x"))
        .await
        .unwrap();
    assert_eq!(proxy.admin("/healthz"), (200, "ok\n".into()));
    assert_eq!(proxy.admin("/ready").0, 200);
    let metrics = proxy.admin("/metrics").1;
    for needle in [
        "ravelin_requests_total{route=\"main\",status=\"200\"} 1",
        "ravelin_request_duration_seconds_count{route=\"main\"} 1",
        "ravelin_open_connections",
        "ravelin_upstream_endpoint_healthy{upstream=\"app\"",
    ] {
        assert!(metrics.contains(needle), "missing {needle}:\n{metrics}");
    }
    assert!(
        proxy.wait_for_log("\"target\":\"/x\"", Duration::from_secs(5)),
        "{}",
        proxy.log()
    );
    let line = proxy
        .log()
        .lines()
        .find(|l| l.contains("\"target\":\"/x\""))
        .unwrap()
        .to_string();
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["route"], "main");
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_by_host_path_method_and_header() {
    let (api, web, canary) = (
        Origin::start("api").await,
        Origin::start("web").await,
        Origin::start("canary").await,
    );
    let text = format!(
        r#"
[admin]
listen = "{{admin}}"
[[listeners]]
listen = "{{http}}"
[upstreams.api]
endpoints = [{{ address = "{}" }}]
[upstreams.web]
endpoints = [{{ address = "{}" }}]
[upstreams.canary]
endpoints = [{{ address = "{}" }}]
[[routes]]
hosts = ["*.example.com"]
upstream = "web"
[[routes]]
hosts = ["api.example.com"]
path_prefix = "/v1"
strip_prefix = true
upstream = "api"
[[routes]]
hosts = ["api.example.com"]
path_prefix = "/v1"
headers = {{ x-canary = "yes" }}
upstream = "canary"
"#,
        api.addr, web.addr, canary.addr
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let ask = |host: &str, path: &str, canary: bool| {
        let mut r = http::Request::get(proxy.url(path)).header("host", host);
        if canary {
            r = r.header("x-canary", "yes");
        }
        r.body(http_body_util::Full::default()).unwrap()
    };
    let send = |r| ravelin_tests::client::send(&c, r);
    assert_eq!(
        send(ask("www.example.com", "/v1/x", false))
            .await
            .unwrap()
            .text(),
        "web"
    );
    assert_eq!(
        send(ask("api.example.com", "/v1/users", false))
            .await
            .unwrap()
            .text(),
        "api"
    );
    assert_eq!(api.received()[0].uri.path(), "/users", "prefix stripped");
    assert_eq!(
        send(ask("api.example.com", "/v1/users", true))
            .await
            .unwrap()
            .text(),
        "canary"
    );
    assert_eq!(
        send(ask("api.example.com", "/v2", false))
            .await
            .unwrap()
            .text(),
        "web"
    );
    assert_eq!(
        send(ask("other.org", "/", false)).await.unwrap().status,
        404
    );
    // Traversal cannot escape the route: normalised before routing.
    assert_eq!(
        send(ask("api.example.com", "/v2/../v1/%2e%2e/v1/z", false))
            .await
            .unwrap()
            .text(),
        "api"
    );
    assert_eq!(api.received()[1].uri.path(), "/z");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_keepalive_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let a = Origin::start("a").await;
    let text = config(&a, "") + "\n[timeouts]\nidle_keepalive = \"500ms\"\n";
    let proxy = Proxy::start(&text);
    let mut stream = tokio::net::TcpStream::connect(proxy.http).await.unwrap();
    let request = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", proxy.http);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Keep-alive: the connection stays open, then closes once idle.
    let started = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "expected a close, got {closed:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "closed too early: {:?}",
        started.elapsed()
    );
}

/// `printf 'GET …GET …' | nc`: the client sends its requests, then ends its
/// side while the origin is still answering the first. Both are answered;
/// a client that leaves with nothing unanswered is dropped (tested in
/// edge_cache_shared).
#[tokio::test(flavor = "multi_thread")]
async fn requests_sent_before_a_half_close_are_all_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let slow = Origin::serve("slow", |_| async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        origin::respond(200, "slow")
    })
    .await;
    let proxy = Proxy::start(&config(&slow, ""));
    let mut stream = tokio::net::TcpStream::connect(proxy.http).await.unwrap();
    let host = proxy.http;
    let requests = format!(
        "GET /1 HTTP/1.1\r\nHost: {host}\r\n\r\nGET /2 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(requests.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answers = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answers)).await;
    assert!(matches!(read, Ok(Ok(_))), "no close within 10 s: {read:?}");
    let text = String::from_utf8_lossy(&answers);
    assert_eq!(text.matches("HTTP/1.1 200").count(), 2, "{text}");
    let paths: Vec<_> = slow
        .received()
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(paths, ["/1", "/2"]);
}
