//! API keys from a header or a query parameter, checked against named
//! SHA-256 digests.

use crate::digest::{self, Sha256Digest};

/// Where keys are read and which are accepted.
#[derive(Clone, Debug)]
pub struct ApiKeys {
    /// Header carrying the key (lower-case).
    pub header: String,
    /// Query parameter carrying the key, if keys may come that way.
    pub query: Option<String>,
    /// Key name → digest.
    pub keys: Vec<(String, Sha256Digest)>,
}

impl ApiKeys {
    /// The name of the key `presented`, if it is one.
    pub fn name_of(&self, presented: &[u8]) -> Option<&str> {
        digest::find(&self.keys, presented).map(String::as_str)
    }
}

/// The percent-decoded value of query parameter `name` in `query`.
pub fn query_value(query: &str, name: &str) -> Option<Vec<u8>> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

/// `path_with_query` without parameter `name` (every occurrence).
pub fn without_param(path_with_query: &str, name: &str) -> String {
    let Some((path, query)) = path_with_query.split_once('?') else {
        return path_with_query.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| pair.split_once('=').map_or(*pair, |(k, _)| k) != name)
        .collect();
    match kept.is_empty() {
        true => path.to_string(),
        false => format!("{path}?{}", kept.join("&")),
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_by_digest() {
        let keys = ApiKeys {
            header: "x-api-key".into(),
            query: None,
            keys: vec![("ci".into(), Sha256Digest::of(b"k-ci"))],
        };
        assert_eq!(keys.name_of(b"k-ci"), Some("ci"));
        assert_eq!(keys.name_of(b"k-c"), None);
    }

    #[test]
    fn reads_and_removes_query_parameters() {
        assert_eq!(
            query_value("a=1&api_key=k%2B1&b", "api_key"),
            Some(b"k+1".to_vec())
        );
        assert_eq!(query_value("a=1", "api_key"), None);
        assert_eq!(
            without_param("/p?a=1&api_key=k&b=2", "api_key"),
            "/p?a=1&b=2"
        );
        assert_eq!(without_param("/p?api_key=k", "api_key"), "/p");
        assert_eq!(without_param("/p", "api_key"), "/p");
        assert_eq!(without_param("/p?api_keyx=1", "api_key"), "/p?api_keyx=1");
    }
}
