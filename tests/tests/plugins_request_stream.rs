//! Request bodies streamed through plugins (`want-body(chunked)` from
//! `on-request`): an upload is transformed chunk by chunk on its way to the
//! origin in bounded memory, and a plugin that finds something mid-body
//! answers the client and abandons the upstream request.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ravelin_test_guests as guests;
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{plugin_chain_config, plugin_table};
use ravelin_tests::{Proxy, RssPeak, rss};

const MIB: usize = 1 << 20;

type Upload = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// A proxy in front of `origin` whose route runs the stream-upper plugin,
/// accepting request bodies up to 256 MiB.
fn proxy(origin: &Origin) -> Proxy {
    let tables = plugin_table("upper", guests::STREAM_UPPER, "{}");
    let config = plugin_chain_config(origin.addr, &tables, &["upper"]);
    Proxy::start(&format!(
        "[limits]\nmax_request_body_bytes = {}\n{config}",
        256 * MIB
    ))
}

/// `total` bytes of `a`–`z` in 64 KiB chunks, then `tail`.
fn upload(total: usize, tail: &'static [u8]) -> Upload {
    let chunk = Bytes::from(
        (0..64 * 1024)
            .map(|i| b'a' + (i % 26) as u8)
            .collect::<Vec<u8>>(),
    );
    let chunks = (0..total / chunk.len()).map(move |_| chunk.clone());
    let frames = chunks
        .chain(std::iter::once(Bytes::from_static(tail)))
        .map(|data| Ok::<_, std::io::Error>(Frame::data(data)));
    StreamBody::new(futures_util::stream::iter(frames)).boxed()
}

async fn post(url: &str, body: Upload) -> (u16, String) {
    let client: Client<HttpConnector, Upload> = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::post(url)
        .header("x-upper-request", "1")
        .body(body)
        .expect("request");
    let response = tokio::time::timeout(Duration::from_secs(60), client.request(request))
        .await
        .expect("in time")
        .expect("a response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_is_transformed_on_its_way_upstream_in_bounded_memory() {
    let origin = Origin::start("app").await;
    let proxy = proxy(&origin);
    let url = proxy.url("/upload");
    let _ = post(&url, upload(0, b"warm")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss(proxy.pid());
    let peak = RssPeak::watch(proxy.pid());
    let total = 64 * MIB;
    let (status, _) = post(&url, upload(total, b"end")).await;
    let peak = peak.stop();
    assert_eq!(status, 200, "{}", proxy.log());
    let received = origin
        .received()
        .last()
        .expect("the origin got it")
        .body
        .clone();
    assert_eq!(received.len(), total + 3);
    assert!(
        !received.iter().any(u8::is_ascii_lowercase),
        "every letter was uppercased"
    );
    assert!(received.ends_with(b"END"));
    let grown = peak.saturating_sub(idle);
    println!(
        "64 MiB upload through a plugin: RSS peak +{} MiB",
        grown / MIB as u64
    );
    assert!(grown < 64 * MIB as u64, "RSS grew {grown} bytes above idle");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_refusing_a_chunk_answers_and_the_upstream_never_gets_the_whole_body() {
    let origin = Origin::start("app").await;
    let proxy = proxy(&origin);
    let (status, body) = post(&proxy.url("/upload"), upload(4 * MIB, b"x eicar x")).await;
    assert_eq!(
        (status, body.as_str()),
        (403, "upload refused"),
        "{}",
        proxy.log()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        origin.received().iter().all(|r| r.body.len() < 4 * MIB),
        "the origin never saw a complete upload"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_the_ask_passes_untouched() {
    let origin = Origin::start("app").await;
    let proxy = proxy(&origin);
    let client: Client<HttpConnector, Upload> = Client::builder(TokioExecutor::new()).build_http();
    let request = Request::post(proxy.url("/plain"))
        .body(upload(0, b"lower case"))
        .expect("request");
    let response = client.request(request).await.expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(
        &origin.received().last().expect("got it").body[..],
        b"lower case"
    );
}
