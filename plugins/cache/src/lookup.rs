//! The request side: answer from the cache (fresh: HIT; stale within
//! `stale-while-revalidate` while another request revalidates: STALE), or
//! send the request upstream to fill (a miss, with the fill lock: other
//! misses of the URL wait for the entry instead of going upstream too) or
//! to revalidate (a stale entry, with its validators).

use std::time::Duration;

use crate::entry::Entry;
use crate::key::CacheKey;
use crate::kv::Kv;
use crate::policy::RequestRules;
use crate::reply;
use crate::state::{Conditional, Fetch, State};
use crate::store::{self, Cache};
use ravelin_sdk::{Decision, Reply, Request, metrics, now_ms, sleep};

/// How long a waiting miss sleeps between two looks at the store.
const POLL: Duration = Duration::from_millis(20);

/// What the request does: an answer from the cache, or the upstream with
/// the state its response needs.
pub type Outcome = Result<(Decision, State), String>;

/// Serves `req` (GET or HEAD) with `key` from `cache`, or sends it on.
pub fn serve<K: Kv>(
    cache: &Cache<K>,
    req: &Request,
    key: CacheKey,
    rules: RequestRules,
) -> Outcome {
    let now = now_ms();
    let found = cache.lookup(&key.primary, |n| req.header_all(n))?;
    if rules.only_if_cached {
        return Ok((only_if_cached(req, found, &rules, now), State::Idle));
    }
    match found {
        Some((entry_key, entry)) => stored(cache, req, key, rules, entry_key, entry, now),
        None => miss(cache, req, key, rules),
    }
}

/// `only-if-cached` (RFC 9111 §5.2.1.7): a fresh entry, or 504.
fn only_if_cached(
    req: &Request,
    found: Option<(String, Entry)>,
    rules: &RequestRules,
    now: u64,
) -> Decision {
    match found {
        Some((_, entry)) if rules.serves_fresh(&entry.freshness, entry.age_ms(now)) => {
            answer(req, &entry, now, "HIT")
        }
        _ => Reply::text(504, "not in the cache\n")
            .header("x-cache", "MISS")
            .into(),
    }
}

/// A stored variant: fresh, stale but servable while one request
/// revalidates, or to be revalidated now.
fn stored<K: Kv>(
    cache: &Cache<K>,
    req: &Request,
    key: CacheKey,
    rules: RequestRules,
    entry_key: String,
    entry: Entry,
    now: u64,
) -> Outcome {
    let age = entry.age_ms(now);
    if rules.serves_fresh(&entry.freshness, age) {
        return Ok((answer(req, &entry, now, "HIT"), State::Idle));
    }
    let mut lock = None;
    if rules.allows_stale() && entry.freshness.within_swr(age) {
        let name = store::revalidation_lock(&entry_key);
        if !cache.try_lock(&name)? {
            return Ok((answer(req, &entry, now, "STALE"), State::Idle));
        }
        lock = Some(name);
    }
    let client = validate_upstream(req, &entry);
    let fetch = Fetch {
        key,
        rules,
        head: req.method() == "HEAD",
        lock,
        stale: Some((entry_key, entry)),
        client,
    };
    Ok((Decision::Continue, State::Fetch(fetch)))
}

/// Replaces the client's conditional fields by the entry's validators;
/// the client's are kept to answer it once the entry is revalidated.
fn validate_upstream(req: &Request, entry: &Entry) -> Conditional {
    let client = conditional(req);
    req.remove_header("if-none-match");
    req.remove_header("if-modified-since");
    if let Some(etag) = entry.header("etag") {
        let _ = req.set_header("if-none-match", etag);
    }
    if let Some(modified) = entry.header("last-modified") {
        let _ = req.set_header("if-modified-since", modified);
    }
    client
}

/// Nothing stored: fill it (with the lock), or wait for the request that
/// holds the lock to fill it, at most `collapse_wait_ms`.
fn miss<K: Kv>(cache: &Cache<K>, req: &Request, key: CacheKey, rules: RequestRules) -> Outcome {
    let head = req.method() == "HEAD";
    let mut fetch = Fetch {
        key,
        rules,
        head,
        lock: None,
        stale: None,
        client: Conditional::default(),
    };
    // A HEAD response has no body to store: it goes upstream alone.
    if head {
        return Ok((Decision::Continue, State::Fetch(fetch)));
    }
    let lock = store::fill_lock(&fetch.key.primary);
    if cache.try_lock(&lock)? {
        fetch.lock = Some(lock);
        return Ok((Decision::Continue, State::Fetch(fetch)));
    }
    let deadline = now_ms() + cache.settings.collapse_wait_ms;
    while now_ms() < deadline {
        sleep(POLL);
        if let Some((_, entry)) = cache.lookup(&fetch.key.primary, |n| req.header_all(n))? {
            let now = now_ms();
            if rules.serves_fresh(&entry.freshness, entry.age_ms(now)) {
                metrics::counter_add("collapsed", &[], 1);
                return Ok((answer(req, &entry, now, "HIT"), State::Idle));
            }
        }
        if !cache.locked(&lock)? {
            // The fill ended without a usable entry (not cacheable).
            break;
        }
    }
    metrics::counter_add("collapse_gave_up", &[], 1);
    Ok((Decision::Continue, State::Fetch(fetch)))
}

/// The entry as the answer, or a 304 when the client's own conditional
/// request is satisfied by it; counted as `x_cache`.
pub fn answer(req: &Request, entry: &Entry, now: u64, x_cache: &str) -> Decision {
    answer_with(&conditional(req), entry, now, x_cache)
}

/// Like [`answer`], with the client's conditional fields given.
pub fn answer_with(client: &Conditional, entry: &Entry, now: u64, x_cache: &str) -> Decision {
    metrics::counter_add("lookups", &[("result", &x_cache.to_ascii_lowercase())], 1);
    let ims = client.if_modified_since.as_deref();
    match reply::client_not_modified(entry, &client.if_none_match, ims) {
        true => reply::not_modified(entry, now, x_cache).into(),
        false => reply::stored(entry, now, x_cache).into(),
    }
}

fn conditional(req: &Request) -> Conditional {
    Conditional {
        if_none_match: req.header_all_str("if-none-match"),
        if_modified_since: req.header_str("if-modified-since"),
    }
}
