//! Write [Ravelin](https://example.invalid/ravelin) proxy plugins in Rust,
//! against the contract `ravelin:plugin@0.2.0` (`wit/`).
//!
//! A plugin is a type that implements [`Plugin`]; [`export!`] turns it into
//! the WebAssembly component the proxy loads. You depend on this crate alone.
//!
//! | item | what it is |
//! | --- | --- |
//! | [`Plugin`], [`Hooks`] | the hooks, each with a no-op default, and which ones the plugin implements |
//! | [`Config`], [`config`] | the plugin's configuration from the proxy's TOML |
//! | [`Request`], [`Response`] | the borrowed request and response (header values as bytes, with `_str` helpers) |
//! | [`BodyMode`], [`BodyLimit`] | asking for a body, whole or in chunks |
//! | [`Decision`], [`BodyDecision`], [`ChunkDecision`], [`Reply`] | what a hook returns |
//! | [`log`], [`kv`], [`metrics`], [`outbound`], [`now_ms`], [`sleep`], [`random_u64`], [`random_bytes`] | the host API |
//!
//! # A complete plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "deny-admin"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! ravelin-sdk = { path = "../../sdk" }
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! `src/lib.rs`:
//!
//! ```no_run
//! use ravelin_sdk::{Config, Decision, Hooks, Plugin, Reply, Request, Response};
//! use ravelin_sdk::{kv::Store, log, metrics};
//!
//! #[derive(serde::Deserialize)]
//! struct Settings {
//!     /// Requests whose path starts with this are refused.
//!     prefix: String,
//! }
//!
//! struct DenyAdmin {
//!     settings: Settings,
//! }
//!
//! impl Plugin for DenyAdmin {
//!     // `on_response` below runs only because it is listed here.
//!     const HOOKS: Hooks = Hooks::ON_RESPONSE;
//!
//!     fn configure(config: Config) -> Result<Self, String> {
//!         Ok(DenyAdmin { settings: config.parse()? })
//!     }
//!
//!     fn on_request(&mut self, req: &Request) -> Decision {
//!         if req.path().starts_with(&self.settings.prefix) {
//!             if let Ok(store) = Store::open("denied") {
//!                 let _ = store.increment("count", 1, None);
//!             }
//!             metrics::counter_add("denied", &[("route", &req.route())], 1);
//!             log::info(&format!("denied {}", req.path()));
//!             return Reply::text(403, "forbidden").into();
//!         }
//!         let agent = req.header_str("user-agent").unwrap_or_default();
//!         let _ = req.set_header("x-agent-length", agent.len().to_string());
//!         Decision::Continue
//!     }
//!
//!     fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
//!         resp.remove_header("server");
//!         Decision::Continue
//!     }
//! }
//!
//! ravelin_sdk::export!(DenyAdmin);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (the file is
//! `target/wasm32-wasip2/release/deny_admin.wasm`), and declare it in the
//! proxy's config:
//!
//! ```toml
//! [plugins.deny-admin]
//! source = "plugins/deny_admin.wasm"
//! config = { prefix = "/admin" }
//! ```
//!
//! # Hooks and instances
//!
//! `on_request` always runs. The other hooks run only when asked for:
//! `on_response` and `on_log` when [`Plugin::hooks`] lists them (by default
//! [`Plugin::HOOKS`], empty), the body hooks when the plugin asked for the
//! body in that exchange ([`Request::want_body`] from `on_request`,
//! [`Response::want_body`] from `on_response`). A plugin that lists no hook
//! gives its instance back as soon as `on_request` returns.
//!
//! One instance serves one exchange at a time, from its first hook to its
//! last, so the plugin value may keep per-exchange state (reset it in the
//! first hook). Instances are pooled and recycled: keep what must last in
//! [`kv`]. A panic traps the instance, is logged, and applies the plugin's
//! failure policy.

#![deny(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod body;
mod config;
mod decision;
mod flags;
mod host;
mod http;
pub mod kv;
pub mod outbound;
mod tls;

#[doc(hidden)]
pub mod __private {
    //! Used by [`crate::export!`]; not part of the API.
    pub use crate::glue::*;
}
mod glue;

pub use bindings::ravelin::plugin::types::{Hooks, LogInfo};
pub use body::{BodyLimit, BodyMode, OverLimit};
pub use config::{Config, config};
pub use decision::{BodyDecision, ChunkDecision, Decision, Reply};
pub use host::{log, metrics, now_ms, random_bytes, random_u64, sleep};
pub use http::{Field, HttpVersion, Request, Response};
pub use tls::{ClientCert, TlsInfo};

