//! The TOML form of a plugin declaration, `[plugins.NAME]`, for the host's
//! config file: raw serde structs with `deny_unknown_fields`, validated into
//! [`PluginSpec`].

use crate::config::{FailPolicy, InitMode, Isolation, PluginSpec};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One `[plugins.NAME]` table, as written.
///
/// ```toml
/// [plugins.waf]
/// source = "plugins/waf.wasm"        # required; relative to the config file
/// config = { block_patterns = ["../"] }
/// memory_limit_mb = 64
/// deadline_ms = 50
/// fail = "closed"                    # or "open"
/// isolation = "pooled"               # or "exchange"
/// init = "snapshot"                  # or "instance"
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FilePluginSpec {
    /// The component file. Required. A relative path is resolved against the
    /// directory of the config file.
    pub source: PathBuf,
    /// The plugin's own configuration, any TOML value; handed to its
    /// `configure` hook as JSON. Default: none (`null`).
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// The most linear memory one instance may use, in MiB. Default 64.
    #[serde(default = "defaults::memory_limit_mb")]
    pub memory_limit_mb: u64,
    /// The longest one hook may run, in milliseconds (outbound calls
    /// excluded). Default 50.
    #[serde(default = "defaults::deadline_ms")]
    pub deadline_ms: u64,
    /// The longest `configure` may run, in milliseconds (once per version,
    /// off the request path). Default 10 000.
    #[serde(default = "defaults::configure_deadline_ms")]
    pub configure_deadline_ms: u64,
    /// `"closed"` (a failing plugin answers 502/503 without detail) or
    /// `"open"` (a failing plugin is skipped). Default `"closed"`.
    #[serde(default)]
    pub fail: FailPolicy,
    /// `"pooled"` (warm recycled instances) or `"exchange"` (a fresh
    /// instance per request). Default `"pooled"`.
    #[serde(default)]
    pub isolation: Isolation,
    /// `"snapshot"` (`configure` runs once per version and every instance
    /// starts from the state it left) or `"instance"` (`configure` runs in
    /// every new instance). Default `"snapshot"`.
    #[serde(default)]
    pub init: InitMode,
    /// Run the plugin's `on-request-body` hook with the buffered body.
    /// Default false.
    #[serde(default)]
    pub request_body: bool,
    /// Run the plugin's `on-response-body` hook with the buffered body.
    /// Default false.
    #[serde(default)]
    pub response_body: bool,
    /// The largest body the body hooks receive and the largest body of a
    /// response the plugin makes, in KiB. Default 1024. A larger request body
    /// is refused with 413; a larger response body applies the `fail` policy.
    #[serde(default = "defaults::max_body_kb")]
    pub max_body_kb: u64,
    /// Upstream cluster names the plugin may call through outbound HTTP.
    /// Default none.
    #[serde(default)]
    pub allowed_upstreams: Vec<String>,
    /// A pooled instance is discarded after this many exchanges. Default 10000.
    #[serde(default = "defaults::recycle_after")]
    pub recycle_after: u32,
    /// A pooled instance whose memory grew past this many MiB is discarded
    /// after its exchange. Default 16.
    #[serde(default = "defaults::recycle_memory_mb")]
    pub recycle_memory_mb: u64,
    /// Warm instances made when a version is loaded (pooled isolation), so
    /// the first concurrent requests after a start or a swap do not wait for
    /// instantiation. Default 1.
    #[serde(default = "defaults::prewarm")]
    pub prewarm: u32,
    /// Secrets kept out of the config file: `{ key = "path" }`; each file's
    /// content (trailing newlines trimmed) is added to `config` under its
    /// key when the plugin is loaded, and a change to the file reloads it.
    /// Relative paths are resolved like `source`. Default none.
    #[serde(default)]
    pub secret_files: std::collections::BTreeMap<String, PathBuf>,
}

mod defaults {
    pub fn memory_limit_mb() -> u64 {
        64
    }
    pub fn deadline_ms() -> u64 {
        50
    }
    pub fn configure_deadline_ms() -> u64 {
        10_000
    }
    pub fn max_body_kb() -> u64 {
        1024
    }
    pub fn recycle_after() -> u32 {
        10_000
    }
    pub fn recycle_memory_mb() -> u64 {
        16
    }
    pub fn prewarm() -> u32 {
        1
    }
}

impl FilePluginSpec {
    /// The validated spec for plugin `name`, with `source` resolved against
    /// `base_dir` (the config file's directory). Limits are checked again
    /// against the runtime when the plugin is loaded.
    pub fn into_spec(self, name: &str, base_dir: &Path) -> Result<PluginSpec, String> {
        let resolve = |path: PathBuf| match path.is_absolute() {
            true => path,
            false => base_dir.join(path),
        };
        let source = resolve(self.source);
        let secret_files = self
            .secret_files
            .into_iter()
            .map(|(key, path)| (key, resolve(path)))
            .collect();
        let max_body_bytes = usize::try_from(self.max_body_kb.saturating_mul(1024))
            .map_err(|_| format!("plugins.{name}.max_body_kb is too large"))?;
        let spec = PluginSpec {
            name: name.to_string(),
            source,
            config: self.config.unwrap_or(serde_json::Value::Null),
            memory_limit: self.memory_limit_mb.saturating_mul(1 << 20),
            deadline: Duration::from_millis(self.deadline_ms),
            configure_deadline: Duration::from_millis(self.configure_deadline_ms),
            fail: self.fail,
            isolation: self.isolation,
            init: self.init,
            request_body: self.request_body,
            response_body: self.response_body,
            max_body_bytes,
            allowed_upstreams: self.allowed_upstreams,
            recycle_after: self.recycle_after,
            recycle_memory_bytes: self.recycle_memory_mb.saturating_mul(1 << 20),
            prewarm: self.prewarm,
            secret_files,
        };
        spec.validate(&crate::RuntimeConfig::default())
            .map_err(|reason| format!("plugins.{name}: {reason}"))?;
        Ok(spec)
    }
}
