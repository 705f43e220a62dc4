//! Test a Ravelin plugin from its own `cargo test`: the plugin runs,
//! natively, in Ravelin's real plugin runtime, through every hook the proxy
//! would call — `on-request`, the body hooks it asks for, `on-response`,
//! the response body whole or streamed in chunks, `on-log` — against a
//! stand-in upstream response you choose, with no network. The exchanges
//! of one [`Harness`] share one kv, so a rate limiter's counters or a
//! cache's entries carry from one request to the next; each [`Outcome`]
//! says what the plugin did, as values to assert on. `ravelin plugin test`
//! is this crate behind a command line.
//!
//! ```no_run
//! // tests/plugin.rs of a plugin crate
//! use ravelin_plugin_testing::{Harness, Hook, Request, Upstream, json};
//!
//! #[tokio::test]
//! async fn the_third_request_in_a_window_is_refused() {
//!     let dir = env!("CARGO_MANIFEST_DIR");
//!     let mut h = Harness::build_and_load(dir, json!({ "limit": 2 })).await.unwrap();
//!     for _ in 0..2 {
//!         let out = h.send(Request::get("/x").header("x-user", "alice"), Upstream::ok("hi")).await;
//!         assert!(out.went_upstream());
//!         assert_eq!(out.forwarded().unwrap().headers()["x-user"], "alice");
//!         assert_eq!(out.body(), "hi");
//!     }
//!     let out = h.send(Request::get("/x").header("x-user", "alice"), Upstream::ok("hi")).await;
//!     assert_eq!(out.status(), 429);
//!     assert_eq!(out.answered_at(), Some(Hook::OnRequest));
//!     assert!(out.logs().iter().any(|l| l.message.contains("alice over the limit")));
//! }
//! ```
//!
//! | item | what it is |
//! | --- | --- |
//! | [`Harness`] (`harness`) | one plugin loaded ([`Harness::load`] a `.wasm`, or [`Harness::build_and_load`] its crate); [`Harness::send`] runs one exchange |
//! | [`Request`], [`Upstream`] (`input`) | the client's request and the upstream's response, one line each |
//! | [`Outcome`], [`Hook`] (`outcome`) | what one exchange did: answered or forwarded, the response, a failure, log lines |
//! | `drive` | the exchange itself, hook by hook in the proxy's order |
//! | [`build_component`] (`component`) | `cargo build --release --target wasm32-wasip2` of a plugin crate |
//! | [`parse_request`], [`parse_response`] (`sample`) | the CLI's text forms |
//!
//! # Why a crate of its own
//!
//! `ravelin-sdk` is the guest side: it compiles to `wasm32` inside the
//! plugin, and cannot carry wasmtime. A feature of `ravelin-runtime` would
//! put a plugin author's dev-dependency behind the proxy's whole runtime
//! API, and a cargo-spawning build helper into a library that otherwise
//! never starts a process. This crate is the small, stable surface a
//! plugin's tests need (it re-exports nothing of the guest SDK), sits next
//! to the SDK (`sdk/testing`, so a checkout's path to one gives the other)
//! and is what the `ravelin` CLI's `plugin test` uses, so the two cannot
//! drift.
#![forbid(unsafe_code)]

mod component;
mod drive;
mod harness;
mod input;
mod outcome;
mod sample;

pub use component::{BuildError, TARGET, build_component};
pub use harness::{Error, Harness, PLUGIN_NAME};
pub use input::{Request, Upstream};
pub use outcome::{Hook, Outcome};
pub use ravelin_runtime::{PluginError, PluginLog};
pub use sample::{parse_request, parse_response};
pub use serde_json::{Value, json};
pub use tracing::Level;
