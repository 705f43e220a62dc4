//! Ravelin's plugin runtime: WebAssembly components targeting the WIT world
//! `ravelin:plugin/filter` (in `wit/`), run on wasmtime, sandboxed, pooled
//! and hot-swapped. It knows HTTP types (`http`), never sockets.
//!
//! # Map
//!
//! | module | owns |
//! | --- | --- |
//! | [`Runtime`] (`runtime`) | engine, linker, shared KV and metrics, the named plugin set ([`Runtime::apply`]) |
//! | [`PluginSpec`], [`RuntimeConfig`] (`config`) | validated settings; [`FilePluginSpec`] (`file`) is the TOML form |
//! | [`PluginHandle`] (`handle`) | one named plugin: atomic version swap, reload, stats |
//! | `version` | one compiled, pre-linked (`FilterPre`), configured version and its warm pool |
//! | `instance` | a store + instance; hooks under deadline and memory limit |
//! | [`Chain`] (`chain`), [`Exchange`] (`exchange`) | a route's plugins; one request's pass through them |
//! | [`Decision`], [`BodyDecision`], [`Failure`], [`RequestInfo`] (`decision`) | what goes in and out of an exchange |
//! | [`Outbound`] (`outbound`) | the host's HTTP client for plugins, behind the allow-list |
//! | `engine`, `cache` | engine settings (pooling, epochs); compiled-artifact disk cache |
//! | `ctx`, `host_http`, `host_api`, `headers`, `wasi`, `kv` | the host API plugins import |
//! | [`guest_input`], [`KvStore`] (`kv`) | the checks on what plugins hand the host, and the bounded store; public for the fuzz targets |
//! | `metrics`, [`PluginStats`] (`stats`) | Prometheus metrics; admin stats; fault logging per burst |
//! | `watch` | file watching → reload ([`Runtime::watch`]) |
//! | [`tool`] | `ravelin plugin new` / `ravelin plugin test` |
//!
//! # Use from the host
//!
//! ```no_run
//! # async fn demo() -> Result<(), ravelin_runtime::PluginError> {
//! use ravelin_runtime::{Decision, NoOutbound, PluginSpec, RequestInfo, Runtime, RuntimeConfig};
//! use std::sync::Arc;
//!
//! let runtime = Runtime::new(RuntimeConfig::default(), Arc::new(NoOutbound))?;
//! runtime.apply(vec![PluginSpec::new("waf", "plugins/waf.wasm")]).await.map_err(|mut e| e.remove(0))?;
//! runtime.watch()?; // hot swap when the file changes
//! let chain = runtime.chain(&["waf"])?; // once per route, per config snapshot
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
mod handle;
mod headers;
mod host_api;
mod host_http;
mod instance;
mod kv;
mod metrics;
mod outbound;
mod runtime;
mod stats;
pub mod tool;
mod version;
mod wasi;
mod watch;

pub use chain::Chain;
pub use config::{FailPolicy, Isolation, PluginSpec, RuntimeConfig};
pub use decision::{BodyDecision, Decision, Failure, RequestInfo, TlsInfo};
pub use error::PluginError;
pub use exchange::Exchange;
pub use file::FilePluginSpec;
pub use handle::{PluginHandle, ReloadOutcome};
pub use kv::KvStore;
pub use outbound::{NoOutbound, Outbound, OutboundFuture};
pub use runtime::{ApplyReport, Runtime};
pub use stats::PluginStats;
