//! The kv port: the backend behind the `kv` imports, chosen by the operator.
//! The runtime holds one [`KvPort`]: [`MemoryKv`] (bounded, per process)
//! unless the host gives another (Ravelin's Redis backend). Keys live in
//! namespaces — `plugin` for a plugin's default store, `plugin/store` for a
//! named one — so plugins never see each other's keys.

mod memory;

pub use memory::MemoryKv;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A value and the version it was read at; the version changes with every
/// write of the key (and differs after a delete and re-create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The value.
    pub value: Vec<u8>,
    /// Its version.
    pub version: u64,
}

/// Why a kv call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvFailure {
    /// The backend could not be reached or did not answer in time.
    Unavailable(String),
    /// The value is larger than the backend accepts.
    TooLarge,
    /// `increment` on a value that is not a decimal counter, or a sum that
    /// would overflow.
    NotACounter,
}

impl std::fmt::Display for KvFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KvFailure::Unavailable(why) => write!(f, "the kv backend is unavailable: {why}"),
            KvFailure::TooLarge => f.write_str("the value is larger than the kv store accepts"),
            KvFailure::NotACounter => f.write_str("the value is not a counter (or would overflow)"),
        }
    }
}

/// What a kv call returns: a future owning everything it needs, so a
/// backend may run it on any thread.
pub type KvFuture<T> = Pin<Box<dyn Future<Output = Result<T, KvFailure>> + Send>>;

/// A kv backend. Every call is bounded in time by the backend (a slow or
/// absent backend answers [`KvFailure::Unavailable`]) and never blocks the
/// calling thread.
pub trait KvPort: Send + Sync + 'static {
    /// The live value of `key` in namespace `ns` and its version.
    fn get(&self, ns: Arc<str>, key: String) -> KvFuture<Option<Versioned>>;
    /// Stores `value`, expiring after `ttl_ms` if given.
    fn set(&self, ns: Arc<str>, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> KvFuture<()>;
    /// Stores `value` only if `key` is at version `expected` (none: only if
    /// absent); whether it wrote.
    fn compare_and_set(
        &self,
        ns: Arc<str>,
        key: String,
        expected: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> KvFuture<bool>;
    /// Removes `key`; whether a live value was there.
    fn delete(&self, ns: Arc<str>, key: String) -> KvFuture<bool>;
    /// Adds `delta` to the decimal counter under `key` (absent counts as 0),
    /// atomically; `ttl_ms` applies when the key is created.
    fn increment(
        &self,
        ns: Arc<str>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> KvFuture<i64>;
}
