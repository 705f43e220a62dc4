//! The backend behind plugins' kv imports, chosen by `[kv]` at start-up:
//! the runtime's own memory store (per process), or [`RedisKv`], shared by
//! every proxy pointed at the same Redis.

mod reachability;
mod redis_kv;
mod scripts;

use std::sync::Arc;

use ravelin_runtime::KvPort;

use crate::config::Kv;

pub use redis_kv::RedisKv;

/// The port `config` asks for; `None` leaves the runtime its memory store.
/// Must be called within a tokio runtime.
pub fn port(config: &Kv) -> Result<Option<Arc<dyn KvPort>>, String> {
    match config {
        Kv::Memory { .. } => Ok(None),
        Kv::Redis(settings) => Ok(Some(Arc::new(RedisKv::connect(settings)?))),
    }
}
