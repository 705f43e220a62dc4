//! The behaviour every language's A/B router example must show through the
//! real proxy, one set of checks for all of them: the Rust reference
//! (`plugins/ab-router/`), Python (`plugins/ab-router-py/`) and the others
//! each call [`assert_ab_router`] on their built component, so "the same
//! plugin in another language" is checked, not claimed.
//!
//! What is checked, in order (the spec is `plugins/ab-router/src/lib.rs`):
//! header reads and rewrites with kv-assigned buckets, short-circuits that
//! skip the upstream, a kv counter, an outbound call and its failure, a log
//! line, a whole-body hook, and a trap under `fail = "closed"` and
//! `fail = "open"` with the proxy serving normally afterwards.
//! [`assert_hot_swap_under_load`] swaps a new version of the plugin in
//! while clients keep sending, and counts failed requests (none allowed).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

use crate::client::{self, Answer, HttpsClient, send};
use crate::origin::{Origin, Recorded, respond};
use crate::proxy::Proxy;

/// One language's build of the A/B router.
pub struct Subject<'a> {
    /// The language's name: the plugin's config `lang`, which it answers
    /// in `x-ab-lang` and `/ab/health`.
    pub lang: &'a str,
    /// The built component.
    pub component: &'a Path,
    /// Extra keys for each `[plugins.NAME]` table, one per line: what the
    /// language needs beyond the defaults (an interpreter's memory limit,
    /// say); empty for none.
    pub settings: &'a str,
    /// How long the proxy may take to load the plugin (an interpreter's
    /// per-version snapshot is built before the proxy is ready).
    pub ready_within: Duration,
}

/// The proxy in front of an echoing origin, with the A/B router on every
/// route: `ab` (`fail = "closed"`) by default, `ab-open` (`fail = "open"`)
/// for host `open.test`.
struct Bench {
    proxy: Proxy,
    app: Origin,
    flags: Origin,
    client: HttpsClient,
    lang: String,
}

/// The origin behind the plugin: answers 200 with the request body, or
/// `app` when there is none.
async fn echo_origin() -> Origin {
    Origin::serve("app", |seen: Recorded| async move {
        if seen.body.is_empty() {
            respond(200, "app")
        } else {
            respond(200, seen.body)
        }
    })
    .await
}

/// One `[plugins.NAME]` table of the A/B router with failure policy `fail`.
fn plugin_table(name: &str, subject: &Subject<'_>, lang: &str, fail: &str) -> String {
    format!(
        "[plugins.{name}]\nsource = {:?}\nconfig = {{ lang = {lang:?}, split = 50, \
         flag_upstream = \"flags\" }}\nallowed_upstreams = [\"flags\"]\nfail = \"{fail}\"\n{}\n",
        subject.component.display().to_string(),
        subject.settings,
    )
}

/// The proxy's config: upstreams `app` and `flags`, plugin `ab` on the
/// default route and `ab-open` on host `open.test`, the plugin's `lang`
/// being `lang` (a new value makes a new version of the plugin).
fn config(subject: &Subject<'_>, lang: &str, app: &Origin, flags: &Origin) -> String {
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[upstreams.flags]
endpoints = [{{ address = "{}" }}]

{}
{}
[[routes]]
hosts = ["open.test"]
upstream = "app"
plugins = ["ab-open"]

[[routes]]
upstream = "app"
plugins = ["ab"]
"#,
        app.addr,
        flags.addr,
        plugin_table("ab", subject, lang, "closed"),
        plugin_table("ab-open", subject, lang, "open"),
    )
}

impl Bench {
    async fn start(subject: &Subject<'_>) -> Bench {
        let app = echo_origin().await;
        let flags = Origin::serve("flags", |_| async { respond(200, "on") }).await;
        let text = config(subject, subject.lang, &app, &flags);
        let proxy = Proxy::start_within(&text, subject.ready_within);
        Bench {
            proxy,
            app,
            flags,
            client: client::client(None, false),
            lang: subject.lang.to_string(),
        }
    }

