//! The small parts of the host API: log lines, labelled metrics, the clock
//! and randomness, as plain Rust functions. The key-value store is in
//! [`crate::kv`], outbound HTTP in [`crate::outbound`].

use crate::bindings::ravelin::plugin::{clock, log as wlog, metrics as wmetrics, random};

/// Log lines, into the proxy's log with the plugin's name and request id
/// (control characters are escaped; at most 4 KiB a line).
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

/// Metrics on the proxy's `/metrics`, as
/// `ravelin_plugin_guest_total` (counters), `ravelin_plugin_guest_gauge`
/// and `ravelin_plugin_guest_observations` (histograms), each labelled
/// `{plugin, name, ...labels}`.
///
/// Names and label names are letters, digits and `_` (at most 64); at most
/// 4 labels, values at most 128 bytes. A plugin has at most 1024 series:
/// past that, new series are dropped, so labels fed from request data
/// cannot exhaust the proxy's memory.
///
/// ```no_run
/// use ravelin_sdk::metrics;
/// metrics::counter_add("blocked", &[("rule", "admin")], 1);
/// metrics::gauge_set("queue_depth", &[], 3.0);
/// metrics::histogram_observe("score", &[("kind", "bot")], 0.7);
/// ```
pub mod metrics {
    use super::wmetrics;

    fn labels(labels: &[(&str, &str)]) -> Vec<wmetrics::Label> {
        let pairs = labels.iter();
        pairs.map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }
    /// Adds `value` to counter `name` with `labels` (name, value pairs).
    pub fn counter_add(name: &str, labels: &[(&str, &str)], value: u64) {
        wmetrics::counter_add(name, &self::labels(labels), value)
    }
    /// Sets gauge `name` with `labels` to `value`.
    pub fn gauge_set(name: &str, labels: &[(&str, &str)], value: f64) {
        wmetrics::gauge_set(name, &self::labels(labels), value)
    }
    /// Records `value` in histogram `name` with `labels`.
    pub fn histogram_observe(name: &str, labels: &[(&str, &str)], value: f64) {
        wmetrics::histogram_observe(name, &self::labels(labels), value)
    }
}

/// Milliseconds since the Unix epoch, from the host's wall clock.
pub fn now_ms() -> u64 {
    clock::now_ms()
}

/// Pauses the hook for `pause` (at most 1 s per call and 5 s per hook; more
/// traps) without using CPU or counting against the hook's deadline: for
/// waiting on work another request is doing, such as polling kv for a value
/// one request is fetching.
pub fn sleep(pause: std::time::Duration) {
    clock::sleep_ms(u32::try_from(pause.as_millis()).unwrap_or(u32::MAX))
}

/// `len` random bytes (at most 65536) from the host's secure generator.
pub fn random_bytes(len: u32) -> Vec<u8> {
    random::fill_bytes(len)
}

/// A random 64-bit number from the host's secure generator.
pub fn random_u64() -> u64 {
    random::next_u64()
}
