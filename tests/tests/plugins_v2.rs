//! Contract 0.2 through the real proxy: a 0.1 and a 0.2 plugin in one
//! chain, header bytes as sent, attributes along a chain, request bodies
//! over a plugin's limit under each rule, a streaming transform of 100 MiB
//! within a memory bound, a marker split across chunks, `on-log` after the
//! response, concurrent outbound calls (cancelled when the client leaves),
//! and labelled metrics.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::Request;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use ravelin_test_guests as guests;
use ravelin_tests::client::{self, get, send};
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::proxy::{plugin_chain_config, plugin_table};
use ravelin_tests::{Proxy, RssPeak, rss};

/// A proxy in front of `origin` whose one route runs `chain` of the plugins
/// declared by `tables`.
fn config(origin: &Origin, tables: &str, chain: &[&str]) -> String {
    plugin_chain_config(origin.addr, tables, chain)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_0_1_plugin_and_a_0_2_plugin_run_in_one_chain() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("legacy", guests::LEGACY_V01, "{}")
        + &plugin_table(
            "rewrite",
            guests::REWRITE,
            r#"{ request = { set = { x-from = "0.2" } } }"#,
        );
    let proxy = Proxy::start(&config(&origin, &tables, &["legacy", "rewrite"]));
    let c = client::client(None, false);
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert_eq!(
        answer
            .headers
            .get("x-legacy-response")
            .map(|v| v.as_bytes()),
        Some(&b"0.1"[..])
    );
    let seen = &origin.received()[0].headers;
    assert_eq!(
        seen.get("x-legacy").map(|v| v.as_bytes()),
        Some(&b"0.1"[..])
    );
    assert_eq!(seen.get("x-from").map(|v| v.as_bytes()), Some(&b"0.2"[..]));
    let first = get(&c, &proxy.url("/legacy-count")).await.unwrap();
    let second = get(&c, &proxy.url("/legacy-count")).await.unwrap();
    assert_eq!((first.text(), second.text()), ("1".into(), "2".into()));
    let (_, plugins) = proxy.admin("/plugins");
    assert!(plugins.contains("\"legacy\"") && plugins.contains("\"rewrite\""));
}

/// One raw HTTP/1.1 exchange: the proxy's answer as text.
fn raw_exchange(proxy: &Proxy, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(proxy.http).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn header_bytes_reach_a_plugin_as_sent_and_facts_are_right() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let answer = raw_exchange(
        &proxy,
        b"GET /v2/bytes HTTP/1.1\r\nHost: a\r\nX-Raw: caf\xe9 \xff\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("636166e920ff"), "{answer}");
    let c = client::client(None, false);
    let facts = get(&c, &proxy.url("/v2/facts")).await.unwrap().text();
    assert!(facts.starts_with("http HTTP/1.1 127.0.0.1:"), "{facts}");
    assert!(facts.ends_with(" none route0"), "{facts}");
}

#[tokio::test(flavor = "multi_thread")]
async fn attributes_pass_from_one_plugin_to_the_next() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("writer", guests::V2_PROBE, "{}")
        + &plugin_table("reader", guests::V2_PROBE, "{ read_attribute = true }");
    let proxy = Proxy::start(&config(&origin, &tables, &["writer", "reader"]));
    let c = client::client(None, false);
    let answer = get(&c, &proxy.url("/v2/attr")).await.unwrap();
    assert_eq!(answer.text(), "alice", "{}", proxy.log());
}

