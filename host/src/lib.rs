//! Ravelin: a reverse proxy whose request logic is programmable with
//! sandboxed WebAssembly components.
//!
//! The request path (see `pipeline`): `server` accepts and terminates TLS
//! (`tls`, whose `acme` gets certificates from an ACME CA), `pipeline` loads one `snapshot`, routes (`router`), cleans the
//! request (`hygiene`), sends it to an `upstream` cluster (balancer, pool,
//! health, retries), cleans and compresses the response (`compress`), and
//! logs it (`access_log`, `metrics`); `plugins` connects the Wasm plugin
//! runtime (crate `ravelin-runtime`), whose chains run in the pipeline, and
//! `kv` gives it the kv backend `[kv]` chooses (memory or Redis). `registry` pulls plugins referenced as `oci://`
//! into a local cache. `codec` is the HTTP/1.1 wire format both sides speak. `config` parses and validates the
//! TOML file; `reload` swaps snapshots; `admin` serves health and metrics;
//! `app` ties start-up and shutdown together, on the threads `workers` starts.

pub mod access_log;
pub mod admin;
pub mod app;
pub mod codec;
pub mod compress;
pub mod config;
pub mod console;
pub mod error;
pub mod hygiene;
pub mod kv;
pub mod metrics;
pub mod pipeline;
pub mod plugins;
pub mod registry;
pub mod reload;
pub mod router;
pub mod server;
pub mod snapshot;
pub mod tls;
pub mod upstream;
pub mod workers;
