//! The response side: a revalidation answered 304 refreshes the stored
//! entry and the client gets it whole (REVALIDATED); an origin error within
//! `stale-if-error` gets the stale entry (STALE); a storable response is
//! copied chunk by chunk on its way to the client (never held back) and
//! stored at its end if it stayed within `max_entry_bytes`.

use crate::entry::Entry;
use crate::freshness;
use crate::headers::{self, Headers};
use crate::kv::Kv;
use crate::lookup::answer_with;
use crate::policy;
use crate::state::{Capture, Fetch, State};
use crate::store::Cache;
use crate::vary;
use ravelin_sdk::{BodyLimit, BodyMode, Decision, Request, Response, log, metrics, now_ms};

/// What the chunk hooks may hold back: nothing (every chunk passes).
const HOLD_NOTHING: u64 = 64 * 1024;

/// The origin's (or the proxy's) answer to a request the cache sent on.
pub fn fetched<K: Kv>(
    cache: &Cache<K>,
    req: &Request,
    resp: &Response,
    fetch: Fetch,
) -> (Decision, State) {
    let now = now_ms();
    let status = resp.status();
    let response = head_of(resp);
    if let Some((entry_key, entry)) = &fetch.stale {
        let origin_failed = matches!(status, 500 | 502 | 503 | 504);
        let age = entry.age_ms(now);
        if origin_failed && fetch.rules.allows_stale() && entry.freshness.within_sie(age) {
            release(cache, &fetch.lock);
            return (answer_with(&fetch.client, entry, now, "STALE"), State::Idle);
        }
        if status == 304 {
            let refreshed = refresh(cache, entry_key, entry, &response, now);
            release(cache, &fetch.lock);
            return (
                answer_with(&fetch.client, &refreshed, now, "REVALIDATED"),
                State::Idle,
            );
        }
    }
    metrics::counter_add("lookups", &[("result", "miss")], 1);
    let _ = resp.set_header("x-cache", "MISS");
    match capture(cache, req, resp, &fetch, status, response, now) {
        Some(capture) => (Decision::Continue, State::Capture(capture)),
        None => {
            release(cache, &fetch.lock);
            (Decision::Continue, State::Idle)
        }
    }
}

/// The entry refreshed by a 304's fields and stored again (RFC 9111
/// §4.3.4); on a store failure the client still gets it.
fn refresh<K: Kv>(
    cache: &Cache<K>,
    entry_key: &str,
    entry: &Entry,
    update: &Headers,
    now: u64,
) -> Entry {
    let headers = headers::refreshed(&entry.headers, update);
    let freshness = freshness::of(&headers, now, cache.settings.default_ttl_ms).unwrap_or(
        crate::freshness::Freshness {
            no_cache: true,
            ..Default::default()
        },
    );
    let refreshed = Entry {
        arrived_ms: now,
        freshness,
        headers,
        ..entry.clone()
    };
    if let Err(e) = cache.replace(entry_key, &refreshed, now) {
        failed(&format!("refreshing {}", entry.url), &e);
    }
    refreshed
}

/// Starts copying a storable response's body, or says why not (counted).
fn capture<K: Kv>(
    cache: &Cache<K>,
    req: &Request,
    resp: &Response,
    fetch: &Fetch,
    status: u16,
    response: Headers,
    now: u64,
) -> Option<Capture> {
    let settings = cache.settings;
    if fetch.head {
        return None;
    }
    let not_stored = |reason: &str| metrics::counter_add("not_stored", &[("reason", reason)], 1);
    let freshness = match policy::storable(settings, &fetch.rules, status, &response, now) {
        Ok(freshness) => freshness,
        Err(reason) => {
            not_stored(reason.label());
            return None;
        }
    };
    let length =
        headers::first(&response, "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if length.is_some_and(|l| l > settings.max_entry_bytes) {
        // Too large: streamed through without a copy.
        not_stored("too_large");
        return None;
    }
    let names = vary::names(&response)?;
    let chunked = BodyMode::chunked(BodyLimit::skip(HOLD_NOTHING));
    if let Err(e) = resp.want_body(chunked) {
        log::warn(&format!("cache: cannot read the response body: {e}"));
        return None;
    }
    let entry = Entry {
        url: fetch.key.url.clone(),
        arrived_ms: now,
        freshness,
        selection: vary::select(&names, |n| req.header_all(n)),
        status,
        headers: headers::storable(&response, settings.cache_set_cookie),
        body: Vec::new(),
    };
    Some(Capture {
        primary: fetch.key.primary.clone(),
        lock: fetch.lock.clone(),
        names,
        entry,
        body: Vec::with_capacity(length.unwrap_or(0) as usize),
        overflow: false,
    })
}

/// Copies `chunk` (up to `max_entry_bytes`); at the end of the body, stores
/// the entry and releases the fill lock. Whether the capture is over.
pub fn chunk<K: Kv>(cache: &Cache<K>, capture: &mut Capture, chunk: &[u8], end: bool) -> bool {
    if !capture.overflow {
        if (capture.body.len() + chunk.len()) as u64 > cache.settings.max_entry_bytes {
            capture.overflow = true;
            capture.body = Vec::new();
        } else {
            capture.body.extend_from_slice(chunk);
        }
    }
    if !end {
        return false;
    }
    if capture.overflow {
        metrics::counter_add("not_stored", &[("reason", "too_large")], 1);
    } else {
        capture.entry.body = std::mem::take(&mut capture.body);
        let now = now_ms();
        match cache.save(&capture.primary, &capture.names, &capture.entry, now) {
            Ok(_) => metrics::counter_add("stored", &[], 1),
            Err(crate::store::NotSaved::Full) => {
                metrics::counter_add("not_stored", &[("reason", "full")], 1)
            }
            Err(crate::store::NotSaved::Kv(e)) => {
                failed(&format!("storing {}", capture.entry.url), &e)
            }
        }
    }
    release(cache, &capture.lock);
    true
}

/// The response's header fields, names lower-case.
fn head_of(resp: &Response) -> Headers {
    let fields = resp.headers().into_iter();
    fields
        .map(|f| (f.name.to_ascii_lowercase(), f.value))
        .collect()
}

/// Releases the lock this exchange holds, if any.
pub fn release<K: Kv>(cache: &Cache<K>, lock: &Option<String>) {
    if let Some(name) = lock
        && let Err(e) = cache.unlock(name)
    {
        failed("releasing a lock", &e);
    }
}

/// Logs and counts a kv failure.
pub fn failed(doing: &str, error: &str) {
    metrics::counter_add("kv_errors", &[], 1);
    log::warn(&format!("cache: kv store failed {doing}: {error}"));
}
