//! The A/B router: the example every supported language implements the same
//! way (`plugins/ab-router-py/`, …), and this, the Rust reference. One set of
//! end-to-end tests (`tests/src/lang_behaviour.rs`) drives each of them
//! through the proxy.
//!
//! Config: `{ lang = "rust", split = 50, flag_upstream = "flags" }` —
//! `lang` names the implementation (answered in `x-ab-lang`), `split` is the
//! share of assigned requests that go to bucket `a` (0 to 100, default 50),
//! `flag_upstream` the upstream cluster `/ab/flag` asks (optional; it must
//! be in the plugin's `allowed_upstreams`).
//!
//! - Bucket: request header `x-ab-bucket` when it is `a` or `b`; otherwise
//!   the kv counter `assigned` of store `ab` is incremented and its new
//!   value `n` picks `a` when `n * split % 100 < split` (with 50: even → a,
//!   odd → b). The upstream gets `x-ab-bucket`, never `x-debug`; the
//!   response gets `x-ab-lang` and `x-ab-bucket`. Each request logs
//!   `ab bucket=<bucket> path=<path>` at info.
//! - `GET /ab/health` → 200 `ok from <lang>`; header `x-ab-block: 1` → 403
//!   `blocked`; neither reaches the upstream.
//! - `GET /ab/visits` → 200 with the new value of kv counter `visits`.
//! - `GET /ab/flag` → 200 `flag:<body>` of a `GET /flag` on
//!   `flag_upstream`; 502 `flag unavailable` when that fails.
//! - `POST /ab/upper` → the request body goes upstream upper-cased (ASCII).
//! - Header `x-ab-trap: 1` → `on-request` panics (the failure policy
//!   decides what the client sees).
use ravelin_sdk::outbound::{self, HttpRequest};
use ravelin_sdk::{BodyDecision, BodyLimit, BodyMode, Config, Decision, Hooks, Plugin};
use ravelin_sdk::{Reply, Request, Response, kv, log};
use std::time::Duration;

/// The largest body `/ab/upper` takes.
const UPPER_LIMIT: u64 = 64 * 1024;

/// How long `/ab/flag` waits for the flag service.
const FLAG_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The implementation's name, answered in `x-ab-lang`.
    lang: String,
    /// Percent of assigned requests that go to bucket `a`.
    #[serde(default = "half")]
    split: u8,
    /// The upstream cluster `/ab/flag` calls.
    flag_upstream: Option<String>,
}

fn half() -> u8 {
    50
}

struct AbRouter {
    settings: Settings,
    /// The bucket of the exchange this instance is serving.
    bucket: &'static str,
}

fn text(status: u16, body: impl Into<String>) -> Decision {
    Reply::text(status, body).into()
}

impl AbRouter {
    /// The client's bucket, or a new assignment from the kv counter.
    fn bucket(&self, req: &Request) -> Result<&'static str, String> {
        match req.header_str("x-ab-bucket").as_deref() {
            Some("a") => return Ok("a"),
            Some("b") => return Ok("b"),
            _ => {}
        }
        let store = kv::Store::open("ab").map_err(|e| format!("kv: {e:?}"))?;
        let n = store
            .increment("assigned", 1, None)
            .map_err(|e| format!("kv: {e:?}"))?;
        let split = i64::from(self.settings.split);
        Ok(if n * split % 100 < split { "a" } else { "b" })
    }

    fn visits(&self) -> Decision {
        let counted = kv::Store::open("ab").and_then(|store| store.increment("visits", 1, None));
        match counted {
            Ok(n) => text(200, n.to_string()),
            Err(e) => text(503, format!("kv: {e:?}")),
        }
    }

    fn flag(&self) -> Decision {
        let Some(cluster) = &self.settings.flag_upstream else {
            return text(502, "flag unavailable");
        };
        match outbound::send(cluster, &HttpRequest::get("/flag"), FLAG_TIMEOUT) {
            Ok(resp) if (200..300).contains(&resp.status) => {
                text(200, format!("flag:{}", resp.text()))
            }
            Ok(resp) => {
                log::warn(&format!("flag service answered {}", resp.status));
                text(502, "flag unavailable")
            }
            Err(e) => {
                log::warn(&format!("flag service: {e}"));
                text(502, "flag unavailable")
            }
        }
    }
}

impl Plugin for AbRouter {
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(config: Config) -> Result<Self, String> {
        let settings: Settings = config.parse()?;
        if settings.split > 100 {
            return Err(format!(
                "invalid plugin config: split must be 0 to 100, got {}",
                settings.split
            ));
        }
        Ok(AbRouter {
            settings,
            bucket: "a",
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        if req.header_str("x-ab-trap").as_deref() == Some("1") {
            panic!("x-ab-trap asked for a trap");
        }
        if req.header_str("x-ab-block").as_deref() == Some("1") {
            return text(403, "blocked");
        }
        self.bucket = match self.bucket(req) {
            Ok(bucket) => bucket,
            Err(e) => return text(503, e),
        };
        let path = req.path();
        log::info(&format!("ab bucket={} path={path}", self.bucket));
        match (req.method().as_str(), path.as_str()) {
            ("GET", "/ab/health") => return text(200, format!("ok from {}", self.settings.lang)),
            ("GET", "/ab/visits") => return self.visits(),
            ("GET", "/ab/flag") => return self.flag(),
            ("POST", "/ab/upper") => {
                let whole = BodyMode::whole(BodyLimit::reject(UPPER_LIMIT));
                if let Err(e) = req.want_body(whole) {
                    return text(500, format!("want-body: {e}"));
                }
            }
            _ => {}
        }
        if let Err(e) = req.set_header("x-ab-bucket", self.bucket) {
            return text(500, format!("set-header: {e}"));
        }
        req.remove_header("x-debug");
        Decision::Continue
    }

    fn on_request_body(&mut self, _req: &Request, body: Vec<u8>, _truncated: bool) -> BodyDecision {
        BodyDecision::Replace(body.to_ascii_uppercase())
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        let lang = &self.settings.lang;
        if let Err(e) = resp
            .set_header("x-ab-lang", lang)
            .and_then(|()| resp.set_header("x-ab-bucket", self.bucket))
        {
            log::warn(&format!("set-header: {e}"));
        }
        Decision::Continue
    }
}

ravelin_sdk::export!(AbRouter);
