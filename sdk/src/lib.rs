//! Write [Ravelin](https://example.invalid/ravelin) proxy plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`]; [`export!`] turns it into
//! the WebAssembly component the proxy loads. You depend on this crate alone.
//!
//! | item | what it is |
//! | --- | --- |
//! | [`Plugin`] | the hooks, each with a no-op default |
//! | [`Config`], [`config`] | the plugin's configuration from the proxy's TOML |
//! | [`Request`], [`Response`] | the borrowed request and response |
//! | [`Decision`], [`BodyDecision`], [`Reply`] | what a hook returns |
//! | [`log`], [`kv`], [`metrics`], [`outbound`], [`now_ms`], [`random_u64`] | the host API |
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
//! use ravelin_sdk::{Config, Decision, Plugin, Reply, Request, Response, kv, log};
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
//!     fn new(config: Config) -> Result<Self, String> {
//!         Ok(DenyAdmin { settings: config.parse()? })
//!     }
//!
//!     fn on_request(&self, req: &Request) -> Decision {
//!         if req.path().starts_with(&self.settings.prefix) {
//!             let _ = kv::increment("denied", 1, None);
//!             log::info(&format!("denied {}", req.path()));
//!             return Reply::text(403, "forbidden").into();
//!         }
//!         let _ = req.set_header("x-checked-by", "deny-admin");
//!         Decision::Continue
//!     }
//!
//!     fn on_response(&self, _req: &Request, resp: &Response) -> Decision {
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
//! State kept in the plugin value (or any global) lives only as long as the
//! instance that holds it, and the host recycles instances: keep what must
//! last in [`kv`]. A panic traps the instance, is logged, and applies the
//! plugin's failure policy.

#[doc(hidden)]
pub mod bindings;
mod host;
mod http;

#[doc(hidden)]
pub mod __private {
    //! Used by [`crate::export!`]; not part of the API.
    pub use crate::glue::*;
}
mod glue;

pub use host::{kv, log, metrics, now_ms, outbound, random_bytes, random_u64};
pub use http::{BodyDecision, Decision, Reply, Request, Response};

use serde::de::DeserializeOwned;

/// The hooks of a plugin. Every hook has a no-op default: implement the ones
/// you need.
///
/// The host calls [`Plugin::new`] once per instance, then the hooks for each
/// request exchange that instance serves.
pub trait Plugin: Sized + 'static {
    /// Builds the plugin from its configuration; an `Err` refuses the plugin
    /// at load time and its message is shown to the operator.
    fn new(config: Config) -> Result<Self, String>;

    /// Runs for each request before the upstream, in route order.
    fn on_request(&self, req: &Request) -> Decision {
        let _ = req;
        Decision::Continue
    }

    /// Runs with the whole request body, for plugins configured with
    /// `request_body = true`.
    fn on_request_body(&self, req: &Request, body: Vec<u8>) -> BodyDecision {
        let _ = (req, body);
        BodyDecision::Continue
    }

    /// Runs for each response, in reverse route order.
    fn on_response(&self, req: &Request, resp: &Response) -> Decision {
        let _ = (req, resp);
        Decision::Continue
    }

    /// Runs with the whole response body, for plugins configured with
    /// `response_body = true`.
    fn on_response_body(&self, req: &Request, resp: &Response, body: Vec<u8>) -> BodyDecision {
        let _ = (req, resp, body);
        BodyDecision::Continue
    }
}

/// The plugin's configuration: the `config` table of its `[plugins.NAME]`
/// section, as JSON.
#[derive(Debug, Clone)]
pub struct Config {
    json: String,
}

impl Config {
    fn new(json: String) -> Self {
        Config { json }
    }

    /// The raw JSON (`null` when the proxy's config gave none).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Deserializes the configuration into `T`, with an error message that
    /// names the problem.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.json).map_err(|e| format!("invalid plugin config: {e}"))
    }
}

/// Deserializes the plugin's configuration into `T`, from any hook.
pub fn config<T: DeserializeOwned>() -> Result<T, String> {
    Config::new(glue::config_json()).parse()
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
                fn configure(config: String) -> Result<(), String> {
                    $crate::__private::configure::<$plugin>(config)
                }
                fn on_request(req: &$crate::__private::RawRequest) -> $crate::__private::RawDecision {
                    $crate::__private::on_request::<$plugin>(req)
                }
                fn on_request_body(
                    req: &$crate::__private::RawRequest,
                    body: Vec<u8>,
                ) -> $crate::__private::RawBodyDecision {
                    $crate::__private::on_request_body::<$plugin>(req, body)
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
                ) -> $crate::__private::RawBodyDecision {
                    $crate::__private::on_response_body::<$plugin>(req, resp, body)
                }
            }
            $crate::__private::export_filter!(__RavelinGuest with_types_in $crate::__private::bindings);
        };
    };
}
