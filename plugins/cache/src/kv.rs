//! The kv operations the cache needs, as a trait: the plugin's kv store in
//! the proxy, an in-memory map in the native tests.

/// A kv store; every error is the store's message (the store is down,
/// the value is too large).
pub trait Kv {
    /// The value under `key` and its version.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String>;
    /// Stores `value` for `ttl_ms`.
    fn set(&self, key: &str, value: &[u8], ttl_ms: u64) -> Result<(), String>;
    /// Stores `value` only if `key` is at version `expected` (`None`:
    /// absent); whether it wrote.
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<u64>,
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<bool, String>;
    /// Removes `key`.
    fn delete(&self, key: &str) -> Result<(), String>;
    /// Adds `delta` to the counter `key` (created with `ttl_ms`).
    fn increment(&self, key: &str, delta: i64, ttl_ms: u64) -> Result<i64, String>;
}

#[cfg(test)]
pub mod memory {
    //! A map with versions, for the native tests (no expiry).
    use super::Kv;
    use std::cell::RefCell;
    use std::collections::HashMap;

    #[derive(Default)]
    pub struct Memory {
        pub map: RefCell<HashMap<String, (Vec<u8>, u64)>>,
        pub down: std::cell::Cell<bool>,
    }

    impl Memory {
        fn up(&self) -> Result<(), String> {
            match self.down.get() {
                true => Err("unavailable".into()),
                false => Ok(()),
            }
        }
    }

    impl Kv for Memory {
        fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u64)>, String> {
            self.up()?;
            Ok(self.map.borrow().get(key).cloned())
        }
        fn set(&self, key: &str, value: &[u8], _ttl_ms: u64) -> Result<(), String> {
            self.up()?;
            let mut map = self.map.borrow_mut();
            let version = map.get(key).map_or(1, |(_, v)| v + 1);
            map.insert(key.to_string(), (value.to_vec(), version));
            Ok(())
        }
        fn compare_and_set(
            &self,
            key: &str,
            expected: Option<u64>,
            value: &[u8],
            ttl_ms: u64,
        ) -> Result<bool, String> {
            self.up()?;
            let current = self.map.borrow().get(key).map(|(_, v)| *v);
            if current != expected {
                return Ok(false);
            }
            self.set(key, value, ttl_ms).map(|()| true)
        }
        fn delete(&self, key: &str) -> Result<(), String> {
            self.up()?;
            self.map.borrow_mut().remove(key);
            Ok(())
        }
        fn increment(&self, key: &str, delta: i64, ttl_ms: u64) -> Result<i64, String> {
            self.up()?;
            let current = self.get(key)?.map_or(0, |(v, _)| {
                String::from_utf8_lossy(&v).parse::<i64>().unwrap_or(0)
            });
            self.set(key, (current + delta).to_string().as_bytes(), ttl_ms)?;
            Ok(current + delta)
        }
    }
}
