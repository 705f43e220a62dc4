//! The `cache` plugin in the real proxy, where requests meet: purges by
//! URL and prefix (and their refusal), concurrent misses collapsed into one
//! origin fetch (and waits that end: an uncacheable fill, a slow fill, a
//! fill its client abandoned), large bodies streamed through unstored,
//! two proxies sharing one Redis, and a dead Redis letting requests pass
//! uncached.

mod cache_common;

use std::time::Duration;

use bytes::Bytes;
use cache_common::*;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use ravelin_tests::client;
use ravelin_tests::origin::{Origin, Recorded, body};
use ravelin_tests::redis::RedisServer;
use ravelin_tests::{Proxy, RssPeak};

#[tokio::test(flavor = "multi_thread")]
async fn purges_by_url_and_prefix_and_refuses_strangers() {
    let origin = origin_with(&[("cache-control", "max-age=60")], "x").await;
    let proxy = start(&origin, &purge_settings());
    for path in ["/a/1", "/a/2?x=1", "/b/1"] {
        assert_eq!(
            x_caches(&proxy, path, 2, &[]).await,
            ["MISS", "HIT"],
            "{path}"
        );
    }
    let c = client::client(None, false);
    assert_eq!(purge(&c, &proxy, "url=/b/1", None).await.status, 403);
    assert_eq!(
        purge(&c, &proxy, "url=/b/1", Some("wrong")).await.status,
        403
    );
    let get_purge = get(&c, &proxy.url("/.cache/purge?url=/b/1"), &[]).await;
    assert_eq!(get_purge.status, 405);
    assert_eq!(
        purge(&c, &proxy, "nothing=1", Some("s3cret")).await.status,
        400
    );
    assert_eq!(
        x_caches(&proxy, "/b/1", 1, &[]).await,
        ["HIT"],
        "refused purges did nothing"
    );
    let exact = purge(&c, &proxy, "url=%2Fb%2F1", Some("s3cret")).await;
    assert_eq!(exact.status, 200, "{}", exact.text());
    assert_eq!(x_caches(&proxy, "/b/1", 1, &[]).await, ["MISS"]);
    assert_eq!(x_caches(&proxy, "/a/1", 1, &[]).await, ["HIT"]);
    let prefix = purge(&c, &proxy, "prefix=/a/", Some("s3cret")).await;
    assert_eq!(prefix.status, 200, "{}", prefix.text());
    assert_eq!(x_caches(&proxy, "/a/1", 2, &[]).await, ["MISS", "HIT"]);
    assert_eq!(x_caches(&proxy, "/a/2?x=1", 1, &[]).await, ["MISS"]);
    let purge_paths = origin
        .received()
        .iter()
        .filter(|r| r.uri.path().starts_with("/.cache"))
        .count();
    assert_eq!(purge_paths, 0, "purge requests never reach the origin");
    // An address outside `allow` is refused even with the token.
    let outside = start(
        &origin,
        &purge_settings().replace("127.0.0.0/8", "10.0.0.0/8"),
    );
    assert_eq!(
        purge(&c, &outside, "url=/a/1", Some("s3cret")).await.status,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_misses_make_one_origin_fetch() {
    let origin = Origin::serve("app", |_| async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        reply(200, &[("cache-control", "max-age=60")], "slow body")
    })
    .await;
    let proxy = start(&origin, "{}");
    let c = client::client(None, false);
    let url = proxy.url("/cold");
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (c, url) = (c.clone(), url.clone());
            tokio::spawn(async move { get(&c, &url, &[]).await })
        })
        .collect();
    let mut caches = Vec::new();
    for task in tasks {
        let answer = task.await.expect("task");
        assert_eq!(
            (answer.status, answer.text().as_str()),
            (200, "slow body"),
            "{}",
            proxy.log()
        );
        caches.push(answer.header("x-cache").unwrap_or("-").to_string());
    }
    assert_eq!(origin.count(), 1, "one fetch for 20 misses: {caches:?}");
    assert_eq!(caches.iter().filter(|c| *c == "MISS").count(), 1);
    assert_eq!(caches.iter().filter(|c| *c == "HIT").count(), 19);
}

