//! The limits against the kv store: the token bucket read-modify-writes
//! its `tat` with compare-and-set (a request that loses the race reads
//! again), the sliding window counts with atomic `increment`. A request
//! refused by one limit gives back what earlier limits took, so refused
//! requests do not use up quota. Generic over [`Kv`] so the whole of it is
//! tested natively.

use crate::settings::{Kind, Limit};
use crate::verdict::Verdict;

/// The kv calls the limits use (the SDK's store, or a map in tests).
pub trait Kv {
    /// The value and version under `key`.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String>;
    /// Writes only if `key` is at version `expected` (`None`: absent).
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<bool, String>;
    /// Adds `delta` to the counter and returns the sum.
    fn increment(&self, key: &str, delta: i64, ttl_ms: Option<u64>) -> Result<i64, String>;
}

/// Why a request could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The store failed: its message.
    Kv(String),
    /// The bucket of this limit changed under every one of
    /// [`MAX_ATTEMPTS`] compare-and-sets.
    Contended(String),
}

/// Compare-and-set attempts per token-bucket request before giving up.
pub const MAX_ATTEMPTS: usize = 1000;

/// Attempts at giving a token back (best effort).
const REFUND_ATTEMPTS: usize = 16;

fn number(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

fn bucket_key(key: &str, limit: &Limit) -> String {
    format!("{key}|{}", limit.name)
}

fn window_key(key: &str, limit: &Limit, index: u64) -> String {
    format!("{key}|{}|{index}", limit.name)
}

/// Decides one limit for the request counted under `key` at `now_ms`.
pub fn check(limit: &Limit, kv: &impl Kv, key: &str, now_ms: u64) -> Result<Verdict, Failure> {
    let now_ns = now_ms.saturating_mul(1_000_000);
    match &limit.kind {
        Kind::TokenBucket(bucket) => {
            let key = bucket_key(key, limit);
            for _ in 0..MAX_ATTEMPTS {
                let entry = kv.get(&key).map_err(Failure::Kv)?;
                let tat = entry.as_ref().and_then(|(v, _)| number(v));
                let step = bucket.step(tat, now_ns);
                let Some(next) = step.next_tat else {
                    return Ok(step.verdict);
                };
                let version = entry.map(|(_, v)| v);
                let ttl = bucket.ttl_ms(next, now_ns);
                if kv
                    .compare_and_set(&key, version, next.to_string().as_bytes(), ttl)
                    .map_err(Failure::Kv)?
                {
                    return Ok(step.verdict);
                }
            }
            Err(Failure::Contended(limit.name.clone()))
        }
        Kind::SlidingWindow(window) => {
            let (index, elapsed) = window.position(now_ms);
            let ttl = Some(window.length_ms * 2);
            let current_key = window_key(key, limit, index);
            let current = kv.increment(&current_key, 1, ttl).map_err(Failure::Kv)?;
            let previous_key = window_key(key, limit, index.wrapping_sub(1));
            let previous = kv.get(&previous_key).map_err(Failure::Kv)?;
            let previous = previous.and_then(|(v, _)| number(&v)).unwrap_or(0);
            let verdict = window.decide(previous, current.max(0) as u64, elapsed);
            if !verdict.allowed {
                let _ = kv.increment(&current_key, -1, None);
            }
            Ok(verdict)
        }
    }
}

/// Gives back what an allowed `check` of `limit` at `now_ms` took.
fn refund(limit: &Limit, kv: &impl Kv, key: &str, now_ms: u64) {
    match &limit.kind {
        Kind::TokenBucket(bucket) => {
            let key = bucket_key(key, limit);
            for _ in 0..REFUND_ATTEMPTS {
                let Ok(Some((value, version))) = kv.get(&key) else {
                    return;
                };
                let Some(tat) = number(&value) else {
                    return;
                };
                let back = tat.saturating_sub(bucket.interval_ns).to_string();
                let ttl = bucket.ttl_ms(tat, now_ms.saturating_mul(1_000_000));
                if kv.compare_and_set(&key, Some(version), back.as_bytes(), ttl) != Ok(false) {
                    return;
                }
            }
        }
        Kind::SlidingWindow(window) => {
            let (index, _) = window.position(now_ms);
            let _ = kv.increment(&window_key(key, limit, index), -1, None);
        }
    }
}

/// Decides every limit in order, stopping at the first refusal (and then
/// giving back what the limits before it took). The verdicts are those of
/// the limits decided, in order.
pub fn check_all(
    limits: &[Limit],
    kv: &impl Kv,
    key: &str,
    now_ms: u64,
) -> Result<Vec<Verdict>, Failure> {
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(limits.len());
    for limit in limits {
        let outcome = check(limit, kv, key, now_ms);
        let refused = !matches!(outcome, Ok(v) if v.allowed);
        if refused {
            for (taken, _) in limits.iter().zip(&verdicts) {
                refund(taken, kv, key, now_ms);
            }
        }
        verdicts.push(outcome?);
        if refused {
            break;
        }
    }
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FileSettings;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// A kv store in a map, with versions, that can be made to fail, and
    /// that lets another writer in before every `n`-th compare-and-set.
    #[derive(Default)]
    struct Map {
        entries: RefCell<HashMap<String, (Vec<u8>, u64)>>,
        version: Cell<u64>,
        down: Cell<bool>,
        interfere_every: Cell<usize>,
        calls: Cell<usize>,
    }

    impl Map {
        fn put(&self, key: &str, value: Vec<u8>) {
            self.version.set(self.version.get() + 1);
            self.entries
                .borrow_mut()
                .insert(key.into(), (value, self.version.get()));
        }
        fn up(&self) -> Result<(), String> {
            if self.down.get() {
                Err("unavailable: test".into())
            } else {
                Ok(())
            }
        }
    }

    impl Kv for Map {
        fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
            self.up()?;
            Ok(self.entries.borrow().get(key).cloned())
        }
        fn compare_and_set(
            &self,
            key: &str,
            expected: Option<u64>,
            value: &[u8],
            _ttl: u64,
        ) -> Result<bool, String> {
            self.up()?;
            self.calls.set(self.calls.get() + 1);
            let every = self.interfere_every.get();
            if every > 0 && !self.calls.get().is_multiple_of(every) {
                let current = self.entries.borrow().get(key).cloned();
                self.put(key, current.map(|(v, _)| v).unwrap_or_default());
            }
            let now = self.entries.borrow().get(key).map(|(_, v)| *v);
            if now != expected {
                return Ok(false);
            }
            self.put(key, value.to_vec());
            Ok(true)
        }
        fn increment(&self, key: &str, delta: i64, _ttl: Option<u64>) -> Result<i64, String> {
            self.up()?;
            let old = self
                .entries
                .borrow()
                .get(key)
                .and_then(|(v, _)| number(v))
                .unwrap_or(0) as i64;
            self.put(key, (old + delta).to_string().into_bytes());
            Ok(old + delta)
        }
    }

    fn limits(json: &str) -> Vec<Limit> {
        let json = format!(r#"{{"limits": {json}}}"#);
        serde_json::from_str::<FileSettings>(&json)
            .unwrap()
            .validate()
            .unwrap()
            .limits
    }

    const NOW: u64 = 1_700_000_000_000;

    fn passes(limits: &[Limit], kv: &Map, n: usize, now: u64) -> usize {
        (0..n)
            .filter(|_| {
                check_all(limits, kv, "k", now)
                    .unwrap()
                    .iter()
                    .all(|v| v.allowed)
            })
            .count()
    }

    #[test]
    fn each_algorithm_passes_exactly_its_quota() {
        for algorithm in ["token_bucket", "sliding_window"] {
            let l = limits(&format!(
                r#"[{{"algorithm": "{algorithm}", "rate": 100, "per": "1m"}}]"#
            ));
            assert_eq!(passes(&l, &Map::default(), 500, NOW), 100, "{algorithm}");
        }
    }

    #[test]
    fn a_refusal_by_a_later_limit_gives_back_the_earlier_ones() {
        let l = limits(
            r#"[{"name": "a", "rate": 10, "per": 1}, {"name": "b", "algorithm": "sliding_window", "rate": 3, "per": 60}]"#,
        );
        let kv = Map::default();
        assert_eq!(passes(&l, &kv, 10, NOW), 3);
        let verdicts = check_all(&l, &kv, "k", NOW).unwrap();
        assert_eq!(verdicts.len(), 2);
        assert_eq!((verdicts[0].allowed, verdicts[1].allowed), (true, false));
        assert_eq!(
            verdicts[0].remaining, 6,
            "7 refusals gave their tokens back"
        );
        let window = kv.get(&format!("k|b|{}", NOW / 60_000)).unwrap().unwrap();
        assert_eq!(window.0, b"3", "refused requests were not counted");
    }

    #[test]
    fn a_lost_race_reads_again_and_endless_contention_gives_up() {
        let l = limits(r#"[{"rate": 5, "per": 60}]"#);
        let kv = Map::default();
        kv.interfere_every.set(3);
        assert_eq!(
            passes(&l, &kv, 10, NOW),
            5,
            "the lost compare-and-sets were retried"
        );
        let hopeless = Map::default();
        hopeless.interfere_every.set(usize::MAX);
        let outcome = check_all(&l, &hopeless, "k", NOW);
        assert_eq!(outcome, Err(Failure::Contended("limit0".into())));
    }

    #[test]
    fn a_failing_store_is_reported() {
        let l = limits(
            r#"[{"rate": 5, "per": 60}, {"algorithm": "sliding_window", "rate": 5, "per": 60}]"#,
        );
        let kv = Map::default();
        kv.down.set(true);
        assert_eq!(
            check_all(&l, &kv, "k", NOW),
            Err(Failure::Kv("unavailable: test".into()))
        );
    }

    #[test]
    fn buckets_refill_with_time_and_windows_slide() {
        let l = limits(r#"[{"name": "s", "rate": 10, "per": 1, "burst": 20}]"#);
        let kv = Map::default();
        assert_eq!(passes(&l, &kv, 50, NOW), 20);
        assert_eq!(passes(&l, &kv, 50, NOW + 500), 5);
        let w = limits(r#"[{"algorithm": "sliding_window", "rate": 100, "per": 60}]"#);
        let start = NOW - NOW % 60_000;
        let kv = Map::default();
        assert_eq!(passes(&w, &kv, 150, start), 100);
        assert_eq!(
            passes(&w, &kv, 150, start + 90_000),
            50,
            "half of the last window weighs"
        );
    }
}
