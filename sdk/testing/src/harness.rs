//! [`Harness`]: one plugin loaded into its own runtime (its own kv, its own
//! log tap), and exchanges run through it one at a time.

use crate::component::{BuildError, build_component};
use crate::drive;
use crate::input::{Request, Upstream};
use crate::outcome::Outcome;
use ravelin_runtime::{
    Chain, LogTap, NoOutbound, PluginError, PluginLog, PluginSpec, RequestInfo, Runtime,
    RuntimeConfig,
};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// The name the plugin under test is loaded as (its kv namespace, the
/// `plugin` of its log lines).
pub const PLUGIN_NAME: &str = "plugin-under-test";

/// Why [`Harness::build_and_load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The crate did not build to a component.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The component did not load (not a component, config refused, …).
    #[error(transparent)]
    Load(#[from] PluginError),
}

/// One plugin, loaded with one config, and the exchanges run through it.
/// Every exchange of one harness shares its kv (a fresh, empty memory
/// store per harness); outbound calls fail (there is no network).
pub struct Harness {
    /// Held for as long as the harness: its epoch thread enforces deadlines.
    _runtime: Runtime,
    chain: Chain,
    served: u64,
    /// Every log line of the plugin so far, written by the runtime's tap.
    lines: Arc<Mutex<Vec<PluginLog>>>,
}

fn locked(lines: &Mutex<Vec<PluginLog>>) -> MutexGuard<'_, Vec<PluginLog>> {
    lines.lock().unwrap_or_else(|p| p.into_inner())
}

impl Harness {
    /// Loads the component `file` with `config` (the plugin's `config`
    /// table, as JSON) and the default limits of a plugin. A config the
    /// plugin refuses is [`PluginError::Config`].
    pub async fn load(
        file: impl AsRef<Path>,
        config: serde_json::Value,
    ) -> Result<Self, PluginError> {
        // The on-demand allocator: a pool would reserve gigabytes of address
        // space per harness, and a test binary runs many at once.
        let settings = RuntimeConfig {
            pooling: false,
            ..RuntimeConfig::default()
        };
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let tap: LogTap = Arc::new(move |line| locked(&sink).push(line));
        let runtime = Runtime::with_log_tap(settings, Arc::new(NoOutbound), None, Some(tap))?;
        let mut spec = PluginSpec::new(PLUGIN_NAME, file.as_ref());
        spec.config = config;
        let chain = runtime.load(spec).await?.chain(&[PLUGIN_NAME])?;
        Ok(Harness {
            _runtime: runtime,
            chain,
            served: 0,
            lines,
        })
    }

    /// Builds the plugin crate in `manifest_dir` to a component (see
    /// [`build_component`]), then [`Harness::load`]s it.
    pub async fn build_and_load(
        manifest_dir: impl AsRef<Path>,
        config: serde_json::Value,
    ) -> Result<Self, Error> {
        let file = build_component(manifest_dir).await?;
        Ok(Harness::load(file, config).await?)
    }

    /// Runs `request` through every hook, the upstream (if the request
    /// gets there) answering `upstream`; then `on-log`. Requests are
    /// numbered: the plugin sees request id `test-1`, `test-2`, …, route
    /// `test`, client and peer `127.0.0.1:50000`, no TLS.
    pub async fn send(
        &mut self,
        request: impl Into<Request>,
        upstream: impl Into<Upstream>,
    ) -> Outcome {
        self.served += 1;
        let info = RequestInfo {
            route: "test".into(),
            request_id: format!("test-{}", self.served),
            client_addr: "127.0.0.1:50000".parse().ok(),
            peer_addr: "127.0.0.1:50000".parse().ok(),
            tls: None,
        };
        let before = locked(&self.lines).len();
        let exchange = self.chain.exchange(info);
        let mut outcome = drive::run(exchange, request.into().0, upstream.into().0).await;
        outcome.logs = locked(&self.lines)[before..].to_vec();
        outcome
    }

    /// Every log line of the plugin since it was loaded (`configure`'s
    /// first), in order.
    pub fn logs(&self) -> Vec<PluginLog> {
        locked(&self.lines).clone()
    }
}
