//! Upstream behaviour end to end: each balancer's distribution, failover
//! when an endpoint dies, health checks bringing it back, passive ejection,
//! retries only where safe, error statuses that reveal nothing, and TLS
//! re-encryption with mTLS to the origin, its handshake within the connect
//! timeout, and one h2 connection however many first requests arrive at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_tests::client::{self, HttpsClient, get, send};
use ravelin_tests::origin::{self, Origin, OriginOptions, default_handler};
use ravelin_tests::{Pki, Proxy};

fn config(origins: &[&Origin], upstream_extra: &str) -> String {
    let endpoints: Vec<String> = origins
        .iter()
        .map(|o| format!("{{ address = \"{}\" }}", o.addr))
        .collect();
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{}]
{upstream_extra}

[[routes]]
upstream = "app"
"#,
        endpoints.join(", ")
    )
}

async fn tally(c: &HttpsClient, proxy: &Proxy, n: usize) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let answer = get(c, &proxy.url("/")).await.unwrap();
        *counts.entry(answer.text()).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn round_robin_and_weighted_distribute_as_documented() {
    let (a, b, c3) = (
        Origin::start("a").await,
        Origin::start("b").await,
        Origin::start("c").await,
    );
    let proxy = Proxy::start(&config(&[&a, &b, &c3], "balancer = \"round_robin\""));
    let c = client::client(None, false);
    let counts = tally(&c, &proxy, 30).await;
    assert_eq!(
        (counts["a"], counts["b"], counts["c"]),
        (10, 10, 10),
        "{counts:?}"
    );

    let text = config(&[&a, &b], "balancer = \"weighted\"").replace(
        &format!("{{ address = \"{}\" }}", a.addr),
        &format!("{{ address = \"{}\", weight = 3 }}", a.addr),
    );
    let proxy = Proxy::start(&text);
    let counts = tally(&c, &proxy, 40).await;
    assert_eq!((counts["a"], counts["b"]), (30, 10), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn least_connections_avoids_the_busy_endpoint() {
    let slow = Origin::serve("slow", |_| async {
        tokio::time::sleep(Duration::from_millis(3000)).await;
        origin::respond(200, "slow")
    })
    .await;
    let fast = Origin::start("fast").await;
    let proxy = Arc::new(Proxy::start(&config(
        &[&slow, &fast],
        "balancer = \"least_connections\"",
    )));
    let c = client::client(None, false);
    // Occupy the slow endpoint. Ties are broken at random, so a request may
    // land on the fast endpoint instead: send until one sits at the slow one.
    let mut busy = Vec::new();
    for _ in 0..20 {
        if slow.count() >= 1 {
            break;
        }
        let (c, url) = (c.clone(), proxy.url("/"));
        busy.push(tokio::spawn(async move {
            get(&c, &url).await.map(|a| a.text())
        }));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(slow.count(), 1, "the slow endpoint never got busy");
    let counts = tally(&c, &proxy, 20).await;
    assert_eq!(counts.get("fast"), Some(&20), "{counts:?}");
    for task in busy {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_two_choices_and_ip_hash_spread_and_stick() {
    let (a, b) = (Origin::start("a").await, Origin::start("b").await);
    let c = client::client(None, false);
    let proxy = Proxy::start(&config(&[&a, &b], "balancer = \"random_two_choices\""));
    let counts = tally(&c, &proxy, 40).await;
    assert_eq!(counts.values().sum::<usize>(), 40);
    let proxy = Proxy::start(&config(&[&a, &b], "balancer = \"ip_hash\""));
    let counts = tally(&c, &proxy, 20).await;
    assert_eq!(
        counts.len(),
        1,
        "one client IP sticks to one endpoint: {counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_endpoint_is_ejected_traffic_fails_over_and_health_check_brings_it_back() {
    let a = Origin::start("a").await;
    let b = Origin::start("b").await;
    let extra = r#"
health_check = { path = "/health", interval = "200ms", timeout = "200ms", healthy_threshold = 2, unhealthy_threshold = 2 }
passive = { consecutive_failures = 2, cooldown = "30s" }
"#;
    let proxy = Proxy::start(&config(&[&a, &b], extra));
    let c = client::client(None, false);
    assert_eq!(tally(&c, &proxy, 10).await.len(), 2);
    let b_addr = b.addr;
    b.kill();
    drop(b);
    // Every request succeeds: connect failures are retried on the other endpoint.
    let counts = tally(&c, &proxy, 40).await;
    assert_eq!(counts.get("a"), Some(&40), "{counts:?}");
    // The active check marks it down too.
    let mut down = false;
    for _ in 0..100 {
        if proxy.admin("/upstreams").1.contains("\"healthy\": false") {
            down = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(down, "the health check never marked the dead endpoint down");
    // Restart b at the same address: the health check brings it back (the
    // passive cooldown is 30 s, but an endpoint that passes its health
    // checks again is trusted at once).
    let b = Origin::start_at("b", b_addr).await;
    let mut back = false;
    for _ in 0..100 {
        if tally(&c, &proxy, 4).await.contains_key("b") {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        back,
        "the endpoint did not come back: {}\n{}",
        proxy.admin("/upstreams").1,
        proxy.log()
    );
    let metrics = proxy.admin("/metrics").1;
    assert!(
        metrics.contains(&format!(
            "ravelin_upstream_endpoint_healthy{{upstream=\"app\",endpoint=\"{}\"}} 1",
            b.addr
        )),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn passive_ejection_removes_an_endpoint_answering_5xx() {
    let bad = Origin::serve("bad", |_| async { origin::respond(500, "boom") }).await;
    let good = Origin::start("good").await;
    let proxy = Proxy::start(&config(
        &[&bad, &good],
        "passive = { consecutive_failures = 3, cooldown = \"60s\" }",
    ));
    let c = client::client(None, false);
    let counts = tally(&c, &proxy, 30).await;
    assert_eq!(
        counts.get("boom"),
        Some(&3),
        "three 5xx, then ejected: {counts:?}"
    );
    assert_eq!(counts.get("good"), Some(&27));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_idempotent_requests_are_not_retried_after_reaching_an_origin() {
    let resets = Origin::serve("reset", |req| async move {
        if req.method == http::Method::POST {
            // Answer nothing useful: hang up mid-exchange.
            panic!("simulated crash while handling {}", req.uri);
        }
        origin::respond(200, "reset-ok")
    })
    .await;
    let proxy = Proxy::start(&config(&[&resets], "retries = { attempts = 3 }"));
    let c = client::client(None, false);
    let post = Request::post(proxy.url("/pay"))
        .body(Full::new(Bytes::from_static(b"x")))
        .unwrap();
    let answer = send(&c, post).await.unwrap();
    assert_eq!(answer.status, 502);
    assert_eq!(
        resets.count(),
        1,
        "a POST that reached the origin must not be sent again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn error_statuses_reveal_nothing_about_the_backend() {
    let dead_addr = format!("127.0.0.1:{}", ravelin_tests::free_port());
    let stall = Origin::serve("stall", |_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        origin::respond(200, "late")
    })
    .await;
    let text = format!(
        r#"
[admin]
listen = "{{admin}}"
[[listeners]]
listen = "{{http}}"
[timeouts]
upstream_response = "500ms"
[upstreams.dead]
endpoints = [{{ address = "{dead_addr}" }}]
retries = {{ attempts = 0 }}
[upstreams.stall]
endpoints = [{{ address = "{}" }}]
[[routes]]
path_prefix = "/dead"
upstream = "dead"
[[routes]]
path_prefix = "/stall"
upstream = "stall"
"#,
        stall.addr
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    for (path, status) in [("/dead", 502), ("/stall", 504), ("/nothing-here", 404)] {
        let answer = get(&c, &proxy.url(path)).await.unwrap();
        assert_eq!(answer.status, status, "{path}");
        let body = answer.text();
        assert!(
            !body.contains("127.0.0.1") && !body.to_lowercase().contains("refused"),
            "{path} leaks: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn upstream_tls_with_client_certificate() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(pki.issue(&["origin.internal"], dir.path(), "origin"));
    pki.issue(&["ravelin-proxy"], dir.path(), "client");
    pki.write_ca(dir.path());
    let options = OriginOptions {
        tls: Some((server, Some(pki.roots()))),
        addr: None,
    };
    let origin = Origin::start_with("secure", default_handler("secure"), options).await;
    let extra = r#"tls = { ca = "ca.pem", server_name = "origin.internal", client_cert = "client.pem", client_key = "client.key" }"#;
    let proxy = Proxy::start_in(dir, &config(&[&origin], extra));
    let c = client::client(None, false);
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!((answer.status, answer.text().as_str()), (200, "secure"));

    // Without the client certificate the origin refuses the proxy.
    let text = config(
        &[&origin],
        r#"tls = { ca = "ca.pem", server_name = "origin.internal" }"#,
    );
    let proxy2 = Proxy::start_in(tempdir_with(&proxy, &["ca.pem"]), &text);
    assert_eq!(get(&c, &proxy2.url("/")).await.unwrap().status, 502);
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tls_handshake_that_never_completes_fails_within_the_connect_timeout() {
    // Accepts TCP, then never answers the ClientHello.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let text = format!(
        r#"
[admin]
listen = "{{admin}}"
[[listeners]]
listen = "{{http}}"
[timeouts]
connect = "300ms"
upstream_response = "30s"
[upstreams.app]
endpoints = [{{ address = "{addr}" }}]
retries = {{ attempts = 0 }}
tls = {{ server_name = "origin.internal" }}
[[routes]]
upstream = "app"
"#
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    // A connect failure (502), not the response timeout's 504 after 30 s.
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!(answer.status, 502, "{}", answer.text());
    held.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_first_requests_share_one_h2_upstream_connection() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(pki.issue(&["origin.internal"], dir.path(), "origin"));
    pki.write_ca(dir.path());
    let options = OriginOptions {
        tls: Some((server, None)),
        addr: None,
    };
    let origin = Origin::start_with("h2", default_handler("h2"), options).await;
    // Every TLS handshake with the origin takes 200 ms: long enough for all
    // the requests below to arrive while the first connection is opening.
    let relay = slow_relay(origin.addr, Duration::from_millis(200)).await;
    let extra =
        "protocol = \"http2\"\ntls = { ca = \"ca.pem\", server_name = \"origin.internal\" }";
    let text = config(&[&origin], extra).replace(&origin.addr.to_string(), &relay.to_string());
    let proxy = Proxy::start_in(dir, &format!("[server]\nworker_threads = 1\n{text}"));
    let c = client::client(None, false);
    let url = proxy.url("/");
    let answers = futures_util::future::join_all((0..32).map(|_| get(&c, &url))).await;
    for answer in answers {
        assert_eq!(answer.unwrap().text(), "h2");
    }
    assert_eq!(
        origin.connections(),
        1,
        "requests opened connections of their own"
    );
}

/// Forwards each connection to `to` after `delay`.
async fn slow_relay(to: std::net::SocketAddr, delay: Duration) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    addr
}

fn tempdir_with(proxy: &Proxy, files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::copy(proxy.dir.path().join(f), dir.path().join(f)).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_whose_bodies_break_is_ejected() {
    use ravelin_tests::faulty::{Fault, FaultyOrigin};
    let broken = FaultyOrigin::start(Fault::ResetMidBody).await;
    let good = Origin::start("good").await;
    let text = config(
        &[&good],
        "balancer = \"round_robin\"\npassive = { consecutive_failures = 2, cooldown = \"60s\" }",
    )
    .replace(
        "endpoints = [",
        &format!("endpoints = [{{ address = \"{}\" }}, ", broken.addr),
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let mut broken_answers = 0;
    for _ in 0..30 {
        if get(&c, &proxy.url("/"))
            .await
            .map(|a| a.text() != "good")
            .unwrap_or(true)
        {
            broken_answers += 1;
        }
    }
    assert!(
        broken_answers <= 3,
        "a body-breaking endpoint kept getting traffic: {broken_answers} of 30"
    );
    assert!(proxy.admin("/upstreams").1.contains("\"ejected\": true"));
}
