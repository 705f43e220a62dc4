//! Ravelin's plugin runtime: WebAssembly components targeting the WIT world
//! `ravelin:plugin/filter` (in `wit/`), run on wasmtime, sandboxed, pooled
//! and hot-swapped. It knows HTTP types (`http`), never sockets.
//!
//! # Map
//!
//! | module | owns |
//! | --- | --- |
//! | [`Runtime`] (`runtime`) | engine, linker, shared KV and metrics; builds plugin sets ([`Runtime::prepare`]) |
//! | [`PluginSpec`], [`RuntimeConfig`] (`config`) | validated settings; [`FilePluginSpec`] (`file`) is the TOML form |
//! | [`PluginSet`] (`set`) | the ready versions one config snapshot names; chains are built from it |
//! | `version` | one compiled, pre-linked (`FilterPre`), configured version and its warm pool |
//! | `meter` | one plugin name's measurements across versions (stats, metrics, fault log) |
//! | `instance` | a store + instance; hooks under deadline and memory limit |
//! | [`Chain`] (`chain`), [`Exchange`] (`exchange`) | a route's plugins; one request's pass through them |
//! | [`Decision`], [`BodyDecision`], [`Failure`], [`RequestInfo`] (`decision`) | what goes in and out of an exchange |
//! | [`Outbound`] (`outbound`) | the port the host's HTTP client for plugins fills |
//! | `engine`, `cache` | engine settings (pooling, epochs); compiled-artifact disk cache |
//! | `ctx`, `imports` (0.2, and 0.1 in `imports::v1`), `headers`, `wasi` | the host API plugins import |
//! | [`guest_input`] | the checks on what plugins hand the host; public for the fuzz targets |
//! | [`KvPort`], [`MemoryKv`] (`kv`) | the kv port the host may fill (Redis) and the default memory backend |
//! | [`LogTap`], [`PluginLog`] (`log_tap`) | plugins' log lines as values, for the offline harness |
//! | `metrics`, [`PluginStats`] (`stats`) | Prometheus metrics; admin stats; fault logging per burst |
//! | [`tool`] | `ravelin plugin new` (`ravelin plugin test` is `ravelin-plugin-testing`) |
//!
//! # Use from the host
//!
//! ```no_run
//! # async fn demo() -> Result<(), ravelin_runtime::PluginError> {
//! use ravelin_runtime::{Decision, NoOutbound, PluginSpec, RequestInfo, Runtime, RuntimeConfig};
//! use std::sync::Arc;
//!
//! let runtime = Runtime::new(RuntimeConfig::default(), Arc::new(NoOutbound), None)?;
//! // once per config snapshot (pass the running set to reuse what did not change):
//! let set = runtime.prepare(vec![PluginSpec::new("waf", "plugins/waf.wasm")], None).await.map_err(|mut e| e.remove(0))?;
//! let chain = set.chain(&["waf"])?; // once per route
//!
//! // per request:
//! let (mut parts, _body) = http::Request::new(()).into_parts();
//! let mut exchange = chain.exchange(RequestInfo { route: "api".into(), ..Default::default() });
//! match exchange.on_request(&mut parts).await {
//!     Decision::Continue => { /* forward `parts` upstream, then: */
//!         let (mut resp, _b) = http::Response::new(()).into_parts();
//!         let _ = exchange.on_response(&mut resp).await;
//!     }
//!     Decision::Respond(response) => { /* send it; skip the upstream */ let _ = response; }
//!     Decision::Fail(failure) => { /* send failure.response(); log failure.error */ let _ = failure; }
//! }
//! drop(exchange); // instances go back to their pools
//! # Ok(()) }
//! ```
#![deny(unsafe_code)]

mod bindings;
mod body;
mod cache;
mod chain;
mod config;
mod ctx;
mod decision;
mod engine;
mod error;
mod exchange;
mod file;
pub mod guest_input;
mod headers;
mod hook_clock;
mod imports;
mod instance;
mod kv;
mod log_tap;
mod meter;
mod metrics;
mod outbound;
mod preinit;
mod runtime;
mod set;
mod stats;
pub mod tool;
mod version;
mod wasi;

pub use chain::Chain;
pub use config::{FailPolicy, InitMode, Isolation, PluginSpec, RuntimeConfig};
pub use decision::{BodyDecision, ClientCert, Decision, Failure, RequestInfo, San, TlsInfo};
pub use error::PluginError;
pub use exchange::{ChunkDecision, Exchange};
pub use file::FilePluginSpec;
pub use instance::{Hook, LogInfo};
pub use kv::{KvFailure, KvFuture, KvPort, MemoryKv, Versioned};
pub use log_tap::{LogTap, PluginLog};
pub use outbound::{NoOutbound, Outbound, OutboundFuture};
pub use runtime::Runtime;
pub use set::{PluginSet, SetChanges};
pub use stats::PluginStats;
