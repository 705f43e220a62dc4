//! Validated configuration: the runtime's own settings ([`RuntimeConfig`]) and
//! one plugin's ([`PluginSpec`]). The TOML form is in [`crate::file`].

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// What happens to a request when a plugin fails (trap, deadline, out of
/// memory, invalid answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailPolicy {
    /// Answer the request with 502 or 503 and no detail.
    #[default]
    Closed,
    /// Skip the plugin for the rest of the exchange and go on.
    Open,
}

/// How a plugin's instances are shared between request exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Isolation {
    /// A warm instance from a per-plugin pool serves one exchange at a time
    /// and is recycled after `recycle_after` exchanges, a fault, or memory
    /// growth past `recycle_memory_bytes`. Module globals may survive from
    /// one exchange to the next.
    #[default]
    Pooled,
    /// A fresh instance per exchange: nothing survives to the next request.
    Exchange,
}

/// Where each instance of a plugin version starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitMode {
    /// `configure` runs once per version; every instance starts from a
    /// snapshot of the state it left (0.2 components; a 0.1 component, or
    /// one the snapshot cannot handle, is configured per instance).
    #[default]
    Snapshot,
    /// `configure` runs in every new instance.
    Instance,
}

/// One plugin, validated: where its component is, its configuration, limits
/// and policies. Build it from TOML with [`crate::FilePluginSpec`].
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The name routes refer to it by (also its metric label and KV namespace).
    pub name: String,
    /// The component file (`.wasm`).
    pub source: PathBuf,
    /// Passed to the plugin's `configure` hook as JSON.
    pub config: serde_json::Value,
    /// The most linear memory one instance may have, in bytes.
    pub memory_limit: u64,
    /// The longest one hook may run (time spent in outbound calls excluded).
    pub deadline: Duration,
    /// The longest `configure` may run: it builds what every request needs
    /// (a WAF's compiled rules, an interpreter's program), off the request
    /// path, once per version.
    pub configure_deadline: Duration,
    /// What a failure does to the request.
    pub fail: FailPolicy,
    /// Fresh or pooled instances.
    pub isolation: Isolation,
    /// Whether `configure` runs once per version or once per instance.
    pub init: InitMode,
    /// Whether the plugin's `on-request-body` hook runs.
    pub request_body: bool,
    /// Whether the plugin's `on-response-body` hook runs.
    pub response_body: bool,
    /// The largest body the body hooks receive, in bytes; also the largest
    /// body a plugin's own response may have.
    pub max_body_bytes: usize,
    /// Upstream clusters the plugin may call through `outbound.send`.
    pub allowed_upstreams: Vec<String>,
    /// A pooled instance is discarded after this many exchanges.
    pub recycle_after: u32,
    /// A pooled instance whose memory grew past this many bytes is discarded
    /// after its exchange.
    pub recycle_memory_bytes: u64,
    /// Warm instances made when a version is built (pooled isolation), so
    /// the first concurrent exchanges do not pay for instantiation.
    pub prewarm: u32,
    /// Secrets read from files when a version is built, each added to the
    /// configuration under its key (trailing newlines trimmed).
    pub secret_files: Vec<(String, PathBuf)>,
}

impl PluginSpec {
    /// A spec with the defaults documented on [`crate::FilePluginSpec`].
    pub fn new(name: impl Into<String>, source: impl Into<PathBuf>) -> Self {
        PluginSpec {
            name: name.into(),
            source: source.into(),
            config: serde_json::Value::Null,
            memory_limit: 64 << 20,
            deadline: Duration::from_millis(50),
            configure_deadline: Duration::from_secs(10),
            fail: FailPolicy::Closed,
            isolation: Isolation::Pooled,
            init: InitMode::Snapshot,
            request_body: false,
            response_body: false,
            max_body_bytes: 1 << 20,
            allowed_upstreams: Vec::new(),
            recycle_after: 10_000,
            recycle_memory_bytes: 16 << 20,
            prewarm: 1,
            secret_files: Vec::new(),
        }
    }

    /// Checks the limits against each other and against the runtime's.
    pub(crate) fn validate(&self, runtime: &RuntimeConfig) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.name.is_empty() || self.name.len() > 64 {
            problems.push("the name must have 1 to 64 characters".to_string());
        }
        if self.memory_limit < (1 << 20) || self.memory_limit > runtime.max_memory_bytes {
            problems.push(format!(
                "memory limit {} bytes is outside 1 MiB..={} bytes (the runtime's max_memory_bytes)",
                self.memory_limit, runtime.max_memory_bytes
            ));
        }
        if self.deadline.is_zero() || self.deadline > Duration::from_secs(60) {
            problems.push(format!(
                "deadline {:?} is outside 1 ms..=60 s",
                self.deadline
            ));
        }
        if self.configure_deadline.is_zero() || self.configure_deadline > Duration::from_secs(300) {
            problems.push(format!(
                "configure deadline {:?} is outside 1 ms..=300 s",
                self.configure_deadline
            ));
        }
        if self.max_body_bytes > 64 << 20 {
            problems.push(format!(
                "max_body_bytes {} is over 64 MiB",
                self.max_body_bytes
            ));
        }
        let takes_secrets = self.config.is_object() || self.config.is_null();
        if !self.secret_files.is_empty() && !takes_secrets {
            problems.push("config must be a table (or absent) to take secret_files".to_string());
        }
        if let Some((key, _)) = self.secret_files.iter().find(|(k, _)| k.is_empty()) {
            problems.push(format!("secret_files has an empty key {key:?}"));
        }
        if self.recycle_after == 0 {
            problems.push("recycle_after must be at least 1".to_string());
        }
        let most = runtime
            .max_idle_per_plugin
            .min(runtime.max_instances as usize);
        if self.prewarm as usize > most {
            problems.push(format!(
                "prewarm {} is over {most} (the runtime's idle instances per plugin)",
                self.prewarm
            ));
        }
        if self.prewarm > 1 && self.isolation == Isolation::Exchange {
            problems.push(
                "prewarm applies to pooled instances; isolation = \"exchange\" never reuses one"
                    .to_string(),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Settings of the runtime as a whole (engine, pools, caches).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    /// Where compiled components are cached (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
    /// Instances that may be alive at once, over all plugins (pooling slots).
    pub max_instances: u32,
    /// The most linear memory any instance may have, in bytes (each plugin's
    /// `memory_limit` must be at most this).
    pub max_memory_bytes: u64,
    /// The guest's native stack, in bytes.
    pub max_wasm_stack: usize,
    /// Memory and tables kept resident between instances, in bytes.
    pub keep_resident_bytes: usize,
    /// How often deadlines are checked.
    pub epoch_tick: Duration,
    /// The in-memory key-value store's capacity, in bytes, over all plugins.
    pub kv_capacity_bytes: usize,
    /// Idle warm instances kept per plugin.
    pub max_idle_per_plugin: usize,
    /// Use the pooling allocator (falls back to on-demand if it cannot start).
    pub pooling: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 256 << 20,
            max_wasm_stack: 512 << 10,
            keep_resident_bytes: 128 << 10,
            epoch_tick: Duration::from_millis(1),
            kv_capacity_bytes: 64 << 20,
            max_idle_per_plugin: 64,
            pooling: true,
        }
    }
}
