//! `PluginVersion`: one compiled, pre-linked, configured version of a plugin
//! and its pool of warm instances. Dropped when the last exchange that
//! started on it ends, which frees its instances.

use crate::PluginError;
use crate::bindings::FilterPre;
use crate::cache;
use crate::config::{Isolation, PluginSpec};
use crate::ctx::{PluginEnv, StoreCtx};
use crate::instance::Instance;
use crate::runtime::Shared;
use crate::{RequestInfo, RuntimeConfig};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

pub(crate) struct PluginVersion {
    pub spec: PluginSpec,
    pub digest: String,
    pub loaded_at: SystemTime,
    pre: FilterPre<StoreCtx>,
    env: Arc<PluginEnv>,
    config_json: String,
    idle: Mutex<Vec<Instance>>,
    max_idle: usize,
    empty_info: Arc<RequestInfo>,
}

fn load_error(spec: &PluginSpec, reason: String) -> PluginError {
    PluginError::Load {
        plugin: spec.name.clone(),
        reason,
    }
}

/// Reads the plugin's source file.
pub(crate) async fn read_source(spec: &PluginSpec) -> Result<Vec<u8>, PluginError> {
    tokio::fs::read(&spec.source)
        .await
        .map_err(|e| load_error(spec, format!("cannot read {}: {e}", spec.source.display())))
}

fn check_spec(spec: &PluginSpec, config: &RuntimeConfig) -> Result<(), PluginError> {
    spec.validate(config).map_err(|reason| PluginError::Spec {
        plugin: spec.name.clone(),
        reason,
    })
}

impl PluginVersion {
    /// Compiles `bytes` (off the async threads), links it against the host
    /// API, and runs its `configure` hook in a first instance, which is kept
    /// warm. Any failure refuses the version.
    pub(crate) async fn build(
        shared: &Arc<Shared>,
        spec: PluginSpec,
        bytes: Vec<u8>,
    ) -> Result<Arc<Self>, PluginError> {
        check_spec(&spec, &shared.config)?;
        let digest = cache::digest(&bytes);
        let (engine, dir, d) = (
            shared.engine.clone(),
            shared.config.cache_dir.clone(),
            digest.clone(),
        );
        let compiled = tokio::task::spawn_blocking(move || {
            cache::compile(&engine, &bytes, &d, dir.as_deref())
        })
        .await
        .map_err(|e| load_error(&spec, format!("compilation task failed: {e}")))?;
        let component =
            compiled.map_err(|e| load_error(&spec, format!("not a valid component: {e}")))?;
        let pre = shared
            .linker
            .instantiate_pre(&component)
            .and_then(FilterPre::new)
            .map_err(|e| {
                load_error(
                    &spec,
                    format!("does not fit the ravelin:plugin/filter world: {e:#}"),
                )
            })?;
        let config_json = serde_json::to_string(&spec.config).map_err(|e| PluginError::Config {
            plugin: spec.name.clone(),
            reason: e.to_string(),
        })?;
        let env = Arc::new(PluginEnv {
            name: Arc::from(spec.name.as_str()),
            kv: shared.kv.clone(),
            metrics: shared.metrics.clone(),
            outbound: shared.outbound.clone(),
            allowed_upstreams: spec.allowed_upstreams.clone(),
            memory_limit: spec.memory_limit,
            deadline: spec.deadline,
        });
        let version = Arc::new(PluginVersion {
            spec,
            digest,
            loaded_at: SystemTime::now(),
            pre,
            env,
            config_json,
            idle: Mutex::default(),
            max_idle: shared.config.max_idle_per_plugin,
            empty_info: Arc::default(),
        });
        let first = version.instantiate().await?;
        version.checkin(first);
        Ok(version)
    }

    async fn instantiate(&self) -> Result<Instance, PluginError> {
        let label = crate::metrics::PluginLabel {
            plugin: self.spec.name.clone(),
        };
        self.env.metrics.instantiations.get_or_create(&label).inc();
        Instance::start(&self.pre, &self.env, &self.config_json).await
    }

    /// An instance for one exchange: a warm one if pooled and available.
    pub(crate) async fn checkout(&self) -> Result<Instance, PluginError> {
        if self.spec.isolation == Isolation::Pooled {
            let warm = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            if let Some(instance) = warm {
                return Ok(instance);
            }
        }
        self.instantiate().await
    }

    /// Takes an instance back after its exchange; keeps it warm only when
    /// pooled, healthy, young and small enough.
    pub(crate) fn checkin(&self, mut instance: Instance) {
        instance.reset(&self.empty_info);
        if self.spec.isolation != Isolation::Pooled
            || !instance.reusable(self.spec.recycle_after, self.spec.recycle_memory_bytes)
        {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(instance);
        }
    }
}
