//! The in-memory key-value store behind the `kv` import: namespaced per
//! plugin, TTLs, atomic increments, bounded in bytes with LRU eviction.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Bytes counted per entry on top of its key and value.
const ENTRY_OVERHEAD: usize = 64;

type Key = (Arc<str>, String);

struct Entry {
    value: Vec<u8>,
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
}

/// A shared, bounded store; cheap to clone.
#[derive(Clone)]
pub struct KvStore {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
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

impl KvStore {
    /// A store holding at most `capacity` bytes (keys, values and overhead).
    pub fn new(capacity: usize) -> Self {
        KvStore {
            inner: Arc::default(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map consistent enough to
        // keep serving: every mutation completes before it can panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key` in namespace `ns`.
    pub fn get(&self, ns: &Arc<str>, key: String) -> Option<Vec<u8>> {
        self.lock()
            .live(&(ns.clone(), key), Instant::now())
            .map(|e| e.value.clone())
    }

    /// Stores `value`; returns how many entries were evicted to make room.
    pub fn set(
        &self,
        ns: &Arc<str>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<usize, String> {
        let key = (ns.clone(), key);
        if size(&key, &value) > self.capacity {
            return Err(format!(
                "value of {} bytes exceeds the store's capacity",
                value.len()
            ));
        }
        let now = Instant::now();
        Ok(self
            .lock()
            .insert(key, value, deadline(ttl_ms, now), self.capacity))
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
    ) -> Result<i64, String> {
        let key = (ns.clone(), key);
        let now = Instant::now();
        let mut inner = self.lock();
        let (current, expires) = match inner.live(&key, now) {
            Some(e) => {
                let text = std::str::from_utf8(&e.value)
                    .map_err(|_| "the value is not a counter".to_string())?;
                let n = text
                    .parse::<i64>()
                    .map_err(|_| "the value is not a counter".to_string())?;
                (n, e.expires)
            }
            None => (0, deadline(ttl_ms, now)),
        };
        let next = current
            .checked_add(delta)
            .ok_or_else(|| "the counter would overflow".to_string())?;
        inner.insert(key, next.to_string().into_bytes(), expires, self.capacity);
        Ok(next)
    }

    /// Bytes in use (keys, values and overhead), never over the capacity.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
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
        let kv = KvStore::new(1 << 20);
        kv.set(&ns("a"), "k".into(), b"1".to_vec(), None).ok();
        assert_eq!(kv.get(&ns("a"), "k".into()), Some(b"1".to_vec()));
        assert_eq!(kv.get(&ns("b"), "k".into()), None);
    }

    #[test]
    fn least_recently_used_is_evicted_first() {
        let kv = KvStore::new(3 * (ENTRY_OVERHEAD + 1 + 2 + 10));
        for k in ["k1", "k2", "k3"] {
            kv.set(&ns("p"), k.into(), vec![0; 10], None).ok();
        }
        kv.get(&ns("p"), "k1".into());
        assert_eq!(kv.set(&ns("p"), "k4".into(), vec![0; 10], None), Ok(1));
        assert!(kv.get(&ns("p"), "k1".into()).is_some());
        assert!(kv.get(&ns("p"), "k2".into()).is_none());
        assert!(kv.bytes() <= 3 * (ENTRY_OVERHEAD + 1 + 2 + 10));
    }

    #[test]
    fn entries_expire_after_their_ttl() {
        let kv = KvStore::new(1 << 20);
        kv.set(&ns("p"), "t".into(), b"v".to_vec(), Some(0)).ok();
        assert_eq!(kv.get(&ns("p"), "t".into()), None);
        assert_eq!(kv.bytes(), 0);
    }

    #[test]
    fn increment_counts_and_refuses_non_counters() {
        let kv = KvStore::new(1 << 20);
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
    fn a_value_larger_than_the_store_is_refused() {
        let kv = KvStore::new(100);
        assert!(kv.set(&ns("p"), "big".into(), vec![0; 200], None).is_err());
    }
}
