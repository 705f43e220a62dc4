//! The Redis kv backend against a real `redis-server`: the same semantics as
//! the memory store (versions, compare-and-set, counters, TTLs, namespaces,
//! sizes), one counter shared atomically by two backends, calls that fail
//! in time while Redis is away and work again when it is back; then end to
//! end, two proxies sharing one Redis-backed counter through a plugin, and
//! a reload that would change `[kv]` refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ravelin::config::{RedisSettings, RedisUrl};
use ravelin::kv::RedisKv;
use ravelin_runtime::{KvFailure, KvPort, MemoryKv, Versioned};
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, get};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{plugin_chain_config, plugin_table};
use ravelin_tests::redis::RedisServer;

/// Roomy enough for a busy two-core machine; the outage tests use less.
const TIMEOUT: Duration = Duration::from_secs(1);

fn backend(server: &RedisServer, prefix: &str, timeout: Duration) -> RedisKv {
    let settings = RedisSettings {
        url: RedisUrl::parse(&server.url()).expect("a redis URL"),
        timeout,
        max_value_bytes: 1024,
        key_prefix: prefix.into(),
    };
    RedisKv::connect(&settings).expect("a backend")
}

fn ns(name: &str) -> Arc<str> {
    Arc::from(name)
}

async fn read(kv: &dyn KvPort, namespace: &str, key: &str) -> Option<Versioned> {
    kv.get(ns(namespace), key.into()).await.expect("get")
}

async fn write(kv: &dyn KvPort, namespace: &str, key: &str, value: &[u8], ttl_ms: Option<u64>) {
    kv.set(ns(namespace), key.into(), value.to_vec(), ttl_ms)
        .await
        .expect("set");
}

/// Retries `get` until Redis answers, at most ten seconds.
async fn wait_until_answering(kv: &RedisKv) -> Option<Versioned> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match kv.get(ns("p"), "k".into()).await {
            Ok(found) => return found,
            Err(e) if Instant::now() < deadline => {
                assert!(matches!(e, KvFailure::Unavailable(_)), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("redis did not come back: {e}"),
        }
    }
}

#[tokio::test]
async fn values_versions_and_namespaces_behave_as_in_memory() {
    let server = RedisServer::start();
    let kv = backend(&server, "t1", TIMEOUT);
    assert_eq!(read(&kv, "a", "k").await, None);
    write(&kv, "a", "k", b"1", None).await;
    let first = read(&kv, "a", "k").await.expect("written");
    assert_eq!(first.value, b"1");
    assert_eq!(read(&kv, "b", "k").await, None, "namespaces are apart");
    assert_eq!(read(&kv, "a/store", "k").await, None, "stores are apart");
    write(&kv, "a", "k", b"2", None).await;
    let second = read(&kv, "a", "k").await.expect("written");
    assert_eq!(second.value, b"2");
    assert!(second.version > first.version, "{second:?} after {first:?}");
    assert_eq!(kv.delete(ns("a"), "k".into()).await, Ok(true));
    assert_eq!(kv.delete(ns("a"), "k".into()).await, Ok(false));
    assert_eq!(read(&kv, "a", "k").await, None);
    write(&kv, "a", "k", b"2", None).await;
    let recreated = read(&kv, "a", "k").await.expect("written");
    assert!(
        recreated.version > second.version,
        "a re-created key has a new version"
    );
    write(&kv, "a", "key:with:colons", b"\0binary\xff", None).await;
    let odd = read(&kv, "a", "key:with:colons").await.expect("written");
    assert_eq!(odd.value, b"\0binary\xff");
}

