//! Header operations shared by the request and response resources of both
//! contract versions; the guest's names and values go through `guest_input`.
//! 0.2 sees values as bytes; 0.1 as text (invalid UTF-8 replaced).

use http::header::{HeaderMap, HeaderValue};

use crate::guest_input::{header_name as name, header_value as value};

fn text(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// The first value of `n`, as text (0.1).
pub(crate) fn get(map: &HeaderMap, n: &str) -> Option<String> {
    map.get(n).map(text)
}

/// Every value of `n`, in order, as text (0.1).
pub(crate) fn get_all(map: &HeaderMap, n: &str) -> Vec<String> {
    map.get_all(n).iter().map(text).collect()
}

/// The first value of `n`, as bytes.
pub(crate) fn get_bytes(map: &HeaderMap, n: &str) -> Option<Vec<u8>> {
    map.get(n).map(|v| v.as_bytes().to_vec())
}

/// Every value of `n`, in order, as bytes.
pub(crate) fn get_all_bytes(map: &HeaderMap, n: &str) -> Vec<Vec<u8>> {
    map.get_all(n)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

/// Every field, in order, as (name, value bytes).
pub(crate) fn fields(map: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    map.iter()
        .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
        .collect()
}

/// The distinct names present.
pub(crate) fn names(map: &HeaderMap) -> Vec<String> {
    map.keys().map(|k| k.as_str().to_string()).collect()
}

/// Replaces every value of `n` with `v`.
pub(crate) fn set(map: &mut HeaderMap, n: &str, v: impl AsRef<[u8]>) -> Result<(), String> {
    map.insert(name(n)?, value(v)?);
    Ok(())
}

/// Appends `v` to `n`.
pub(crate) fn add(map: &mut HeaderMap, n: &str, v: impl AsRef<[u8]>) -> Result<(), String> {
    map.append(name(n)?, value(v)?);
    Ok(())
}

/// Removes every value of `n` (an invalid name has none).
pub(crate) fn remove(map: &mut HeaderMap, n: &str) {
    if let Ok(n) = name(n) {
        map.remove(n);
    }
}
