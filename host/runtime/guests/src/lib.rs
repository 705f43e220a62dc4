//! Paths of the plugin components built from `plugins/` by this crate's
//! `build.rs` (wasmtime wasi-http style: one constant per guest, named after
//! its crate in upper case, e.g. [`NOOP`], [`HEADER_REWRITE`], [`WAF`]).
//!
//! Most guests are built for `wasm32-unknown-unknown` and wrapped into
//! components with `wit-component`, so they import no WASI; [`SANDBOX`] is
//! built for `wasm32-wasip2` and imports WASI on purpose.

include!(concat!(env!("OUT_DIR"), "/guests.rs"));
