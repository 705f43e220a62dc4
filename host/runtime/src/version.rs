//! `PluginVersion`: one compiled, pre-linked, configured version of a plugin
//! and its pool of warm instances. Owned by the [`crate::PluginSet`]s (and so
//! the config snapshots) that name it; dropped when the last snapshot and
//! the last exchange that started on it are gone, which frees its instances.

use crate::PluginError;
use crate::bindings::{v1, v2};
use crate::cache;
use crate::config::{InitMode, Isolation, PluginSpec};
use crate::ctx::{PluginEnv, StoreCtx};
use crate::instance::{GuestPre, Hook, Hooks, Instance};
use crate::meter::PluginMeter;
use crate::preinit;
use crate::runtime::Shared;
use crate::{RequestInfo, RuntimeConfig};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

pub(crate) struct PluginVersion {
    pub spec: PluginSpec,
    pub digest: String,
    pub loaded_at: SystemTime,
    /// The plugin name's measurements, shared with its other versions.
    pub meter: Arc<PluginMeter>,
    pre: GuestPre,
    /// What `configure` reported, when it ran once for the version (a
    /// snapshot); none when every instance runs it.
    init_hooks: Option<Hooks>,
    env: Arc<PluginEnv>,
    pub config_json: String,
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

/// What a version is built from: the component's bytes and the
/// configuration JSON, secrets included.
pub(crate) struct Inputs {
    pub bytes: Vec<u8>,
    pub config_json: String,
}

/// Reads the plugin's source file and secret files.
pub(crate) async fn read_inputs(spec: &PluginSpec) -> Result<Inputs, PluginError> {
    let bytes = tokio::fs::read(&spec.source)
        .await
        .map_err(|e| load_error(spec, format!("cannot read {}: {e}", spec.source.display())))?;
    let mut config = spec.config.clone();
    for (key, path) in &spec.secret_files {
        let value = read_secret(spec, path).await?;
        match &mut config {
            serde_json::Value::Object(map) => {
                map.insert(key.clone(), value);
            }
            other => *other = serde_json::json!({ key.clone(): value }),
        }
    }
    let config_json = serde_json::to_string(&config).map_err(|e| PluginError::Config {
        plugin: spec.name.clone(),
        reason: e.to_string(),
    })?;
    Ok(Inputs { bytes, config_json })
}

/// A secret file's content, trailing newlines trimmed; a directory's
/// files as an object `{ file name: content }` (its regular files, not
/// recursive): how a WAF gets a rule set's many rule and data files.
async fn read_secret(
    spec: &PluginSpec,
    path: &std::path::Path,
) -> Result<serde_json::Value, PluginError> {
    let failed = |e: std::io::Error, what: &std::path::Path| {
        load_error(
            spec,
            format!("cannot read secret file {}: {e}", what.display()),
        )
    };
    let text = |t: String| serde_json::Value::String(t.trim_end_matches(['\r', '\n']).to_string());
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| failed(e, path))?;
    if !meta.is_dir() {
        let secret = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| failed(e, path))?;
        return Ok(text(secret));
    }
    let mut files = serde_json::Map::new();
    let mut dir = tokio::fs::read_dir(path)
        .await
        .map_err(|e| failed(e, path))?;
    while let Some(entry) = dir.next_entry().await.map_err(|e| failed(e, path))? {
        let file = entry.path();
        if !tokio::fs::metadata(&file)
            .await
            .map_err(|e| failed(e, &file))?
            .is_file()
        {
            continue;
        }
        let content = tokio::fs::read_to_string(&file)
            .await
            .map_err(|e| failed(e, &file))?;
        files.insert(
            entry.file_name().to_string_lossy().into_owned(),
            text(content),
        );
    }
    Ok(serde_json::Value::Object(files))
}

/// The first bytes of a core WebAssembly module (a component's differ).
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

const NOT_A_COMPONENT: &str = "this is a core WebAssembly module, not a component: \
build the plugin for wasm32-wasip2 (`cargo build --target wasm32-wasip2`), or make \
a component of the module with `wasm-tools component new` (with the WASI preview1 \
adapter when it imports wasi_snapshot_preview1)";

/// Links `component` against the host API of the contract version it
/// targets: 0.2 if it fits, else 0.1.
pub(crate) fn link(
    linker: &wasmtime::component::Linker<StoreCtx>,
    component: &wasmtime::component::Component,
) -> Result<GuestPre, String> {
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| format!("imports something the host does not provide: {e:#}"))?;
    let v2_error = match v2::FilterPre::new(pre.clone()) {
        Ok(pre) => return Ok(GuestPre::V2(pre)),
        Err(e) => e,
    };
    v1::FilterPre::new(pre).map(GuestPre::V1).map_err(|v1_error| {
        format!(
            "does not fit the ravelin:plugin/filter world: as 0.2.0, {v2_error:#}; as 0.1.0, {v1_error:#}"
        )
    })
}

