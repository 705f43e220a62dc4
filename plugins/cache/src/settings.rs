//! The plugin's configuration, checked at `configure`: every problem is
//! reported at once, each naming its key.

use ipnet::IpNet;
use serde::Deserialize;

/// Which query parameters are part of the key (always sorted, so their
/// order does not matter).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Query {
    /// Every parameter.
    #[default]
    All,
    /// None: `/a?x=1` and `/a` share an entry.
    None,
    /// Only these parameters: `{ keep = ["page"] }`.
    Keep(Vec<String>),
    /// Every parameter but these: `{ drop = ["utm_source"] }`.
    Drop(Vec<String>),
}

/// What the cache key is made of, as written.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// The request's host (authority) is part of the key (default true).
    #[serde(default = "yes")]
    pub host: bool,
    /// Which query parameters (default all).
    #[serde(default)]
    pub query: Query,
    /// Request headers whose values are part of the key (default none).
    #[serde(default)]
    pub headers: Vec<String>,
}

impl Default for Key {
    fn default() -> Self {
        Key {
            host: true,
            query: Query::All,
            headers: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The purge endpoint as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FilePurge {
    path: String,
    token_sha256: Option<String>,
    #[serde(default)]
    allow: Vec<String>,
}

/// The configuration as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    #[serde(default)]
    key: Key,
    default_ttl: Option<u64>,
    max_entry_bytes: Option<u64>,
    max_total_bytes: Option<u64>,
    max_ttl: Option<u64>,
    keep_stale: Option<u64>,
    statuses: Option<Vec<u16>>,
    cache_set_cookie: Option<bool>,
    max_variants: Option<usize>,
    collapse_wait_ms: Option<u64>,
    fill_lock_ms: Option<u64>,
    purge: Option<FilePurge>,
}

/// Who may purge, and where.
#[derive(Debug, Clone)]
pub struct Purge {
    pub path: String,
    /// SHA-256 of the bearer token, lower-case hex.
    pub token_sha256: Option<String>,
    pub allow: Vec<IpNet>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub key: Key,
    pub default_ttl_ms: Option<u64>,
    pub max_entry_bytes: u64,
    pub max_total_bytes: u64,
    pub max_ttl_ms: u64,
    pub keep_stale_ms: u64,
    pub statuses: Vec<u16>,
    pub cache_set_cookie: bool,
    pub max_variants: usize,
    pub collapse_wait_ms: u64,
    pub fill_lock_ms: u64,
    pub purge: Option<Purge>,
}

/// RFC 9110 §15.1: the statuses cacheable by default.
pub const DEFAULT_STATUSES: [u16; 11] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];
/// The longest a hook may wait for another request's fill: the host allows
/// 5 s of sleep per hook, and the wait must leave room for the lookups.
const MAX_COLLAPSE_WAIT_MS: u64 = 4500;

/// `value`, or `default`, checked to lie in `range` (`errors` gets a
/// message naming `key` otherwise).
fn ranged(
    errors: &mut Vec<String>,
    key: &str,
    value: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> u64 {
    let value = value.unwrap_or(default);
    if !range.contains(&value) {
        let (lo, hi) = (range.start(), range.end());
        errors.push(format!("`{key}` = {value} is outside {lo}..={hi}"));
    }
    value
}

impl FileSettings {
    /// Checks every key; all problems at once, each naming its key.
    pub fn validate(self) -> Result<Settings, String> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let day = 86_400;
        let default_ttl = self
            .default_ttl
            .map(|t| ranged(e, "default_ttl", Some(t), 0, 1..=365 * day));
        let max_entry = ranged(
            e,
            "max_entry_bytes",
            self.max_entry_bytes,
            512 * 1024,
            1..=64 << 20,
        );
        let max_total = ranged(
            e,
            "max_total_bytes",
            self.max_total_bytes,
            64 << 20,
            1..=1 << 40,
        );
        if max_total < max_entry {
            e.push(format!(
                "`max_total_bytes` ({max_total}) is smaller than `max_entry_bytes` ({max_entry})"
            ));
        }
        let max_ttl = ranged(e, "max_ttl", self.max_ttl, day, 1..=365 * day);
        let keep_stale = ranged(e, "keep_stale", self.keep_stale, 3600, 0..=365 * day);
        let max_variants = ranged(
            e,
            "max_variants",
            self.max_variants.map(|v| v as u64),
            8,
            1..=64,
        );
        let wait = ranged(
            e,
            "collapse_wait_ms",
            self.collapse_wait_ms,
            3000,
            0..=MAX_COLLAPSE_WAIT_MS,
        );
        let lock = ranged(e, "fill_lock_ms", self.fill_lock_ms, 10_000, 100..=300_000);
        let statuses = self.statuses.unwrap_or_else(|| DEFAULT_STATUSES.to_vec());
        for status in &statuses {
            if !(200..=599).contains(status) || [206, 304].contains(status) {
                e.push(format!(
                    "`statuses`: {status} cannot be cached (200..=599 but 206 and 304)"
                ));
            }
        }
        for name in &self.key.headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                e.push(format!("`key.headers`: {name:?} is not a header name"));
            }
        }
        let purge = self.purge.map(|p| purge(e, p));
        if !errors.is_empty() {
            return Err(format!("invalid cache config: {}", errors.join("; ")));
        }
        let mut key = self.key;
        key.headers
            .iter_mut()
            .for_each(|h| h.make_ascii_lowercase());
        Ok(Settings {
            key,
            default_ttl_ms: default_ttl.map(|t| t * 1000),
            max_entry_bytes: max_entry,
            max_total_bytes: max_total,
            max_ttl_ms: max_ttl * 1000,
            keep_stale_ms: keep_stale * 1000,
            statuses,
            cache_set_cookie: self.cache_set_cookie.unwrap_or(false),
            max_variants: max_variants as usize,
            collapse_wait_ms: wait,
            fill_lock_ms: lock,
            purge,
        })
    }
}

