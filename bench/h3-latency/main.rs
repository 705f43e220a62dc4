//! Single-client latency, HTTP/2 against HTTP/3, through one Ravelin TLS
//! listener with `http3` on (no HTTP/3 load generator is available here:
//! Debian's h2load is built without QUIC, curl without HTTP/3).
//!
//! One client per protocol on one connection, requests sent one after the
//! other (never concurrently), alternating in blocks of 50 so both see the
//! same machine load; per case N requests each, after a warm-up. Prints a
//! Markdown table of median, p90 and p99 per case.
//!
//! Run: `bench/h3-latency/run [N]` (default N = 1000).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ravelin_tests::client::{self, HttpsClient};
use ravelin_tests::h3client::H3Client;
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::{Pki, Proxy};

const BLOCK: usize = 50;
const WARM_UP: usize = 100;

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Bytes,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let origin = Origin::serve("bench", |req| async move {
        match req.uri.path() {
            "/64k" => origin::respond(200, vec![b'x'; 65536]),
            _ => origin::respond(200, "ok"),
        }
    })
    .await;
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    pki.issue(&["127.0.0.1"], dir.path(), "server");
    let config = format!(
        r#"
[server]
access_log = "off"

[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[[listeners]]
name = "https"
listen = "{{https}}"
tls.certificates = [{{ cert = "server.pem", key = "server.key" }}]
http3 = {{}}

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
upstream = "app"
"#,
        origin.addr
    );
    let proxy = Proxy::start_in(dir, &config);
    let h2 = h2_client(pki.roots());
    let mut h3 = H3Client::connect(proxy.https, "127.0.0.1", pki.roots())
        .await
        .expect("HTTP/3 connection");
    let cases = [
        Case {
            name: "GET, 2-byte response",
            method: "GET",
            path: "/",
            body: Bytes::new(),
        },
        Case {
            name: "GET, 64 KiB response",
            method: "GET",
            path: "/64k",
            body: Bytes::new(),
        },
        Case {
            name: "POST 16 KiB, 2-byte response",
            method: "POST",
            path: "/",
            body: Bytes::from(vec![b'y'; 16384]),
        },
    ];
    println!("N = {n} sequential requests per protocol and case, one connection each\n");
    println!("| case | protocol | median | p90 | p99 |");
    println!("| --- | --- | ---: | ---: | ---: |");
    for case in &cases {
        let url = format!("https://{}{}", proxy.https, case.path);
        for _ in 0..WARM_UP {
            over_h2(&h2, case, &url).await;
            over_h3(&mut h3, case, &url).await;
        }
        let (mut t2, mut t3) = (Vec::with_capacity(n), Vec::with_capacity(n));
        while t2.len() < n {
            for _ in 0..BLOCK.min(n - t2.len()) {
                t2.push(over_h2(&h2, case, &url).await);
            }
            for _ in 0..BLOCK.min(n - t3.len()) {
                t3.push(over_h3(&mut h3, case, &url).await);
            }
        }
        for (protocol, times) in [("HTTP/2", &mut t2), ("HTTP/3", &mut t3)] {
            times.sort();
            println!(
                "| {} | {protocol} | {} | {} | {} |",
                case.name,
                micros(times, 0.5),
                micros(times, 0.9),
                micros(times, 0.99)
            );
        }
    }
}

/// An HTTP/2 client with TCP_NODELAY: without it, a request whose body
/// goes out in a second write waits for the server's delayed ACK (≈ 40 ms).
fn h2_client(roots: rustls::RootCertStore) -> HttpsClient {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http2()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(connector)
}

async fn over_h2(c: &HttpsClient, case: &Case, url: &str) -> Duration {
    let request = Request::builder()
        .method(case.method)
        .uri(url)
        .body(Full::new(case.body.clone()))
        .expect("request");
    let started = Instant::now();
    let answer = client::send(c, request).await.expect("HTTP/2 answer");
    assert_eq!(answer.status, 200);
    started.elapsed()
}

async fn over_h3(c: &mut H3Client, case: &Case, url: &str) -> Duration {
    let request = Request::builder()
        .method(case.method)
        .uri(url)
        .body(case.body.clone())
        .expect("request");
    let started = Instant::now();
    let answer = c.send(request).await.expect("HTTP/3 answer");
    assert_eq!(answer.status, 200);
    started.elapsed()
}

/// The `q` quantile of sorted `times`, in microseconds.
fn micros(times: &[Duration], q: f64) -> String {
    let index = ((times.len() as f64 - 1.0) * q).round() as usize;
    format!("{} µs", times[index].as_micros())
}