fn check_spec(spec: &PluginSpec, config: &RuntimeConfig) -> Result<(), PluginError> {
    spec.validate(config).map_err(|reason| PluginError::Spec {
        plugin: spec.name.clone(),
        reason,
    })
}

impl PluginVersion {
    /// Compiles `bytes` (off the async threads), links it against the host
    /// API, runs its `configure` hook (once for a snapshot, see
    /// [`preinit`], or in a first instance) and keeps a first instance warm.
    /// Any failure refuses the version.
    pub(crate) async fn build(
        shared: &Arc<Shared>,
        spec: PluginSpec,
        inputs: Inputs,
        meter: Arc<PluginMeter>,
    ) -> Result<Arc<Self>, PluginError> {
        let Inputs { bytes, config_json } = inputs;
        check_spec(&spec, &shared.config)?;
        if bytes.starts_with(CORE_MODULE) {
            return Err(load_error(&spec, NOT_A_COMPONENT.into()));
        }
        let digest = cache::digest(&bytes);
        let (engine, dir, d) = (
            shared.engine.clone(),
            shared.config.cache_dir.clone(),
            digest.clone(),
        );
        let compiled = tokio::task::spawn_blocking(move || {
            cache::compile(&engine, &bytes, &d, dir.as_deref()).map(|c| (c, bytes))
        })
        .await
        .map_err(|e| load_error(&spec, format!("compilation task failed: {e}")))?;
        let (component, bytes) =
            compiled.map_err(|e| load_error(&spec, format!("not a valid component: {e}")))?;
        let pre = link(&shared.linker, &component).map_err(|e| load_error(&spec, e))?;
        let env = Arc::new(PluginEnv {
            name: Arc::from(spec.name.as_str()),
            kv: shared.kv.clone(),
            metrics: shared.metrics.clone(),
            outbound: shared.outbound.clone(),
            allowed_upstreams: spec.allowed_upstreams.clone(),
            memory_limit: spec.memory_limit,
            deadline: spec.deadline,
            configure_deadline: spec.configure_deadline,
            max_body_bytes: spec.max_body_bytes,
            log_tap: shared.log_tap.clone(),
        });
        let (pre, init_hooks) = match (&pre, spec.init) {
            (GuestPre::V2(_), InitMode::Snapshot) => {
                let started = Instant::now();
                let cacheable = spec.secret_files.is_empty();
                let made =
                    preinit::snapshot(shared, &env, &bytes, &digest, &config_json, cacheable).await;
                meter.record(Hook::Configure, started.elapsed(), made.as_ref().err());
                match made? {
                    Ok(snapshot) => (snapshot.pre, Some(snapshot.hooks)),
                    Err(preinit::Unsupported(why)) => {
                        tracing::info!(plugin = %spec.name, "configuring each instance: cannot snapshot the component: {why}");
                        (pre, None)
                    }
                }
            }
            _ => (pre, None),
        };
        let version = Arc::new(PluginVersion {
            spec,
            digest,
            loaded_at: SystemTime::now(),
            meter,
            pre,
            init_hooks,
            env,
            config_json,
            idle: Mutex::default(),
            max_idle: shared.config.max_idle_per_plugin,
            empty_info: Arc::default(),
        });
        version.prewarm().await?;
        Ok(version)
    }

    /// Makes the version's first instances (at least one: it proves the
    /// version starts) and keeps them warm.
    async fn prewarm(&self) -> Result<(), PluginError> {
        for _ in 0..self.spec.prewarm.max(1) {
            let instance = self.instantiate().await?;
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push(instance);
        }
        if self.spec.isolation != Isolation::Pooled {
            self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
        Ok(())
    }

    /// A new instance, ready for exchanges: started from the version's
    /// snapshot, or configured (its `configure` call is measured).
    async fn instantiate(&self) -> Result<Instance, PluginError> {
        self.meter.instantiated();
        if let Some(hooks) = self.init_hooks {
            return Instance::start(&self.pre, &self.env, hooks).await;
        }
        let started = Instant::now();
        let configured = match Instance::start(&self.pre, &self.env, Hooks::NONE).await {
            Ok(mut instance) => instance
                .configure(&self.config_json)
                .await
                .map(|()| instance),
            Err(e) => Err(e),
        };
        self.meter.record(
            Hook::Configure,
            started.elapsed(),
            configured.as_ref().err(),
        );
        configured
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
