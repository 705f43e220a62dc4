//! HTTP/3: a real h3 client (quinn) against the QUIC side of a TLS
//! listener gets the same answers as an HTTP/2 client — plain, bodies small
//! and large, compression, a plugin chain — and the same refusals and
//! limits; the TLS listener advertises it with Alt-Svc; shutdown closes
//! QUIC connections with H3_NO_ERROR.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::client::{self, Answer, HttpsClient, send};
use ravelin_tests::h3client::{H3Client, Resuming};
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::{Pki, Proxy};

/// H3_NO_ERROR (RFC 9114 §8.1).
const H3_NO_ERROR: u64 = 0x100;

/// An origin that tells what it received: `/echo` returns the body,
/// `/big` a long compressible text, anything else a line naming the
/// method, path and body size; `x-test` comes back as `x-echo`.
async fn echo_origin() -> Origin {
    Origin::serve("app", |req| async move {
        let mut r = match req.uri.path() {
            "/echo" => origin::respond(200, req.body.clone()),
            "/big" => origin::respond(200, "all work and no play ".repeat(5000)),
            path => origin::respond(200, format!("{} {path} {}", req.method, req.body.len())),
        };
        r.headers_mut()
            .insert("content-type", "text/plain".parse().unwrap());
        if let Some(value) = req.headers.get("x-test") {
            r.headers_mut().insert("x-echo", value.clone());
        }
        r
    })
    .await
}

/// An HTTPS listener with `http3` (`settings` inside its braces), a plain
/// route to `origin` and a plugin route under `/plug` (waf, rewrite).
fn config(origin: &Origin, settings: &str, extra: &str) -> String {
    format!(
        r#"
[server]
access_log = "json"

{extra}

[admin]
listen = "{{admin}}"

[[listeners]]
name = "plain"
listen = "{{http}}"

[[listeners]]
name = "https"
listen = "{{https}}"
tls.certificates = [{{ cert = "server.pem", key = "server.key" }}]
http3 = {{ {settings} }}

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[plugins.waf]
source = "{}"
config = {{ block_path_prefixes = ["/plug/admin"] }}

[plugins.rewrite]
source = "{}"
config = {{ request = {{ set = {{ x-from = "ravelin" }} }}, response = {{ set = {{ x-rewritten = "yes" }} }} }}

[[routes]]
name = "plug"
path_prefix = "/plug"
upstream = "app"
plugins = ["waf", "rewrite"]

[[routes]]
name = "app"
upstream = "app"
"#,
        origin.addr,
        guests::WAF,
        guests::REWRITE,
    )
}

fn start(origin: &Origin, settings: &str, extra: &str) -> (Proxy, Pki) {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.issue(&["127.0.0.1"], dir.path(), "server");
    let proxy = Proxy::start_in(dir, &config(origin, settings, extra));
    (proxy, pki)
}

async fn h3(proxy: &Proxy, pki: &Pki) -> H3Client {
    H3Client::connect(proxy.https, "127.0.0.1", pki.roots())
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", proxy.log()))
}

fn url(proxy: &Proxy, path: &str) -> String {
    format!("https://{}{path}", proxy.https)
}

/// One request of the comparison: method, path, headers, body.
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Bytes,
);