fn purge(errors: &mut Vec<String>, raw: FilePurge) -> Purge {
    if !raw.path.starts_with('/') || raw.path.contains('?') {
        errors.push(format!(
            "`purge.path` {:?} must be a path starting with `/`",
            raw.path
        ));
    }
    let token = raw.token_sha256.map(|t| t.to_ascii_lowercase());
    if let Some(t) = &token
        && (t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        errors.push("`purge.token_sha256` must be 64 hex digits (a SHA-256)".into());
    }
    let mut allow = Vec::new();
    for cidr in &raw.allow {
        match cidr
            .parse::<IpNet>()
            .or_else(|_| cidr.parse::<std::net::IpAddr>().map(IpNet::from))
        {
            Ok(net) => allow.push(net),
            Err(_) => errors.push(format!(
                "`purge.allow`: {cidr:?} is not an IP address or CIDR"
            )),
        }
    }
    if token.is_none() && allow.is_empty() {
        errors.push("`purge` needs `token_sha256` or `allow` (or both): nobody could purge".into());
    }
    Purge {
        path: raw.path,
        token_sha256: token,
        allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Settings, String> {
        serde_json::from_str::<FileSettings>(json)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn the_defaults() {
        let s = parse("{}").expect("valid");
        assert!(s.key.host && s.key.query == Query::All);
        assert_eq!(
            (s.max_entry_bytes, s.max_total_bytes),
            (512 * 1024, 64 << 20)
        );
        assert_eq!((s.default_ttl_ms, s.max_ttl_ms), (None, 86_400_000));
        assert_eq!(s.statuses, DEFAULT_STATUSES);
        assert!(!s.cache_set_cookie && s.purge.is_none());
    }

    #[test]
    fn every_problem_is_reported_naming_its_key() {
        let err = parse(
            r#"{"max_entry_bytes": 0, "statuses": [206], "collapse_wait_ms": 9000,
                "key": {"headers": ["bad header"]},
                "purge": {"path": "nope", "token_sha256": "xyz", "allow": ["10.0.0.0/33"]}}"#,
        )
        .expect_err("invalid");
        for needle in [
            "`max_entry_bytes` = 0",
            "`statuses`: 206",
            "`collapse_wait_ms` = 9000",
            "`key.headers`: \"bad header\"",
            "`purge.path` \"nope\"",
            "`purge.token_sha256`",
            "`purge.allow`: \"10.0.0.0/33\"",
        ] {
            assert!(err.contains(needle), "{needle} in {err}");
        }
    }

    #[test]
    fn a_purge_nobody_can_use_is_refused() {
        let err = parse(r#"{"purge": {"path": "/.cache/purge"}}"#).expect_err("invalid");
        assert!(err.contains("nobody could purge"), "{err}");
    }

    #[test]
    fn unknown_keys_and_query_forms() {
        assert!(parse(r#"{"ttl": 5}"#).is_err());
        let s = parse(r#"{"key": {"query": {"keep": ["a"]}, "headers": ["X-Tenant"]}}"#)
            .expect("valid");
        assert_eq!(s.key.query, Query::Keep(vec!["a".into()]));
        assert_eq!(s.key.headers, ["x-tenant"]);
        assert_eq!(
            parse(r#"{"key": {"query": "none"}}"#)
                .expect("valid")
                .key
                .query,
            Query::None
        );
    }
}
