//! Plugins through the real proxy: the first-party chain (waf, auth,
//! rewrite), short-circuits that skip the upstream, host imports (kv,
//! outbound) and fault policies. Hot swaps and a trapping plugin under load
//! are in `faults_load.rs`, with the other faults under load.

use std::time::Duration;

use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, get, send};
use ravelin_tests::origin::{self, Origin};

/// One worker: these tests also cover the current-thread runtime (the
/// other suites run the default multi-thread one).
fn base(origin: &Origin) -> String {
    format!(
        r#"
[server]
worker_threads = 1

[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]
"#,
        origin.addr
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn first_party_chain_blocks_authenticates_and_rewrites() {
    let origin = Origin::start("app").await;
    let text = base(&origin)
        + &format!(
            r#"
[plugins.waf]
source = "{}"
config = {{ block_path_prefixes = ["/admin"], block_patterns = ["<script"] }}

[plugins.auth]
source = "{}"
config = {{ bearer_tokens = ["sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"] }}

[plugins.rewrite]
source = "{}"
config = {{ request = {{ set = {{ x-from = "ravelin" }} }}, response = {{ set = {{ x-rewritten = "yes" }} }} }}

[[routes]]
upstream = "app"
plugins = ["waf", "auth", "rewrite"]
"#,
            guests::WAF,
            guests::AUTH,
            guests::REWRITE
        );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let ask = |path: &str, token: Option<&str>| {
        let mut r = Request::get(proxy.url(path));
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(Full::default()).unwrap()
    };
    assert_eq!(
        send(&c, ask("/admin/users", Some("s3cret")))
            .await
            .unwrap()
            .status,
        403
    );
    assert_eq!(
        send(&c, ask("/q?x=%3Cscript%3E", Some("s3cret")))
            .await
            .unwrap()
            .status,
        403
    );
    assert_eq!(send(&c, ask("/ok", None)).await.unwrap().status, 401);
    assert_eq!(
        send(&c, ask("/ok", Some("wrong"))).await.unwrap().status,
        401
    );
    assert_eq!(origin.count(), 0, "refused requests never reach the origin");
    let answer = send(&c, ask("/ok", Some("s3cret"))).await.unwrap();
    assert_eq!(
        (answer.status, answer.header("x-rewritten")),
        (200, Some("yes"))
    );
    assert_eq!(origin.received()[0].headers["x-from"], "ravelin");
    let (_, listing) = proxy.admin("/plugins");
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    let names: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{listing}");
    assert!(
        listing[0]["digest"].as_str().unwrap().len() >= 32,
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn short_circuit_kv_and_outbound_through_the_proxy() {
    let origin = Origin::start("app").await;
    let side = Origin::start("introspection").await;
    let text = base(&origin)
        + &format!(
            r#"
[upstreams.side]
endpoints = [{{ address = "{}" }}]

[plugins.probe]
source = "{}"
allowed_upstreams = ["side"]

[[routes]]
upstream = "app"
plugins = ["probe"]
"#,
            side.addr,
            guests::PROBE
        );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let short = get(&c, &proxy.url("/respond")).await.unwrap();
    assert_eq!((short.status, short.header("x-short")), (418, Some("yes")));
    assert_eq!(origin.count(), 0, "a plugin's answer skips the upstream");
    let first = get(&c, &proxy.url("/count")).await.unwrap().text();
    let second = get(&c, &proxy.url("/count")).await.unwrap().text();
    assert_ne!(
        first, second,
        "the kv counter persists across requests: {first} / {second}"
    );
    let outbound = get(&c, &proxy.url("/outbound?side")).await.unwrap();
    assert_eq!(
        outbound.text(),
        "introspection",
        "outbound reached the allowed upstream"
    );
    assert_eq!(side.count(), 1);
    assert_eq!(get(&c, &proxy.url("/passes")).await.unwrap().text(), "app");
}

#[tokio::test(flavor = "multi_thread")]
async fn faulty_plugins_fail_closed_or_open_and_other_routes_keep_serving() {
    let origin = Origin::start("app").await;
    let text = base(&origin)
        + &format!(
            r#"
[plugins.closed]
source = "{faults}"
config = {{ mode = "by-path" }}
deadline_ms = 100

[plugins.open]
source = "{faults}"
config = {{ mode = "by-path" }}
deadline_ms = 100
fail = "open"

[[routes]]
hosts = ["closed.test"]
upstream = "app"
plugins = ["closed"]

[[routes]]
hosts = ["open.test"]
upstream = "app"
plugins = ["open"]

[[routes]]
upstream = "app"
"#,
            faults = guests::FAULTS
        );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let on = |host: &str, path: &str| {
        let request = Request::get(proxy.url(path)).header("host", host);
        send(&c, request.body(Full::default()).unwrap())
    };
    for fault in ["trap", "loop", "hog", "panic", "big"] {
        let path = format!("/{fault}");
        let closed = on("closed.test", &path).await.unwrap();
        assert!(
            matches!(closed.status, 502 | 503),
            "{fault}: closed gave {}",
            closed.status
        );
        assert!(closed.body.len() < 100, "{fault}: no detail in the body");
        let open = on("open.test", &path).await.unwrap();
        assert_eq!(
            (open.status, open.text().as_str()),
            (200, "app"),
            "{fault}: open skips the plugin"
        );
        let plain = on("plain.test", "/").await.unwrap();
        assert_eq!(plain.status, 200, "{fault}: other routes keep serving");
    }
    let metrics = proxy.admin("/metrics").1;
    assert!(
        metrics.contains("closed"),
        "plugin faults are counted: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn body_hooks_rewrites_logs_and_metrics_through_the_proxy() {
    let origin = Origin::serve("app", |req| async move {
        let mut response = origin::respond(200, req.body.clone());
        response
            .headers_mut()
            .insert("x-upstream", "origin".parse().unwrap());
        response
    })
    .await;
    let text = base(&origin)
        + &format!(
            r#"
[plugins.probe]
source = "{}"
request_body = true
response_body = true
max_body_kb = 64

[[routes]]
name = "probed"
upstream = "app"
plugins = ["probe"]
"#,
            guests::PROBE
        );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    let post = |path: &str, body: &'static str| {
        Request::post(proxy.url(path))
            .header("x-remove", "1")
            .body(Full::new(bytes::Bytes::from_static(body.as_bytes())))
            .unwrap()
    };
    // The request body hook upper-cases; the response body hook appends "!".
    let answer = send(&c, post("/echo", "hello")).await.unwrap();
    assert_eq!(answer.text(), "HELLO!");
    assert_eq!(answer.header("x-probe-response"), Some("seen:origin"));
    assert_eq!(origin.received()[0].body.as_ref(), b"HELLO");
    // A body the plugin refuses never reaches the origin.
    assert_eq!(send(&c, post("/echo", "block")).await.unwrap().status, 403);
    assert_eq!(origin.count(), 1);
    // Path and header edits reach the origin.
    send(&c, post("/rewrite", "x")).await.unwrap();
    let seen = &origin.received()[1];
    assert_eq!(seen.uri.to_string(), "/rewritten?from=probe");
    assert_eq!(seen.headers["x-probe"], "1");
    assert_eq!(seen.headers.get_all("x-multi").iter().count(), 2);
    assert!(!seen.headers.contains_key("x-remove"));
    // Log and metrics imports land in the proxy's log and /metrics.
    send(&c, post("/log", "x")).await.unwrap();
    send(&c, post("/metrics", "x")).await.unwrap();
    assert!(
        proxy.wait_for_log("probe says hello", Duration::from_secs(5)),
        "{}",
        proxy.log()
    );
    let metrics = proxy.admin("/metrics").1;
    assert!(
        metrics.contains(r#"ravelin_plugin_guest_total{plugin="probe",name="probe_hits"}"#),
        "plugin metrics under the documented names: {metrics}"
    );
}
