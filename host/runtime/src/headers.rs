//! Header operations shared by the request and response resources, with the
//! validation the guest's input needs.

use http::header::{HeaderMap, HeaderName, HeaderValue};

fn name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))
}

fn value(value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| "invalid header value".to_string())
}

fn text(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

/// The first value of `n`.
pub(crate) fn get(map: &HeaderMap, n: &str) -> Option<String> {
    map.get(n).map(text)
}

/// Every value of `n`, in order.
pub(crate) fn get_all(map: &HeaderMap, n: &str) -> Vec<String> {
    map.get_all(n).iter().map(text).collect()
}

/// The distinct names present.
pub(crate) fn names(map: &HeaderMap) -> Vec<String> {
    map.keys().map(|k| k.as_str().to_string()).collect()
}

/// Replaces every value of `n` with `v`.
pub(crate) fn set(map: &mut HeaderMap, n: &str, v: &str) -> Result<(), String> {
    map.insert(name(n)?, value(v)?);
    Ok(())
}

/// Appends `v` to `n`.
pub(crate) fn add(map: &mut HeaderMap, n: &str, v: &str) -> Result<(), String> {
    map.append(name(n)?, value(v)?);
    Ok(())
}

/// Removes every value of `n` (an invalid name has none).
pub(crate) fn remove(map: &mut HeaderMap, n: &str) {
    if let Ok(n) = name(n) {
        map.remove(n);
    }
}
