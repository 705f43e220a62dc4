//! `cache`: a shared HTTP cache (RFC 9111) kept in the plugin kv store, so
//! every proxy on one Redis shares it. GET and HEAD are served from it
//! (`X-Cache: HIT`, `STALE`, `REVALIDATED`; `MISS` when fetched; `BYPASS`
//! when the cache was not used); `Vary` variants, revalidation with
//! `ETag` / `Last-Modified`, `stale-while-revalidate` and `stale-if-error`,
//! request collapsing, purges by URL and by prefix. See README.md.
//!
//! | module | job |
//! | --- | --- |
//! | `settings` | the configuration, checked at load |
//! | `key`, `vary` | the primary key and the `Vary` selection |
//! | `directives`, `date`, `freshness`, `policy` | RFC 9111's rules |
//! | `entry`, `wire`, `headers` | what is stored, byte for byte |
//! | `kv`, `store`, `purge` | the records in kv: variants, locks, purges, byte count |
//! | `lookup`, `fill`, `reply`, `admin` | the hooks' work |

mod admin;
mod date;
mod directives;
mod entry;
mod fill;
mod freshness;
mod headers;
mod key;
mod kv;
mod lookup;
mod policy;
mod purge;
mod reply;
mod settings;
mod state;
mod store;
mod vary;
mod wire;

use policy::RequestRules;
use ravelin_sdk::kv::Store;
use ravelin_sdk::{ChunkDecision, Config, Decision, Hooks, LogInfo, Plugin, Request, Response};
use settings::{FileSettings, Settings};
use state::State;
use std::time::Duration;
use store::Cache;

/// The kv store the cache lives in.
const STORE: &str = "cache";

fn ttl(ms: u64) -> Option<Duration> {
    Some(Duration::from_millis(ms))
}

impl kv::Kv for Store {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
        let entry = Store::get(self, key).map_err(|e| format!("{e:?}"))?;
        Ok(entry.map(|e| (e.value, e.version)))
    }
    fn set(&self, key: &str, value: &[u8], ttl_ms: u64) -> Result<(), String> {
        Store::set(self, key, value, ttl(ttl_ms)).map_err(|e| format!("{e:?}"))
    }
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<bool, String> {
        Store::compare_and_set(self, key, expected, value, ttl(ttl_ms))
            .map_err(|e| format!("{e:?}"))
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        Store::delete(self, key)
            .map(|_| ())
            .map_err(|e| format!("{e:?}"))
    }
    fn increment(&self, key: &str, delta: i64, ttl_ms: u64) -> Result<i64, String> {
        Store::increment(self, key, delta, ttl(ttl_ms)).map_err(|e| format!("{e:?}"))
    }
}

struct HttpCache {
    settings: Settings,
    state: State,
}

impl HttpCache {
    /// Runs `work` on the cache, or fails open: the request passes
    /// uncached (`X-Cache: BYPASS`), logged and counted.
    fn with_cache(&mut self, work: impl FnOnce(&Cache<Store>) -> lookup::Outcome) -> Decision {
        let outcome = Store::open(STORE)
            .map_err(|e| format!("{e:?}"))
            .and_then(|store| {
                work(&Cache {
                    kv: &store,
                    settings: &self.settings,
                })
            });
        match outcome {
            Ok((decision, state)) => {
                self.state = state;
                decision
            }
            Err(e) => {
                fill::failed("looking up: the request passes uncached", &e);
                self.state = State::Bypass;
                Decision::Continue
            }
        }
    }

    /// Runs `work` on the cache if the store opens (errors are logged).
    fn on_store<T>(&self, work: impl FnOnce(&Cache<Store>) -> T) -> Option<T> {
        match Store::open(STORE) {
            Ok(store) => Some(work(&Cache {
                kv: &store,
                settings: &self.settings,
            })),
            Err(e) => {
                fill::failed("opening the store", &format!("{e:?}"));
                None
            }
        }
    }
}

impl Plugin for HttpCache {
    // `on_log` releases a lock an exchange still holds when it ended early
    // (the client left mid-body), so other misses need not wait it out.
    const HOOKS: Hooks = Hooks::ON_RESPONSE.union(Hooks::ON_LOG);

    fn configure(config: Config) -> Result<Self, String> {
        let settings = config.parse_or_default::<FileSettings>()?.validate()?;
        Ok(HttpCache {
            settings,
            state: State::Idle,
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        self.state = State::Idle;
        if let Some(purge) = &self.settings.purge
            && req.path() == purge.path
        {
            return self
                .on_store(|cache| admin::purge(cache, purge, req))
                .unwrap_or_else(|| {
                    ravelin_sdk::Reply::text(503, "cache store unavailable\n").into()
                });
        }
        let (authority, target) = (req.authority(), req.path_with_query());
        let key = key::build(&self.settings.key, authority.as_deref(), &target, |n| {
            req.header(n)
        });
        match req.method().as_str() {
            "GET" | "HEAD" => {}
            "POST" | "PUT" | "DELETE" | "PATCH" => {
                self.state = State::Invalidate(key.primary);
                return Decision::Continue;
            }
            _ => return Decision::Continue,
        }
        let rules = RequestRules::new(
            &req.header_all_str("cache-control"),
            &req.header_all_str("pragma"),
            req.header("authorization").is_some(),
        );
        if rules.no_store {
            self.state = State::Bypass;
            return Decision::Continue;
        }
        self.with_cache(|cache| lookup::serve(cache, req, key, rules))
    }

    fn on_response(&mut self, req: &Request, resp: &Response) -> Decision {
        match std::mem::take(&mut self.state) {
            State::Idle | State::Capture(_) => Decision::Continue,
            State::Bypass => {
                let _ = resp.set_header("x-cache", "BYPASS");
                Decision::Continue
            }
            State::Invalidate(primary) => {
                // RFC 9111 §4.4: once the origin accepted the change.
                if resp.status() < 400
                    && let Some(Err(e)) = self.on_store(|cache| cache.invalidate(&primary))
                {
                    fill::failed("invalidating", &e);
                }
                Decision::Continue
            }
            State::Fetch(fetch) => {
                let done = self.on_store(|cache| fill::fetched(cache, req, resp, fetch));
                let (decision, state) = done.unwrap_or((Decision::Continue, State::Idle));
                self.state = state;
                decision
            }
        }
    }

    fn on_response_chunk(
        &mut self,
        _req: &Request,
        _resp: &Response,
        chunk: Vec<u8>,
        end: bool,
    ) -> ChunkDecision {
        if let State::Capture(mut capture) = std::mem::take(&mut self.state) {
            let over = self
                .on_store(|cache| fill::chunk(cache, &mut capture, &chunk, end))
                .unwrap_or(true);
            if !over {
                self.state = State::Capture(capture);
            }
        }
        ChunkDecision::Pass
    }

    fn on_log(&mut self, _req: &Request, _info: &LogInfo) {
        let lock = match std::mem::take(&mut self.state) {
            State::Fetch(fetch) => fetch.lock,
            State::Capture(capture) => capture.lock,
            _ => None,
        };
        if lock.is_some() {
            self.on_store(|cache| fill::release(cache, &lock));
        }
    }
}

ravelin_sdk::export!(HttpCache);
