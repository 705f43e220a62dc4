//! Purging. An exact purge deletes the URL's variant index (every variant
//! goes with it). kv has no key scan, so a prefix purge is a record
//! instead: one small list of `(prefix, time)` pairs under the kv key `p`,
//! updated by compare-and-set and pruned of pairs older than `max_ttl`
//! (no entry outlives that). Every lookup reads it and treats an entry
//! whose url starts with a prefix purged at or after the entry arrived as
//! absent. Who may purge: a bearer token (its SHA-256 configured) and/or
//! client addresses.

use crate::kv::Kv;
use crate::settings::Purge;
use crate::wire::{Reader, Writer};
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// The kv key of the purge list.
pub const LIST_KEY: &str = "p";
/// The most prefix purges remembered at once (within `max_ttl`).
pub const MAX_PREFIXES: usize = 1024;
/// Compare-and-set attempts before a purge gives up.
const ATTEMPTS: usize = 8;

/// The prefix purges still in force: `(prefix, purged at ms)`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeList(pub Vec<(String, u64)>);

impl PurgeList {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u64(self.0.len() as u64);
        for (prefix, at) in &self.0 {
            w.bytes(prefix.as_bytes()).u64(*at);
        }
        w.0
    }

    /// The list a record holds; a record that does not parse is empty.
    pub fn decode(record: &[u8]) -> PurgeList {
        let mut r = Reader(record);
        let mut list = Vec::new();
        let Some(n) = r.u64() else {
            return PurgeList::default();
        };
        for _ in 0..n.min(MAX_PREFIXES as u64) {
            match (r.string(), r.u64()) {
                (Some(prefix), Some(at)) => list.push((prefix, at)),
                _ => return PurgeList::default(),
            }
        }
        PurgeList(list)
    }

    /// Whether an entry for `url` that arrived at `arrived_ms` is purged.
    pub fn covers(&self, url: &str, arrived_ms: u64) -> bool {
        let mut purges = self.0.iter();
        purges.any(|(prefix, at)| *at >= arrived_ms && url.starts_with(prefix.as_str()))
    }
}

/// Why a prefix purge could not be recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum PurgeError {
    Kv(String),
    Full,
    Contended,
}

/// Records a purge of every url starting with `prefix` at `now_ms`.
pub fn add_prefix(
    kv: &impl Kv,
    prefix: &str,
    now_ms: u64,
    max_ttl_ms: u64,
) -> Result<(), PurgeError> {
    for _ in 0..ATTEMPTS {
        let current = kv.get(LIST_KEY).map_err(PurgeError::Kv)?;
        let version = current.as_ref().map(|(_, v)| *v);
        let mut list = current
            .map(|(r, _)| PurgeList::decode(&r))
            .unwrap_or_default();
        list.0
            .retain(|(_, at)| at.saturating_add(max_ttl_ms) >= now_ms);
        list.0.retain(|(p, _)| p != prefix);
        if list.0.len() >= MAX_PREFIXES {
            return Err(PurgeError::Full);
        }
        list.0.push((prefix.to_string(), now_ms));
        let written = kv.compare_and_set(LIST_KEY, version, &list.encode(), max_ttl_ms);
        if written.map_err(PurgeError::Kv)? {
            return Ok(());
        }
    }
    Err(PurgeError::Contended)
}

/// The list in force (empty when none was recorded).
pub fn list(kv: &impl Kv) -> Result<PurgeList, String> {
    Ok(kv
        .get(LIST_KEY)?
        .map(|(r, _)| PurgeList::decode(&r))
        .unwrap_or_default())
}

/// Whether a purge request with `authorization` from `client` may purge:
/// it must pass every check configured (token, addresses).
pub fn authorized(purge: &Purge, authorization: Option<&str>, client: Option<IpAddr>) -> bool {
    let token_ok = purge.token_sha256.as_ref().is_none_or(|expected| {
        let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
        token.is_some_and(|t| same(&crate::key::hex(&Sha256::digest(t.trim())), expected))
    });
    let addr_ok = purge.allow.is_empty()
        || client.is_some_and(|ip| purge.allow.iter().any(|net: &IpNet| net.contains(&ip)));
    token_ok && addr_ok
}

/// Compares two strings in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    let diff = a
        .bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && diff == 0
}

/// The value of query parameter `name` of `query`, percent-decoded.
pub fn param(query: &str, name: &str) -> Option<String> {
    let pairs = query.split('&').filter_map(|p| p.split_once('='));
    let value = pairs.filter(|(n, _)| *n == name).map(|(_, v)| v).next()?;
    percent_decode(value)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::memory::Memory;

    #[test]
    fn a_prefix_covers_entries_that_arrived_before_it() {
        let list = PurgeList(vec![("h/img/".into(), 100)]);
        assert!(list.covers("h/img/a.png", 100));
        assert!(!list.covers("h/img/a.png", 101), "stored after the purge");
        assert!(!list.covers("h/css/a.css", 50));
        assert_eq!(PurgeList::decode(&list.encode()), list);
        assert_eq!(PurgeList::decode(b"junk"), PurgeList::default());
    }

    #[test]
    fn purges_are_added_and_old_ones_pruned() {
        let kv = Memory::default();
        add_prefix(&kv, "h/a", 1000, 10_000).expect("added");
        add_prefix(&kv, "h/b", 5000, 10_000).expect("added");
        add_prefix(&kv, "h/c", 12_000, 10_000).expect("added");
        let prefixes: Vec<_> = list(&kv)
            .expect("list")
            .0
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(prefixes, ["h/b", "h/c"], "h/a is older than max_ttl");
    }

    #[test]
    fn a_full_list_or_a_dead_store_refuses() {
        let kv = Memory::default();
        let full = PurgeList((0..MAX_PREFIXES).map(|i| (format!("p{i}"), 1)).collect());
        kv.set(LIST_KEY, &full.encode(), 0).expect("set");
        assert_eq!(add_prefix(&kv, "new", 2, 10_000), Err(PurgeError::Full));
        kv.down.set(true);
        assert!(matches!(
            add_prefix(&kv, "new", 2, 10_000),
            Err(PurgeError::Kv(_))
        ));
    }

    #[test]
    fn authorization_needs_every_configured_check() {
        let token_hash = crate::key::hex(&Sha256::digest("s3cret"));
        let purge = Purge {
            path: "/.cache/purge".into(),
            token_sha256: Some(token_hash),
            allow: vec!["10.0.0.0/8".parse().expect("net")],
        };
        let inside = "10.1.2.3".parse().ok();
        assert!(authorized(&purge, Some("Bearer s3cret"), inside));
        assert!(!authorized(&purge, Some("Bearer wrong"), inside));
        assert!(!authorized(&purge, None, inside));
        assert!(!authorized(
            &purge,
            Some("Bearer s3cret"),
            "192.0.2.1".parse().ok()
        ));
        let open_token = Purge {
            allow: vec![],
            ..purge
        };
        assert!(authorized(&open_token, Some("Bearer s3cret"), None));
    }

    #[test]
    fn parameters_are_percent_decoded() {
        assert_eq!(
            param("url=%2Fa%3Fb%3D1&x=2", "url").as_deref(),
            Some("/a?b=1")
        );
        assert_eq!(param("prefix=/img/", "prefix").as_deref(), Some("/img/"));
        assert_eq!(param("url=%zz", "url"), None);
        assert_eq!(param("a=1", "url"), None);
    }
}
