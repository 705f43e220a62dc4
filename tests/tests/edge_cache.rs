//! The `cache` plugin in the real proxy, one proxy on the memory store:
//! HIT after MISS with `Age`, expiry, `s-maxage`, what is never stored (and
//! what is when allowed), the key, `default_ttl` and `max_total_bytes`,
//! `Vary` variants, 304s for conditional clients, revalidation, stale
//! serving (`stale-while-revalidate`, `stale-if-error`), HEAD from a stored
//! GET, invalidation by POST, and bad configs refused at load. Purges,
//! collapsing, large bodies and Redis are in `edge_cache_shared.rs`.

mod cache_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_common::*;
use http::Method;
use ravelin_test_guests as guests;
use ravelin_tests::client;
use ravelin_tests::origin::{Origin, Recorded};
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};

#[tokio::test(flavor = "multi_thread")]
async fn a_miss_is_stored_and_then_hit_with_its_age() {
    let origin = origin_with(
        &[("cache-control", "max-age=60"), ("age", "10")],
        "cached body",
    )
    .await;
    let proxy = start(&origin, "{}");
    let c = client::client(None, false);
    let miss = get(&c, &proxy.url("/a"), &[]).await;
    assert_eq!(miss.status, 200, "{}", proxy.log());
    assert_eq!(miss.header("x-cache"), Some("MISS"));
    let hit = get(&c, &proxy.url("/a"), &[]).await;
    assert_eq!(hit.header("x-cache"), Some("HIT"), "{}", proxy.log());
    assert_eq!(hit.text(), "cached body");
    assert!(
        (10..=12).contains(&age(&hit)),
        "the origin's Age counts: {}",
        age(&hit)
    );
    assert_eq!(origin.count(), 1, "the hit never reached the origin");
    // The query's order does not matter; another path is another entry.
    assert_eq!(x_caches(&proxy, "/q?b=2&a=1", 1, &[]).await, ["MISS"]);
    assert_eq!(x_caches(&proxy, "/q?a=1&b=2", 1, &[]).await, ["HIT"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entry_expires_after_max_age_and_s_maxage_wins() {
    let origin = Origin::serve("app", |r: Recorded| async move {
        let cc = match r.uri.path() {
            "/short" => "max-age=1",
            "/shared-longer" => "max-age=0, s-maxage=60",
            _ => "max-age=60, s-maxage=1",
        };
        reply(200, &[("cache-control", cc)], "x")
    })
    .await;
    let proxy = start(&origin, "{}");
    assert_eq!(x_caches(&proxy, "/short", 2, &[]).await, ["MISS", "HIT"]);
    assert_eq!(
        x_caches(&proxy, "/shared-longer", 2, &[]).await,
        ["MISS", "HIT"]
    );
    assert_eq!(
        x_caches(&proxy, "/shared-shorter", 2, &[]).await,
        ["MISS", "HIT"]
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        x_caches(&proxy, "/short", 1, &[]).await,
        ["MISS"],
        "max-age passed"
    );
    assert_eq!(
        x_caches(&proxy, "/shared-shorter", 1, &[]).await,
        ["MISS"],
        "s-maxage=1 wins over max-age=60"
    );
    assert_eq!(
        x_caches(&proxy, "/shared-longer", 1, &[]).await,
        ["HIT"],
        "s-maxage=60 wins over max-age=0"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_must_not_be_stored_is_not_and_what_is_allowed_is() {
    let origin = Origin::serve("app", |r: Recorded| async move {
        let headers: &[(&str, &str)] = match r.uri.path() {
            "/no-store" => &[("cache-control", "max-age=60, no-store")],
            "/private" => &[("cache-control", "private, max-age=60")],
            "/cookie" => &[("cache-control", "max-age=60"), ("set-cookie", "s=1")],
            "/public" => &[("cache-control", "public, max-age=60")],
            "/error" => return reply(500, &[("cache-control", "max-age=60")], "x"),
            _ => &[("cache-control", "max-age=60")],
        };
        reply(200, headers, "x")
    })
    .await;
    let proxy = start(&origin, "{}");
    for path in ["/no-store", "/private", "/cookie", "/error"] {
        assert_eq!(
            x_caches(&proxy, path, 2, &[]).await,
            ["MISS", "MISS"],
            "{path}"
        );
    }
    let auth = [("authorization", "Bearer user")];
    assert_eq!(
        x_caches(&proxy, "/plain", 2, &auth).await,
        ["MISS", "MISS"],
        "Authorization"
    );
    assert_eq!(
        x_caches(&proxy, "/public", 2, &auth).await,
        ["MISS", "HIT"],
        "public allows it"
    );
    let no_store = [("cache-control", "no-store")];
    assert_eq!(
        x_caches(&proxy, "/other", 2, &no_store).await,
        ["BYPASS", "BYPASS"]
    );
    assert_eq!(origin.count(), 2 * 4 + 2 + 1 + 2);
    // Set-Cookie is stored when configured, and replayed.
    let allowed = start(&origin, "{ cache_set_cookie = true }");
    assert_eq!(x_caches(&allowed, "/cookie", 2, &[]).await, ["MISS", "HIT"]);
    let c = client::client(None, false);
    let hit = get(&c, &allowed.url("/cookie"), &[]).await;
    assert_eq!(hit.header("set-cookie"), Some("s=1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_default_ttl_and_total_size_follow_the_config() {
    let origin = Origin::serve("app", |r: Recorded| async move {
        match r.uri.path() {
            "/silent" => reply(200, &[], "no freshness stated"),
            "/big" | "/big2" => reply(200, &[("cache-control", "max-age=60")], vec![b'x'; 1500]),
            _ => reply(200, &[("cache-control", "max-age=60")], "x"),
        }
    })
    .await;
    let plain = start(&origin, "{}");
    assert_eq!(
        x_caches(&plain, "/silent", 2, &[]).await,
        ["MISS", "MISS"],
        "no heuristics"
    );
    let settings = r#"{ default_ttl = 60, max_entry_bytes = 2000, max_total_bytes = 3000,
        key = { host = false, query = { drop = ["utm"] }, headers = ["x-tenant"] } }"#;
    let proxy = start(&origin, &settings.replace('\n', " "));
    assert_eq!(
        x_caches(&proxy, "/silent", 2, &[]).await,
        ["MISS", "HIT"],
        "default_ttl"
    );
    assert_eq!(x_caches(&proxy, "/k?a=1&utm=x", 1, &[]).await, ["MISS"]);
    assert_eq!(
        x_caches(&proxy, "/k?utm=y&a=1", 1, &[]).await,
        ["HIT"],
        "utm dropped"
    );
    assert_eq!(x_caches(&proxy, "/k?a=2", 1, &[]).await, ["MISS"], "a kept");
    let tenant = |t| [("x-tenant", t)];
    assert_eq!(
        x_caches(&proxy, "/t", 2, &tenant("a")).await,
        ["MISS", "HIT"]
    );
    assert_eq!(
        x_caches(&proxy, "/t", 2, &tenant("b")).await,
        ["MISS", "HIT"],
        "per tenant"
    );
    // About 1.6 kB each: the first fits in 3000 bytes, the second no more.
    assert_eq!(x_caches(&proxy, "/big", 2, &[]).await, ["MISS", "HIT"]);
    assert_eq!(
        x_caches(&proxy, "/big2", 2, &[]).await,
        ["MISS", "MISS"],
        "over max_total_bytes"
    );
    let (_, metrics) = proxy.admin("/metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("not_stored") && l.contains("reason=\"full\"")),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vary_keeps_one_variant_per_header_value() {
    let origin = Origin::serve("app", |r: Recorded| async move {
        let lang = r.headers.get("accept-language").cloned();
        let text = lang
            .map(|l| l.to_str().unwrap_or("?").to_string())
            .unwrap_or_default();
        let headers = [("cache-control", "max-age=60"), ("vary", "Accept-Language")];
        reply(200, &headers, text)
    })
    .await;
    let proxy = start(&origin, "{}");
    let c = client::client(None, false);
    let mut seen = Vec::new();
    for lang in ["en", "fr", "en", "fr"] {
        let answer = get(&c, &proxy.url("/v"), &[("accept-language", lang)]).await;
        assert_eq!(answer.text(), lang, "each variant gets its own body");
        seen.push(answer.header("x-cache").unwrap_or("-").to_string());
    }
    assert_eq!(seen, ["MISS", "MISS", "HIT", "HIT"]);
    assert_eq!(origin.count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conditional_client_gets_a_304_from_a_fresh_entry() {
    let lm = "Sun, 06 Nov 1994 08:49:37 GMT";
    let origin = Origin::serve("app", move |_| async move {
        let headers = [
            ("cache-control", "max-age=60"),
            ("etag", "\"v1\""),
            ("last-modified", lm),
        ];
        reply(200, &headers, "full body")
    })
    .await;
    let proxy = start(&origin, "{}");
    let c = client::client(None, false);
    assert_eq!(
        get(&c, &proxy.url("/c"), &[]).await.header("x-cache"),
        Some("MISS")
    );
    let by_tag = get(&c, &proxy.url("/c"), &[("if-none-match", "\"v0\", \"v1\"")]).await;
    assert_eq!(by_tag.status, 304);
    assert_eq!(by_tag.header("etag"), Some("\"v1\""));
    assert_eq!(by_tag.header("x-cache"), Some("HIT"));
    assert!(by_tag.body.is_empty());
    let by_date = get(&c, &proxy.url("/c"), &[("if-modified-since", lm)]).await;
    assert_eq!(by_date.status, 304);
    let cached_only = [("cache-control", "only-if-cached")];
    assert_eq!(get(&c, &proxy.url("/c"), &cached_only).await.status, 200);
    let absent = get(&c, &proxy.url("/absent"), &cached_only).await;
    assert_eq!(absent.status, 504, "only-if-cached never goes upstream");
    let changed = get(&c, &proxy.url("/c"), &[("if-none-match", "\"v0\"")]).await;
    assert_eq!(
        (changed.status, changed.text().as_str()),
        (200, "full body")
    );
    assert_eq!(origin.count(), 1);
}

/// An origin whose `/r` is fresh for 1 s with `ETag "v1"` and answers a
/// matching `If-None-Match` with 304 and new freshness; `extra` adds to
/// `Cache-Control`; revalidations wait `delay`.
async fn revalidating_origin(extra: &'static str, delay: Duration) -> Origin {
    Origin::serve("app", move |r: Recorded| async move {
        let cc = format!("max-age=1{extra}");
        if r.headers
            .get("if-none-match")
            .is_some_and(|v| v == "\"v1\"")
        {
            tokio::time::sleep(delay).await;
            return reply(
                304,
                &[
                    ("cache-control", "max-age=60"),
                    ("x-refreshed", "yes"),
                    ("etag", "\"v1\""),
                ],
                "",
            );
        }
        reply(
            200,
            &[("cache-control", &cc), ("etag", "\"v1\"")],
            "the body",
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_entry_is_revalidated_and_refreshed_by_a_304() {
    let origin = revalidating_origin("", Duration::ZERO).await;
    let proxy = start(&origin, "{}");
    let c = client::client(None, false);
    assert_eq!(
        get(&c, &proxy.url("/r"), &[]).await.header("x-cache"),
        Some("MISS")
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let revalidated = get(&c, &proxy.url("/r"), &[]).await;
    assert_eq!(revalidated.status, 200, "{}", proxy.log());
    assert_eq!(revalidated.header("x-cache"), Some("REVALIDATED"));
    assert_eq!(
        revalidated.text(),
        "the body",
        "the stored body, not the 304's"
    );
    assert_eq!(revalidated.header("x-refreshed"), Some("yes"));
    let seen = origin.received();
    assert_eq!(
        seen[1].headers.get("if-none-match").map(|v| v.as_bytes()),
        Some(&b"\"v1\""[..])
    );
    let hit = get(&c, &proxy.url("/r"), &[]).await;
    assert_eq!(
        hit.header("x-cache"),
        Some("HIT"),
        "refreshed to max-age=60"
    );
    assert_eq!(hit.header("x-refreshed"), Some("yes"));
    assert_eq!(origin.count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_while_revalidate_serves_stale_while_one_request_revalidates() {
    let origin =
        revalidating_origin(", stale-while-revalidate=30", Duration::from_millis(800)).await;
    let proxy = Arc::new(start(&origin, "{}"));
    assert_eq!(x_caches(&proxy, "/r", 1, &[]).await, ["MISS"]);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let revalidating = {
        let proxy = proxy.clone();
        tokio::spawn(async move { x_caches(&proxy, "/r", 1, &[]).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let c = client::client(None, false);
    let stale = get(&c, &proxy.url("/r"), &[]).await;
    assert_eq!(stale.header("x-cache"), Some("STALE"), "{}", proxy.log());
    assert_eq!(stale.text(), "the body");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "not waiting for the origin"
    );
    assert_eq!(revalidating.await.expect("task"), ["REVALIDATED"]);
    assert_eq!(x_caches(&proxy, "/r", 1, &[]).await, ["HIT"]);
    assert_eq!(origin.count(), 2, "one revalidation");
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_if_error_serves_the_stale_entry_when_the_origin_fails() {
    let failing = Arc::new(AtomicUsize::new(0));
    let seen = failing.clone();
    let origin = Origin::serve("app", move |r: Recorded| {
        let fail = seen.load(Ordering::SeqCst) == 1;
        async move {
            let cc = match r.uri.path() {
                "/strict" => "max-age=1, stale-if-error=60, must-revalidate",
                _ => "max-age=1, stale-if-error=60",
            };
            match fail {
                true => reply(503, &[], "down"),
                false => reply(200, &[("cache-control", cc)], "kept"),
            }
        }
    })
    .await;
    let proxy = start(&origin, "{}");
    assert_eq!(x_caches(&proxy, "/e", 1, &[]).await, ["MISS"]);
    assert_eq!(x_caches(&proxy, "/strict", 1, &[]).await, ["MISS"]);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    failing.store(1, Ordering::SeqCst);
    let c = client::client(None, false);
    let stale = get(&c, &proxy.url("/e"), &[]).await;
    assert_eq!(
        (stale.status, stale.header("x-cache")),
        (200, Some("STALE")),
        "{}",
        proxy.log()
    );
    assert_eq!(stale.text(), "kept");
    let strict = get(&c, &proxy.url("/strict"), &[]).await;
    assert_eq!(strict.status, 503, "must-revalidate forbids stale");
    // The origin gone altogether: the proxy's own 502 is replaced too.
    origin.kill();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let down = get(&c, &proxy.url("/e"), &[]).await;
    assert_eq!(
        (down.status, down.header("x-cache")),
        (200, Some("STALE")),
        "{}",
        proxy.log()
    );
    let strict = get(&c, &proxy.url("/strict"), &[]).await;
    assert_eq!(strict.status, 502);
}

#[tokio::test(flavor = "multi_thread")]
async fn head_is_answered_from_a_stored_get() {
    let origin = origin_with(&[("cache-control", "max-age=60")], "twelve bytes").await;
    let proxy = start(&origin, "{}");
    assert_eq!(x_caches(&proxy, "/h", 1, &[]).await, ["MISS"]);
    let c = client::client(None, false);
    let head = request(&c, Method::HEAD, &proxy.url("/h"), &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-cache"), Some("HIT"), "{}", proxy.log());
    assert_eq!(head.header("content-length"), Some("12"));
    assert!(head.body.is_empty());
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsafe_method_invalidates_the_stored_entry() {
    let origin = origin_with(&[("cache-control", "max-age=60")], "x").await;
    let proxy = start(&origin, "{}");
    assert_eq!(x_caches(&proxy, "/p", 2, &[]).await, ["MISS", "HIT"]);
    let c = client::client(None, false);
    let post = request(&c, Method::POST, &proxy.url("/p"), &[]).await;
    assert_eq!(post.status, 200);
    assert_eq!(x_caches(&proxy, "/p", 2, &[]).await, ["MISS", "HIT"]);
    assert_eq!(origin.count(), 3);
}

#[test]
fn bad_configs_are_refused_at_load() {
    let cases = [
        (
            "{ max_entry_bytes = 0 }",
            "`max_entry_bytes` = 0 is outside",
        ),
        (
            "{ max_entry_bytes = 2048, max_total_bytes = 1024 }",
            "`max_total_bytes` (1024) is smaller",
        ),
        ("{ statuses = [206] }", "`statuses`: 206 cannot be cached"),
        ("{ collapse_wait_ms = 10000 }", "`collapse_wait_ms` = 10000"),
        ("{ purge = { path = \"/p\" } }", "nobody could purge"),
        (
            "{ purge = { path = \"/p\", token_sha256 = \"abc\" } }",
            "`purge.token_sha256` must be 64 hex",
        ),
        (
            "{ purge = { path = \"/p\", allow = [\"nope\"] } }",
            "`purge.allow`: \"nope\"",
        ),
        ("{ key = { query = \"some\" } }", "invalid plugin config"),
        ("{ ttl = 5 }", "unknown field `ttl`"),
    ];
    for (settings, needle) in cases {
        let tables = plugin_table("cache", guests::CACHE, settings);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["cache"],
        ));
        assert!(!ok, "{settings} was accepted");
        assert!(said.contains(needle), "{settings}: {needle} not in {said}");
    }
}
