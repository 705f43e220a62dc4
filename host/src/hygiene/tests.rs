//! Header hygiene: hop-by-hop removal and forwarding headers.

use super::*;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

#[test]
fn hop_by_hop_and_connection_named_headers_are_removed() {
    let mut h = headers(&[
        ("connection", "close, x-secret, host"),
        ("x-secret", "1"),
        ("keep-alive", "timeout=5"),
        ("proxy-authorization", "Basic x"),
        ("te", "gzip"),
        ("host", "a.com"),
        ("x-kept", "1"),
    ]);
    strip_hop_by_hop(&mut h);
    let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, vec!["host", "x-kept"]);
}

#[test]
fn te_trailers_and_upgrades_survive() {
    let mut h = headers(&[
        ("te", "trailers"),
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
    ]);
    strip_hop_by_hop(&mut h);
    assert_eq!(h["te"], "trailers");
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "upgrade");
}

fn forward(h: &mut HeaderMap, peer: &str, trusted: &[IpNet]) {
    let f = Forwarding {
        peer: peer.parse().unwrap(),
        tls: true,
        host: "app.example",
        trusted_proxies: trusted,
    };
    set_forwarding(h, &f);
}

#[test]
fn untrusted_peer_forwarding_headers_are_replaced() {
    let mut h = headers(&[
        ("x-forwarded-for", "6.6.6.6"),
        ("x-forwarded-proto", "http"),
        ("x-forwarded-host", "evil"),
        ("forwarded", "for=6.6.6.6"),
        ("x-real-ip", "6.6.6.6"),
    ]);
    forward(&mut h, "192.0.2.7", &[]);
    assert_eq!(h["x-forwarded-for"], "192.0.2.7");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert_eq!(h["x-forwarded-host"], "app.example");
    assert_eq!(
        h["forwarded"],
        "for=192.0.2.7;proto=https;host=\"app.example\""
    );
    assert!(!h.contains_key("x-real-ip"));
}

#[test]
fn trusted_peer_forwarding_headers_are_extended() {
    let mut h = headers(&[
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "http"),
        ("forwarded", "for=203.0.113.9"),
    ]);
    forward(&mut h, "10.1.2.3", &["10.0.0.0/8".parse().unwrap()]);
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 10.1.2.3");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(
        h["forwarded"],
        "for=203.0.113.9, for=10.1.2.3;proto=https;host=\"app.example\""
    );
}

#[test]
fn ipv6_peers_are_quoted_in_forwarded() {
    let mut h = HeaderMap::new();
    forward(&mut h, "::1", &[]);
    assert_eq!(
        h["forwarded"],
        "for=\"[::1]\";proto=https;host=\"app.example\""
    );
}

fn parts(uri: &str, version: Version, hosts: &[&str]) -> request::Parts {
    let mut builder = http::Request::builder().uri(uri).version(version);
    for h in hosts {
        builder = builder.header("host", *h);
    }
    builder.body(()).unwrap().into_parts().0
}

#[test]
fn host_rules() {
    assert_eq!(
        request_host(&parts("/", Version::HTTP_11, &["Example.COM:8080"])).unwrap(),
        "example.com"
    );
    assert_eq!(
        request_host(&parts("/", Version::HTTP_11, &[])),
        Err(Refusal::MissingHost)
    );
    assert_eq!(
        request_host(&parts("/", Version::HTTP_11, &["a", "b"])),
        Err(Refusal::DuplicateHost)
    );
    assert_eq!(
        request_host(&parts("/", Version::HTTP_11, &["user@a.com"])),
        Err(Refusal::InvalidHost)
    );
    assert_eq!(
        request_host(&parts("http://b.com/x", Version::HTTP_11, &["a.com"])).unwrap(),
        "b.com"
    );
    assert_eq!(
        request_host(&parts("/", Version::HTTP_10, &[])).unwrap(),
        ""
    );
}

