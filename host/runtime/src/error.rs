//! `PluginError`: everything that can go wrong with a plugin, and the HTTP
//! status a fail-closed plugin answers with.

use http::StatusCode;
use std::time::Duration;

/// A plugin failed to load, to start, or to finish a hook.
///
/// Messages name the plugin and the hook; they are for logs and operators,
/// never for the client (see [`PluginError::status`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The spec is invalid (a limit out of range, an unknown plugin name).
    #[error("plugin {plugin}: invalid spec: {reason}")]
    Spec {
        /// The plugin's name.
        plugin: String,
        /// What is wrong.
        reason: String,
    },
    /// The source could not be read, is not a component, or does not target
    /// the `ravelin:plugin/filter` world.
    #[error("plugin {plugin}: cannot load: {reason}")]
    Load {
        /// The plugin's name.
        plugin: String,
        /// What is wrong.
        reason: String,
    },
    /// A new instance could not be created (pool exhausted, memory limit hit
    /// at start).
    #[error("plugin {plugin}: cannot instantiate: {reason}")]
    Instantiate {
        /// The plugin's name.
        plugin: String,
        /// What is wrong.
        reason: String,
    },
    /// The plugin refused its configuration.
    #[error("plugin {plugin}: configuration refused: {reason}")]
    Config {
        /// The plugin's name.
        plugin: String,
        /// The plugin's own message.
        reason: String,
    },
    /// The guest trapped (panic, abort, unreachable, bad memory access).
    #[error("plugin {plugin}: trapped in {hook}: {reason}")]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// The hook that was running.
        hook: &'static str,
        /// The trap, as wasmtime reports it.
        reason: String,
    },
    /// The hook ran past its CPU deadline and was interrupted.
    #[error("plugin {plugin}: {hook} ran past its {limit:?} deadline")]
    Deadline {
        /// The plugin's name.
        plugin: String,
        /// The hook that was running.
        hook: &'static str,
        /// The deadline.
        limit: Duration,
    },
    /// The guest tried to grow its memory past its limit.
    #[error("plugin {plugin}: {hook} ran out of memory (limit {limit} bytes)")]
    OutOfMemory {
        /// The plugin's name.
        plugin: String,
        /// The hook that was running.
        hook: &'static str,
        /// The memory limit in bytes.
        limit: u64,
    },
    /// A body the plugin asked for is larger than its limit (`max_body_kb`):
    /// the host's limit, not the guest's fault.
    #[error(
        "plugin {plugin}: the body for {hook} exceeds the plugin's max_body_kb ({limit} bytes)"
    )]
    BodyTooLarge {
        /// The plugin's name.
        plugin: String,
        /// The body hook that could not run.
        hook: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The guest returned something the host refuses (an invalid status or
    /// header, a body over the limit).
    #[error("plugin {plugin}: {hook} returned an invalid answer: {reason}")]
    Guest {
        /// The plugin's name.
        plugin: String,
        /// The hook that returned it.
        hook: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl PluginError {
    /// The name of the plugin at fault.
    pub fn plugin(&self) -> &str {
        match self {
            PluginError::Spec { plugin, .. }
            | PluginError::Load { plugin, .. }
            | PluginError::Instantiate { plugin, .. }
            | PluginError::Config { plugin, .. }
            | PluginError::Trap { plugin, .. }
            | PluginError::Deadline { plugin, .. }
            | PluginError::OutOfMemory { plugin, .. }
            | PluginError::BodyTooLarge { plugin, .. }
            | PluginError::Guest { plugin, .. } => plugin,
        }
    }

    /// A short, stable name for the kind of failure (a metric label).
    pub fn kind(&self) -> &'static str {
        match self {
            PluginError::Spec { .. } => "spec",
            PluginError::Load { .. } => "load",
            PluginError::Instantiate { .. } => "instantiate",
            PluginError::Config { .. } => "config",
            PluginError::Trap { .. } => "trap",
            PluginError::Deadline { .. } => "deadline",
            PluginError::OutOfMemory { .. } => "oom",
            PluginError::BodyTooLarge { .. } => "body_limit",
            PluginError::Guest { .. } => "guest",
        }
    }

    /// The status a `fail = "closed"` plugin answers with: 503 when the
    /// plugin could not run (no instance, deadline), 502 when it misbehaved.
    pub fn status(&self) -> StatusCode {
        match self {
            PluginError::Instantiate { .. } | PluginError::Deadline { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_GATEWAY,
        }
    }
}
