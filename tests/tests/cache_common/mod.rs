//! What the `cache` end-to-end tests share: a proxy running the plugin,
//! origins answering with chosen headers, requests and their `X-Cache`,
//! purges, and a Redis-backed `[kv]`.

// Each test binary uses part of it.
#![allow(dead_code)]

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, Answer, HttpsClient, send};
use ravelin_tests::origin::{Body, Origin};
use ravelin_tests::proxy::{plugin_chain_config, plugin_table};
use ravelin_tests::redis::RedisServer;

/// SHA-256 of the purge token `s3cret`.
pub const TOKEN_SHA256: &str = "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";

/// A proxy running `cache` with `settings` in front of `origin`, with
/// `extra` tables (`[kv]`).
pub fn start_with(origin: &Origin, settings: &str, extra: &str) -> Proxy {
    let tables = plugin_table("cache", guests::CACHE, settings);
    let text = format!(
        "{}\n{extra}",
        plugin_chain_config(origin.addr, &tables, &["cache"])
    );
    Proxy::start(&text)
}

pub fn start(origin: &Origin, settings: &str) -> Proxy {
    start_with(origin, settings, "")
}

/// A response with `status`, `headers` and `text`.
pub fn reply(status: u16, headers: &[(&str, &str)], text: impl Into<Bytes>) -> Response<Body> {
    let mut response = ravelin_tests::origin::respond(status, text);
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("header name");
        let value = value.parse().expect("header value");
        response.headers_mut().append(name, value);
    }
    response
}

/// An origin answering every request with `headers` and the body `text`.
pub async fn origin_with(
    headers: &'static [(&'static str, &'static str)],
    text: &'static str,
) -> Origin {
    Origin::serve("app", move |_| async move { reply(200, headers, text) }).await
}

pub async fn request(
    c: &HttpsClient,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(c, request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("an answer")
}

pub async fn get(c: &HttpsClient, url: &str, headers: &[(&str, &str)]) -> Answer {
    request(c, Method::GET, url, headers).await
}

/// The `X-Cache` of each of `n` GETs of `path` in a row.
pub async fn x_caches(
    proxy: &Proxy,
    path: &str,
    n: usize,
    headers: &[(&str, &str)],
) -> Vec<String> {
    let c = client::client(None, false);
    let mut out = Vec::new();
    for _ in 0..n {
        let answer = get(&c, &proxy.url(path), headers).await;
        out.push(answer.header("x-cache").unwrap_or("-").to_string());
    }
    out
}

pub fn age(answer: &Answer) -> u64 {
    answer
        .header("age")
        .and_then(|a| a.parse().ok())
        .expect("an Age")
}

/// The purge settings: a token, and only loopback clients.
pub const PURGE: &str =
    "{ purge = { path = \"/.cache/purge\", token_sha256 = \"TOKEN\", allow = [\"127.0.0.0/8\"] } }";

pub fn purge_settings() -> String {
    PURGE.replace("TOKEN", TOKEN_SHA256)
}

pub async fn purge(c: &HttpsClient, proxy: &Proxy, query: &str, token: Option<&str>) -> Answer {
    let url = proxy.url(&format!("/.cache/purge?{query}"));
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    request(
        c,
        Method::from_bytes(b"PURGE").expect("method"),
        &url,
        &headers,
    )
    .await
}

pub fn redis_kv(redis: &RedisServer, timeout_ms: u64) -> String {
    format!(
        "[kv]\nbackend = \"redis\"\nurl = \"{}\"\ntimeout_ms = {timeout_ms}\n",
        redis.url()
    )
}