#[tokio::test]
async fn compare_and_set_writes_only_at_the_expected_version() {
    let server = RedisServer::start();
    let kv = backend(&server, "t2", TIMEOUT);
    let cas = |expected: Option<u64>, value: &[u8]| {
        kv.compare_and_set(ns("p"), "k".into(), expected, value.to_vec(), None)
    };
    assert_eq!(cas(Some(1), b"x").await, Ok(false));
    assert_eq!(cas(None, b"a").await, Ok(true));
    let first = read(&kv, "p", "k").await.expect("written");
    assert_eq!(cas(None, b"b").await, Ok(false), "only if absent");
    assert_eq!(cas(Some(first.version), b"c").await, Ok(true));
    let second = read(&kv, "p", "k").await.expect("written");
    assert_eq!(second.value, b"c");
    assert_ne!(second.version, first.version);
    assert_eq!(cas(Some(first.version), b"d").await, Ok(false), "stale");
    assert_eq!(read(&kv, "p", "k").await, Some(second));
}

#[tokio::test]
async fn values_expire_after_their_ttl_and_a_plain_set_clears_it() {
    let server = RedisServer::start();
    let kv = backend(&server, "t3", TIMEOUT);
    write(&kv, "p", "short", b"v", Some(150)).await;
    assert!(read(&kv, "p", "short").await.is_some());
    write(&kv, "p", "kept", b"v", Some(150)).await;
    write(&kv, "p", "kept", b"w", None).await;
    write(&kv, "p", "now", b"v", Some(0)).await;
    assert_eq!(
        read(&kv, "p", "now").await,
        None,
        "a zero TTL expires at once"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(read(&kv, "p", "short").await, None);
    assert_eq!(
        read(&kv, "p", "kept").await.map(|e| e.value),
        Some(b"w".to_vec())
    );
    let cas = kv.compare_and_set(ns("p"), "cas".into(), None, b"v".to_vec(), Some(150));
    assert_eq!(cas.await, Ok(true));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(read(&kv, "p", "cas").await, None);
}

/// Stored values and deltas where counters are easy to get wrong.
const COUNTER_CASES: &[(&str, i64)] = &[
    ("41", 1),
    ("007", 1),
    ("+5", 1),
    ("-0", 1),
    ("-007", -1),
    ("0", i64::MIN),
    ("-1", i64::MIN),
    ("9223372036854775807", 1),
    ("9223372036854775806", 1),
    ("-9223372036854775808", -1),
    ("-9223372036854775808", 0),
    ("9223372036854775808", 0),
    ("99999999999999999999", 0),
    ("text", 1),
    ("", 1),
    (" 5", 1),
    ("5 ", 1),
    ("+", 1),
    ("-", 1),
    ("1.5", 1),
    ("0x10", 1),
];

#[tokio::test]
async fn increment_counts_exactly_as_the_memory_store_does() {
    let server = RedisServer::start();
    let redis = backend(&server, "t4", TIMEOUT);
    let memory = MemoryKv::new(1 << 20);
    assert_eq!(redis.increment(ns("p"), "n".into(), 2, None).await, Ok(2));
    assert_eq!(redis.increment(ns("p"), "n".into(), -5, None).await, Ok(-3));
    for (i, (stored, delta)) in COUNTER_CASES.iter().enumerate() {
        let key = format!("case{i}");
        let mut outcomes = Vec::new();
        for kv in [&redis as &dyn KvPort, &memory] {
            write(kv, "p", &key, stored.as_bytes(), None).await;
            let before = read(kv, "p", &key).await.expect("written");
            let sum = kv.increment(ns("p"), key.clone(), *delta, None).await;
            let after = read(kv, "p", &key).await.expect("still there");
            if sum.is_ok() {
                assert!(after.version > before.version, "{stored:?} + {delta}");
            } else {
                assert_eq!(after, before, "a refused increment changes nothing");
            }
            outcomes.push((sum, after.value));
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "{stored:?} + {delta}: redis, then memory"
        );
    }
}

#[tokio::test]
async fn increment_applies_its_ttl_only_when_it_creates_the_counter() {
    let server = RedisServer::start();
    let kv = backend(&server, "t5", TIMEOUT);
    assert_eq!(
        kv.increment(ns("p"), "new".into(), 1, Some(200)).await,
        Ok(1)
    );
    assert_eq!(kv.increment(ns("p"), "new".into(), 1, None).await, Ok(2));
    write(&kv, "p", "old", b"5", None).await;
    assert_eq!(
        kv.increment(ns("p"), "old".into(), 1, Some(100)).await,
        Ok(6)
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        read(&kv, "p", "new").await,
        None,
        "created with a TTL, kept it"
    );
    assert_eq!(
        read(&kv, "p", "old").await.map(|e| e.value),
        Some(b"6".to_vec())
    );
}

#[tokio::test]
async fn a_value_over_max_value_kb_is_too_large() {
    let server = RedisServer::start();
    let kv = backend(&server, "t6", TIMEOUT);
    let big = vec![7; 1025];
    let set = kv.set(ns("p"), "k".into(), big.clone(), None).await;
    assert_eq!(set, Err(KvFailure::TooLarge));
    let cas = kv
        .compare_and_set(ns("p"), "k".into(), None, big, None)
        .await;
    assert_eq!(cas, Err(KvFailure::TooLarge));
    write(&kv, "p", "k", &[7; 1024], None).await;
    assert_eq!(read(&kv, "p", "k").await.map(|e| e.value.len()), Some(1024));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backends_on_one_redis_share_a_counter_atomically() {
    let server = RedisServer::start();
    let kvs = [
        Arc::new(backend(&server, "t7", TIMEOUT)),
        Arc::new(backend(&server, "t7", TIMEOUT)),
    ];
    let mut calls = Vec::new();
    for _ in 0..200 {
        for kv in &kvs {
            let kv = kv.clone();
            calls.push(tokio::spawn(async move {
                kv.increment(ns("p"), "hits".into(), 1, None).await
            }));
        }
    }
    let mut sums = Vec::new();
    for call in calls {
        sums.push(call.await.expect("joined").expect("incremented"));
    }
    sums.sort_unstable();
    assert_eq!(sums, (1..=400).collect::<Vec<i64>>(), "every sum once");
    let total = read(kvs[1].as_ref(), "p", "hits").await.expect("counted");
    assert_eq!(total.value, b"400");
}

/// Every kind of call against a Redis that is away: each fails as
/// unavailable, naming Redis's address, within the timeout and a margin.
async fn every_call_fails_in_time(kv: &RedisKv, server: &RedisServer, timeout: Duration) {
    let margin = Duration::from_millis(400);
    let calls: Vec<(&str, ravelin_runtime::KvFuture<()>)> = vec![
        ("get", discard(kv.get(ns("p"), "k".into()))),
        ("set", kv.set(ns("p"), "k".into(), b"v".to_vec(), None)),
        (
            "compare_and_set",
            discard(kv.compare_and_set(ns("p"), "k".into(), None, b"v".to_vec(), None)),
        ),
        ("delete", discard(kv.delete(ns("p"), "k".into()))),
        (
            "increment",
            discard(kv.increment(ns("p"), "n".into(), 1, None)),
        ),
    ];
    for (name, call) in calls {
        let started = Instant::now();
        let result = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .unwrap_or_else(|_| panic!("{name} hung"));
        let took = started.elapsed();
        let Err(KvFailure::Unavailable(why)) = result else {
            panic!("{name} answered {result:?} with redis away");
        };
        assert!(
            why.contains(&format!("redis at {}", server.addr)),
            "{name}: {why}"
        );
        assert!(took < timeout + margin, "{name} took {took:?}");
    }
}

fn discard<T: Send + 'static>(call: ravelin_runtime::KvFuture<T>) -> ravelin_runtime::KvFuture<()> {
    Box::pin(async move { call.await.map(drop) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_fails_calls_in_time_and_a_restarted_one_serves_again() {
    let mut server = RedisServer::start();
    let timeout = Duration::from_millis(100);
    let kv = backend(&server, "t8", timeout);
    write(&kv, "p", "k", b"before", None).await;
    let before = read(&kv, "p", "k").await.expect("written");
    server.stop();
    for _ in 0..3 {
        every_call_fails_in_time(&kv, &server, timeout).await;
    }
    server.resume();
    assert_eq!(
        wait_until_answering(&kv).await,
        None,
        "a restarted Redis is empty"
    );
    write(&kv, "p", "k", b"after", None).await;
    let after = read(&kv, "p", "k").await.expect("written");
    assert!(
        after.version > before.version,
        "versions go on rising after Redis lost its counter: {after:?} after {before:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_made_while_redis_is_down_connects_when_it_comes_up() {
    let mut server = RedisServer::start();
    server.stop();
    let timeout = Duration::from_millis(100);
    let kv = backend(&server, "t9", timeout);
    every_call_fails_in_time(&kv, &server, timeout).await;
    server.resume();
    assert_eq!(wait_until_answering(&kv).await, None);
    write(&kv, "p", "k", b"v", None).await;
    assert_eq!(
        read(&kv, "p", "k").await.map(|e| e.value),
        Some(b"v".to_vec())
    );
}

/// A proxy in front of `origin` whose route runs the probe plugin, with the
/// `[kv]` table `kv`.
fn proxy_config(origin: &Origin, kv: &str) -> String {
    let tables = plugin_table("probe", guests::V2_PROBE, "{}") + "\n[kv]\n" + kv;
    plugin_chain_config(origin.addr, &tables, &["probe"])
}

fn redis_kv_table(server: &RedisServer) -> String {
    format!(
        "backend = \"redis\"\nurl = \"{}\"\ntimeout_ms = 100\n",
        server.url()
    )
}

/// `GET /v2/count?key=hits` on `proxy`, at most five seconds: (status, body).
async fn count(c: &client::HttpsClient, proxy: &Proxy) -> (u16, String) {
    let url = proxy.url("/v2/count?key=hits");
    let answer = tokio::time::timeout(Duration::from_secs(5), get(c, &url))
        .await
        .expect("an answer within 5 s, not a hang")
        .expect("an answer");
    (answer.status, answer.text())
}

#[tokio::test(flavor = "multi_thread")]
async fn two_proxies_share_a_redis_backed_counter_through_an_outage() {
    let mut server = RedisServer::start();
    let origin = Origin::start("app").await;
    let config = proxy_config(&origin, &redis_kv_table(&server));
    let proxies = [Proxy::start(&config), Proxy::start(&config)];
    let c = client::client(None, false);
    for n in 1..=20 {
        let proxy = &proxies[n % 2];
        let (status, body) = count(&c, proxy).await;
        assert_eq!(
            (status, body.as_str()),
            (200, n.to_string().as_str()),
            "{}",
            proxy.log()
        );
    }
    server.stop();
    for proxy in &proxies {
        let started = Instant::now();
        let (status, body) = count(&c, proxy).await;
        assert_eq!(status, 503, "{body}");
        assert!(body.starts_with("kv: "), "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
    }
    server.resume();
    for proxy in &proxies {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, body) = count(&c, proxy).await;
            if status == 200 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "still {status} {body}:\n{}",
                proxy.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let (status, body) = count(&c, &proxies[0]).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "3"),
        "the restarted Redis counts afresh"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_that_changes_kv_is_refused_until_a_restart() {
    let origin = Origin::start("app").await;
    let proxy = Proxy::start(&proxy_config(&origin, "backend = \"memory\""));
    let c = client::client(None, false);
    assert_eq!(count(&c, &proxy).await, (200, "1".to_string()));
    // Only the change matters: nothing listens at this Redis.
    let redis = "backend = \"redis\"\nurl = \"redis://127.0.0.1:9\"";
    proxy.write_config(&proxy_config(&origin, redis));
    assert!(
        proxy.wait_for_log(
            "restart the proxy to apply a change to [kv]",
            Duration::from_secs(10)
        ),
        "{}",
        proxy.log()
    );
    assert_eq!(
        count(&c, &proxy).await,
        (200, "2".to_string()),
        "the memory store serves on"
    );
}
