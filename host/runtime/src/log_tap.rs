//! [`LogTap`]: where a plugin's log lines (its `log` import, its WASI
//! stdout and stderr) go besides `tracing`, for a host that wants them as
//! values — the offline harness (`ravelin-plugin-testing`) shows each
//! exchange's lines and lets a plugin's tests assert on them. A runtime
//! without a tap, as the proxy's, pays one `Option` check per line.

use std::sync::Arc;

/// One log line of a plugin, as it went to `tracing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLog {
    /// The plugin's name.
    pub plugin: String,
    /// The request it was handling; empty outside a request's hooks
    /// (`configure`) and for stdout and stderr.
    pub request_id: String,
    /// The level it was logged at (stdout and stderr: `INFO`).
    pub level: tracing::Level,
    /// The line, cut at the runtime's limit.
    pub message: String,
}

/// Receives every log line of a runtime's plugins as it is written (from
/// the thread running the hook: keep it short).
pub type LogTap = Arc<dyn Fn(PluginLog) + Send + Sync>;
