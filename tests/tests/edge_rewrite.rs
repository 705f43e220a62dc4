//! The `rewrite` plugin in the real proxy: path rewrites with captures as
//! the origin sees them, per route from one instance each; every redirect status answered with its
//! `Location` without reaching the origin; request and response headers
//! set, added and removed byte for byte; query parameters removed, renamed,
//! set and added upstream; HTML bodies substituted as they stream, with
//! matches split across the origin's chunks, other types and encoded
//! bodies untouched, and a 32 MiB body through in bounded memory; bad
//! configs refused at load with the key that is wrong.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use ravelin_test_guests as guests;
use ravelin_tests::client::{self, Answer, send};
use ravelin_tests::origin::{self, Body, Origin};
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};
use ravelin_tests::{Proxy, RssPeak, rss};

const MIB: usize = 1 << 20;

/// A proxy running `rewrite` alone with `settings` in front of `origin`.
fn start(origin: &Origin, settings: &str) -> Proxy {
    let tables = plugin_table("rewrite", guests::REWRITE, settings);
    Proxy::start(&plugin_chain_config(origin.addr, &tables, &["rewrite"]))
}

async fn exchange(proxy: &Proxy, method: &str, target: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(method).uri(proxy.url(target));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let c = client::client(None, false);
    send(&c, request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("an answer")
}

async fn get(proxy: &Proxy, target: &str) -> Answer {
    exchange(proxy, "GET", target, &[]).await
}

/// The path and query of the last request the origin saw.
fn last_target(origin: &Origin) -> String {
    let received = origin.received();
    let last = received.last().expect("the origin was reached");
    last.uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn path_rewrites_with_captures_are_what_the_origin_sees() {
    let origin = Origin::start("app").await;
    let rules = r#"{ rules = [
        { path = '^/blog/(?<year>\d{4})/(?<slug>[a-z-]+)$', rewrite = "/posts/${slug}?year=${year}" },
        { path = '^/api(/.*)?$', rewrite = "/v2$1", continue = true },
        { path = '^/v2/internal/', rewrite = "/v2/private/", keep_query = false },
        { path_prefix = "/post-only", methods = ["POST"], rewrite = "/posted" } ] }"#;
    let proxy = start(&origin, &rules.replace('\n', " "));
    assert_eq!(
        get(&proxy, "/blog/2024/hello-world?ref=x").await.status,
        200,
        "{}",
        proxy.log()
    );
    assert_eq!(last_target(&origin), "/posts/hello-world?year=2024&ref=x");
    get(&proxy, "/api/items?page=2").await;
    assert_eq!(
        last_target(&origin),
        "/v2/items?page=2",
        "the query is kept"
    );
    get(&proxy, "/api/internal/x?page=2").await;
    assert_eq!(
        last_target(&origin),
        "/v2/private/",
        "a continued rule feeds the next"
    );
    get(&proxy, "/post-only/a").await;
    assert_eq!(last_target(&origin), "/post-only/a", "GET is not rewritten");
    exchange(&proxy, "POST", "/post-only/a", &[]).await;
    assert_eq!(last_target(&origin), "/posted");
    get(&proxy, "/blog/2024/Not_Matched").await;
    assert_eq!(last_target(&origin), "/blog/2024/Not_Matched");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_route_runs_its_own_instance_with_its_own_rules() {
    let origin = Origin::start("app").await;
    let shop = r#"{ rules = [{ path = '^/shop/(.*)$', rewrite = "/store/$1" }], response = { set = { x-site = "shop" } } }"#;
    let main = r#"{ rules = [{ path = '^/(.*)$', rewrite = "/main/$1" }], response = { set = { x-site = "main" } } }"#;
    let config = format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

{}{}
[[routes]]
path_prefix = "/shop"
upstream = "app"
plugins = ["rewrite-shop"]

[[routes]]
upstream = "app"
plugins = ["rewrite-main"]
"#,
        origin.addr,
        plugin_table("rewrite-shop", guests::REWRITE, shop),
        plugin_table("rewrite-main", guests::REWRITE, main),
    );
    let proxy = Proxy::start(&config);
    let answer = get(&proxy, "/shop/cart").await;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert_eq!(answer.header("x-site"), Some("shop"));
    assert_eq!(last_target(&origin), "/store/cart");
    let answer = get(&proxy, "/about").await;
    assert_eq!(answer.header("x-site"), Some("main"));
    assert_eq!(last_target(&origin), "/main/about");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_redirect_status_answers_with_its_location_and_skips_the_origin() {
    let origin = Origin::start("app").await;
    let mut rules: Vec<String> = [301, 302, 303, 307, 308]
        .iter()
        .map(|s| format!(r#"{{ path = '^/r{s}/(.*)$', redirect = "/new/$1", status = {s} }}"#))
        .collect();
    rules.push(r#"{ path_prefix = "/secure", scheme = "http", redirect = "https://{hostname}{path}", status = 308 }"#.into());
    rules.push(r#"{ path_prefix = "/bare", redirect = "/landing", keep_query = false }"#.into());
    let proxy = start(&origin, &format!("{{ rules = [{}] }}", rules.join(", ")));
    for status in [301, 302, 303, 307, 308] {
        let answer = get(&proxy, &format!("/r{status}/a/b?x=1&y=%20")).await;
        assert_eq!(answer.status, status, "{}", proxy.log());
        assert_eq!(answer.header("location"), Some("/new/a/b?x=1&y=%20"));
    }
    let answer = get(&proxy, "/secure/area?tab=2").await;
    assert_eq!(answer.status, 308);
    assert_eq!(
        answer.header("location"),
        Some("https://127.0.0.1/secure/area?tab=2")
    );
    let answer = get(&proxy, "/bare?x=1").await;
    assert_eq!(
        (answer.status, answer.header("location")),
        (302, Some("/landing"))
    );
    assert_eq!(origin.count(), 0, "no redirect reached the origin");
    assert_eq!(get(&proxy, "/elsewhere").await.status, 200);
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_are_set_added_and_removed_both_ways_byte_for_byte() {
    let origin = Origin::serve("app", |_| async {
        let mut response = origin::respond(200, "app");
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-internal", "secret"),
            ("x-tag", "origin"),
            ("x-keep", "k"),
        ] {
            headers.append(name, http::HeaderValue::from_static(value));
        }
        response
    })
    .await;
    let settings = r#"{
        request = { set = { x-user = "café \"quoted\"  {x}" }, add = { x-tag = ["a", "b"] }, remove = ["cookie"] },
        response = { set = { x-tag = "proxy" }, add = { x-powered-by = "ravelin" }, remove = ["x-internal"] } }"#;
    let proxy = start(&origin, &settings.replace('\n', " "));
    let client_headers = [("x-user", "forged"), ("x-tag", "client"), ("cookie", "s=1")];
    let answer = exchange(&proxy, "GET", "/", &client_headers).await;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    let seen = &origin.received()[0].headers;
    assert_eq!(
        seen.get("x-user").map(|v| v.as_bytes()),
        Some("café \"quoted\"  {x}".as_bytes()),
        "set replaces the client's value, byte for byte"
    );
    let tags: Vec<&[u8]> = seen.get_all("x-tag").iter().map(|v| v.as_bytes()).collect();
    assert_eq!(tags, [&b"client"[..], b"a", b"b"], "add appends in order");
    assert!(seen.get("cookie").is_none());
    assert_eq!(answer.header("x-tag"), Some("proxy"));
    assert_eq!(answer.header("x-powered-by"), Some("ravelin"));
    assert_eq!(answer.header("x-keep"), Some("k"));
    assert!(answer.headers.get("x-internal").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn query_parameters_are_removed_renamed_set_and_added_upstream() {
    let origin = Origin::start("app").await;
    let settings = r#"{ query = { remove = ["utm_source", "utm_medium"], rename = { q = "query" }, set = { page = "1" }, add = { src = "edge proxy" } } }"#;
    let proxy = start(&origin, settings);
    get(
        &proxy,
        "/search?b=%2F%2f&utm_source=x&q=a+b&page=7&flag&utm%5Fmedium=m&page=9",
    )
    .await;
    assert_eq!(
        last_target(&origin),
        "/search?b=%2F%2f&query=a+b&page=1&flag&src=edge%20proxy",
        "the other parameters keep their order and encoding"
    );
    get(&proxy, "/plain").await;
    assert_eq!(last_target(&origin), "/plain?page=1&src=edge%20proxy");
}

/// A response of `content_type` whose body the origin sends as `parts`,
/// one chunk each, 30 ms apart (so each reaches the proxy on its own).
fn chunked(content_type: &'static str, parts: Vec<&'static str>) -> http::Response<Body> {
    let frames =
        futures_util::StreamExt::then(futures_util::stream::iter(parts), |part| async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(part.as_bytes())))
        });
    let mut response = http::Response::new(BodyExt::boxed(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert("content-type", http::HeaderValue::from_static(content_type));
    headers.insert("etag", http::HeaderValue::from_static("\"v1\""));
    response
}

const SUBSTITUTIONS: &str = r#"{ body = { substitutions = [
    { find = "http://old.example", replace = "https://new.example" },
    { regex = '<title>(?<t>[^<]*)</title>', replace = "<title>${t} | Ravelin</title>" } ] } }"#;

#[tokio::test(flavor = "multi_thread")]
async fn html_is_substituted_across_the_origins_chunk_boundaries() {
    let origin = Origin::serve("app", |r| async move {
        let content_type = match r.uri.path() {
            "/page" => "text/html; charset=utf-8",
            _ => "application/json",
        };
        chunked(
            content_type,
            vec![
                "<html><ti",
                "tle>Home</ti",
                "tle><a href=\"http://old.ex",
                "ample/a\">x</a> http://old.example",
                "/b http://old.",
                "example</html>",
            ],
        )
    })
    .await;
    let proxy = start(&origin, &SUBSTITUTIONS.replace('\n', " "));
    let answer = get(&proxy, "/page").await;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert_eq!(
        answer.text(),
        "<html><title>Home | Ravelin</title><a href=\"https://new.example/a\">x</a> \
         https://new.example/b https://new.example</html>"
    );
    assert_eq!(
        answer.header("etag"),
        Some("W/\"v1\""),
        "the body is no longer the origin's"
    );
    assert!(answer.headers.get("content-length").is_none());
    // The origin is asked for plain bytes; the proxy compresses afterwards.
    let gzip = exchange(&proxy, "GET", "/page", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let received = origin.received();
    assert!(
        received
            .iter()
            .all(|r| r.headers.get("accept-encoding").is_none())
    );
    let json = get(&proxy, "/data").await;
    assert_eq!(
        json.text(),
        "<html><title>Home</title><a href=\"http://old.example/a\">x</a> \
         http://old.example/b http://old.example</html>",
        "other types pass untouched"
    );
    assert_eq!(json.header("etag"), Some("\"v1\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encoded_body_or_a_head_response_is_left_alone() {
    let origin = Origin::serve("app", |_| async {
        let mut response = origin::respond(200, "http://old.example");
        let headers = response.headers_mut();
        headers.insert("content-type", http::HeaderValue::from_static("text/html"));
        headers.insert("content-encoding", http::HeaderValue::from_static("br"));
        response
    })
    .await;
    let proxy = start(&origin, &SUBSTITUTIONS.replace('\n', " "));
    let answer = get(&proxy, "/").await;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert_eq!(
        answer.text(),
        "http://old.example",
        "bytes the plugin cannot read"
    );
    assert_eq!(answer.header("content-length"), Some("18"));
    let head = exchange(&proxy, "HEAD", "/", &[]).await;
    assert_eq!((head.status, head.body.len()), (200, 0));
}

/// A body of about `total` bytes in 64 KiB chunks where every chunk
/// boundary splits `old-brand`, and a few more inside each chunk.
fn branded_body(total: usize) -> Vec<Bytes> {
    let filler: String = (0..64 * 1024 / 16)
        .map(|i| format!("<p>{i:08} old</p>"))
        .collect();
    let middle = format!("and {filler} old-brand {filler} old-br");
    let mut chunks = vec![Bytes::from(format!("<html>{filler} old-br"))];
    while chunks.iter().map(Bytes::len).sum::<usize>() < total {
        chunks.push(Bytes::from(middle.clone()));
    }
    chunks.push(Bytes::from_static(b"and</html>"));
    chunks
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_streamed_body_is_substituted_in_bounded_memory() {
    let chunks = branded_body(32 * MIB);
    let whole: Vec<u8> = chunks.concat();
    let want = String::from_utf8(whole)
        .expect("utf-8")
        .replace("old-brand", "new-brand!");
    let served = chunks.clone();
    let origin = Origin::serve("app", move |_| {
        let frames = served
            .clone()
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Frame::data(c)));
        async move {
            let mut response = http::Response::new(BodyExt::boxed(StreamBody::new(
                futures_util::stream::iter(frames),
            )));
            response
                .headers_mut()
                .insert("content-type", http::HeaderValue::from_static("text/html"));
            response
        }
    })
    .await;
    let settings =
        r#"{ body = { substitutions = [{ find = "old-brand", replace = "new-brand!" }] } }"#;
    let proxy = start(&origin, settings);
    let _ = get(&proxy, "/warm").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = rss(proxy.pid());
    let peak = RssPeak::watch(proxy.pid());
    let answer = get(&proxy, "/big").await;
    let peak = peak.stop();
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert!(answer.headers.get("content-length").is_none());
    assert_eq!(answer.body.len(), want.len());
    assert!(
        answer.body == want.as_bytes(),
        "the body arrived intact, every match replaced"
    );
    let grown = peak.saturating_sub(idle);
    println!(
        "32 MiB body substituted: RSS peak +{} MiB",
        grown / MIB as u64
    );
    assert!(grown < 16 * MIB as u64, "RSS grew {grown} bytes above idle");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_configs_are_refused_at_load_naming_the_key() {
    let cases = [
        (
            r#"{ rules = [{ path = "(", rewrite = "/" }] }"#,
            "rules[0]: path: bad regex",
        ),
        (
            r#"{ rules = [{ redirect = "/", status = 200 }] }"#,
            "rules[0]: status 200 is not a redirect",
        ),
        (
            r#"{ rules = [{ path = "^/(a)$", rewrite = "/$2" }] }"#,
            "rules[0]: rewrite: $2: the regex has 1 capture group",
        ),
        (
            r#"{ rules = [{ redirect = "{nope}" }] }"#,
            "unknown variable {nope}",
        ),
        (
            r#"{ rules = [{ path = "^/" }] }"#,
            "needs exactly one of rewrite or redirect",
        ),
        (
            r#"{ rules = [{ rewrite = "/a b" }] }"#,
            "' ' may not appear in a URL",
        ),
        (
            r#"{ strip_prefix = "/api" }"#,
            "unknown field `strip_prefix`",
        ),
        (
            r#"{ request = { set = { "bad name" = "x" } } }"#,
            "\"bad name\" is not a valid header name",
        ),
        (
            r#"{ body = { substitutions = [{ regex = "x*", replace = "" }] } }"#,
            "can match the empty string",
        ),
        (
            r#"{ body = { substitutions = [{ regex = "[", replace = "" }] } }"#,
            "body.substitutions[0]: regex: bad regex",
        ),
        (
            r#"{ body = { substitutions = [], max_match_bytes = 10 } }"#,
            "body.substitutions is empty",
        ),
    ];
    for (config, expected) in cases {
        let tables = plugin_table("rewrite", guests::REWRITE, config);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["rewrite"],
        ));
        assert!(!ok && said.contains(expected), "{config}: {said}");
    }
}
