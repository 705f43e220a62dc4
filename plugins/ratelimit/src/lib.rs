//! `ratelimit`: token-bucket and sliding-window limits per key (client IP,
//! its network, a header, an attribute, the route), several per route,
//! counted in the kv store so that every proxy on a shared Redis counts
//! together. A refused request gets 429 with `Retry-After` and the
//! `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-
//! headers-09), which allowed responses carry too. See README.md for the
//! configuration.

mod gcra;
mod headers;
mod key;
mod limiter;
mod settings;
mod verdict;
mod window;

use headers::Fields;
use limiter::{Failure, Kv};
use ravelin_sdk::kv::Store;
use ravelin_sdk::{Config, Decision, Hooks, Plugin, Reply, Request, Response, log, metrics};
use settings::{FileSettings, OnKvError, Settings};

/// The kv store the counters live in.
const STORE: &str = "ratelimit";

impl Kv for Store {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
        let entry = Store::get(self, key).map_err(|e| format!("{e:?}"))?;
        Ok(entry.map(|e| (e.value, e.version)))
    }
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<bool, String> {
        let ttl = Some(std::time::Duration::from_millis(ttl_ms));
        Store::compare_and_set(self, key, expected, value, ttl).map_err(|e| format!("{e:?}"))
    }
    fn increment(&self, key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<i64, String> {
        let ttl = ttl_ms.map(std::time::Duration::from_millis);
        Store::increment(self, key, delta, ttl).map_err(|e| format!("{e:?}"))
    }
}

impl key::Facts for Request<'_> {
    fn client_addr(&self) -> Option<String> {
        Request::client_addr(self)
    }
    fn header(&self, name: &str) -> Option<Vec<u8>> {
        Request::header(self, name)
    }
    fn attribute(&self, name: &str) -> Option<String> {
        Request::attribute(self, name)
    }
    fn route(&self) -> String {
        Request::route(self)
    }
}

struct RateLimit {
    settings: Settings,
    /// The fields for the response of the exchange this instance serves.
    pending: Option<Fields>,
}

impl RateLimit {
    /// No decision: the kv store failed (let the request through or refuse
    /// it, as configured), or the bucket was too contended (refused: a
    /// limit is never exceeded for want of a decision). Logged and counted.
    fn undecided(&self, failure: Failure) -> Decision {
        let allow = self.settings.on_kv_error == OnKvError::Allow;
        let (what, decision) = match failure {
            Failure::Kv(e) if allow => (
                format!("kv store failed ({e}): allowed"),
                Decision::Continue,
            ),
            Failure::Kv(e) => (
                format!("kv store failed ({e}): refused"),
                Reply::text(503, "rate limit unavailable\n").into(),
            ),
            Failure::Contended(limit) => (
                format!("limit {limit} too contended to decide: refused"),
                Reply::text(429, "too many requests\n")
                    .header("retry-after", "1")
                    .into(),
            ),
        };
        metrics::counter_add("undecided", &[], 1);
        log::warn(&format!("ratelimit: {what}"));
        decision
    }
}

impl Plugin for RateLimit {
    fn configure(config: Config) -> Result<Self, String> {
        let settings = config.parse::<FileSettings>()?.validate()?;
        Ok(RateLimit {
            settings,
            pending: None,
        })
    }

    fn hooks(&self) -> Hooks {
        if self.settings.headers {
            Hooks::ON_RESPONSE
        } else {
            Hooks::empty()
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        self.pending = None;
        let Some(key) = key::key(&self.settings, req) else {
            return Decision::Continue;
        };
        let limits = &self.settings.limits;
        let checked = Store::open(STORE)
            .map_err(|e| Failure::Kv(format!("{e:?}")))
            .and_then(|store| limiter::check_all(limits, &store, &key, ravelin_sdk::now_ms()));
        let verdicts = match checked {
            Ok(verdicts) => verdicts,
            Err(failure) => return self.undecided(failure),
        };
        let fields = headers::fields(limits, &verdicts);
        if verdicts.iter().all(|v| v.allowed) {
            self.pending = self.settings.headers.then_some(fields);
            return Decision::Continue;
        }
        metrics::counter_add("limited", &[], 1);
        let reply = Reply::text(429, "too many requests\n");
        fields
            .into_iter()
            .fold(reply, |r, (n, v)| r.header(n, v))
            .into()
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        for (name, value) in self.pending.take().unwrap_or_default() {
            let _ = resp.set_header(name, value);
        }
        Decision::Continue
    }
}

ravelin_sdk::export!(RateLimit);
