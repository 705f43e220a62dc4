//! Trailers through the real proxy, over HTTP/2 end to end (gRPC's shape):
//! they reach the client untouched past a plugin that ignores the body,
//! are rewritten by a streaming plugin's last chunk hook, and a plugin that
//! reads the request body whole sees the client's request trailers.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::proxy::{plugin_chain_config, plugin_table};
use std::time::Duration;

type FramedBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// `data` then `trailers`, as one body.
fn framed(data: &'static str, trailers: &[(&'static str, &'static str)]) -> FramedBody {
    let map: HeaderMap = trailers
        .iter()
        .map(|(n, v)| {
            (
                http::HeaderName::from_static(n),
                HeaderValue::from_static(v),
            )
        })
        .collect();
    let frames = [Frame::data(Bytes::from(data)), Frame::trailers(map)];
    StreamBody::new(futures_util::stream::iter(frames.into_iter().map(Ok))).boxed()
}

/// An h2c origin answering `hello` with trailers `grpc-status: 0` and
/// `grpc-message: fine`.
async fn grpc_like_origin() -> Origin {
    Origin::serve("grpc", |_| async {
        let mut response = http::Response::new(framed(
            "hello",
            &[("grpc-status", "0"), ("grpc-message", "fine")],
        ));
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("application/grpc"));
        response
    })
    .await
}

/// A proxy reaching `origin` over h2c, whose route runs `chain`.
fn h2_proxy(origin: &Origin, tables: &str, chain: &[&str]) -> Proxy {
    let config = plugin_chain_config(origin.addr, tables, chain).replace(
        "[upstreams.app]\n",
        "[upstreams.app]\nprotocol = \"http2\"\n",
    );
    Proxy::start(&config)
}

/// Sends `request` over h2c prior knowledge; the status, body and trailers.
async fn exchange(url: &str, body: FramedBody) -> (u16, String, HeaderMap) {
    let client: Client<HttpConnector, FramedBody> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let request = Request::post(url).body(body).expect("request");
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .expect("in time")
        .expect("a response");
    let status = response.status().as_u16();
    let collected = response.into_body().collect().await.expect("the body");
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let text = String::from_utf8_lossy(&collected.to_bytes()).into_owned();
    (status, text, trailers)
}

fn trailer<'a>(trailers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    trailers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn response_trailers_pass_a_plugin_that_leaves_the_body_alone() {
    let origin = grpc_like_origin().await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = h2_proxy(&origin, &tables, &["probe"]);
    let (status, body, trailers) = exchange(&proxy.url("/svc/Call"), framed("", &[])).await;
    assert_eq!((status, body.as_str()), (200, "hello"), "{}", proxy.log());
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"));
    assert_eq!(trailer(&trailers, "grpc-message"), Some("fine"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streaming_plugin_rewrites_the_response_trailers_at_the_end() {
    let origin = grpc_like_origin().await;
    let tables = plugin_table("upper", guests::STREAM_UPPER, "{}");
    let proxy = h2_proxy(&origin, &tables, &["upper"]);
    let (status, body, trailers) = exchange(&proxy.url("/svc/Call"), framed("", &[])).await;
    assert_eq!((status, body.as_str()), (200, "HELLO"), "{}", proxy.log());
    assert_eq!(trailer(&trailers, "grpc-message"), Some("FINE"));
    assert_eq!(trailer(&trailers, "grpc-status"), Some("0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_reading_the_request_body_whole_sees_its_trailers() {
    let origin = origin_plain().await;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}");
    let proxy = h2_proxy(&origin, &tables, &["probe"]);
    let url = proxy.url("/v2/body-whole");
    let (status, body, _) = exchange(&url, framed("0123456789", &[("x-check", "1")])).await;
    assert_eq!(status, 200, "{}", proxy.log());
    assert_eq!(
        body,
        "len=10 truncated=false trailers=x-check:1;x-probe:seen set=ok"
    );
}

async fn origin_plain() -> Origin {
    Origin::serve("app", |_| async { origin::respond(200, "app") }).await
}
