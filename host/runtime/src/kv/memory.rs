//! The memory kv backend, the default: per process, TTLs, versions,
//! compare-and-set and atomic increments, bounded in bytes with least
//! recently used entries evicted first.

use super::{KvFailure, KvFuture, KvPort, Versioned};
use prometheus_client::metrics::counter::Counter;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bytes counted per entry on top of its key and value.
const ENTRY_OVERHEAD: usize = 64;

type Key = (Arc<str>, String);

struct Entry {
    value: Vec<u8>,
    version: u64,
    expires: Option<Instant>,
    tick: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// Last use → key; the first entry is the least recently used.
    lru: BTreeMap<u64, Key>,
    bytes: usize,
    next_tick: u64,
    /// The last version written: versions never repeat within a process.
    last_version: u64,
}

/// A shared, bounded store; cheap to clone.
#[derive(Clone)]
pub struct MemoryKv {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
    evictions: Counter,
}

fn size(key: &Key, value: &[u8]) -> usize {
    key.0.len() + key.1.len() + value.len() + ENTRY_OVERHEAD
}

impl Inner {
    fn remove(&mut self, key: &Key) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.lru.remove(&entry.tick);
        self.bytes -= size(key, &entry.value);
        Some(entry)
    }

    /// The live entry under `key`, marked as just used; expired ones go.
    fn live(&mut self, key: &Key, now: Instant) -> Option<&mut Entry> {
        if self.entries.get(key)?.expires.is_some_and(|e| e <= now) {
            self.remove(key);
            return None;
        }
        self.next_tick += 1;
        let tick = self.next_tick;
        let entry = self.entries.get_mut(key)?;
        self.lru.remove(&entry.tick);
        entry.tick = tick;
        self.lru.insert(tick, key.clone());
        Some(entry)
    }

    fn insert(
        &mut self,
        key: Key,
        value: Vec<u8>,
        expires: Option<Instant>,
        capacity: usize,
    ) -> usize {
        self.last_version += 1;
        let version = self.last_version;
        self.remove(&key);
        let needed = size(&key, &value);
        let mut evicted = 0;
        while self.bytes + needed > capacity {
            let Some((_, oldest)) = self.lru.pop_first() else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.bytes -= size(&oldest, &e.value);
                evicted += 1;
            }
        }
        self.next_tick += 1;
        self.lru.insert(self.next_tick, key.clone());
        self.bytes += needed;
        self.entries.insert(
            key,
            Entry {
                value,
                version,
                expires,
                tick: self.next_tick,
            },
        );
        evicted
    }
}

fn deadline(ttl_ms: Option<u64>, now: Instant) -> Option<Instant> {
    ttl_ms.map(|ms| now + Duration::from_millis(ms))
}

impl MemoryKv {
    /// A store holding at most `capacity` bytes (keys, values and overhead).
    pub fn new(capacity: usize) -> Self {
        MemoryKv {
            inner: Arc::default(),
            capacity,
            evictions: Counter::default(),
        }
    }

