//! The `ratelimit` plugin in the real proxy: each algorithm refuses past
//! its quota with 429, `Retry-After` and the draft-09 fields; several
//! limits on one route; keys by network, header, attribute and route;
//! 500 concurrent requests against a limit of 100 pass exactly 100, on the
//! memory store and across two proxies sharing a real Redis; a failing kv
//! store lets requests through (or refuses them, as configured); bad
//! configs are refused at load.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, Answer, HttpsClient, send};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};
use ravelin_tests::redis::RedisServer;

/// A config running `chain` of `tables`, with `extra` tables (`[kv]`)
/// and 127.0.0.1 as a trusted proxy (so tests choose client addresses).
fn config(origin: &Origin, tables: &str, chain: &[&str], extra: &str) -> String {
    let server = "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n";
    format!(
        "{server}{}\n{extra}",
        plugin_chain_config(origin.addr, tables, chain)
    )
}

/// A proxy running `ratelimit` alone with `settings`.
fn start(origin: &Origin, settings: &str) -> Proxy {
    let tables = plugin_table("ratelimit", guests::RATELIMIT, settings);
    Proxy::start(&config(origin, &tables, &["ratelimit"], ""))
}

async fn get(c: &HttpsClient, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(c, request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("an answer")
}

/// The statuses of `n` requests to `/` in a row.
async fn statuses(proxy: &Proxy, n: usize, headers: &[(&str, &str)]) -> Vec<u16> {
    let c = client::client(None, false);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(get(&c, &proxy.url("/"), headers).await.status);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_bucket_refuses_past_its_burst_with_retry_after_and_fields() {
    let origin = Origin::start("app").await;
    let proxy = start(
        &origin,
        r#"{ limits = [{ name = "slow", rate = 1, per = "1m", burst = 3 }] }"#,
    );
    let c = client::client(None, false);
    let first = get(&c, &proxy.url("/"), &[]).await;
    assert_eq!(first.status, 200, "{}", proxy.log());
    assert_eq!(first.header("ratelimit-policy"), Some(r#""slow";q=1;w=60"#));
    assert_eq!(first.header("ratelimit"), Some(r#""slow";r=2;t=60"#));
    assert_eq!(statuses(&proxy, 2, &[]).await, [200, 200]);
    let refused = get(&c, &proxy.url("/"), &[]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.text(), "too many requests\n");
    assert_eq!(
        refused.header("retry-after"),
        Some("60"),
        "one token a minute"
    );
    assert_eq!(
        refused.header("ratelimit-policy"),
        Some(r#""slow";q=1;w=60"#)
    );
    // Empty now; full again (3 tokens) in three minutes.
    assert_eq!(refused.header("ratelimit"), Some(r#""slow";r=0;t=180"#));
    assert_eq!(origin.count(), 3, "refused requests never reach the origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sliding_window_refuses_past_its_quota() {
    let origin = Origin::start("app").await;
    let proxy = start(
        &origin,
        r#"{ limits = [{ algorithm = "sliding_window", rate = 3, per = "1h" }] }"#,
    );
    assert_eq!(statuses(&proxy, 5, &[]).await, [200, 200, 200, 429, 429]);
    let c = client::client(None, false);
    let refused = get(&c, &proxy.url("/"), &[]).await;
    let retry: u64 = refused
        .header("retry-after")
        .and_then(|r| r.parse().ok())
        .expect("Retry-After");
    assert!((1..=7200).contains(&retry), "{retry}");
    let state = refused.header("ratelimit").unwrap_or_default();
    assert!(state.starts_with(r#""limit0";r=0;t="#), "{state}");
}

#[tokio::test(flavor = "multi_thread")]
async fn several_limits_on_one_route_each_hold() {
    let origin = Origin::start("app").await;
    let settings = r#"{ limits = [
        { name = "fast", rate = 20, per = "1s", burst = 5 },
        { name = "hourly", algorithm = "sliding_window", rate = 7, per = "1h" } ] }"#;
    let proxy = start(&origin, &settings.replace('\n', " "));
    assert_eq!(
        statuses(&proxy, 6, &[]).await,
        [200, 200, 200, 200, 200, 429],
        "the burst"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let c = client::client(None, false);
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(get(&c, &proxy.url("/"), &[]).await);
    }
    let codes: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        codes,
        [200, 200, 429],
        "the hour's 7, refused requests not counted"
    );
    let refused = &answers[2];
    let state = refused.header("ratelimit").unwrap_or_default();
    assert!(state.contains(r#""hourly";r=0;"#), "{state}");
    let retry: u64 = refused
        .header("retry-after")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    assert!(retry > 60, "the hourly limit refused: {retry}");
}

#[tokio::test(flavor = "multi_thread")]
async fn networks_share_a_key_and_headers_key_apart() {
    let origin = Origin::start("app").await;
    let one = r#"limits = [{ rate = 1, per = "1h" }]"#;
    let by_net = start(
        &origin,
        &format!("{{ key = {{ ip_prefix = {{ v4 = 24, v6 = 64 }} }}, {one} }}"),
    );
    let xff = |ip| [("x-forwarded-for", ip)];
    assert_eq!(statuses(&by_net, 1, &xff("192.0.2.1")).await, [200]);
    assert_eq!(
        statuses(&by_net, 1, &xff("192.0.2.200")).await,
        [429],
        "the same /24"
    );
    assert_eq!(statuses(&by_net, 1, &xff("198.51.100.1")).await, [200]);
    assert_eq!(statuses(&by_net, 1, &xff("2001:db8:0:1::1")).await, [200]);
    assert_eq!(
        statuses(&by_net, 1, &xff("2001:db8:0:1::2")).await,
        [429],
        "the same /64"
    );
    let by_header = start(
        &origin,
        &format!("{{ key = {{ header = \"x-api-key\" }}, {one} }}"),
    );
    let key = |k| [("x-api-key", k)];
    assert_eq!(statuses(&by_header, 2, &key("k1")).await, [200, 429]);
    assert_eq!(statuses(&by_header, 1, &key("k2")).await, [200]);
    assert_eq!(
        statuses(&by_header, 2, &[]).await,
        [200, 429],
        "keyless requests share one count"
    );
    let by_route = start(&origin, &format!("{{ key = \"route\", {one} }}"));
    assert_eq!(statuses(&by_route, 1, &xff("192.0.2.1")).await, [200]);
    assert_eq!(
        statuses(&by_route, 1, &xff("198.51.100.1")).await,
        [429],
        "everyone shares"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attribute_set_by_an_earlier_plugin_is_a_key() {
    let origin = Origin::start("app").await;
    // The probe sets attribute `user` to `alice` on /v2/attr only.
    let settings = r#"{ key = { attribute = "user" }, missing_key = "skip", limits = [{ rate = 1, per = "1h" }] }"#;
    let tables = plugin_table("probe", guests::V2_PROBE, "{}")
        + &plugin_table("ratelimit", guests::RATELIMIT, settings);
    let proxy = Proxy::start(&config(&origin, &tables, &["probe", "ratelimit"], ""));
    let c = client::client(None, false);
    assert_eq!(
        get(&c, &proxy.url("/v2/attr"), &[]).await.status,
        200,
        "{}",
        proxy.log()
    );
    assert_eq!(
        get(&c, &proxy.url("/v2/attr"), &[]).await.status,
        429,
        "alice again"
    );
    assert_eq!(
        statuses(&proxy, 3, &[]).await,
        [200, 200, 200],
        "no user: not limited"
    );
}

/// Fires `n` concurrent `GET /` at each of `proxies` (over fresh
/// connections) and returns how many got 200; every answer must be 200 or
/// 429.
async fn concurrent_passes(proxies: &[&Proxy], n: usize) -> usize {
    let c = Arc::new(client::client(None, false));
    let mut calls = Vec::new();
    for proxy in proxies {
        for _ in 0..n {
            let (c, url) = (c.clone(), proxy.url("/"));
            calls.push(tokio::spawn(async move { get(&c, &url, &[]).await }));
        }
    }
    let mut passed = 0;
    let mut unexpected = Vec::new();
    for call in calls {
        let answer = call.await.expect("joined");
        match answer.status {
            200 => passed += 1,
            429 => {}
            other => unexpected.push(format!("{other} {:?}", answer.text())),
        }
    }
    let logs: Vec<String> = proxies.iter().map(|p| p.log()).collect();
    assert!(
        unexpected.is_empty(),
        "{} unexpected answers, first {:?}\n{}",
        unexpected.len(),
        unexpected.first(),
        logs.join("\n")
    );
    passed
}

const CONCURRENT_LIMITS: [&str; 2] = [
    r#"{ limits = [{ rate = 100, per = "1h" }] }"#,
    r#"{ limits = [{ algorithm = "sliding_window", rate = 100, per = "1h" }] }"#,
];

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_concurrent_requests_pass_exactly_the_limit() {
    let origin = Origin::start("app").await;
    for settings in CONCURRENT_LIMITS {
        let proxy = start(&origin, settings);
        let passed = concurrent_passes(&[&proxy], 500).await;
        assert_eq!(passed, 100, "{settings}:\n{}", proxy.log());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_proxies_sharing_redis_pass_exactly_the_limit_together() {
    let origin = Origin::start("app").await;
    for settings in CONCURRENT_LIMITS {
        let redis = RedisServer::start();
        let kv = format!(
            "[kv]\nbackend = \"redis\"\nurl = \"{}\"\ntimeout_ms = 5000\n",
            redis.url()
        );
        let tables = plugin_table("ratelimit", guests::RATELIMIT, settings);
        let text = config(&origin, &tables, &["ratelimit"], &kv);
        let proxies = [Proxy::start(&text), Proxy::start(&text)];
        let passed = concurrent_passes(&[&proxies[0], &proxies[1]], 250).await;
        assert_eq!(
            passed,
            100,
            "{settings}:\n{}\n{}",
            proxies[0].log(),
            proxies[1].log()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_kv_store_lets_requests_through_unless_told_to_refuse() {
    let origin = Origin::start("app").await;
    let mut redis = RedisServer::start();
    let kv = format!(
        "[kv]\nbackend = \"redis\"\nurl = \"{}\"\ntimeout_ms = 100\n",
        redis.url()
    );
    redis.stop();
    let one = r#"limits = [{ rate = 1, per = "1h" }]"#;
    let open = plugin_table("ratelimit", guests::RATELIMIT, &format!("{{ {one} }}"));
    let proxy = Proxy::start(&config(&origin, &open, &["ratelimit"], &kv));
    assert_eq!(
        statuses(&proxy, 3, &[]).await,
        [200, 200, 200],
        "fail open by default"
    );
    assert!(
        proxy.wait_for_log("ratelimit: kv store failed", Duration::from_secs(5)),
        "{}",
        proxy.log()
    );
    let closed = plugin_table(
        "ratelimit",
        guests::RATELIMIT,
        &format!("{{ on_kv_error = \"deny\", {one} }}"),
    );
    let proxy = Proxy::start(&config(&origin, &closed, &["ratelimit"], &kv));
    let c = client::client(None, false);
    let refused = get(&c, &proxy.url("/"), &[]).await;
    assert_eq!(
        (refused.status, refused.text().as_str()),
        (503, "rate limit unavailable\n")
    );
}

#[test]
fn bad_configs_are_refused_at_load_naming_the_limit() {
    for (settings, expected) in [
        ("{ limits = [] }", "ratelimit: limits is empty"),
        (
            r#"{ limits = [{ rate = 0, per = "1s" }] }"#,
            "limits[0] (limit0): rate 0",
        ),
        (
            r#"{ limits = [{ name = "h", rate = 5, per = "1w" }] }"#,
            "limits[0] (h): per \"1w\": the unit must be",
        ),
        (
            r#"{ key = "cookie", limits = [{ rate = 1, per = 1 }] }"#,
            "unknown variant `cookie`",
        ),
    ] {
        let tables = plugin_table("ratelimit", guests::RATELIMIT, settings);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["ratelimit"],
        ));
        assert!(!ok && said.contains(expected), "{settings}: {said}");
    }
}
