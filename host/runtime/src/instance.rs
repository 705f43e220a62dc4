//! One plugin instance: a store and the instantiated component, calling the
//! hooks under the deadline and the memory limit and turning failures into
//! [`PluginError`]s. An instance that failed, or whose call was abandoned,
//! is never reused.

mod call;

pub use call::LogInfo;
pub(crate) use call::{Answer, Call};

use crate::PluginError;
use crate::RequestInfo;
use crate::bindings::{v1, v2};
use crate::ctx::{PluginEnv, StoreCtx};
use std::sync::Arc;
use wasmtime::{Store, StoreContextMut, UpdateDeadline};

/// A hook of the contract; its [`Hook::name`] (also its `Display`) is the
/// WIT world's (metric labels, error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `configure`.
    Configure,
    /// `on-request`.
    OnRequest,
    /// `on-request-body`.
    OnRequestBody,
    /// `on-request-chunk`.
    OnRequestChunk,
    /// `on-response`.
    OnResponse,
    /// `on-response-body`.
    OnResponseBody,
    /// `on-response-chunk`.
    OnResponseChunk,
    /// `on-log`.
    OnLog,
}

impl std::fmt::Display for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Hook {
    /// Every hook, in the order of [`Hook::index`].
    pub(crate) const ALL: [Hook; 8] = [
        Hook::Configure,
        Hook::OnRequest,
        Hook::OnRequestBody,
        Hook::OnRequestChunk,
        Hook::OnResponse,
        Hook::OnResponseBody,
        Hook::OnResponseChunk,
        Hook::OnLog,
    ];

    /// The hook's position in [`Hook::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The hook's name in the WIT world, such as `on-request`.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Configure => "configure",
            Hook::OnRequest => "on-request",
            Hook::OnRequestBody => "on-request-body",
            Hook::OnRequestChunk => "on-request-chunk",
            Hook::OnResponse => "on-response",
            Hook::OnResponseBody => "on-response-body",
            Hook::OnResponseChunk => "on-response-chunk",
            Hook::OnLog => "on-log",
        }
    }
}

/// The longest trap message kept in an error.
const MAX_REASON: usize = 512;

