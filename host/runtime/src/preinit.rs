//! Per-version `init`: a 0.2 plugin's `configure` runs once per version, in
//! an instrumented instance, and the memory and globals it leaves behind are
//! snapshotted (wasmtime's Wizer) into a new component that every instance
//! of the version starts from. A WAF that compiles its rules, or a Python or
//! JavaScript interpreter that loads its program, pays for it once per
//! version instead of once per instance; with copy-on-write memory images a
//! fresh instance of the snapshot costs no more than one of the original.
//!
//! What the guest made in `configure` is shared by every instance: a seed
//! for randomness should be drawn in a hook, not in `configure`. A component
//! the instrumentation cannot handle falls back to `configure` per instance.

use crate::PluginError;
use crate::bindings::v2;
use crate::cache;
use crate::ctx::{PluginEnv, StoreCtx};
use crate::instance::{GuestPre, Hook, Hooks, Instance};
use crate::runtime::Shared;
use std::sync::Arc;
use wasmtime::Store;
use wasmtime::component::{Component, Lift, WasmList};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// A version's starting point after its `init`.
pub(crate) struct Snapshot {
    /// The pre-initialised component, linked.
    pub pre: GuestPre,
    /// What `configure` reported, true of every instance of the snapshot.
    pub hooks: Hooks,
}

/// Why a component was not pre-initialised (it is then configured per
/// instance); not an error of the plugin.
pub(crate) struct Unsupported(pub String);

/// Runs `configure(config_json)` once in an instrumented instance of the
/// component `bytes` (digest `digest`) and snapshots the result. An error
/// from `configure` (or a trap in it) refuses the version, as it would in
/// any instance; `cache` says whether the snapshot (which holds the
/// configuration, secrets included) may be cached on disk.
pub(crate) async fn snapshot(
    shared: &Arc<Shared>,
    env: &Arc<PluginEnv>,
    bytes: &[u8],
    digest: &str,
    config_json: &str,
    cache: bool,
) -> Result<Result<Snapshot, Unsupported>, PluginError> {
    let mut wizer = Wizer::new();
    wizer.keep_init_func(true);
    let (cx, instrumented) = match wizer.instrument_component(bytes) {
        Ok(done) => done,
        Err(e) => return Ok(Err(Unsupported(format!("{e:#}")))),
    };
    let component = compile(shared, instrumented, format!("{digest}-instrumented"), true).await;
    let Some(GuestPre::V2(pre)) = component.ok().and_then(|c| link(shared, &c)) else {
        return Ok(Err(Unsupported(
            "the instrumented component does not link".into(),
        )));
    };
    let mut store = Instance::new_store(pre.engine(), env);
    under_configure_deadline(&mut store);
    let instance = pre
        .instance_pre()
        .instantiate_async(&mut store)
        .await
        .map_err(|e| init_error(env, format!("cannot instantiate: {e:#}")))?;
    let filter =
        v2::Filter::new(&mut store, &instance).map_err(|e| init_error(env, format!("{e:#}")))?;
    let mut configured = Instance::from_v2(store, filter);
    configured.configure(config_json).await?;
    let hooks = configured.hooks;
    under_configure_deadline(configured.store_mut());
    let mut state = GuestState {
        store: configured.store_mut(),
        instance,
        failure: None,
        memories: Vec::new(),
    };
    let snapshot = match wizer.snapshot_component(&cx, &mut state).await {
        Ok(_) if state.failure.is_some() => {
            return Ok(Err(Unsupported(state.failure.unwrap_or_default())));
        }
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(Unsupported(format!("{e:#}")))),
    };
    let snapshot_digest = cache::digest(&snapshot);
    let component = compile(shared, snapshot, snapshot_digest, cache)
        .await
        .map_err(|e| init_error(env, format!("the snapshot does not compile: {e}")))?;
    let pre = link(shared, &component)
        .ok_or_else(|| init_error(env, "the snapshot does not link".into()))?;
    Ok(Ok(Snapshot { pre, hooks }))
}

