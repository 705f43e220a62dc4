//! A JWKS fetched from an upstream cluster through outbound HTTP and shared
//! by every instance (and every proxy on a Redis kv) through kv store
//! `jwks`:
//!
//! - `set`: the document and its schedule, expiring with it. Past the
//!   refresh point, the one request that wins the `lock` (compare-and-set)
//!   refetches while the others keep using the set; a request that wins it
//!   after another's refresh finds the new set and fetches nothing.
//! - Cold or expired: the request that wins `lock` fetches; the others poll
//!   kv (`sleep`, no CPU) until the set appears, at most `wait`.
//! - A failed cold fetch leaves `down` for `failure_backoff`: requests in
//!   that window answer 503 at once instead of piling onto the provider.
//! - A `kid` not in the set refetches once, if `kid` (compare-and-set, one
//!   per `unknown_kid_every`) is won: how rotated keys are picked up.
//!
//! Parsed keys are kept in the instance per fetched set. When kv fails, the
//! instance fetches and keeps the set on its own.

pub mod lifetime;

use crate::jwt::RemoteKeys;
use crate::jwt::key::Key;
use crate::jwt::keyset;
use lifetime::{Bounds, Schedule};
use ravelin_sdk::kv::{Entry, Store};
use ravelin_sdk::{log, now_ms, outbound, sleep};
use std::time::Duration;

const STORE: &str = "jwks";
const POLL: Duration = Duration::from_millis(25);

/// Where the set comes from and how long it is kept.
#[derive(Clone, Debug)]
pub struct Source {
    pub cluster: String,
    pub path: String,
    pub timeout: Duration,
    pub bounds: Bounds,
    pub unknown_kid_every: Duration,
    pub failure_backoff: Duration,
    /// How long a request waits for another's fetch.
    pub wait: Duration,
}

/// What kv holds under `set`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    fetched_at_ms: u64,
    refresh_at_ms: u64,
    expires_at_ms: u64,
    jwks: String,
}

/// Keys parsed from one fetched set.
struct Memo {
    fetched_at_ms: u64,
    expires_at_ms: u64,
    keys: Vec<Key>,
}

/// The JWKS of one plugin version, with its instance-local memo.
pub struct Jwks {
    source: Source,
    memo: Option<Memo>,
}

impl RemoteKeys for Jwks {
    fn find(&mut self, kid: Option<&str>) -> Result<Vec<Key>, String> {
        let store = match Store::open(STORE) {
            Ok(store) => store,
            Err(e) => return self.without_kv(&format!("{e:?}"), kid),
        };
        let fresh = match store.get(&self.key("set")) {
            Ok(Some(entry)) => self.cached(&store, &entry)?,
            Ok(None) => self.cold(&store)?,
            Err(e) => return self.without_kv(&format!("{e:?}"), kid),
        };
        if let Some(kid) = kid
            && !fresh
            && !self.has(kid)
            && claim(&store, &self.key("kid"), self.source.unknown_kid_every)
        {
            log::info(&format!("JWKS: unknown kid {kid:?}, refetching once"));
            if let Err(why) = self.fetch(Some(&store)) {
                log::warn(&format!("JWKS refetch for kid {kid:?} failed: {why}"));
            }
        }
        Ok(self.matching(kid))
    }
}

impl Jwks {
    pub fn new(source: Source) -> Self {
        Jwks { source, memo: None }
    }

    /// The kv key of `name` for this source: a reload that points the
    /// plugin at another JWKS never reads the old one's entries.
    fn key(&self, name: &str) -> String {
        format!("{name}:{}{}", self.source.cluster, self.source.path)
    }

