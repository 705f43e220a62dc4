//! `kv` (0.2): named stores of a plugin over the runtime's kv port. Time
//! spent waiting on the backend does not count against the hook's deadline.

use crate::bindings::v2::ravelin::plugin::kv::{Entry, Host, HostStore, KvError};
use crate::ctx::StoreCtx;
use crate::kv::{KvFailure, KvFuture};
use std::sync::Arc;
use wasmtime::component::Resource;

type Res<T> = wasmtime::Result<T>;

/// The longest store name.
const MAX_STORE_NAME: usize = 64;

/// An open store: the namespace its keys live in (`plugin/store`).
pub struct StoreHandle {
    namespace: Arc<str>,
}

/// Whether `name` may name a store: 1 to 64 of `a-z`, `0-9`, `-`, `_`, `.`.
fn valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_STORE_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

impl From<KvFailure> for KvError {
    fn from(failure: KvFailure) -> Self {
        match failure {
            KvFailure::Unavailable(why) => KvError::Unavailable(why),
            KvFailure::TooLarge => KvError::TooLarge,
            KvFailure::NotACounter => KvError::NotACounter,
        }
    }
}

impl StoreCtx {
    /// Awaits a call on the kv port, off the hook's deadline.
    pub(crate) async fn on_kv<T>(&mut self, call: KvFuture<T>) -> Result<T, KvFailure> {
        self.clock.off_deadline(call).await
    }

    fn namespace(&self, store: &Resource<StoreHandle>) -> Res<Arc<str>> {
        Ok(self.table.get(store)?.namespace.clone())
    }
}

impl Host for StoreCtx {}

impl HostStore for StoreCtx {
    fn open(&mut self, name: String) -> Res<Result<Resource<StoreHandle>, KvError>> {
        if !valid_store_name(&name) {
            return Ok(Err(KvError::InvalidName));
        }
        let namespace = match name.as_str() {
            "default" => self.env.name.clone(),
            _ => Arc::from(format!("{}/{name}", self.env.name)),
        };
        Ok(Ok(self.table.push(StoreHandle { namespace })?))
    }
    async fn get(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> Res<Result<Option<Entry>, KvError>> {
        let ns = self.namespace(&store)?;
        let got = self.on_kv(self.env.kv.get(ns, key)).await;
        Ok(got
            .map(|found| {
                found.map(|v| Entry {
                    value: v.value,
                    version: v.version,
                })
            })
            .map_err(KvError::from))
    }
    async fn set(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Res<Result<(), KvError>> {
        let ns = self.namespace(&store)?;
        let done = self.on_kv(self.env.kv.set(ns, key, value, ttl_ms)).await;
        Ok(done.map_err(KvError::from))
    }
    async fn compare_and_set(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        expected: Option<u64>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Res<Result<bool, KvError>> {
        let ns = self.namespace(&store)?;
        let call = self
            .env
            .kv
            .compare_and_set(ns, key, expected, value, ttl_ms);
        Ok(self.on_kv(call).await.map_err(KvError::from))
    }
    async fn delete(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> Res<Result<bool, KvError>> {
        let ns = self.namespace(&store)?;
        let done = self.on_kv(self.env.kv.delete(ns, key)).await;
        Ok(done.map_err(KvError::from))
    }
    async fn increment(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Res<Result<i64, KvError>> {
        let ns = self.namespace(&store)?;
        let done = self
            .on_kv(self.env.kv.increment(ns, key, delta, ttl_ms))
            .await;
        Ok(done.map_err(KvError::from))
    }
    fn drop(&mut self, store: Resource<StoreHandle>) -> Res<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
