//! Ravelin: a reverse proxy whose request logic is programmable with
//! sandboxed WebAssembly components.

pub mod config;
pub mod hygiene;
pub mod router;