fn reason(e: &wasmtime::Error) -> String {
    let mut text = format!("{e:#}");
    if text.len() > MAX_REASON {
        let mut end = MAX_REASON;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Called by wasmtime on every epoch tick while the guest runs: interrupts
/// it past the deadline (CPU time, see [`crate::hook_clock`]), and otherwise
/// yields to the executor.
fn deadline_check(mut ctx: StoreContextMut<'_, StoreCtx>) -> wasmtime::Result<UpdateDeadline> {
    let data = ctx.data_mut();
    let deadline = data.deadline();
    if data.clock.check(deadline) {
        return Ok(UpdateDeadline::Interrupt);
    }
    Ok(UpdateDeadline::YieldCustom(
        1,
        Box::pin(data.clock.yield_now()),
    ))
}

fn empty_request() -> http::request::Parts {
    http::Request::new(()).into_parts().0
}

fn empty_response() -> http::response::Parts {
    http::Response::new(()).into_parts().0
}

/// A version's pre-linked component, in the contract version it targets.
pub(crate) enum GuestPre {
    V1(v1::FilterPre<StoreCtx>),
    V2(v2::FilterPre<StoreCtx>),
}

impl GuestPre {
    fn engine(&self) -> &wasmtime::Engine {
        match self {
            GuestPre::V1(pre) => pre.engine(),
            GuestPre::V2(pre) => pre.engine(),
        }
    }
}

/// A live component, in its contract version.
enum Guest {
    V1(v1::Filter),
    V2(v2::Filter),
}

/// The hooks an instance implements beyond `on-request` (0.1: all of its
/// world's; 0.2: what its `configure` reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hooks {
    pub on_response: bool,
    pub on_log: bool,
}

impl Hooks {
    /// What a 0.1 component implements.
    const V1: Hooks = Hooks {
        on_response: true,
        on_log: false,
    };
    /// Nothing beyond `on-request` (before `configure` has said more).
    pub(crate) const NONE: Hooks = Hooks {
        on_response: false,
        on_log: false,
    };
}

fn instantiate_error(store: &Store<StoreCtx>, e: &wasmtime::Error) -> PluginError {
    PluginError::Instantiate {
        plugin: store.data().env.name.to_string(),
        reason: if store.data().limiter.hit {
            "memory limit reached".into()
        } else {
            reason(e)
        },
    }
}

/// A live instance of one plugin version.
pub(crate) struct Instance {
    store: Store<StoreCtx>,
    guest: Guest,
    /// What `configure` said the plugin implements.
    pub hooks: Hooks,
    /// Exchanges served so far.
    pub exchanges: u32,
    /// A hook call started and did not finish (its future was dropped).
    in_call: bool,
    /// A hook failed: the instance must not run again.
    pub faulted: bool,
}

impl Instance {
    /// A new store for one of `env`'s instances: memory limiter and deadline
    /// check in place.
    pub(crate) fn new_store(engine: &wasmtime::Engine, env: &Arc<PluginEnv>) -> Store<StoreCtx> {
        let mut store = Store::new(engine, StoreCtx::new(env.clone()));
        store.limiter(|ctx| &mut ctx.limiter);
        store.epoch_deadline_callback(deadline_check);
        store.set_epoch_deadline(1);
        store
    }

    /// Instantiates the component, without calling `configure`: ready for
    /// exchanges when it starts from a pre-initialised snapshot (`hooks` are
    /// what the snapshot's `configure` reported).
    pub(crate) async fn start(
        pre: &GuestPre,
        env: &Arc<PluginEnv>,
        hooks: Hooks,
    ) -> Result<Self, PluginError> {
        let mut store = Self::new_store(pre.engine(), env);
        store.data_mut().start_hook();
        let guest = match pre {
            GuestPre::V1(pre) => pre.instantiate_async(&mut store).await.map(Guest::V1),
            GuestPre::V2(pre) => pre.instantiate_async(&mut store).await.map(Guest::V2),
        };
        let guest = guest.map_err(|e| instantiate_error(&store, &e))?;
        Ok(Self::new(store, guest, hooks))
    }

    /// An instance of a 0.2 component already instantiated in `store`.
    pub(crate) fn from_v2(store: Store<StoreCtx>, filter: v2::Filter) -> Self {
        Self::new(store, Guest::V2(filter), Hooks::NONE)
    }

    fn new(store: Store<StoreCtx>, guest: Guest, hooks: Hooks) -> Self {
        Instance {
            store,
            guest,
            hooks,
            exchanges: 0,
            in_call: false,
            faulted: false,
        }
    }

    /// The store, for pre-initialisation to read the guest's state.
    pub(crate) fn store_mut(&mut self) -> &mut Store<StoreCtx> {
        &mut self.store
    }

    /// Runs `configure(config_json)` and keeps the hooks it reports (0.1:
    /// every hook of its world).
    pub(crate) async fn configure(&mut self, config_json: &str) -> Result<(), PluginError> {
        self.begin(Hook::Configure);
        let configured = match &self.guest {
            Guest::V1(filter) => filter
                .call_configure(&mut self.store, config_json)
                .await
                .map(|r| r.map(|()| Hooks::V1)),
            Guest::V2(filter) => filter
                .call_configure(&mut self.store, config_json)
                .await
                .map(|r| {
                    r.map(|hooks| Hooks {
                        on_response: hooks.contains(v2::ravelin::plugin::types::Hooks::ON_RESPONSE),
                        on_log: hooks.contains(v2::ravelin::plugin::types::Hooks::ON_LOG),
                    })
                }),
        };
        match self.finish(Hook::Configure, configured)? {
            Ok(hooks) => {
                self.hooks = hooks;
                Ok(())
            }
            Err(message) => Err(PluginError::Config {
                plugin: self.store.data().env.name.to_string(),
                reason: message,
            }),
        }
    }

    /// Whether this instance may serve another exchange.
    pub(crate) fn reusable(&self, recycle_after: u32, recycle_memory: u64) -> bool {
        !self.faulted
            && !self.in_call
            && self.exchanges < recycle_after
            && self.store.data().limiter.peak <= recycle_memory
    }

    /// Forgets the last exchange before the instance goes idle: its facts,
    /// and its outbound calls still running.
    pub(crate) fn reset(&mut self, empty: &Arc<RequestInfo>) {
        self.exchanges += 1;
        let data = self.store.data_mut();
        data.info = empty.clone();
        data.cancel_calls();
    }

    fn begin(&mut self, hook: Hook) {
        let data = self.store.data_mut();
        data.start_hook();
        data.hook = Some(hook);
        data.body_ask = None;
        self.store.set_epoch_deadline(1);
        self.in_call = true;
    }

    fn finish<R>(&mut self, hook: Hook, result: wasmtime::Result<R>) -> Result<R, PluginError> {
        self.in_call = false;
        let limit = self.store.data().deadline();
        self.store.data_mut().hook = None;
        let error = match result {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        self.faulted = true;
        let data = self.store.data();
        let plugin = data.env.name.to_string();
        let hook = hook.name();
        Err(if data.clock.expired {
            PluginError::Deadline {
                plugin,
                hook,
                limit,
            }
        } else if data.limiter.hit {
            PluginError::OutOfMemory {
                plugin,
                hook,
                limit: data.env.memory_limit,
            }
        } else {
            PluginError::Trap {
                plugin,
                hook,
                reason: reason(&error),
            }
        })
    }
}