    /// Sends `method path` with `headers` (and `body`) to the proxy.
    async fn ask(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut request = Request::builder().method(method).uri(self.proxy.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        send(&self.client, request)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", self.proxy.log()))
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.ask("GET", path, headers, "").await
    }

    /// The last request the echoing origin received.
    fn last_upstream_request(&self) -> Recorded {
        let received = self.app.received();
        received.last().cloned().expect("the origin saw a request")
    }

    /// Asserts `answer` is the origin's 200 with the plugin's response
    /// headers for `bucket`.
    fn assert_routed(&self, what: &str, answer: &Answer, bucket: &str) {
        assert_eq!(answer.status, 200, "{what}: {}", answer.text());
        assert_eq!(
            answer.header("x-ab-lang"),
            Some(self.lang.as_str()),
            "{what}"
        );
        assert_eq!(answer.header("x-ab-bucket"), Some(bucket), "{what}");
    }
}

/// Asserts every point of the A/B router's behaviour for `subject`.
pub async fn assert_ab_router(subject: &Subject<'_>) {
    let bench = Bench::start(subject).await;
    buckets_and_header_rewrites(&bench).await;
    short_circuits_skip_the_upstream(&bench).await;
    kv_counter_persists(&bench).await;
    log_line_reaches_the_proxy_log(&bench).await;
    body_hook_rewrites_the_body(&bench).await;
    outbound_call_and_its_failure(&bench).await;
    traps_follow_the_failure_policy(&bench).await;
}

/// Spec 1: a client's bucket is kept, a missing or unknown one is assigned
/// from the kv counter (1 → b, 2 → a with split 50); the upstream sees the
/// bucket and never `x-debug`; the response names language and bucket.
async fn buckets_and_header_rewrites(bench: &Bench) {
    for bucket in ["a", "b"] {
        let headers = [("x-ab-bucket", bucket), ("x-debug", "1")];
        let answer = bench.get("/page", &headers).await;
        bench.assert_routed("a client's bucket", &answer, bucket);
        let seen = bench.last_upstream_request();
        assert_eq!(seen.headers["x-ab-bucket"], bucket);
        assert!(
            !seen.headers.contains_key("x-debug"),
            "x-debug must not reach the upstream: {:?}",
            seen.headers
        );
    }
    let first = bench.get("/page", &[("x-ab-bucket", "c")]).await;
    bench.assert_routed("first assignment (counter 1)", &first, "b");
    assert_eq!(bench.last_upstream_request().headers["x-ab-bucket"], "b");
    let second = bench.get("/page", &[]).await;
    bench.assert_routed("second assignment (counter 2)", &second, "a");
    assert_eq!(bench.last_upstream_request().headers["x-ab-bucket"], "a");
}

/// Spec 2: `/ab/health` and a blocked request are answered by the plugin.
async fn short_circuits_skip_the_upstream(bench: &Bench) {
    let before = bench.app.count();
    let health = bench.get("/ab/health", &[]).await;
    let expected = format!("ok from {}", bench.lang);
    assert_eq!((health.status, health.text()), (200, expected));
    let blocked = bench.get("/page", &[("x-ab-block", "1")]).await;
    assert_eq!((blocked.status, blocked.text()), (403, "blocked".into()));
    assert_eq!(
        bench.app.count(),
        before,
        "short-circuits skip the upstream"
    );
}

/// Spec 3: `/ab/visits` counts in kv, across requests and instances.
async fn kv_counter_persists(bench: &Bench) {
    let before = bench.app.count();
    for expected in ["1", "2"] {
        let visits = bench.get("/ab/visits", &[]).await;
        assert_eq!((visits.status, visits.text()), (200, expected.into()));
    }
    assert_eq!(bench.app.count(), before, "/ab/visits skips the upstream");
}

/// Spec 5: each request logs its bucket and path at info.
async fn log_line_reaches_the_proxy_log(bench: &Bench) {
    let path = format!("/ab/logged-{}", bench.lang);
    let answer = bench.get(&path, &[("x-ab-bucket", "b")]).await;
    bench.assert_routed("logged request", &answer, "b");
    let line = format!("ab bucket=b path={path}");
    assert!(
        bench.proxy.wait_for_log(&line, Duration::from_secs(5)),
        "no `{line}` in the proxy log:\n{}",
        bench.proxy.log()
    );
}

/// Spec 6: `POST /ab/upper` reaches the upstream upper-cased.
async fn body_hook_rewrites_the_body(bench: &Bench) {
    let headers = [("x-ab-bucket", "a"), ("content-type", "text/plain")];
    let answer = bench
        .ask("POST", "/ab/upper", &headers, "hello, ravelin é")
        .await;
    bench.assert_routed("body hook", &answer, "a");
    assert_eq!(answer.text(), "HELLO, RAVELIN é", "ASCII upper-casing only");
    let seen = bench.last_upstream_request();
    assert_eq!(seen.body, Bytes::from("HELLO, RAVELIN é"));
}

/// Spec 4: `/ab/flag` asks the flag service; once it is gone, 502.
async fn outbound_call_and_its_failure(bench: &Bench) {
    let flag = bench.get("/ab/flag", &[]).await;
    assert_eq!((flag.status, flag.text()), (200, "flag:on".into()));
    assert_eq!(bench.flags.count(), 1, "one outbound call");
    bench.flags.kill();
    let down = bench.get("/ab/flag", &[]).await;
    let unavailable = (502, "flag unavailable".to_string());
    assert_eq!((down.status, down.text()), unavailable, "flag service down");
}

/// Spec 7: a trapping `on-request` fails closed (502/503, upstream not
/// called) or open (the request goes on as if the plugin were absent), and
/// the next requests are served normally on both routes.
async fn traps_follow_the_failure_policy(bench: &Bench) {
    let before = bench.app.count();
    let closed = bench.get("/page", &[("x-ab-trap", "1")]).await;
    assert!(
        matches!(closed.status, 502 | 503),
        "fail = closed gave {}",
        closed.status
    );
    assert_eq!(
        bench.app.count(),
        before,
        "closed: the upstream is not called"
    );
    let open_trap = [("host", "open.test"), ("x-ab-trap", "1")];
    let open = bench.get("/page", &open_trap).await;
    assert_eq!(
        (open.status, open.text()),
        (200, "app".into()),
        "fail = open"
    );
    assert_eq!(
        bench.app.count(),
        before + 1,
        "open: the upstream is called"
    );
    for round in 0..3 {
        for host in ["closed.test", "open.test"] {
            let headers = [("host", host), ("x-ab-bucket", "a")];
            let answer = bench.get("/page", &headers).await;
            bench.assert_routed(&format!("{host} after a trap, #{round}"), &answer, "a");
        }
    }
}

/// What [`assert_hot_swap_under_load`] saw.
#[derive(Debug)]
pub struct SwapReport {
    /// Requests answered 200 by either version.
    pub served: u64,
    /// Requests that failed (any status but 200, or no answer).
    pub failed: u64,
    /// From the reload request to the first answer from the new version.
    pub first_new_answer: Duration,
    /// How long the reload request took (building the new version).
    pub reload: Duration,
}

/// How many clients keep sending during the swap.
const SWAP_CLIENTS: usize = 4;

/// Starts the proxy with `subject` as version 1 (`lang` = `<lang>-v1`),
/// keeps `SWAP_CLIENTS` clients sending while the config changes to
/// version 2 and the proxy reloads, and stops once version 2 has answered
/// 20 requests or `limit` passed. Asserts no request failed and version 2
/// took over; returns the counts and timings.
pub async fn assert_hot_swap_under_load(subject: &Subject<'_>, limit: Duration) -> SwapReport {
    let app = echo_origin().await;
    let flags = Origin::serve("flags", |_| async { respond(200, "on") }).await;
    let (v1, v2) = (
        format!("{}-v1", subject.lang),
        format!("{}-v2", subject.lang),
    );
    let proxy = Proxy::start_within(&config(subject, &v1, &app, &flags), subject.ready_within);
    let url = proxy.url("/load");
    let (stop, served, failed, new_seen) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let first_new = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..SWAP_CLIENTS {
        let (url, v2) = (url.clone(), v2.clone());
        let (stop, served, failed) = (stop.clone(), served.clone(), failed.clone());
        let (new_seen, first_new) = (new_seen.clone(), first_new.clone());
        clients.spawn(async move {
            let client = client::client(None, false);
            while !stop.load(Ordering::Relaxed) {
                match client::get(&client, &url).await {
                    Ok(answer) if answer.status == 200 => {
                        served.fetch_add(1, Ordering::Relaxed);
                        if answer.header("x-ab-lang") == Some(v2.as_str()) {
                            new_seen.fetch_add(1, Ordering::Relaxed);
                            let mut first = first_new.lock().expect("lock");
                            first.get_or_insert_with(Instant::now);
                        }
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let deadline = Instant::now() + limit;
    while served.load(Ordering::Relaxed) < 50 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.write_config(&config(subject, &v2, &app, &flags));
    let reload_started = Instant::now();
    let admin = proxy.admin;
    let (status, why) = tokio::task::spawn_blocking(move || {
        crate::proxy::admin_post(admin, "/reload", limit).unwrap_or((0, String::new()))
    })
    .await
    .expect("reload task");
    let reload = reload_started.elapsed();
    assert_eq!(status, 200, "reload refused: {why}\n{}", proxy.log());
    while new_seen.load(Ordering::Relaxed) < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    while clients.join_next().await.is_some() {}
    let first_new = *first_new.lock().expect("lock");
    let report = SwapReport {
        served: served.load(Ordering::Relaxed),
        failed: failed.load(Ordering::Relaxed),
        first_new_answer: first_new.map_or(limit, |at| at.duration_since(reload_started)),
        reload,
    };
    assert_eq!(
        report.failed, 0,
        "failed requests during the swap: {report:?}"
    );
    assert!(
        new_seen.load(Ordering::Relaxed) >= 20,
        "version 2 did not take over within {limit:?}: {report:?}\n{}",
        proxy.log()
    );
    report
}
