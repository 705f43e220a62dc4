//! Header operations shared by the request and response resources; the
//! guest's names and values go through `guest_input`.

use http::header::{HeaderMap, HeaderValue};

use crate::guest_input::{header_name as name, header_value as value};

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