/// The requests of the comparison.
fn requests() -> Vec<Case> {
    let large = Bytes::from((0..300_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
    vec![
        ("GET", "/hello", vec![], Bytes::new()),
        (
            "GET",
            "/hello?q=1",
            vec![("x-test", "forty-two")],
            Bytes::new(),
        ),
        ("HEAD", "/hello", vec![], Bytes::new()),
        ("POST", "/echo", vec![], Bytes::from_static(b"a small body")),
        ("POST", "/echo", vec![], large.clone()),
        ("PUT", "/count", vec![], large),
        (
            "GET",
            "/big",
            vec![("accept-encoding", "gzip")],
            Bytes::new(),
        ),
        (
            "GET",
            "/big",
            vec![("accept-encoding", "br;q=1, gzip;q=0.5")],
            Bytes::new(),
        ),
        ("GET", "/big", vec![], Bytes::new()),
        ("GET", "/plug/page", vec![], Bytes::new()),
        ("GET", "/plug/admin/secret", vec![], Bytes::new()),
        ("DELETE", "/hello", vec![], Bytes::new()),
    ]
}

fn request<B>(method: &str, url: String, headers: &[(&str, &str)], body: B) -> Request<B> {
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body).unwrap()
}

/// What must match between the two protocols. A compressed body is
/// compared decoded: the encoder flushes whenever the origin's body pauses
/// (so a stream reaches the client as it comes), which makes the encoded
/// bytes depend on timing, never the decoded ones.
async fn comparable(answer: &Answer) -> (u16, Vec<(String, Option<String>)>, Bytes) {
    let names = [
        "content-type",
        "content-length",
        "content-encoding",
        "vary",
        "x-echo",
        "x-rewritten",
        "alt-svc",
    ];
    let headers = names
        .iter()
        .map(|n| (n.to_string(), answer.header(n).map(str::to_string)))
        .collect();
    (answer.status, headers, decoded(answer).await)
}

async fn decoded(answer: &Answer) -> Bytes {
    use async_compression::tokio::bufread::{BrotliDecoder, GzipDecoder, ZstdDecoder};
    use tokio::io::AsyncReadExt;
    let encoded = &answer.body[..];
    let mut body = Vec::new();
    let read = match answer.header("content-encoding") {
        None => return answer.body.clone(),
        Some("br") => BrotliDecoder::new(encoded).read_to_end(&mut body).await,
        Some("gzip") => GzipDecoder::new(encoded).read_to_end(&mut body).await,
        Some("zstd") => ZstdDecoder::new(encoded).read_to_end(&mut body).await,
        Some(other) => panic!("unexpected content-encoding {other}"),
    };
    read.unwrap_or_else(|e| panic!("the body does not decode: {e}"));
    body.into()
}

#[tokio::test(flavor = "multi_thread")]
async fn http3_answers_equal_http2_answers() {
    let origin = echo_origin().await;
    let (proxy, pki) = start(&origin, "", "");
    let h2: HttpsClient = client::client(Some(pki.roots()), true);
    let mut h3 = h3(&proxy, &pki).await;
    let mut statuses = Vec::new();
    for (method, path, headers, body) in requests() {
        let over_h2 = request(method, url(&proxy, path), &headers, Full::new(body.clone()));
        let over_h2 = send(&h2, over_h2).await.unwrap();
        assert_eq!(over_h2.version, http::Version::HTTP_2);
        let over_h3 = request(method, url(&proxy, path), &headers, body);
        let over_h3 = h3
            .send(over_h3)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", proxy.log()));
        assert_eq!(over_h3.version, http::Version::HTTP_3);
        assert_eq!(
            comparable(&over_h3).await,
            comparable(&over_h2).await,
            "{method} {path} differs"
        );
        statuses.push((
            path,
            over_h3.status,
            over_h3.header("x-rewritten").is_some(),
        ));
    }
    assert!(
        statuses.contains(&("/plug/page", 200, true)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("/plug/admin/secret", 403, false)),
        "{statuses:?}"
    );
    // The plugin chain ran on both: blocked once per protocol, and the
    // rewrite's request header reached the origin from both.
    let seen = origin.received();
    let plugged: Vec<_> = seen
        .iter()
        .filter(|r| r.uri.path() == "/plug/page")
        .collect();
    assert_eq!(plugged.len(), 2);
    assert!(plugged.iter().all(|r| r.headers["x-from"] == "ravelin"));
    assert!(seen.iter().all(|r| r.uri.path() != "/plug/admin/secret"));
    // The large bodies arrived whole over both.
    let puts: Vec<_> = seen.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 2);
    assert!(puts.iter().all(|r| r.body.len() == 300_000));
    // The origin cannot tell the protocols apart; the access log can.
    assert!(
        proxy.wait_for_log("HTTP/3.0", Duration::from_secs(5)),
        "no HTTP/3 access log entry:\n{}",
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alt_svc_is_advertised_over_tls_only() {
    let origin = echo_origin().await;
    let (proxy, pki) = start(&origin, "", "");
    let h2 = client::client(Some(pki.roots()), false);
    let answer = client::get(&h2, &url(&proxy, "/")).await.unwrap();
    let expected = format!("h3=\":{}\"; ma=86400", proxy.https.port());
    assert_eq!(answer.header("alt-svc"), Some(expected.as_str()));
    let plain = client::client(None, false);
    let answer = client::get(&plain, &proxy.url("/")).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("alt-svc"), None, "plain HTTP has no HTTP/3");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_authority_and_connection_headers_are_refused() {
    let origin = echo_origin().await;
    let (proxy, pki) = start(&origin, "", "");
    let mut h3 = h3(&proxy, &pki).await;
    let port = proxy.https.port();
    let answer = h3.get("https://127.0.0.1:abc/").await.unwrap();
    assert_eq!(answer.status, 400, "non-numeric :authority port");
    let too_big = h3.get(&format!("https://127.0.0.1:{}99999/", port)).await;
    assert_eq!(too_big.map(|a| a.status).unwrap_or(400), 400);
    for (name, value) in [
        ("connection", "keep-alive"),
        ("transfer-encoding", "chunked"),
        ("te", "gzip"),
        ("keep-alive", "timeout=5"),
        ("upgrade", "websocket"),
    ] {
        let asked = request("GET", url(&proxy, "/"), &[(name, value)], Bytes::new());
        let answer = h3.send(asked).await.unwrap();
        assert_eq!(answer.status, 400, "{name}: {value}");
    }
    let trailers_ok = request("GET", url(&proxy, "/"), &[("te", "trailers")], Bytes::new());
    assert_eq!(h3.send(trailers_ok).await.unwrap().status, 200);
    assert_eq!(
        origin.count(),
        1,
        "only the good request reached the origin"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_apply_to_http3() {
    let origin = echo_origin().await;
    let extra = "[limits]\nmax_request_header_bytes = 4096\nmax_request_body_bytes = 1000\n";
    let (proxy, pki) = start(&origin, "idle_timeout = \"500ms\"", extra);
    let mut h3 = h3(&proxy, &pki).await;
    let big_header = request(
        "GET",
        url(&proxy, "/"),
        &[("x-big", &"a".repeat(20_000))],
        Bytes::new(),
    );
    // The server advertises the limit in its SETTINGS: a client that has
    // read them refuses to send; one that has not gets 431.
    match h3.send(big_header).await {
        Ok(answer) => assert_eq!(answer.status, 431),
        Err(e) => assert!(e.contains("max size: 4096"), "{e}"),
    }
    let big_body = request("POST", url(&proxy, "/"), &[], Bytes::from(vec![b'x'; 5000]));
    assert_eq!(h3.send(big_body).await.unwrap().status, 413);
    let declared = request(
        "POST",
        url(&proxy, "/"),
        &[("content-length", "5000")],
        Bytes::from(vec![b'x'; 5000]),
    );
    assert_eq!(h3.send(declared).await.unwrap().status, 413);
    assert_eq!(origin.count(), 0);
    // The connection, now idle, is closed by the server's idle timeout.
    assert!(
        h3.closed(Duration::from_secs(10)).await.is_some(),
        "the idle connection stayed open"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_validates_addresses_and_reload_keeps_serving() {
    // An origin that holds each request a moment and counts how many it
    // holds at once.
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (held, peak) = (now.clone(), most.clone());
    let origin = Origin::serve("slow", move |_| {
        let (held, peak) = (held.clone(), peak.clone());
        async move {
            let current = held.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(200)).await;
            held.fetch_sub(1, Ordering::SeqCst);
            origin::respond(200, "held")
        }
    })
    .await;
    let (proxy, pki) = start(&origin, "retry = true, max_concurrent_streams = 4", "");
    let mut first = h3(&proxy, &pki).await;
    assert_eq!(first.get(&url(&proxy, "/one")).await.unwrap().status, 200);
    // Twelve requests at once on one connection, three times the stream
    // limit: the rest wait for stream credit, and all complete; never more
    // than four reach the origin together.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (mut client, target) = (first.clone(), url(&proxy, &format!("/many/{i}")));
        tasks.push(tokio::spawn(async move { client.get(&target).await }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
    let peak = most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&peak), "{peak} requests at once");
    let (status, _) = proxy.reload();
    assert_eq!(status, 200, "{}", proxy.log());
    let mut after_reload = h3(&proxy, &pki).await;
    assert_eq!(
        after_reload.get(&url(&proxy, "/new")).await.unwrap().status,
        200
    );
    assert_eq!(first.get(&url(&proxy, "/old")).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_closes_connections_with_h3_no_error() {
    let origin = echo_origin().await;
    let (mut proxy, pki) = start(&origin, "", "");
    let mut h3 = h3(&proxy, &pki).await;
    assert_eq!(h3.get(&url(&proxy, "/")).await.unwrap().status, 200);
    proxy.signal("TERM");
    assert_eq!(
        h3.closed_with(Duration::from_secs(10)).await,
        Some(H3_NO_ERROR),
        "{}",
        proxy.log()
    );
    assert!(proxy.terminate(Duration::from_secs(10)).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn early_data_is_off_unless_asked_for() {
    let origin = echo_origin().await;
    for (settings, offered) in [("", false), ("early_data = true", true)] {
        let (proxy, pki) = start(&origin, settings, "");
        let resuming = Resuming::new(pki.roots()).unwrap();
        let mut first = resuming.connect(proxy.https, "127.0.0.1").await.unwrap();
        // One exchange, so the session ticket has arrived.
        assert_eq!(first.get(&url(&proxy, "/")).await.unwrap().status, 200);
        let early = resuming
            .connect_early(proxy.https, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(early.is_some(), offered, "early data with `{settings}`");
        if let Some((mut client, accepted)) = early {
            // Sent in 0-RTT; a safe method is served whether or not the
            // handshake had completed when the proxy read it.
            let answer = client.get(&url(&proxy, "/early")).await.unwrap();
            assert_eq!(answer.status, 200);
            assert!(accepted.await, "the proxy refused the 0-RTT data");
        }
    }
}
