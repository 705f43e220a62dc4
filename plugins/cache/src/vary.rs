//! `Vary` (RFC 9111 §4.1): the request headers a stored response was
//! chosen by. Each variant of a URL is stored under its own kv key, made of
//! the primary key and the request's values of the headers `Vary` names;
//! `Vary: *` never matches, so such responses are not stored.

use crate::headers::{self, Headers};
use crate::key;

/// The request header values a variant was stored for, by header name.
pub type Selection = Vec<(String, Option<Vec<u8>>)>;

/// The header names a response's `Vary` lists (lower-case, sorted, each
/// once), or `None` for `Vary: *`.
pub fn names(response: &Headers) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for value in headers::values(response, "vary") {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "*" {
                return None;
            }
            names.push(name.to_ascii_lowercase());
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The request's values of `names`: every field of a name joined with
/// `", "` (so `a, b` and two fields `a` and `b` select alike).
pub fn select(names: &[String], header_all: impl Fn(&str) -> Vec<Vec<u8>>) -> Selection {
    let values = names.iter().map(|name| {
        let fields = header_all(name);
        let joined = (!fields.is_empty()).then(|| fields.join(&b", "[..]));
        (name.clone(), joined)
    });
    values.collect()
}

/// The kv key of the variant `selection` of primary key `primary`.
pub fn entry_key(primary: &str, selection: &Selection) -> String {
    let mut parts: Vec<&[u8]> = vec![primary.as_bytes()];
    for (name, value) in selection {
        parts.push(name.as_bytes());
        // Absent and empty differ: a marker byte says which.
        parts.push(if value.is_some() { b"1" } else { b"0" });
        parts.push(value.as_deref().unwrap_or_default());
    }
    format!("e:{}", key::digest(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::tests::h;

    #[test]
    fn names_are_lower_case_sorted_and_unique() {
        let r = h(&[
            ("vary", "Accept-Encoding, accept-language"),
            ("vary", "ACCEPT-ENCODING"),
        ]);
        assert_eq!(
            names(&r),
            Some(vec!["accept-encoding".into(), "accept-language".into()])
        );
        assert_eq!(names(&h(&[])), Some(vec![]));
    }

    #[test]
    fn a_star_never_matches() {
        assert_eq!(names(&h(&[("vary", "accept, *")])), None);
    }

    #[test]
    fn variants_get_their_own_keys_and_absent_differs_from_empty() {
        let names = vec!["accept-language".to_string()];
        let with = |v: Option<&str>| {
            let v = v.map(|v| v.as_bytes().to_vec());
            entry_key("p", &select(&names, |_| v.clone().into_iter().collect()))
        };
        assert_ne!(with(Some("en")), with(Some("fr")));
        assert_ne!(with(Some("")), with(None));
        assert_eq!(with(Some("en")), with(Some("en")));
    }

    #[test]
    fn repeated_fields_select_like_one_joined_field() {
        let names = vec!["accept".to_string()];
        let two = select(&names, |_| vec![b"a".to_vec(), b"b".to_vec()]);
        let one = select(&names, |_| vec![b"a, b".to_vec()]);
        assert_eq!(two, one);
    }
}