/// The one-pass reading of a plain Host header agrees with the full
/// parse on every header it accepts, and leaves the rest to it.
#[test]
fn plain_hosts_read_as_the_full_parse_reads_them() {
    let full = |value: &str| {
        let authority: http::uri::Authority = value.parse().ok()?;
        let fine = !value.contains('@') && !authority.host().is_empty() && valid_port(&authority);
        fine.then(|| authority.host().trim_end_matches('.').to_ascii_lowercase())
    };
    let mut plain = 0;
    for host in [
        "a",
        "a.test",
        "127.0.0.1",
        "x-1.y",
        "",
        ".",
        "a.",
        "A.test",
        "[::1]",
        "a_b",
        "a b",
        "a@b",
    ] {
        for port in [
            "", ":", ":0", ":80", ":65535", ":65536", ":x", ":8:1", ":+1",
        ] {
            let value = format!("{host}{port}");
            if let Some(fast) = plain_host(value.as_bytes()) {
                assert_eq!(Some(fast.to_owned()), full(&value), "Host: {value}");
                plain += 1;
            }
            let request = parts("/", Version::HTTP_11, &[&value]);
            let routed = request_host(&request).ok().map(Cow::into_owned);
            assert_eq!(routed, full(&value), "Host: {value}");
        }
    }
    assert!(plain >= 16, "only {plain} hosts took the one-pass reading");
}

#[test]
fn a_port_must_be_a_number_an_origin_reads_the_same_way() {
    for bad in [
        "localhost:abc",
        "a.test:99999",
        "a.test:+80",
        "[::1]:x",
        "a.test:8080:1",
    ] {
        assert_eq!(
            request_host(&parts("/", Version::HTTP_11, &[bad])),
            Err(Refusal::InvalidHost),
            "Host: {bad}"
        );
    }
    // HTTP/2's `:authority` arrives as the target's authority.
    assert_eq!(
        request_host(&parts("http://localhost:abc/", Version::HTTP_2, &[])),
        Err(Refusal::InvalidHost)
    );
    for good in ["a.test:", "a.test:0", "a.test:65535", "[::1]:8080", "[::1]"] {
        assert!(
            request_host(&parts("/", Version::HTTP_11, &[good])).is_ok(),
            "Host: {good}"
        );
    }
}

#[test]
fn underscored_names_are_dropped_and_others_kept() {
    let mut h = headers(&[
        ("transfer_encoding", "chunked"),
        ("content_length", "3"),
        ("x-kept", "1"),
        ("x_api_key", "k"),
    ]);
    drop_underscored(&mut h);
    let names: Vec<_> = h.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, vec!["x-kept"]);
}

#[test]
fn via_is_appended() {
    let mut h = headers(&[("via", "1.1 cdn")]);
    let via = Via::new("ravelin").unwrap();
    add_via(&mut h, Version::HTTP_2, &via);
    assert_eq!(h["via"], "1.1 cdn, 2 ravelin");
    let mut h = HeaderMap::new();
    add_via(&mut h, Version::HTTP_10, &via);
    assert_eq!(h["via"], "1.0 ravelin");
    assert!(Via::new("bad\nname").is_err());
}

#[test]
fn h2c_is_never_an_upgrade() {
    let mut h = headers(&[
        ("connection", "Upgrade, HTTP2-Settings"),
        ("upgrade", "h2c"),
        ("http2-settings", "AAMAAABkAAQAAP__"),
    ]);
    assert!(!is_upgrade(&h));
    strip_hop_by_hop(&mut h);
    assert!(h.is_empty(), "{h:?}");
}

#[test]
fn addresses_are_written_as_display_writes_them() {
    for text in [
        "0.0.0.0",
        "9.10.99.100",
        "127.0.0.1",
        "255.254.200.199",
        "2001:db8::1",
        "::1",
    ] {
        let ip: IpAddr = text.parse().unwrap();
        assert_eq!(super::ip_text(ip), ip.to_string(), "{text}");
    }
}
