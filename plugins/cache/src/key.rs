//! The cache key: the request's host (optional), path and query parameters
//! (all, a keep list or a drop list; sorted so their order does not
//! matter), and chosen request headers. The key is hashed (SHA-256) into
//! the kv key names, so its length never matters to the store.

use crate::settings::{Key, Query};
use sha2::{Digest, Sha256};

/// A request's place in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// `host/path?query` (or `/path?query` without the host), with the
    /// kept parameters sorted: what purges match against.
    pub url: String,
    /// The url and the configured headers' values, hashed: the primary key.
    pub primary: String,
}

/// The key of a request to `host` for `path_with_query`, whose header
/// values `header(name)` gives.
pub fn build(
    key: &Key,
    host: Option<&str>,
    path_with_query: &str,
    header: impl Fn(&str) -> Option<Vec<u8>>,
) -> CacheKey {
    let url = url(key, host, path_with_query);
    let mut parts: Vec<Vec<u8>> = vec![url.as_bytes().to_vec()];
    for name in &key.headers {
        parts.push(name.as_bytes().to_vec());
        parts.push(header(name).unwrap_or_default());
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    CacheKey {
        primary: digest(&refs),
        url,
    }
}

/// The url part of the key: what [`build`] puts in [`CacheKey::url`].
pub fn url(key: &Key, host: Option<&str>, path_with_query: &str) -> String {
    let (path, query) = path_with_query
        .split_once('?')
        .unwrap_or((path_with_query, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && kept(&key.query, p.split('=').next().unwrap_or("")))
        .collect();
    params.sort_unstable();
    let host = match key.host {
        true => host.unwrap_or("").to_ascii_lowercase(),
        false => String::new(),
    };
    match params.is_empty() {
        true => format!("{host}{path}"),
        false => format!("{host}{path}?{}", params.join("&")),
    }
}

fn kept(query: &Query, name: &str) -> bool {
    match query {
        Query::All => true,
        Query::None => false,
        Query::Keep(names) => names.iter().any(|n| n == name),
        Query::Drop(names) => !names.iter().any(|n| n == name),
    }
}

/// SHA-256 of `parts` (each length-prefixed, so no two lists collide), as
/// lower-case hex.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: bool, query: Query, headers: &[&str]) -> Key {
        let headers = headers.iter().map(|h| h.to_string()).collect();
        Key {
            host,
            query,
            headers,
        }
    }

    fn none(_: &str) -> Option<Vec<u8>> {
        None
    }

    #[test]
    fn parameter_order_does_not_matter() {
        let k = key(true, Query::All, &[]);
        let a = build(&k, Some("Example.COM"), "/p?b=2&a=1", none);
        let b = build(&k, Some("example.com"), "/p?a=1&b=2", none);
        assert_eq!(a, b);
        assert_eq!(a.url, "example.com/p?a=1&b=2");
    }

    #[test]
    fn keep_and_drop_lists_choose_the_parameters() {
        let keep = key(false, Query::Keep(vec!["page".into()]), &[]);
        assert_eq!(url(&keep, Some("h"), "/l?utm=x&page=2&z"), "/l?page=2");
        let drop = key(false, Query::Drop(vec!["utm".into()]), &[]);
        assert_eq!(url(&drop, Some("h"), "/l?utm=x&page=2&z"), "/l?page=2&z");
        let none_kept = key(false, Query::None, &[]);
        assert_eq!(url(&none_kept, Some("h"), "/l?a=1"), "/l");
    }

    #[test]
    fn the_host_is_part_of_the_key_only_when_asked() {
        let with = key(true, Query::All, &[]);
        let without = key(false, Query::All, &[]);
        assert_ne!(
            build(&with, Some("a"), "/", none),
            build(&with, Some("b"), "/", none)
        );
        assert_eq!(
            build(&without, Some("a"), "/", none),
            build(&without, Some("b"), "/", none)
        );
    }

    #[test]
    fn chosen_headers_split_the_key() {
        let k = key(true, Query::All, &["x-tenant"]);
        let tenant = |v: &'static str| move |_: &str| Some(v.as_bytes().to_vec());
        let a = build(&k, Some("h"), "/", tenant("a"));
        let b = build(&k, Some("h"), "/", tenant("b"));
        assert_ne!(a.primary, b.primary);
        assert_eq!(a.url, b.url, "purges match the url, every tenant's");
        assert_eq!(a.primary.len(), 64);
    }

    #[test]
    fn digests_of_different_splits_differ() {
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }
}
