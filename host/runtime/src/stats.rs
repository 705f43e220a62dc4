//! Per-plugin statistics for the admin listing: calls, errors and latency,
//! kept across versions, plus the current version's digest and load time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A plugin as the admin listener shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginStats {
    /// The plugin's name.
    pub name: String,
    /// The component file.
    pub source: std::path::PathBuf,
    /// SHA-256 of the running version's component, in hex.
    pub digest: String,
    /// When the running version was swapped in.
    pub loaded_at: SystemTime,
    /// Hook calls since the plugin was first loaded (all versions).
    pub calls: u64,
    /// Failed hook calls (trap, deadline, out of memory, invalid answer).
    pub errors: u64,
    /// Mean duration of a hook call.
    pub mean_latency: Duration,
    /// Versions swapped in after the first.
    pub swaps: u64,
}

/// Counters updated on the request path (relaxed atomics).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    calls: AtomicU64,
    errors: AtomicU64,
    nanos: AtomicU64,
    pub swaps: AtomicU64,
}

impl Counters {
    pub(crate) fn record(&self, elapsed: Duration, failed: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// (calls, errors, mean latency, swaps).
    pub(crate) fn read(&self) -> (u64, u64, Duration, u64) {
        let calls = self.calls.load(Ordering::Relaxed);
        let nanos = self.nanos.load(Ordering::Relaxed);
        let mean = Duration::from_nanos(nanos.checked_div(calls).unwrap_or(0));
        (
            calls,
            self.errors.load(Ordering::Relaxed),
            mean,
            self.swaps.load(Ordering::Relaxed),
        )
    }
}

/// Logs a plugin's faults at most once per burst window, counting the rest.
#[derive(Debug, Default)]
pub(crate) struct BurstLog {
    window_start: std::sync::Mutex<Option<std::time::Instant>>,
    suppressed: AtomicU64,
}

/// How long one burst lasts: one log line per window.
const BURST_WINDOW: Duration = Duration::from_secs(10);

impl BurstLog {
    /// Logs `error` unless a line was logged within the window.
    pub(crate) fn fault(&self, error: &crate::PluginError) {
        let mut start = self.window_start.lock().unwrap_or_else(|p| p.into_inner());
        let now = std::time::Instant::now();
        if start.is_some_and(|s| now.duration_since(s) < BURST_WINDOW) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        *start = Some(now);
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        tracing::warn!(
            plugin = error.plugin(),
            kind = error.kind(),
            suppressed,
            "{error}"
        );
    }
}
