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
//! [`assert_bad_configs_refused`] checks that a bad plugin config is
//! refused with the key and the problem; [`assert_hot_swap_under_load`]
//! swaps a new version of the plugin in while clients keep sending, and
//! counts failed requests (none allowed).

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

use crate::client::{self, Answer, HttpsClient, send};
use crate::origin::{Origin, Recorded, respond};
use crate::proxy::Proxy;

mod swap;

pub use swap::{SwapReport, assert_hot_swap_under_load};

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
    bench.flags.gone().await;
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

/// A configuration the plugin must refuse, and what the refusal must say.
const BAD_CONFIGS: &[(&str, &str)] = &[
    ("{ lang = \"x\", spilt = 50 }", "`spilt`"),
    (
        "{ lang = \"x\", split = 101 }",
        "split must be 0 to 100, got 101",
    ),
];

/// Asserts `ravelin check` refuses each of [`BAD_CONFIGS`] naming the
/// plugin and the problem: a typo or an out-of-range value in the
/// plugin's config stops the proxy from loading it, in every language.
pub fn assert_bad_configs_refused(subject: &Subject<'_>) {
    for (config, problem) in BAD_CONFIGS {
        let text = format!(
            "[[listeners]]\nlisten = \"{{http}}\"\n[upstreams.app]\nendpoints =              [{{ address = \"127.0.0.1:9\" }}]\n[plugins.ab]\nsource = {:?}\nconfig = {config}\n{}\n\
             [[routes]]\nupstream = \"app\"\nplugins = [\"ab\"]\n",
            subject.component.display().to_string(),
            subject.settings,
        );
        let (ok, said) = crate::proxy::check_config(&text);
        assert!(!ok, "{}: config {config} was accepted", subject.lang);
        assert!(
            said.contains("plugins.ab") && said.contains(problem),
            "{}: refusing {config} should name `plugins.ab` and {problem}:\n{said}",
            subject.lang
        );
    }
}