/// The hooks of a plugin. Every hook has a no-op default: implement the ones
/// you need, and list `on_response` / `on_log` in [`Plugin::HOOKS`] (or
/// [`Plugin::hooks`]) — a hook not listed is never called.
///
/// The host calls [`Plugin::configure`] once per plugin version and every
/// instance starts from the state it left (with `init = "instance"`: once
/// per instance), then the hooks for each exchange an instance serves, one
/// exchange at a time. Seed per-instance randomness in a hook, not in
/// `configure`, and open kv stores in the hook that uses them.
pub trait Plugin: Sized + 'static {
    /// The hooks the plugin implements beyond `on_request`:
    /// [`Hooks::ON_RESPONSE`] (`on_response` and the response body hooks it
    /// may ask for), [`Hooks::ON_LOG`], both
    /// (`Hooks::ON_RESPONSE.union(Hooks::ON_LOG)`) or none (the default).
    const HOOKS: Hooks = Hooks::empty();

    /// Builds the plugin from its configuration; an `Err` refuses the plugin
    /// (or its new version) and its message is shown to the operator.
    fn configure(config: Config) -> Result<Self, String>;

    /// The hooks this instance implements, reported to the host right after
    /// [`Plugin::configure`]: [`Plugin::HOOKS`] unless overridden (to decide
    /// from the configuration, say).
    fn hooks(&self) -> Hooks {
        Self::HOOKS
    }

    /// Runs for each request before the upstream, in route order. May ask
    /// for the request body with [`Request::want_body`].
    fn on_request(&mut self, req: &Request) -> Decision {
        let _ = req;
        Decision::Continue
    }

    /// Runs with the request body when `on_request` asked for it whole (or
    /// the plugin's config has `request_body = true`). `truncated`: `body`
    /// is only the first bytes (over-limit rule `inspect-prefix`), and a
    /// [`BodyDecision::Replace`] is ignored.
    fn on_request_body(&mut self, req: &Request, body: Vec<u8>, truncated: bool) -> BodyDecision {
        let _ = (req, body, truncated);
        BodyDecision::Continue
    }

    /// Runs for each chunk of the request body, in route order, when
    /// `on_request` asked for it [`BodyMode::chunked`]; `end` is set on the
    /// last call (whose chunk may be empty). The request head has already
    /// gone upstream (changing it here reaches nobody); a
    /// [`ChunkDecision::Respond`] abandons the upstream request and answers
    /// the client.
    fn on_request_chunk(&mut self, req: &Request, chunk: Vec<u8>, end: bool) -> ChunkDecision {
        let _ = (req, chunk, end);
        ChunkDecision::Pass
    }

    /// Runs for each response, in reverse route order, when the hooks list
    /// [`Hooks::ON_RESPONSE`]. May ask for the response body with
    /// [`Response::want_body`].
    fn on_response(&mut self, req: &Request, resp: &Response) -> Decision {
        let _ = (req, resp);
        Decision::Continue
    }

    /// Runs with the response body when `on_response` asked for it whole (or
    /// the plugin's config has `response_body = true`); `truncated` as for
    /// [`Plugin::on_request_body`].
    fn on_response_body(
        &mut self,
        req: &Request,
        resp: &Response,
        body: Vec<u8>,
        truncated: bool,
    ) -> BodyDecision {
        let _ = (req, resp, body, truncated);
        BodyDecision::Continue
    }

    /// Runs for each chunk of the response body when `on_response` asked
    /// for it [`BodyMode::chunked`]; `end` is set on the last call (whose
    /// chunk may be empty).
    fn on_response_chunk(
        &mut self,
        req: &Request,
        resp: &Response,
        chunk: Vec<u8>,
        end: bool,
    ) -> ChunkDecision {
        let _ = (req, resp, chunk, end);
        ChunkDecision::Pass
    }

    /// Runs after the response was sent (or the exchange ended early), off
    /// the client's path, when the hooks list [`Hooks::ON_LOG`]: for
    /// logging, metrics and follow-up work. The request is read-only here.
    fn on_log(&mut self, req: &Request, info: &LogInfo) {
        let _ = (req, info);
    }
}

/// Exports a [`Plugin`] type as the component's hooks. Use it once per crate.
///
/// ```ignore
/// ravelin_sdk::export!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        const _: () = {
            struct __RavelinGuest;
            impl $crate::__private::Guest for __RavelinGuest {
                fn configure(config: String) -> Result<$crate::__private::RawHooks, String> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn on_request(req: &$crate::__private::RawRequest) -> $crate::__private::RawDecision {
                    $crate::__private::on_request::<$plugin>(req)
                }
                fn on_request_body(
                    req: &$crate::__private::RawRequest,
                    body: Vec<u8>,
                    truncated: bool,
                ) -> $crate::__private::RawBodyDecision {
                    $crate::__private::on_request_body::<$plugin>(req, body, truncated)
                }
                fn on_request_chunk(
                    req: &$crate::__private::RawRequest,
                    chunk: Vec<u8>,
                    end: bool,
                ) -> $crate::__private::RawChunkDecision {
                    $crate::__private::on_request_chunk::<$plugin>(req, chunk, end)
                }
                fn on_response(
                    req: &$crate::__private::RawRequest,
                    resp: &$crate::__private::RawResponse,
                ) -> $crate::__private::RawDecision {
                    $crate::__private::on_response::<$plugin>(req, resp)
                }
                fn on_response_body(
                    req: &$crate::__private::RawRequest,
                    resp: &$crate::__private::RawResponse,
                    body: Vec<u8>,
                    truncated: bool,
                ) -> $crate::__private::RawBodyDecision {
                    $crate::__private::on_response_body::<$plugin>(req, resp, body, truncated)
                }
                fn on_response_chunk(
                    req: &$crate::__private::RawRequest,
                    resp: &$crate::__private::RawResponse,
                    chunk: Vec<u8>,
                    end: bool,
                ) -> $crate::__private::RawChunkDecision {
                    $crate::__private::on_response_chunk::<$plugin>(req, resp, chunk, end)
                }
                fn on_log(
                    req: &$crate::__private::RawRequest,
                    info: $crate::__private::RawLogInfo,
                ) {
                    $crate::__private::on_log::<$plugin>(req, info)
                }
            }
            $crate::__private::export_filter!(__RavelinGuest with_types_in $crate::__private::bindings);
        };
    };
}
