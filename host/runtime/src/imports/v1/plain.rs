//! The small imports of 0.1: `log` into tracing (and the runtime's log tap), `kv` over the kv port,
//! `metrics`, `clock` and `random`.

use crate::bindings::v1::ravelin::plugin::{clock, kv, log, metrics, random};
use crate::ctx::StoreCtx;
use crate::guest_input;
use crate::kv::KvFailure;
use crate::log_tap::PluginLog;
use log::Level;
use rand::RngCore;

type Res<T> = wasmtime::Result<T>;

/// The most random bytes one call returns.
const MAX_RANDOM: u32 = 65536;

impl log::Host for StoreCtx {
    fn log(&mut self, level: Level, message: String) -> Res<()> {
        let plugin = &*self.env.name;
        let request_id = self.info.request_id.as_str();
        let message = guest_input::log_message(&message);
        match level {
            Level::Trace => tracing::trace!(plugin, request_id, "{message}"),
            Level::Debug => tracing::debug!(plugin, request_id, "{message}"),
            Level::Info => tracing::info!(plugin, request_id, "{message}"),
            Level::Warn => tracing::warn!(plugin, request_id, "{message}"),
            Level::Error => tracing::error!(plugin, request_id, "{message}"),
        }
        if let Some(tap) = &self.env.log_tap {
            tap(PluginLog {
                plugin: plugin.to_string(),
                request_id: request_id.to_string(),
                level: tracing_level(level),
                message: message.to_string(),
            });
        }
        Ok(())
    }
}

fn tracing_level(level: Level) -> tracing::Level {
    match level {
        Level::Trace => tracing::Level::TRACE,
        Level::Debug => tracing::Level::DEBUG,
        Level::Info => tracing::Level::INFO,
        Level::Warn => tracing::Level::WARN,
        Level::Error => tracing::Level::ERROR,
    }
}

/// 0.1's kv: the plugin's default store. A backend failure traps (0.1 has
/// no error for it), so the plugin's failure policy applies.
impl kv::Host for StoreCtx {
    async fn get(&mut self, key: String) -> Res<Option<Vec<u8>>> {
        let ns = self.env.name.clone();
        let got = self.on_kv(self.env.kv.get(ns, key)).await;
        Ok(got.map_err(trap)?.map(|entry| entry.value))
    }
    async fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Res<Result<(), String>> {
        let ns = self.env.name.clone();
        match self.on_kv(self.env.kv.set(ns, key, value, ttl_ms)).await {
            Err(KvFailure::TooLarge) => Ok(Err(KvFailure::TooLarge.to_string())),
            other => Ok(Ok(other.map_err(trap)?)),
        }
    }
    async fn delete(&mut self, key: String) -> Res<bool> {
        let ns = self.env.name.clone();
        self.on_kv(self.env.kv.delete(ns, key)).await.map_err(trap)
    }
    async fn increment(
        &mut self,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Res<Result<i64, String>> {
        let ns = self.env.name.clone();
        match self
            .on_kv(self.env.kv.increment(ns, key, delta, ttl_ms))
            .await
        {
            Err(KvFailure::NotACounter) => Ok(Err(KvFailure::NotACounter.to_string())),
            other => Ok(Ok(other.map_err(trap)?)),
        }
    }
}

/// A kv failure 0.1 cannot express, as a trap.
fn trap(failure: KvFailure) -> wasmtime::Error {
    wasmtime::Error::msg(failure.to_string())
}

impl metrics::Host for StoreCtx {
    fn counter_add(&mut self, name: String, value: u64) -> Res<()> {
        self.env
            .metrics
            .guest_counter(&self.env.name, name, Vec::new(), value);
        Ok(())
    }
    fn histogram_observe(&mut self, name: String, value: f64) -> Res<()> {
        self.env
            .metrics
            .guest_observe(&self.env.name, name, Vec::new(), value);
        Ok(())
    }
}

impl clock::Host for StoreCtx {
    fn now_ms(&mut self) -> Res<u64> {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }
}

impl random::Host for StoreCtx {
    fn fill_bytes(&mut self, len: u32) -> Res<Vec<u8>> {
        let mut bytes = vec![0u8; len.min(MAX_RANDOM) as usize];
        rand::rng().fill_bytes(&mut bytes);
        Ok(bytes)
    }
    fn next_u64(&mut self) -> Res<u64> {
        Ok(rand::rng().next_u64())
    }
}
