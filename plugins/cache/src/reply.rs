//! Answers from the cache: a stored response with its current `Age` and
//! `X-Cache`, a `304 Not Modified` for a client's conditional request
//! (RFC 9110 §13.1), and whether such a request matches an entry.

use crate::date;
use crate::entry::Entry;
use ravelin_sdk::Reply;

/// The fields a 304 carries from the stored response (RFC 9110 §15.4.5).
const NOT_MODIFIED_FIELDS: [&str; 6] = [
    "cache-control",
    "content-location",
    "date",
    "etag",
    "expires",
    "vary",
];

/// The stored response, aged, marked `x_cache` (HIT, STALE, REVALIDATED).
pub fn stored(entry: &Entry, now_ms: u64, x_cache: &str) -> Reply {
    let mut reply = Reply::new(entry.status);
    for (name, value) in &entry.headers {
        reply = reply.header(name.clone(), value.clone());
    }
    let reply = reply
        .header("age", age(entry, now_ms))
        .header("x-cache", x_cache);
    reply.body(entry.body.clone())
}

/// `304 Not Modified` for the stored response.
pub fn not_modified(entry: &Entry, now_ms: u64, x_cache: &str) -> Reply {
    let mut reply = Reply::new(304);
    let kept = entry
        .headers
        .iter()
        .filter(|(n, _)| NOT_MODIFIED_FIELDS.contains(&n.as_str()) || n == "last-modified");
    for (name, value) in kept {
        reply = reply.header(name.clone(), value.clone());
    }
    reply
        .header("age", age(entry, now_ms))
        .header("x-cache", x_cache)
}

fn age(entry: &Entry, now_ms: u64) -> String {
    (entry.age_ms(now_ms) / 1000).to_string()
}

/// Whether a client's `If-None-Match` (or, without it, `If-Modified-Since`)
/// is satisfied by `entry`, so that a 304 answers it. Only a stored 200
/// is answered this way.
pub fn client_not_modified(entry: &Entry, if_none_match: &[String], ims: Option<&str>) -> bool {
    if entry.status != 200 {
        return false;
    }
    if !if_none_match.is_empty() {
        let Some(etag) = entry.header("etag") else {
            return if_none_match.iter().any(|v| v.trim() == "*");
        };
        let tags = if_none_match.iter().flat_map(|v| v.split(','));
        return tags
            .map(str::trim)
            .any(|tag| tag == "*" || weak_eq(tag, &etag));
    }
    let modified = entry
        .header("last-modified")
        .and_then(|lm| date::parse(&lm));
    let since = ims.and_then(date::parse);
    matches!((modified, since), (Some(m), Some(s)) if m <= s)
}

/// Weak comparison (RFC 9110 §8.8.3.2): equal once `W/` is ignored.
fn weak_eq(a: &str, b: &str) -> bool {
    let strip = |t: &str| t.trim().strip_prefix("W/").unwrap_or(t.trim()).to_string();
    strip(a) == strip(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::Freshness;

    fn entry(headers: &[(&str, &str)]) -> Entry {
        Entry {
            url: "h/".into(),
            arrived_ms: 10_000,
            freshness: Freshness {
                lifetime_ms: 60_000,
                initial_age_ms: 2000,
                ..Default::default()
            },
            selection: vec![],
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: b"body".to_vec(),
        }
    }

    #[test]
    fn a_stored_reply_carries_its_age_and_x_cache() {
        let reply = stored(&entry(&[("etag", "\"a\"")]), 15_500, "HIT");
        assert_eq!(reply.status, 200);
        assert!(reply.headers.contains(&("age".into(), b"7".to_vec())));
        assert!(reply.headers.contains(&("x-cache".into(), b"HIT".to_vec())));
        assert_eq!(reply.body, b"body");
    }

    #[test]
    fn a_304_keeps_only_the_validator_and_caching_fields() {
        let e = entry(&[
            ("etag", "\"a\""),
            ("content-type", "text/plain"),
            ("cache-control", "max-age=60"),
        ]);
        let reply = not_modified(&e, 10_000, "HIT");
        let names: Vec<_> = reply.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["etag", "cache-control", "age", "x-cache"]);
        assert!(reply.body.is_empty());
    }

    #[test]
    fn if_none_match_compares_weakly_and_wins_over_if_modified_since() {
        let e = entry(&[
            ("etag", "W/\"v1\""),
            ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ]);
        let inm = |v: &str| vec![v.to_string()];
        assert!(client_not_modified(&e, &inm("\"v0\", \"v1\""), None));
        assert!(client_not_modified(&e, &inm("*"), None));
        assert!(!client_not_modified(
            &e,
            &inm("\"v2\""),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        ));
        assert!(client_not_modified(
            &e,
            &[],
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        ));
        assert!(!client_not_modified(
            &e,
            &[],
            Some("Sun, 06 Nov 1994 08:49:36 GMT")
        ));
        assert!(!client_not_modified(&e, &[], Some("garbage")));
    }
}