/// Starts a fresh CPU allowance under `configure`'s deadline: instantiating
/// the instrumented component and reading its state back are part of the
/// version's init, not a hook. Under a hook's 50 ms the reads (dozens of
/// memories and globals for an interpreter such as Python's, after the
/// clock already counted `configure`) were interrupted, and the version
/// silently fell back to `configure` per instance.
fn under_configure_deadline(store: &mut Store<StoreCtx>) {
    let data = store.data_mut();
    data.hook = Some(Hook::Configure);
    data.start_hook();
    store.set_epoch_deadline(1);
}

fn init_error(env: &PluginEnv, reason: String) -> PluginError {
    PluginError::Load {
        plugin: env.name.to_string(),
        reason: format!("per-version init: {reason}"),
    }
}

async fn compile(
    shared: &Arc<Shared>,
    bytes: Vec<u8>,
    key: String,
    cache: bool,
) -> Result<Component, String> {
    let engine = shared.engine.clone();
    let dir = shared.config.cache_dir.clone().filter(|_| cache);
    tokio::task::spawn_blocking(move || cache::compile(&engine, &bytes, &key, dir.as_deref()))
        .await
        .map_err(|e| format!("compilation task failed: {e}"))?
}

fn link(shared: &Shared, component: &Component) -> Option<GuestPre> {
    crate::version::link(&shared.linker, component).ok()
}

/// The instrumented instance, as Wizer reads it: each core instance's
/// memories and globals through the accessors the instrumentation exported.
/// Wizer's reads cannot fail; the first failure is kept here instead (and
/// the snapshot thrown away).
///
/// Wizer reads each memory twice (once to find its non-zero ranges, once to
/// copy them) and panics when the second read is missing what the first
/// saw, so each memory is read from the guest once and kept: a read that
/// fails the second time (the hook's deadline passed under load) would
/// otherwise take the proxy down.
struct GuestState<'a> {
    store: &'a mut Store<StoreCtx>,
    instance: wasmtime::component::Instance,
    failure: Option<String>,
    /// (export, accessor) → the memory's bytes as first read.
    memories: Vec<((String, String), Vec<u8>)>,
}

impl GuestState<'_> {
    async fn call<R: Lift + Default + Send + Sync + 'static>(
        &mut self,
        instance: &str,
        func: &str,
    ) -> R {
        match self.try_call(instance, func).await {
            Ok(value) => value,
            Err(e) => {
                self.failure
                    .get_or_insert(format!("reading {instance}#{func}: {e:#}"));
                R::default()
            }
        }
    }

    async fn try_call<R: Lift + Send + Sync + 'static>(
        &mut self,
        instance: &str,
        func: &str,
    ) -> wasmtime::Result<R> {
        let store = &mut *self.store;
        let (_, parent) = self
            .instance
            .get_export(&mut *store, None, instance)
            .ok_or_else(|| wasmtime::format_err!("not exported"))?;
        let (_, index) = self
            .instance
            .get_export(&mut *store, Some(&parent), func)
            .ok_or_else(|| wasmtime::format_err!("not exported"))?;
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *store, index)?;
        Ok(typed.call_async(&mut *store, ()).await?.0)
    }
}

impl ComponentInstanceState for GuestState<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        let key = (instance.to_string(), func.to_string());
        if let Some((_, bytes)) = self.memories.iter().find(|(k, _)| *k == key) {
            return contents(bytes);
        }
        match self.try_call::<WasmList<u8>>(instance, func).await {
            Ok(list) => {
                let bytes = list.as_le_slice(&*self.store).to_vec();
                contents(&bytes);
                self.memories.push((key, bytes));
            }
            Err(e) => {
                self.failure
                    .get_or_insert(format!("reading {instance}#{func}: {e:#}"));
            }
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).await.to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).await.to_bits()
    }
}
