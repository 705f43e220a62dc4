//! HTTP Basic authentication (RFC 7617) against an htpasswd-style users
//! list of bcrypt or argon2 hashes.
//!
//! A bcrypt or argon2 verification costs tens of milliseconds of CPU in
//! Wasm by design, so (as Caddy does) successful verifications are
//! remembered for `cache_ttl`: keyed by the SHA-256 of user, password and
//! stored hash, in this instance (at most `CACHE_ENTRIES`) and in kv store
//! `basic` (shared by the instances). Only the first request of a user pays
//! the hash; a changed password or hash changes the key. Failures are never
//! cached.

use crate::digest::hex;
use crate::passwd::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ravelin_sdk::kv::Store;
use ravelin_sdk::{log, now_ms};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

/// The most remembered verifications one instance keeps.
const CACHE_ENTRIES: usize = 1024;
const STORE: &str = "basic";

/// The users and the verification cache.
pub struct Basic {
    users: HashMap<String, Hash>,
    cache_ttl: Duration,
    /// Remembered verifications: key → expiry (ms since the epoch).
    remembered: HashMap<[u8; 32], u64>,
}

/// Reads `user:hash` lines (htpasswd format; blank lines and `#` comments
/// skipped) into `users`.
pub fn parse_users(text: &str, users: &mut HashMap<String, Hash>) -> Result<(), String> {
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| format!("line {}: not \"user:hash\"", i + 1))?;
        if user.is_empty() {
            return Err(format!("line {}: empty user name", i + 1));
        }
        let hash = Hash::parse(hash).map_err(|e| format!("line {} ({user}): {e}", i + 1))?;
        if users.insert(user.to_string(), hash).is_some() {
            return Err(format!("line {}: user {user:?} listed twice", i + 1));
        }
    }
    Ok(())
}

/// The user and password of an `Authorization: Basic` value's credentials
/// (the part after `Basic `).
pub fn decode(credentials: &str) -> Option<(String, Vec<u8>)> {
    let bytes = STANDARD.decode(credentials.trim()).ok()?;
    let colon = bytes.iter().position(|b| *b == b':')?;
    let user = String::from_utf8(bytes[..colon].to_vec()).ok()?;
    Some((user, bytes[colon + 1..].to_vec()))
}

impl Basic {
    pub fn new(users: HashMap<String, Hash>, cache_ttl: Duration) -> Self {
        Basic {
            users,
            cache_ttl,
            remembered: HashMap::new(),
        }
    }

    /// Whether `password` is `user`'s. Unknown users still cost nothing
    /// beyond a lookup (their absence is not secret from timing).
    pub fn check(&mut self, user: &str, password: &[u8]) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key = cache_key(user, password, hash);
        let now = now_ms();
        if self
            .remembered
            .get(&key)
            .is_some_and(|expiry| *expiry > now)
        {
            return true;
        }
        let store = Store::open(STORE).ok();
        let kv_key = hex(&key);
        if let Some(store) = &store
            && let Ok(Some(_)) = store.get_value(&kv_key)
        {
            self.remember(key, now);
            return true;
        }
        if !hash.verify(password) {
            return false;
        }
        log::debug(&format!(
            "basic: verified {user}'s password hash, caching it"
        ));
        self.remember(key, now);
        if let Some(store) = &store
            && let Err(e) = store.set(&kv_key, b"1", Some(self.cache_ttl))
        {
            log::debug(&format!("basic: kv cache unavailable: {e:?}"));
        }
        true
    }

    fn remember(&mut self, key: [u8; 32], now: u64) {
        if self.remembered.len() >= CACHE_ENTRIES {
            self.remembered.retain(|_, expiry| *expiry > now);
            if self.remembered.len() >= CACHE_ENTRIES {
                self.remembered.clear();
            }
        }
        let expiry = now + self.cache_ttl.as_millis() as u64;
        self.remembered.insert(key, expiry);
    }
}

/// SHA-256 over user, password and stored hash, each length-prefixed so
/// no two triples collide by shifting bytes between fields.
fn cache_key(user: &str, password: &[u8], hash: &Hash) -> [u8; 32] {
    let mut sha = Sha256::new();
    let stored = format!("{hash:?}");
    for part in [user.as_bytes(), password, stored.as_bytes()] {
        sha.update((part.len() as u64).to_be_bytes());
        sha.update(part);
    }
    sha.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYTHON: &str = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie";

    #[test]
    fn reads_htpasswd_lines() {
        let mut users = HashMap::new();
        let text = format!("# users\n\nalice:{PYTHON}\n");
        parse_users(&text, &mut users).expect("parses");
        assert!(users["alice"].verify(b"correctbatteryhorsestapler"));
    }

    #[test]
    fn refuses_bad_lines_with_their_number() {
        let mut users = HashMap::new();
        assert!(
            parse_users("alice", &mut users)
                .unwrap_err()
                .starts_with("line 1")
        );
        let twice = format!("a:{PYTHON}\na:{PYTHON}");
        assert!(
            parse_users(&twice, &mut users)
                .unwrap_err()
                .contains("twice")
        );
        let err = parse_users("\nbob:plain", &mut HashMap::new()).unwrap_err();
        assert!(err.starts_with("line 2 (bob)"), "{err}");
    }

    #[test]
    fn decodes_basic_credentials() {
        let encoded = STANDARD.encode("alice:pa:ss");
        assert_eq!(decode(&encoded), Some(("alice".into(), b"pa:ss".to_vec())));
        assert_eq!(decode("%%%"), None);
        assert_eq!(decode(&STANDARD.encode("nocolon")), None);
    }

    #[test]
    fn cache_keys_separate_fields() {
        let hash = Hash::parse(PYTHON).expect("hash");
        assert_ne!(cache_key("ab", b"c", &hash), cache_key("a", b"bc", &hash));
        assert_eq!(cache_key("a", b"bc", &hash), cache_key("a", b"bc", &hash));
    }
}
