//! The host API: logging, the key-value store, metrics, outbound HTTP, the
//! clock and randomness, as plain Rust functions.

use crate::bindings::ravelin::plugin::{clock, kv as wkv, log as wlog, metrics as wmetrics};
use crate::bindings::ravelin::plugin::{outbound as wout, random};

/// Log lines, into the proxy's log with the plugin's name and request id.
pub mod log {
    use super::wlog::{Level, log};
    /// Logs `message` at trace level.
    pub fn trace(message: &str) {
        log(Level::Trace, message)
    }
    /// Logs `message` at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message)
    }
    /// Logs `message` at info level.
    pub fn info(message: &str) {
        log(Level::Info, message)
    }
    /// Logs `message` at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message)
    }
    /// Logs `message` at error level.
    pub fn error(message: &str) {
        log(Level::Error, message)
    }
}

/// The plugin's key-value store (namespaced: other plugins never see it).
pub mod kv {
    use super::wkv;
    use std::time::Duration;

    fn ms(ttl: Option<Duration>) -> Option<u64> {
        ttl.map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX))
    }
    /// The value under `key`, if present and not expired.
    pub fn get(key: &str) -> Option<Vec<u8>> {
        wkv::get(key)
    }
    /// Stores `value` under `key`, expiring after `ttl` if given.
    pub fn set(key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), String> {
        wkv::set(key, value, ms(ttl))
    }
    /// Removes `key`; returns whether it was present.
    pub fn delete(key: &str) -> bool {
        wkv::delete(key)
    }
    /// Adds `delta` to the counter under `key` and returns the new value;
    /// `ttl` applies when the key is created.
    pub fn increment(key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, String> {
        wkv::increment(key, delta, ms(ttl))
    }
}

/// Metrics on the proxy's `/metrics`, labelled with the plugin's name.
pub mod metrics {
    use super::wmetrics;
    /// Adds `value` to counter `name`.
    pub fn counter_add(name: &str, value: u64) {
        wmetrics::counter_add(name, value)
    }
    /// Records `value` in histogram `name`.
    pub fn observe(name: &str, value: f64) {
        wmetrics::histogram_observe(name, value)
    }
}

/// HTTP calls to the upstream clusters listed in the plugin's
/// `allowed_upstreams`.
pub mod outbound {
    use super::wout;
    use std::time::Duration;

    pub use wout::{OutboundRequest as HttpRequest, OutboundResponse as HttpResponse};

    /// Sends `request` to `cluster`, waiting at most `timeout`.
    pub fn send(
        cluster: &str,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, String> {
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        wout::send(cluster, request, ms)
    }

    /// A `GET` of `path` on `cluster` with `headers`.
    pub fn get(
        cluster: &str,
        path: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<HttpResponse, String> {
        let request = HttpRequest {
            method: "GET".into(),
            path_with_query: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        };
        send(cluster, &request, timeout)
    }
}

/// Milliseconds since the Unix epoch, from the host's wall clock.
pub fn now_ms() -> u64 {
    clock::now_ms()
}

/// `len` random bytes from the host's secure generator.
pub fn random_bytes(len: u32) -> Vec<u8> {
    random::fill_bytes(len)
}

/// A random 64-bit number from the host's secure generator.
pub fn random_u64() -> u64 {
    random::next_u64()
}
