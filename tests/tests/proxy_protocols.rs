//! HTTP/1.1, HTTPS with SNI, h2, WebSocket upgrades, gRPC trailers over an
//! h2 upstream, compression, and the headers an origin and a client see.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_tests::client::{self, get, raw, send};
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::{Pki, Proxy};

fn config(origin: &Origin, extra: &str) -> String {
    format!(
        r#"
[server]
access_log = "json"
{extra}

[admin]
listen = "{{admin}}"

[[listeners]]
name = "http"
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
name = "app"
upstream = "app"
"#,
        origin.addr
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn http1_request_reaches_origin_with_forwarding_headers_and_via() {
    let origin = Origin::start("one").await;
    let proxy = Proxy::start(&config(&origin, ""));
    let c = client::client(None, false);
    let request = Request::get(proxy.url("/a/b?q=1"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("forwarded", "for=6.6.6.6")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "1")
        .header("keep-alive", "timeout=1")
        .body(Full::default())
        .unwrap();
    let answer = send(&c, request).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "one");
    assert!(answer.header("x-request-id").is_some());
    assert_eq!(answer.header("via"), Some("1.1 ravelin"));
    let seen = &origin.received()[0];
    assert_eq!(seen.uri.to_string(), "/a/b?q=1");
    assert_eq!(
        seen.headers["x-forwarded-for"], "127.0.0.1",
        "untrusted client's XFF replaced"
    );
    assert_eq!(seen.headers["x-forwarded-proto"], "http");
    assert_eq!(
        seen.headers["forwarded"],
        format!("for=127.0.0.1;proto=http;host=\"{}\"", proxy.http)
    );
    assert_eq!(
        seen.headers["host"],
        proxy.http.to_string(),
        "the client's Host is kept"
    );
    assert_eq!(seen.headers["via"], "1.1 ravelin");
    assert!(!seen.headers.contains_key("x-drop-me") && !seen.headers.contains_key("keep-alive"));
}

#[tokio::test(flavor = "multi_thread")]
async fn trusted_proxy_forwarding_headers_are_extended() {
    let origin = Origin::start("one").await;
    let proxy = Proxy::start(&config(&origin, "trusted_proxies = [\"127.0.0.0/8\"]"));
    let c = client::client(None, false);
    let request = Request::get(proxy.url("/"))
        .header("x-forwarded-for", "203.0.113.5")
        .body(Full::default())
        .unwrap();
    send(&c, request).await.unwrap();
    assert_eq!(
        origin.received()[0].headers["x-forwarded-for"],
        "203.0.113.5, 127.0.0.1"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn origin_server_header_is_hidden() {
    let origin = Origin::serve("one", |_| async {
        let mut r = origin::respond(200, "x");
        r.headers_mut()
            .insert("server", "secret-backend/1.2".parse().unwrap());
        r
    })
    .await;
    let proxy = Proxy::start(&config(&origin, ""));
    let answer = get(&client::client(None, false), &proxy.url("/"))
        .await
        .unwrap();
    assert!(answer.header("server").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn https_picks_the_certificate_by_sni_and_speaks_h2_and_http1() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.issue(&["alpha.test"], dir.path(), "alpha");
    pki.issue(&["beta.test"], dir.path(), "beta");
    let origin = Origin::start("one").await;
    let tls = r#"
[[listeners]]
name = "https"
listen = "{https}"
tls.certificates = [
  { cert = "alpha.pem", key = "alpha.key" },
  { cert = "beta.pem", key = "beta.key", server_names = ["beta.test"] },
]
"#;
    let proxy = Proxy::start_in(dir, &format!("{}{tls}", config(&origin, "")));
    let port = proxy.https.port();
    for (name, h2) in [
        ("alpha.test", true),
        ("beta.test", false),
        ("beta.test", true),
    ] {
        let args = [
            "-s".to_string(),
            "--cacert".into(),
            proxy.dir.path().join("ca.pem").display().to_string(),
            "--resolve".into(),
            format!("{name}:{port}:127.0.0.1"),
            if h2 {
                "--http2".into()
            } else {
                "--http1.1".into()
            },
            "-w".into(),
            "\n%{http_version} %{ssl_verify_result}".into(),
            format!("https://{name}:{port}/"),
        ];
        std::fs::write(proxy.dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
        let out = tokio::process::Command::new("curl")
            .args(&args)
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let expected = if h2 { "one\n2 0" } else { "one\n1.1 0" };
        assert_eq!(
            text,
            expected,
            "{name} h2={h2}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // TLS 1.1 is refused.
    let out = tokio::process::Command::new("curl")
        .args([
            "-sk",
            "--tlsv1.1",
            "--tls-max",
            "1.1",
            &format!("https://127.0.0.1:{port}/"),
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success(), "TLS 1.1 must be refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_upgrade_is_passed_through() {
    let origin = Origin::start("ws").await;
    let proxy = Proxy::start(&config(&origin, ""));
    let handshake = format!(
        "GET /chat HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        proxy.http
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(proxy.http).await.unwrap();
    stream.write_all(handshake.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    stream.write_all(b"ping-through-the-tunnel").await.unwrap();
    let mut echoed = vec![0u8; 23];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echoed, b"ping-through-the-tunnel");
    assert_eq!(origin.received()[0].headers["upgrade"], "websocket");
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_over_h2_upstream_keeps_trailers() {
    use http_body_util::{BodyExt, StreamBody};
    use hyper::body::Frame;
    let origin = Origin::serve("grpc", |req| async move {
        assert_eq!(req.version, http::Version::HTTP_2, "the upstream hop is h2");
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        trailers.insert("grpc-message", "ok".parse().unwrap());
        let frames = vec![
            Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\x02hi"))),
            Ok(Frame::trailers(trailers)),
        ];
        let body = StreamBody::new(futures_util::stream::iter(frames)).boxed();
        let mut response = http::Response::new(body);
        response
            .headers_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        response
    })
    .await;
    let text = config(&origin, "");
    let text = text.replace(
        "[[routes]]",
        "[upstreams.app.pool]\nmax_idle_per_endpoint = 4\n\n[[routes]]",
    );
    let text = text.replace("endpoints = [", "protocol = \"http2\"\nendpoints = [");
    let proxy = Proxy::start(&text);
    // h2c prior knowledge from the client too, with curl, which prints trailers.
    let message = proxy.dir.path().join("message.bin");
    std::fs::write(&message, b"\0\0\0\0\0").unwrap();
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "--http2-prior-knowledge",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-H",
            "content-type: application/grpc",
            "-H",
            "te: trailers",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", message.display()))
        .arg(proxy.url("/pkg.Svc/Call"))
        .output()
        .await
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(head.contains("grpc-status: 0"), "trailers lost: {head}");
    let seen = &origin.received()[0];
    assert_eq!(seen.headers["te"], "trailers");
}

#[tokio::test(flavor = "multi_thread")]
async fn compression_follows_accept_encoding_and_never_double_encodes() {
    let origin = Origin::serve("c", |req| async move {
        let mut r = origin::respond(200, "hello world ".repeat(200));
        r.headers_mut()
            .insert("content-type", "text/plain".parse().unwrap());
        if req.uri.path() == "/pre" {
            r.headers_mut()
                .insert("content-encoding", "br".parse().unwrap());
        }
        if req.uri.path() == "/png" {
            r.headers_mut()
                .insert("content-type", "image/png".parse().unwrap());
        }
        r
    })
    .await;
    let proxy = Proxy::start(&config(&origin, ""));
    let c = client::client(None, false);
    for (path, accept, expected) in [
        ("/", "gzip", Some("gzip")),
        ("/", "gzip;q=0.5, br", Some("br")),
        ("/", "gzip;q=0.1, zstd;q=0.9", Some("zstd")),
        ("/", "identity", None),
        ("/pre", "gzip", Some("br")),
        ("/png", "gzip", None),
    ] {
        let request = Request::get(proxy.url(path))
            .header("accept-encoding", accept)
            .body(Full::<Bytes>::default())
            .unwrap();
        let answer = send(&c, request).await.unwrap();
        assert_eq!(
            answer.header("content-encoding"),
            expected,
            "{path} {accept}"
        );
        if path == "/" {
            assert_eq!(answer.header("vary"), Some("Accept-Encoding"));
        }
        if expected == Some("gzip") {
            let mut d = async_gzip(&answer.body).await;
            assert_eq!(d.len(), 2400);
            d.clear();
        }
    }
}

async fn async_gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let status = std::process::Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.stdout.take().unwrap().read_to_end(&mut out)?;
            child.wait()
        });
    assert!(status.is_ok_and(|s| s.success()), "gzip -d failed");
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn ambiguous_framing_is_refused_before_the_origin() {
    let origin = Origin::start("one").await;
    let proxy = Proxy::start(&config(&origin, ""));
    let host = proxy.http;
    let cases: Vec<(&str, String)> = vec![
        (
            "CL+TE",
            format!(
                "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
        ),
        (
            "TE+CL",
            format!(
                "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"
            ),
        ),
        (
            "two CL",
            format!(
                "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
            ),
        ),
        (
            "bad chunk",
            format!(
                "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n"
            ),
        ),
        (
            "obs-fold",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nX-A: 1\r\n  folded\r\n\r\n"),
        ),
        ("no Host", "GET / HTTP/1.1\r\n\r\n".to_string()),
        (
            "two Hosts",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\nHost: other\r\n\r\n"),
        ),
        (
            "TE not chunked",
            format!(
                "POST / HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"
            ),
        ),
    ];
    for (name, bytes) in cases {
        let answer = raw(proxy.http, bytes.as_bytes(), Duration::from_secs(3)).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{name}: {answer}");
    }
    assert_eq!(
        origin.count(),
        0,
        "an ambiguous request reached the origin: {:?}",
        origin.received()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_headers_and_bodies_are_refused() {
    let origin = Origin::start("one").await;
    let text = config(&origin, "")
        + "\n[limits]\nmax_request_header_bytes = 4096\nmax_request_body_bytes = 1000\n";
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let big_header = Request::get(proxy.url("/"))
        .header("x-big", "a".repeat(20_000))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        send(&c, big_header).await.map(|a| a.status).unwrap_or(431),
        431
    );
    let big_body = Request::post(proxy.url("/"))
        .body(Full::new(Bytes::from(vec![b'x'; 5000])))
        .unwrap();
    assert_eq!(send(&c, big_body).await.unwrap().status, 413);
    let chunked = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n7d0\r\n{}\r\n0\r\n\r\n",
        proxy.http,
        "y".repeat(2000)
    );
    let answer = raw(proxy.http, chunked.as_bytes(), Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert_eq!(origin.count(), 0);
}

/// An origin that speaks HTTP/1.0 (and closes after each answer), as
/// Python's `http.server` and some legacy back ends do.
async fn http10_origin() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1
                {
                    head.push(byte[0]);
                }
                let _ = stream
                    .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nold ok")
                    .await;
            });
        }
    });
    (addr, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http10_origin_answer_reaches_an_http11_client_as_http11_on_a_kept_connection() {
    let (origin, task) = http10_origin().await;
    let proxy = Proxy::start(&format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
name = "http"
listen = "{{http}}"

[upstreams.legacy]
endpoints = [{{ address = "{origin}" }}]

[[routes]]
name = "legacy"
upstream = "legacy"
"#
    ));
    let two_requests = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    let reply = ravelin_tests::adversary::exchange(
        proxy.http,
        two_requests,
        Duration::from_millis(500),
        Duration::from_secs(10),
    )
    .await;
    let text = reply.text();
    assert_eq!(
        text.matches("HTTP/1.1 200 OK").count(),
        2,
        "both requests answered as HTTP/1.1 on one connection: {text}"
    );
    assert!(!text.contains("HTTP/1.0"), "{text}");
    task.abort();
}

/// Reads one response with a `content-length` body from a raw connection.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
            .await
            .expect("a response head within 5 s")
            .unwrap();
        assert_eq!(
            n,
            1,
            "connection closed mid-head: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8_lossy(&body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_went_quiet_serves_its_next_requests_and_upgrades() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let origin = Origin::start("quiet").await;
    let proxy = Proxy::start(&config(&origin, ""));
    let mut stream = tokio::net::TcpStream::connect(proxy.http).await.unwrap();
    stream
        .write_all(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut stream).await.starts_with("http/1.1 200"));
    // Quiet for longer than the proxy keeps a connection's hyper state;
    // then a head in two pieces, the first of which wakes it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stream.write_all(b"GET /tw").await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream
        .write_all(b"o HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let second = read_response(&mut stream).await;
    assert!(second.starts_with("http/1.1 200"), "{second}");
    // Two pipelined requests after another quiet spell: both answered.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stream
        .write_all(b"GET /three HTTP/1.1\r\nHost: x\r\n\r\nGET /four HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_response(&mut stream).await.starts_with("http/1.1 200"));
    assert!(read_response(&mut stream).await.starts_with("http/1.1 200"));
    // And an upgrade on the same connection, after one more.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    stream
        .write_all(b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        .await
        .unwrap();
    let upgraded = read_response(&mut stream).await;
    assert!(upgraded.starts_with("http/1.1 101"), "{upgraded}");
    stream.write_all(b"through").await.unwrap();
    let mut echoed = [0u8; 7];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut echoed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echoed, b"through");
    let paths: Vec<String> = origin
        .received()
        .iter()
        .map(|r| r.uri.to_string())
        .collect();
    assert_eq!(paths, ["/one", "/two", "/three", "/four", "/chat"]);
}
