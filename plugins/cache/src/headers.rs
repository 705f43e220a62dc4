//! Header lists as the plugin keeps them (lower-case names, raw value
//! bytes), and the fields a cache must not store or must replace.

/// Header fields in order: lower-case name, value bytes.
pub type Headers = Vec<(String, Vec<u8>)>;

/// Every value of `name` (lower-case) that is UTF-8, in order.
pub fn values(headers: &Headers, name: &str) -> Vec<String> {
    let named = headers.iter().filter(|(n, _)| n == name);
    named
        .filter_map(|(_, v)| String::from_utf8(v.clone()).ok())
        .collect()
}

/// The first value of `name` (lower-case) as text.
pub fn first(headers: &Headers, name: &str) -> Option<String> {
    values(headers, name).into_iter().next()
}

/// Fields never stored: hop-by-hop ones (RFC 9110 §7.6.1), the proxy's
/// own (`age` and `x-cache` are recomputed, the request id belongs to the
/// filling request), and `content-length` (the host sets it from the body).
const NOT_STORED: [&str; 12] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "age",
    "x-cache",
    "x-request-id",
    "content-length",
];

/// `headers` without the fields a cache does not store (and without
/// `set-cookie` unless `keep_set_cookie`).
pub fn storable(headers: &Headers, keep_set_cookie: bool) -> Headers {
    let kept = headers.iter().filter(|(n, _)| {
        !NOT_STORED.contains(&n.as_str()) && (keep_set_cookie || n != "set-cookie")
    });
    kept.cloned().collect()
}

/// `stored` updated by the fields of a 304 (RFC 9111 §3.2): each field the
/// 304 carries replaces the stored ones of that name, except the framing
/// fields a 304 says nothing about.
pub fn refreshed(stored: &Headers, update: &Headers) -> Headers {
    const KEEP: [&str; 3] = ["content-length", "content-encoding", "content-type"];
    let update: Headers = storable(update, true)
        .into_iter()
        .filter(|(n, _)| !KEEP.contains(&n.as_str()))
        .collect();
    let mut out: Headers = stored
        .iter()
        .filter(|(n, _)| !update.iter().any(|(u, _)| u == n))
        .cloned()
        .collect();
    out.extend(update);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn h(pairs: &[(&str, &str)]) -> Headers {
        let pairs = pairs.iter();
        pairs
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn hop_by_hop_and_proxy_fields_are_not_stored() {
        let all = h(&[
            ("connection", "close"),
            ("etag", "\"a\""),
            ("age", "3"),
            ("set-cookie", "a=b"),
            ("content-length", "3"),
            ("x-request-id", "r"),
        ]);
        assert_eq!(storable(&all, false), h(&[("etag", "\"a\"")]));
        assert_eq!(
            storable(&all, true),
            h(&[("etag", "\"a\""), ("set-cookie", "a=b")])
        );
    }

    #[test]
    fn a_304_replaces_the_fields_it_carries_and_no_others() {
        let stored = h(&[
            ("content-type", "text/plain"),
            ("cache-control", "max-age=1"),
            ("x-a", "1"),
            ("x-a", "2"),
        ]);
        let update = h(&[
            ("cache-control", "max-age=60"),
            ("x-a", "3"),
            ("content-type", "text/html"),
            ("connection", "keep-alive"),
        ]);
        assert_eq!(
            refreshed(&stored, &update),
            h(&[
                ("content-type", "text/plain"),
                ("cache-control", "max-age=60"),
                ("x-a", "3"),
            ])
        );
    }
}