async fn post(c: &client::HttpsClient, url: &str, body: &'static [u8]) -> client::Answer {
    let request = Request::post(url)
        .body(Full::new(Bytes::from_static(body)))
        .expect("request");
    send(c, request).await.expect("answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_body_over_the_plugins_limit_follows_its_rule() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let c = client::client(None, false);
    let url = |over: &str| proxy.url(&format!("/v2/body-whole?over={over}"));
    let small = post(&c, &url("reject"), b"0123456789").await;
    assert_eq!(
        small.text(),
        "len=10 truncated=false trailers=x-probe:seen set=ok"
    );
    let large: &'static [u8] = &[b'x'; 100];
    assert_eq!(post(&c, &url("reject"), large).await.status, 413);
    assert_eq!(
        post(&c, &url("prefix"), large).await.text(),
        "len=16 truncated=true trailers= set=err"
    );
    let before = origin.count();
    let skipped = post(&c, &url("skip"), large).await;
    assert_eq!(skipped.status, 200, "{}", proxy.log());
    assert_eq!(origin.count(), before + 1);
    assert_eq!(origin.received().last().unwrap().body.len(), 100);
}

const MIB: usize = 1 << 20;

/// An origin that streams `total` bytes of `a`–`z` in 64 KiB chunks.
async fn streaming_origin(total: usize) -> Origin {
    Origin::serve("big", move |_| async move {
        let chunk = Bytes::from(
            (0..64 * 1024)
                .map(|i| b'a' + (i % 26) as u8)
                .collect::<Vec<u8>>(),
        );
        let frames = futures_util::stream::iter(0..total / chunk.len())
            .map(move |_| Ok::<_, std::io::Error>(Frame::data(chunk.clone())));
        http::Response::new(BodyExt::boxed(StreamBody::new(frames)))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streaming_plugin_transforms_100_mib_in_bounded_memory() {
    let total = 100 * MIB;
    let origin = streaming_origin(total).await;
    let tables = plugin_table("upper", guests::STREAM_UPPER, "{}");
    let proxy = Proxy::start(&config(&origin, &tables, &["upper"]));
    let c = client::client(None, false);
    // Warm: one small exchange, then the idle figure.
    let _ = get(&c, &proxy.url("/warm")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss(proxy.pid());
    let peak = RssPeak::watch(proxy.pid());
    let request = Request::get(proxy.url("/big"))
        .body(Full::default())
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(60), c.request(request))
        .await
        .expect("in time")
        .expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let (mut received, mut lower) = (0usize, 0usize);
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .expect("no stall")
    {
        if let Ok(data) = frame.expect("frame").into_data() {
            received += data.len();
            lower += data.iter().filter(|b| b.is_ascii_lowercase()).count();
        }
    }
    let peak = peak.stop();
    let grown = peak.saturating_sub(idle);
    println!(
        "100 MiB streamed through a plugin: RSS idle {} MiB, peak +{} MiB",
        idle / MIB as u64,
        grown / MIB as u64
    );
    assert_eq!(received, total, "{}", proxy.log());
    assert_eq!(lower, 0, "every letter was uppercased");
    assert!(grown < 64 * MIB as u64, "RSS grew {grown} bytes above idle");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marker_split_across_chunks_is_found() {
    let origin = Origin::serve("split", |_| async {
        let parts = ["public text SEC", "RET rest"]
            .map(|p| Ok::<_, std::io::Error>(Frame::data(Bytes::from(p))));
        let frames = futures_util::stream::iter(parts).then(|f| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            f
        });
        http::Response::new(BodyExt::boxed(StreamBody::new(frames)))
    })
    .await;
    let tables = plugin_table("upper", guests::STREAM_UPPER, r#"{ marker = "SECRET" }"#);
    let proxy = Proxy::start(&config(&origin, &tables, &["upper"]));
    let c = client::client(None, false);
    let text = get(&c, &proxy.url("/")).await.unwrap().text();
    assert!(!text.contains("SEC") || !text.contains("RET "), "{text}");
    assert!(text.to_ascii_lowercase().contains("[redacted]"), "{text}");
    assert!(text.starts_with("PUBLIC TEXT "), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn on_log_runs_after_the_response_and_when_the_exchange_ends_early() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let c = client::client(None, false);
    let request = |path: &str, marker: &str| {
        Request::get(proxy.url(path))
            .header("x-log-marker", marker)
            .body(Full::default())
            .unwrap()
    };
    let answer = send(&c, request("/plain", "M1")).await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        proxy.wait_for_log(
            "on-log M1 status=200 bytes=3 completed=true",
            Duration::from_secs(5)
        ),
        "{}",
        proxy.log()
    );
    // The plugin answers itself: on-log still runs.
    let _ = send(&c, request("/v2/facts", "M2")).await.unwrap();
    assert!(
        proxy.wait_for_log("on-log M2 status=200", Duration::from_secs(5)),
        "{}",
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_calls_run_concurrently() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, max) = (in_flight.clone(), most.clone());
    let side = Origin::serve("side", move |_| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            origin::respond(200, "side")
        }
    })
    .await;
    let origin = Origin::start("app").await;
    let tables = format!(
        "[upstreams.side]\nendpoints = [{{ address = \"{}\" }}]\n\n",
        side.addr
    ) + &plugin_table("probe", guests::V2_PROBE, r#"{ cluster = "side" }"#)
        + "allowed_upstreams = [\"side\"]\n";
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let c = client::client(None, false);
    let answer = get(&c, &proxy.url("/v2/concurrent?n=3")).await.unwrap();
    assert_eq!(answer.text(), "200,200,200", "{}", proxy.log());
    assert_eq!(most.load(Ordering::SeqCst), 3, "the three calls overlapped");
}

/// A side service that reads each request and never answers; it counts
/// the requests it got and the connections the proxy then closed.
async fn silent_side() -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (got, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (g, c) = (got.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (got, closed) = (g.clone(), c.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                got.fetch_add(1, Ordering::SeqCst);
                while matches!(conn.read(&mut buf).await, Ok(n) if n > 0) {}
                closed.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    (addr, got, closed)
}

/// Waits (at most 2 s, well under the calls' 5 s timeout) until `counter`
/// reaches `n`.
async fn reaches(counter: &AtomicUsize, n: usize) -> bool {
    for _ in 0..200 {
        if counter.load(Ordering::SeqCst) >= n {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_calls_are_cancelled_when_the_client_leaves() {
    let (side, got, closed) = silent_side().await;
    let origin = Origin::start("app").await;
    let tables = format!("[upstreams.side]\nendpoints = [{{ address = \"{side}\" }}]\n\n")
        + &plugin_table("probe", guests::V2_PROBE, r#"{ cluster = "side" }"#)
        + "allowed_upstreams = [\"side\"]\n";
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let mut client = std::net::TcpStream::connect(proxy.http).expect("connect");
    client
        .write_all(b"GET /v2/concurrent?n=3 HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("send");
    assert!(
        reaches(&got, 3).await,
        "three calls started:\n{}",
        proxy.log()
    );
    drop(client);
    // The calls would wait 5 s for an answer; the client's leaving ends
    // the exchange, and its calls with it.
    assert!(
        reaches(&closed, 3).await,
        "{} of 3 calls cancelled:\n{}",
        closed.load(Ordering::SeqCst),
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn labelled_metrics_and_gauges_reach_the_metrics_page() {
    let origin = Origin::start("app").await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = Proxy::start(&config(&origin, &tables, &["probe"]));
    let c = client::client(None, false);
    let _ = get(&c, &proxy.url("/v2/metrics")).await.unwrap();
    let _ = get(&c, &proxy.url("/v2/metrics")).await.unwrap();
    let (_, metrics) = proxy.admin("/metrics");
    assert!(
        metrics
            .contains(r#"ravelin_plugin_guest_total{plugin="probe",name="hits",kind="probe"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"ravelin_plugin_guest_gauge{plugin="probe",name="level",kind="probe"} 3.5"#
        ),
        "{metrics}"
    );
}

#[test]
fn plugin_test_runs_a_sequence_shows_the_plugins_logs_and_takes_an_upstream() {
    let output = std::process::Command::new(ravelin_tests::proxy::binary())
        .args(["plugin", "test", guests::PROBE])
        .args(["--request", "GET /log", "--request", "GET /count"])
        .args(["--request", "GET /count", "--request", "GET /elsewhere"])
        .args(["--response", "404\\nx-from: stand-in\\n\\nnot here"])
        .output()
        .expect("run ravelin plugin test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("probe says hello"), "{stdout}");
    assert!(
        stdout.contains("Ok(1)") && stdout.contains("Ok(2)"),
        "{stdout}"
    );
    assert!(stdout.contains("--- request 4"), "{stdout}");
    assert!(stdout.contains("not here"), "{stdout}");
}