    /// The same store, counting the entries it evicts in `evictions`.
    pub fn counting_evictions(mut self, evictions: Counter) -> Self {
        self.evictions = evictions;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map consistent enough to
        // keep serving: every mutation completes before it can panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key` in namespace `ns` and its version.
    pub fn get(&self, ns: &Arc<str>, key: String) -> Option<Versioned> {
        self.lock()
            .live(&(ns.clone(), key), Instant::now())
            .map(|e| Versioned {
                value: e.value.clone(),
                version: e.version,
            })
    }

    fn fits(&self, key: &Key, value: &[u8]) -> Result<(), KvFailure> {
        match size(key, value) > self.capacity {
            true => Err(KvFailure::TooLarge),
            false => Ok(()),
        }
    }

    fn insert(&self, inner: &mut Inner, key: Key, value: Vec<u8>, expires: Option<Instant>) {
        let evicted = inner.insert(key, value, expires, self.capacity);
        self.evictions.inc_by(evicted as u64);
    }

    /// Stores `value`.
    pub fn set(
        &self,
        ns: &Arc<str>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<(), KvFailure> {
        let key = (ns.clone(), key);
        self.fits(&key, &value)?;
        let expires = deadline(ttl_ms, Instant::now());
        self.insert(&mut self.lock(), key, value, expires);
        Ok(())
    }

    /// Stores `value` if `key` is at version `expected` (none: absent).
    pub fn compare_and_set(
        &self,
        ns: &Arc<str>,
        key: String,
        expected: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<bool, KvFailure> {
        let key = (ns.clone(), key);
        self.fits(&key, &value)?;
        let now = Instant::now();
        let mut inner = self.lock();
        let current = inner.live(&key, now).map(|e| e.version);
        if current != expected {
            return Ok(false);
        }
        self.insert(&mut inner, key, value, deadline(ttl_ms, now));
        Ok(true)
    }

    /// Removes `key`; whether a live entry was there.
    pub fn delete(&self, ns: &Arc<str>, key: String) -> bool {
        let key = (ns.clone(), key);
        let mut inner = self.lock();
        let live = inner.live(&key, Instant::now()).is_some();
        inner.remove(&key);
        live
    }

    /// Adds `delta` to the decimal counter under `key`, atomically.
    pub fn increment(
        &self,
        ns: &Arc<str>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Result<i64, KvFailure> {
        let key = (ns.clone(), key);
        let now = Instant::now();
        let mut inner = self.lock();
        let (current, expires) = match inner.live(&key, now) {
            Some(e) => {
                let n = std::str::from_utf8(&e.value)
                    .ok()
                    .and_then(|text| text.parse::<i64>().ok())
                    .ok_or(KvFailure::NotACounter)?;
                (n, e.expires)
            }
            None => (0, deadline(ttl_ms, now)),
        };
        let next = current.checked_add(delta).ok_or(KvFailure::NotACounter)?;
        self.insert(&mut inner, key, next.to_string().into_bytes(), expires);
        Ok(next)
    }

    /// Bytes in use (keys, values and overhead), never over the capacity.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

fn ready<T: Send + 'static>(result: Result<T, KvFailure>) -> KvFuture<T> {
    Box::pin(std::future::ready(result))
}

impl KvPort for MemoryKv {
    fn get(&self, ns: Arc<str>, key: String) -> KvFuture<Option<Versioned>> {
        ready(Ok(MemoryKv::get(self, &ns, key)))
    }
    fn set(&self, ns: Arc<str>, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> KvFuture<()> {
        ready(MemoryKv::set(self, &ns, key, value, ttl_ms))
    }
    fn compare_and_set(
        &self,
        ns: Arc<str>,
        key: String,
        expected: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> KvFuture<bool> {
        ready(MemoryKv::compare_and_set(
            self, &ns, key, expected, value, ttl_ms,
        ))
    }
    fn delete(&self, ns: Arc<str>, key: String) -> KvFuture<bool> {
        ready(Ok(MemoryKv::delete(self, &ns, key)))
    }
    fn increment(
        &self,
        ns: Arc<str>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> KvFuture<i64> {
        ready(MemoryKv::increment(self, &ns, key, delta, ttl_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str) -> Arc<str> {
        Arc::from(name)
    }

    #[test]
    fn namespaces_do_not_see_each_other() {
        let kv = MemoryKv::new(1 << 20);
        kv.set(&ns("a"), "k".into(), b"1".to_vec(), None).ok();
        assert_eq!(
            kv.get(&ns("a"), "k".into()).map(|e| e.value),
            Some(b"1".to_vec())
        );
        assert_eq!(kv.get(&ns("b"), "k".into()), None);
    }

    #[test]
    fn least_recently_used_is_evicted_first() {
        let kv = MemoryKv::new(3 * (ENTRY_OVERHEAD + 1 + 2 + 10));
        for k in ["k1", "k2", "k3"] {
            kv.set(&ns("p"), k.into(), vec![0; 10], None).ok();
        }
        kv.get(&ns("p"), "k1".into());
        let evictions = Counter::default();
        let kv = kv.counting_evictions(evictions.clone());
        assert_eq!(kv.set(&ns("p"), "k4".into(), vec![0; 10], None), Ok(()));
        assert_eq!(evictions.get(), 1);
        assert!(kv.get(&ns("p"), "k1".into()).is_some());
        assert!(kv.get(&ns("p"), "k2".into()).is_none());
        assert!(kv.bytes() <= 3 * (ENTRY_OVERHEAD + 1 + 2 + 10));
    }

    #[test]
    fn entries_expire_after_their_ttl() {
        let kv = MemoryKv::new(1 << 20);
        kv.set(&ns("p"), "t".into(), b"v".to_vec(), Some(0)).ok();
        assert_eq!(kv.get(&ns("p"), "t".into()), None);
        assert_eq!(kv.bytes(), 0);
    }

    #[test]
    fn increment_counts_and_refuses_non_counters() {
        let kv = MemoryKv::new(1 << 20);
        assert_eq!(kv.increment(&ns("p"), "n".into(), 2, None), Ok(2));
        assert_eq!(kv.increment(&ns("p"), "n".into(), -5, None), Ok(-3));
        kv.set(&ns("p"), "s".into(), b"text".to_vec(), None).ok();
        assert!(kv.increment(&ns("p"), "s".into(), 1, None).is_err());
        kv.set(
            &ns("p"),
            "m".into(),
            i64::MAX.to_string().into_bytes(),
            None,
        )
        .ok();
        assert!(kv.increment(&ns("p"), "m".into(), 1, None).is_err());
    }

    #[test]
    fn compare_and_set_writes_only_at_the_expected_version() {
        let kv = MemoryKv::new(1 << 20);
        assert_eq!(
            kv.compare_and_set(&ns("p"), "k".into(), Some(1), b"x".to_vec(), None),
            Ok(false)
        );
        assert_eq!(
            kv.compare_and_set(&ns("p"), "k".into(), None, b"a".to_vec(), None),
            Ok(true)
        );
        let first = kv.get(&ns("p"), "k".into()).expect("written");
        assert_eq!(
            kv.compare_and_set(&ns("p"), "k".into(), None, b"b".to_vec(), None),
            Ok(false)
        );
        let ok = kv.compare_and_set(
            &ns("p"),
            "k".into(),
            Some(first.version),
            b"c".to_vec(),
            None,
        );
        assert_eq!(ok, Ok(true));
        let second = kv.get(&ns("p"), "k".into()).expect("written");
        assert_eq!(second.value, b"c");
        assert_ne!(second.version, first.version);
        let stale = kv.compare_and_set(
            &ns("p"),
            "k".into(),
            Some(first.version),
            b"d".to_vec(),
            None,
        );
        assert_eq!(stale, Ok(false));
        kv.delete(&ns("p"), "k".into());
        kv.set(&ns("p"), "k".into(), b"c".to_vec(), None).ok();
        let recreated = kv.get(&ns("p"), "k".into()).expect("written");
        assert_ne!(
            recreated.version, second.version,
            "a re-created key has a new version"
        );
    }

    #[test]
    fn a_value_larger_than_the_store_is_refused() {
        let kv = MemoryKv::new(100);
        assert!(kv.set(&ns("p"), "big".into(), vec![0; 200], None).is_err());
    }
}