/// `n` concurrent GETs of `path`: their `X-Cache` values, and how long
/// the slowest took.
async fn concurrent(proxy: &Proxy, path: &str, n: usize) -> (Vec<String>, Duration) {
    let c = client::client(None, false);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (c, url) = (c.clone(), proxy.url(path));
            tokio::spawn(async move { get(&c, &url, &[]).await })
        })
        .collect();
    let mut caches = Vec::new();
    for task in tasks {
        let answer = task.await.expect("task");
        assert_eq!(answer.status, 200, "{}", proxy.log());
        caches.push(answer.header("x-cache").unwrap_or("-").to_string());
    }
    (caches, started.elapsed())
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_misses_go_upstream_when_the_fill_stores_nothing_or_takes_too_long() {
    let origin = Origin::serve("app", |r: Recorded| async move {
        let (delay, cc) = match r.uri.path() {
            "/uncacheable" => (300, "no-store"),
            _ => (1500, "max-age=60"),
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        reply(200, &[("cache-control", cc)], "x")
    })
    .await;
    // Not cacheable: the waiters see the lock go and fetch at once,
    // instead of waiting collapse_wait_ms (3 s by default) for nothing.
    let patient = start(&origin, "{}");
    let (caches, took) = concurrent(&patient, "/uncacheable", 5).await;
    assert_eq!(caches, ["MISS"; 5]);
    assert_eq!(origin.count(), 5);
    assert!(
        took < Duration::from_millis(2000),
        "no waiting for nothing: {took:?}"
    );
    let proxy = start(&origin, "{ collapse_wait_ms = 300 }");
    // A fill slower than collapse_wait_ms: the waiters give up and fetch.
    let (caches, _) = concurrent(&proxy, "/slow", 5).await;
    assert_eq!(caches, ["MISS"; 5]);
    assert_eq!(origin.count(), 10, "each waiter fetched after 300 ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fill_abandoned_by_its_client_releases_the_lock() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The first chunk at once, the rest never (within the test).
    let origin = Origin::serve("app", |_| async {
        let chunks = futures_util::stream::unfold(0, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            let frame = hyper::body::Frame::data(Bytes::from_static(b"first chunk"));
            Some((Ok::<_, std::io::Error>(frame), n + 1))
        });
        let mut response = Response::new(StreamBody::new(chunks).boxed());
        let cc = "max-age=60".parse().expect("value");
        response.headers_mut().insert("cache-control", cc);
        response
    })
    .await;
    let proxy = start(&origin, "{ collapse_wait_ms = 4000 }");
    let mut leaving = tokio::net::TcpStream::connect(proxy.http)
        .await
        .expect("connect");
    let head = "GET /abandoned HTTP/1.1\r\nhost: cache.test\r\n\r\n";
    leaving.write_all(head.as_bytes()).await.expect("send");
    let mut seen = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(5), leaving.read(&mut seen)).await;
    assert!(
        read.is_ok_and(|r| r.is_ok_and(|n| n > 0)),
        "the head arrives"
    );
    drop(leaving);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The next miss takes the released lock and goes upstream at once.
    let c = client::client(None, false);
    let url = proxy.url("/abandoned");
    let started = std::time::Instant::now();
    let request = http::Request::get(url).header("host", "cache.test");
    let next = c.request(
        request
            .body(http_body_util::Full::new(Bytes::new()))
            .expect("request"),
    );
    let response = tokio::time::timeout(Duration::from_secs(8), next).await;
    assert!(
        matches!(&response, Ok(Ok(r)) if r.status() == 200),
        "{}",
        proxy.log()
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "waited {:?} for a lock nobody held",
        started.elapsed()
    );
    assert_eq!(origin.count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn large_bodies_stream_through_unstored() {
    const SIZE: usize = 32 << 20;
    let payload = Bytes::from((0..SIZE).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let sent = payload.clone();
    let origin = Origin::serve("app", move |r: Recorded| {
        let payload = sent.clone();
        async move {
            let mut response = match r.uri.path() {
                // No Content-Length: copied up to the limit, then dropped.
                "/streamed" => {
                    let chunks = payload
                        .chunks(64 * 1024)
                        .map(|c| Ok(hyper::body::Frame::data(Bytes::copy_from_slice(c))));
                    let stream = futures_util::stream::iter(
                        chunks.collect::<Vec<Result<_, std::io::Error>>>(),
                    );
                    Response::new(StreamBody::new(stream).boxed())
                }
                _ => Response::new(body(payload)),
            };
            response
                .headers_mut()
                .insert("cache-control", "max-age=60".parse().expect("value"));
            response
        }
    })
    .await;
    let proxy = start(&origin, "{ max_entry_bytes = 1048576 }");
    let c = client::client(None, false);
    let before = ravelin_tests::rss(proxy.pid());
    let peak = RssPeak::watch(proxy.pid());
    for path in ["/sized", "/streamed"] {
        for round in ["MISS", "MISS"] {
            let answer = get(&c, &proxy.url(path), &[]).await;
            assert_eq!(answer.status, 200, "{}", proxy.log());
            assert_eq!(answer.header("x-cache"), Some(round), "{path}: not stored");
            assert!(answer.body == payload, "{path}: the body arrives intact");
        }
    }
    let grown = peak.stop().saturating_sub(before);
    assert!(
        grown < (SIZE as u64) / 2,
        "the proxy grew {grown} bytes for a {SIZE}-byte body"
    );
    assert_eq!(origin.count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_proxies_on_one_redis_share_entries_and_purges() {
    let origin = origin_with(&[("cache-control", "max-age=60")], "shared").await;
    let redis = RedisServer::start();
    let settings = purge_settings().replace("} }", "}, key = { host = false } }");
    let one = start_with(&origin, &settings, &redis_kv(&redis, 2000));
    let two = start_with(&origin, &settings, &redis_kv(&redis, 2000));
    assert_eq!(
        x_caches(&one, "/s", 1, &[]).await,
        ["MISS"],
        "{}",
        one.log()
    );
    assert_eq!(
        x_caches(&two, "/s", 1, &[]).await,
        ["HIT"],
        "filled by the other proxy"
    );
    assert_eq!(x_caches(&one, "/t/1", 1, &[]).await, ["MISS"]);
    let c = client::client(None, false);
    assert_eq!(purge(&c, &two, "url=/s", Some("s3cret")).await.status, 200);
    assert_eq!(
        purge(&c, &two, "prefix=/t/", Some("s3cret")).await.status,
        200
    );
    assert_eq!(
        x_caches(&one, "/s", 1, &[]).await,
        ["MISS"],
        "purged on the other proxy"
    );
    assert_eq!(
        x_caches(&one, "/t/1", 1, &[]).await,
        ["MISS"],
        "prefix purged on the other proxy"
    );
    assert_eq!(origin.count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_redis_lets_requests_pass_uncached() {
    let origin = origin_with(&[("cache-control", "max-age=60")], "through").await;
    let mut redis = RedisServer::start();
    let proxy = start_with(&origin, "{}", &redis_kv(&redis, 100));
    assert_eq!(x_caches(&proxy, "/d", 2, &[]).await, ["MISS", "HIT"]);
    redis.stop();
    let c = client::client(None, false);
    for _ in 0..2 {
        let answer = get(&c, &proxy.url("/d"), &[]).await;
        assert_eq!((answer.status, answer.text().as_str()), (200, "through"));
        assert_eq!(answer.header("x-cache"), Some("BYPASS"));
    }
    assert_eq!(origin.count(), 3);
    assert!(
        proxy.wait_for_log("kv store failed", Duration::from_secs(2)),
        "{}",
        proxy.log()
    );
    let (_, metrics) = proxy.admin("/metrics");
    let errors = metrics
        .lines()
        .find(|l| l.contains("ravelin_plugin_guest_total") && l.contains("kv_errors"));
    assert!(errors.is_some(), "counted: {metrics}");
}
