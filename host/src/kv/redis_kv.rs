//! [`RedisKv`]: the kv port over Redis, with MemoryKv's semantics and
//! atomic across every proxy pointed at the same server. An entry is a
//! hash `{value, version}` under `{prefix}:{namespace}:{key}`; a read is
//! one command, a write that reads first is a Lua script (`scripts`), and
//! versions come from one counter, `{prefix}:version`. Every call is
//! bounded by the configured timeout and fails as `Unavailable` when Redis
//! does not answer in time. The connection is made on first use and made
//! again after a loss, so a Redis that is down at start-up, or restarted
//! later, is picked up without restarting the proxy.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ravelin_runtime::{KvFailure, KvFuture, KvPort, Versioned};
use redis::RedisResult;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::reachability::{self, Probe};
use super::scripts;
use crate::config::RedisSettings;

/// The longest wait for a TCP connection to Redis; calls give up sooner,
/// at their own timeout, and later calls find the connection made.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The longest TTL handed to Redis (146 million years), which refuses
/// expiry times past i64 milliseconds.
const MAX_TTL_MS: u64 = 1 << 62;

/// The kv port over Redis.
pub struct RedisKv {
    connection: ConnectionManager,
    /// `host:port`, for messages.
    addr: Arc<str>,
    timeout: Duration,
    max_value_bytes: usize,
    prefix: String,
    /// The counter versions come from, `{prefix}:version`.
    version_key: String,
    /// Stops probing Redis when the backend goes.
    _probe: Probe,
}

impl RedisKv {
    /// The backend `settings` describe. It connects on first use, so it
    /// starts whether Redis is up or not. Needs a tokio runtime.
    pub fn connect(settings: &RedisSettings) -> Result<Self, String> {
        let addr: Arc<str> = Arc::from(settings.url.addr());
        let cannot = |e: redis::RedisError| format!("kv: cannot use redis at {addr}: {e}");
        let client = redis::Client::open(settings.url.as_str()).map_err(cannot)?;
        // No retries inside a connection attempt: a call that finds Redis
        // away fails at once, and the next call (or the probe) tries anew.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(settings.timeout));
        let connection = ConnectionManager::new_lazy_with_config(client, config).map_err(cannot)?;
        Ok(RedisKv {
            _probe: reachability::watch(connection.clone(), addr.clone()),
            connection,
            addr,
            timeout: settings.timeout,
            max_value_bytes: settings.max_value_bytes,
            prefix: settings.key_prefix.clone(),
            version_key: format!("{}:version", settings.key_prefix),
        })
    }

    fn entry(&self, ns: &str, key: &str) -> String {
        format!("{}:{ns}:{key}", self.prefix)
    }

    /// What a write script needs: the entry's key, the version counter's
    /// key and a connection.
    fn write_target(&self, ns: &str, key: &str) -> (String, String, ConnectionManager) {
        let entry = self.entry(ns, key);
        (entry, self.version_key.clone(), self.connection.clone())
    }

    fn too_large(&self, value: &[u8]) -> bool {
        value.len() > self.max_value_bytes
    }

    /// Runs `op` within the timeout; `answer` turns Redis's answer into the
    /// call's result.
    fn call<R: 'static, T: Send + 'static>(
        &self,
        op: impl Future<Output = RedisResult<R>> + Send + 'static,
        answer: fn(R) -> Result<T, KvFailure>,
    ) -> KvFuture<T> {
        let (addr, timeout) = (self.addr.clone(), self.timeout);
        Box::pin(async move {
            match tokio::time::timeout(timeout, op).await {
                Ok(Ok(answered)) => answer(answered),
                Ok(Err(e)) => Err(KvFailure::Unavailable(format!("redis at {addr}: {e}"))),
                Err(_) => Err(KvFailure::Unavailable(format!(
                    "redis at {addr}: no answer within {} ms",
                    timeout.as_millis()
                ))),
            }
        })
    }
}

/// A TTL as the scripts take it: milliseconds, or `""` for none.
fn ttl_arg(ttl_ms: Option<u64>) -> String {
    ttl_ms
        .map(|ms| ms.min(MAX_TTL_MS).to_string())
        .unwrap_or_default()
}

fn refused<T: Send + 'static>(failure: KvFailure) -> KvFuture<T> {
    Box::pin(std::future::ready(Err(failure)))
}

impl KvPort for RedisKv {
    fn get(&self, ns: Arc<str>, key: String) -> KvFuture<Option<Versioned>> {
        let (entry, mut conn) = (self.entry(&ns, &key), self.connection.clone());
        let op = async move {
            redis::cmd("HMGET")
                .arg(entry)
                .arg("value")
                .arg("version")
                .query_async::<(Option<Vec<u8>>, Option<u64>)>(&mut conn)
                .await
        };
        self.call(op, |found| {
            Ok(match found {
                (Some(value), Some(version)) => Some(Versioned { value, version }),
                _ => None,
            })
        })
    }

    fn set(&self, ns: Arc<str>, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> KvFuture<()> {
        if self.too_large(&value) {
            return refused(KvFailure::TooLarge);
        }
        let (entry, counter, mut conn) = self.write_target(&ns, &key);
        let op = async move {
            scripts::SET
                .key(entry)
                .key(counter)
                .arg(value)
                .arg(ttl_arg(ttl_ms))
                .invoke_async::<()>(&mut conn)
                .await
        };
        self.call(op, Ok)
    }

    fn compare_and_set(
        &self,
        ns: Arc<str>,
        key: String,
        expected: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> KvFuture<bool> {
        if self.too_large(&value) {
            return refused(KvFailure::TooLarge);
        }
        let (entry, counter, mut conn) = self.write_target(&ns, &key);
        let expected = expected.map(|v| v.to_string()).unwrap_or_default();
        let op = async move {
            scripts::COMPARE_AND_SET
                .key(entry)
                .key(counter)
                .arg(expected)
                .arg(value)
                .arg(ttl_arg(ttl_ms))
                .invoke_async::<bool>(&mut conn)
                .await
        };
        self.call(op, Ok)
    }

    fn delete(&self, ns: Arc<str>, key: String) -> KvFuture<bool> {
        let (entry, mut conn) = (self.entry(&ns, &key), self.connection.clone());
        let op = async move {
            redis::cmd("DEL")
                .arg(entry)
                .query_async::<bool>(&mut conn)
                .await
        };
        self.call(op, Ok)
    }

    fn increment(
        &self,
        ns: Arc<str>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> KvFuture<i64> {
        let (entry, counter, mut conn) = self.write_target(&ns, &key);
        let op = async move {
            scripts::INCREMENT
                .key(entry)
                .key(counter)
                .arg(delta)
                .arg(ttl_arg(ttl_ms))
                .invoke_async::<Option<i64>>(&mut conn)
                .await
        };
        self.call(op, |sum| sum.ok_or(KvFailure::NotACounter))
    }
}