    fn has(&self, kid: &str) -> bool {
        let keys = self.memo.iter().flat_map(|m| &m.keys);
        keys.into_iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    fn matching(&self, kid: Option<&str>) -> Vec<Key> {
        let keys = self.memo.iter().flat_map(|m| &m.keys);
        let fits = |k: &&Key| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid;
        keys.into_iter().filter(fits).cloned().collect()
    }

    /// Uses the set in kv, refreshing it when past its refresh point and
    /// this request wins the lock. Returns whether this call fetched.
    fn cached(&mut self, store: &Store, entry: &Entry) -> Result<bool, String> {
        let cached: Cached = serde_json::from_slice(&entry.value)
            .map_err(|e| format!("JWKS cache entry unreadable: {e}"))?;
        self.remember(&cached)?;
        let lock_ttl = self.source.timeout + Duration::from_secs(1);
        if now_ms() < cached.refresh_at_ms || !claim(store, &self.key("lock"), lock_ttl) {
            return Ok(false);
        }
        // Another request may have refreshed the set, and let the lock go,
        // between this one's read and its claim: then it is done.
        if let Some(latest) = self.refreshed_since(store, &cached) {
            let _ = store.delete(&self.key("lock"));
            self.remember(&latest)?;
            return Ok(false);
        }
        // The lock is kept on failure: it spaces out retries.
        match self.fetch(Some(store)) {
            Ok(()) => {
                let _ = store.delete(&self.key("lock"));
                Ok(true)
            }
            Err(why) => {
                log::warn(&format!(
                    "JWKS refresh failed, keeping the cached set: {why}"
                ));
                Ok(false)
            }
        }
    }

    /// The set in kv, when it is no longer the one `seen`.
    fn refreshed_since(&self, store: &Store, seen: &Cached) -> Option<Cached> {
        let entry = store.get(&self.key("set")).ok()??;
        let latest: Cached = serde_json::from_slice(&entry.value).ok()?;
        (latest.fetched_at_ms != seen.fetched_at_ms).then_some(latest)
    }

    /// No usable set: one request fetches, the others wait for it.
    fn cold(&mut self, store: &Store) -> Result<bool, String> {
        let deadline = now_ms() + self.source.wait.as_millis() as u64;
        let lock_ttl = self.source.timeout + Duration::from_secs(1);
        loop {
            if let Ok(Some(why)) = store.get_value(&self.key("down")) {
                return Err(format!(
                    "JWKS fetch failed recently: {}",
                    String::from_utf8_lossy(&why)
                ));
            }
            if claim(store, &self.key("lock"), lock_ttl) {
                let fetched = self.fetch(Some(store));
                if let Err(why) = &fetched {
                    let _ = store.set(
                        &self.key("down"),
                        why.as_bytes(),
                        Some(self.source.failure_backoff),
                    );
                }
                let _ = store.delete(&self.key("lock"));
                return fetched.map(|()| true);
            }
            if now_ms() >= deadline {
                return Err("timed out waiting for another request's JWKS fetch".into());
            }
            sleep(POLL);
            if let Ok(Some(entry)) = store.get(&self.key("set")) {
                return self.cached(store, &entry).map(|_| false);
            }
        }
    }

    /// kv failed: keep the set in this instance alone.
    fn without_kv(&mut self, error: &str, kid: Option<&str>) -> Result<Vec<Key>, String> {
        log::warn(&format!(
            "JWKS: kv unavailable ({error}); using this instance's copy"
        ));
        let expired = self
            .memo
            .as_ref()
            .is_none_or(|m| now_ms() >= m.expires_at_ms);
        if expired {
            self.fetch(None)?;
        }
        Ok(self.matching(kid))
    }

    /// Parses `cached` into the memo unless it holds that set already.
    fn remember(&mut self, cached: &Cached) -> Result<(), String> {
        if self
            .memo
            .as_ref()
            .is_some_and(|m| m.fetched_at_ms == cached.fetched_at_ms)
        {
            return Ok(());
        }
        let json = serde_json::from_str(&cached.jwks).map_err(|e| format!("JWKS: {e}"))?;
        let (keys, _) = keyset::parse_jwks(&json)?;
        self.memo = Some(Memo {
            fetched_at_ms: cached.fetched_at_ms,
            expires_at_ms: cached.expires_at_ms,
            keys,
        });
        Ok(())
    }

    /// Fetches the set, keeps it in the memo and (given a store) in kv.
    fn fetch(&mut self, store: Option<&Store>) -> Result<(), String> {
        let Source { cluster, path, .. } = &self.source;
        let accept = [("accept", "application/jwk-set+json, application/json")];
        let response = outbound::get(cluster, path, &accept, self.source.timeout)
            .map_err(|e| format!("JWKS {cluster}{path}: {e}"))?;
        if response.status != 200 {
            return Err(format!("JWKS {cluster}{path} answered {}", response.status));
        }
        let text = response.text();
        let json = serde_json::from_str(&text).map_err(|e| format!("JWKS {cluster}{path}: {e}"))?;
        let (keys, skipped) = keyset::parse_jwks(&json)?;
        for why in &skipped {
            log::debug(&format!("JWKS {cluster}{path}: skipped {why}"));
        }
        if keys.is_empty() {
            return Err(format!("JWKS {cluster}{path} has no usable key"));
        }
        let now = now_ms();
        let cache_control = response
            .header("cache-control")
            .map(String::from_utf8_lossy);
        let Schedule {
            refresh_at_ms,
            expires_at_ms,
        } = lifetime::schedule(now, cache_control.as_deref(), self.source.bounds);
        if let Some(store) = store {
            let cached = Cached {
                fetched_at_ms: now,
                refresh_at_ms,
                expires_at_ms,
                jwks: text,
            };
            let ttl = Duration::from_millis(expires_at_ms - now);
            let bytes = serde_json::to_vec(&cached).map_err(|e| e.to_string())?;
            if let Err(e) = store.set(&self.key("set"), &bytes, Some(ttl)) {
                log::warn(&format!("JWKS: cannot cache the set in kv: {e:?}"));
            }
        }
        self.memo = Some(Memo {
            fetched_at_ms: now,
            expires_at_ms,
            keys,
        });
        Ok(())
    }
}

/// Whether this request takes `name`, a marker that lives for `ttl`.
fn claim(store: &Store, name: &str, ttl: Duration) -> bool {
    store
        .compare_and_set(name, None, b"1", Some(ttl))
        .unwrap_or(false)
}
