//! The plugin's key-value stores: named, namespaced per plugin (two plugins
//! never see each other's keys), on the backend the operator chose (memory
//! or Redis). Every call may fail with [`KvError::Unavailable`]; the plugin
//! decides what that means.
//!
//! ```no_run
//! use ravelin_sdk::kv::{KvError, Store};
//! # fn main() -> Result<(), KvError> {
//! let store = Store::open("sessions")?;
//! store.set("user:1", b"alice", None)?;
//! // Read-modify-write without losing a concurrent update:
//! loop {
//!     let current = store.get("visits")?;
//!     let (count, version) = match &current {
//!         Some(e) => (String::from_utf8_lossy(&e.value).parse::<u64>().unwrap_or(0), Some(e.version)),
//!         None => (0, None),
//!     };
//!     if store.compare_and_set("visits", version, (count + 1).to_string().as_bytes(), None)? {
//!         break;
//!     }
//! }
//! let hits = store.increment("hits", 1, None)?;
//! # let _ = hits;
//! # Ok(())
//! # }
//! ```

use crate::bindings::ravelin::plugin::kv as wkv;
use std::time::Duration;

pub use wkv::{Entry, KvError};

/// The store 0.1 plugins' kv functions use.
pub const DEFAULT: &str = "default";

fn ms(ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
}

/// One named store of this plugin.
#[derive(Debug)]
pub struct Store(wkv::Store);

impl Store {
    /// Opens store `name` (1 to 64 of `a-z`, `0-9`, `-`, `_`, `.`);
    /// [`DEFAULT`] is the store 0.1 plugins use.
    pub fn open(name: &str) -> Result<Store, KvError> {
        wkv::Store::open(name).map(Store)
    }
    /// The value of `key` and its version, or `None` if absent or expired.
    pub fn get(&self, key: &str) -> Result<Option<Entry>, KvError> {
        self.0.get(key)
    }
    /// The value of `key` alone, or `None` if absent or expired.
    pub fn get_value(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.get(key)?.map(|e| e.value))
    }
    /// Stores `value` under `key`, expiring after `ttl` if given.
    pub fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), KvError> {
        self.0.set(key, value, ms(ttl))
    }
    /// Stores `value` only if `key` is still at version `expected` (`None`:
    /// only if `key` is absent); returns whether it wrote.
    pub fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, KvError> {
        self.0.compare_and_set(key, expected, value, ms(ttl))
    }
    /// Removes `key`; returns whether it was present.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        self.0.delete(key)
    }
    /// Adds `delta` to the decimal counter under `key` (absent counts as 0)
    /// and returns the new value, atomically across every proxy on the
    /// backend; `ttl` applies when the key is created.
    pub fn increment(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, KvError> {
        self.0.increment(key, delta, ms(ttl))
    }
}
