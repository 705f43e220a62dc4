//! Fuzz checks for the parsers at Ravelin's trust boundaries: the config
//! file, the request target (path normalisation), the header hygiene
//! that decides what an origin sees (hop-by-hop removal, forwarding
//! headers, Host), the host side of the plugin API (`plugin_host`), and
//! the WAF engine's rule parser and body extraction (`seclang`). Each check must never panic and asserts the invariant
//! the proxy relies on. They run under libFuzzer (`cargo +nightly fuzz run
//! <target>`) and, on stable, as a corpus replay (`cargo test`).

use std::net::IpAddr;
use std::path::Path;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use ravelin::config::Config;
use ravelin::hygiene::{self, AmbiguousPaths, Forwarding};

mod plugin_host;
mod seclang;

pub use plugin_host::plugin_host_api;
pub use seclang::{seclang_request, seclang_rules};

/// The config parser: any text either validates or yields problems whose
/// rendering does not panic.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, "fuzz.toml", Path::new("/nonexistent-ravelin-fuzz")) {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(error) => {
            assert!(
                !error.problems.is_empty(),
                "a refusal names at least one problem"
            );
            let _ = error.to_string();
        }
    }
}

/// Path normalisation, under both policies: a result starts with `/`, has
/// no empty, `.` or `..` segment (so no traversal survives to routing or the
/// origin), no raw control byte, and normalising it again changes nothing.
/// Under the default policy it also holds no escaped slash or backslash, no
/// backslash and no dot segment with a `;` parameter, so no origin can
/// resolve it to another path; and whatever the default policy accepts,
/// `keep` normalises the same way.
pub fn path_normalize(data: &[u8]) {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let strict = hygiene::normalize_path(path, AmbiguousPaths::Reject);
    let kept = hygiene::normalize_path(path, AmbiguousPaths::Keep);
    if let Ok(normal) = &strict {
        assert_eq!(kept.as_ref(), Ok(normal), "{path:?}: policies disagree");
        let upper = normal.to_ascii_uppercase();
        assert!(
            !upper.contains("%2F") && !upper.contains("%5C") && !normal.contains('\\'),
            "{path:?} -> {normal:?}: escaped slash or backslash accepted"
        );
        for segment in normal.split('/') {
            let before = segment.split(';').next().unwrap_or("");
            let before = before.split("%3B").next().unwrap_or("");
            assert!(
                !(segment.len() > before.len() && (before == "." || before == "..")),
                "{path:?} -> {normal:?}: dot segment with a parameter"
            );
        }
    }
    if let Ok(normal) = kept {
        normalised(path, &normal, AmbiguousPaths::Keep);
    }
    if let Ok(normal) = strict {
        normalised(path, &normal, AmbiguousPaths::Reject);
    }
}

fn normalised(path: &str, normal: &str, policy: AmbiguousPaths) {
    assert!(
        normal.starts_with('/'),
        "{path:?} -> {normal:?}: not absolute"
    );
    assert!(
        !normal.contains("//"),
        "{path:?} -> {normal:?}: empty segment"
    );
    for segment in normal.split('/') {
        assert!(
            segment != "." && segment != "..",
            "{path:?} -> {normal:?}: dot segment"
        );
        let lower = segment.to_ascii_lowercase();
        assert!(
            lower != "%2e" && lower != "%2e%2e" && lower != ".%2e" && lower != "%2e.",
            "{path:?} -> {normal:?}: encoded dot segment"
        );
    }
    assert!(
        !normal.bytes().any(|b| b < 0x21 || b == 0x7f),
        "{path:?} -> {normal:?}: control byte"
    );
    // Bytes pass unchanged (non-ASCII included), so every result is a fixed point.
    assert_eq!(
        hygiene::normalize_path(normal, policy).as_deref(),
        Ok(normal),
        "{path:?}: not idempotent"
    );
}

/// Input format, so corpus files stay readable: the first line is a request
/// target, the second a peer address (or empty), every other line a header
/// `name: value`; lines that are not valid headers are skipped.
struct Input {
    target: String,
    peer: IpAddr,
    headers: HeaderMap,
}

fn input(data: &[u8]) -> Input {
    let mut lines = data.split(|&b| b == b'\n');
    let target = String::from_utf8_lossy(lines.next().unwrap_or_default())
        .trim()
        .to_string();
    let peer = std::str::from_utf8(lines.next().unwrap_or_default())
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(IpAddr::from([203, 0, 113, 7]));
    let mut headers = HeaderMap::new();
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    Input {
        target,
        peer,
        headers,
    }
}

const HOP_BY_HOP: &[&str] = &[
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "trailer",
    "transfer-encoding",
];

/// Header hygiene: after `strip_hop_by_hop`, no hop-by-hop header and no
/// header that `Connection` named survives (except Host, the upgrade pair
/// and `TE: trailers`); after `set_forwarding` from an untrusted peer the
/// origin sees only that peer, whatever the client wrote; `add_via` appends;
/// `request_host` never panics and never yields userinfo.
pub fn hygiene_headers(data: &[u8]) {
    let Input {
        target,
        peer,
        headers,
    } = input(data);

    // Hop-by-hop removal.
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let upgrade = hygiene::is_upgrade(&headers);
    let hosts_before = headers.get_all(header::HOST).iter().count();
    let mut stripped = headers.clone();
    hygiene::strip_hop_by_hop(&mut stripped);
    for name in HOP_BY_HOP {
        assert!(
            !stripped.contains_key(*name),
            "{name} survived: {headers:?}"
        );
    }
    if let Some(te) = stripped.get(header::TE) {
        assert_eq!(te, "trailers", "TE other than trailers survived");
    }
    if !upgrade {
        assert!(
            !stripped.contains_key(header::CONNECTION) && !stripped.contains_key(header::UPGRADE),
            "{headers:?}"
        );
    }
    for name in &named {
        if matches!(name.as_str(), "host" | "te" | "upgrade" | "connection") {
            continue;
        }
        assert!(
            !stripped.contains_key(name.as_str()),
            "Connection-named {name} survived: {headers:?}"
        );
    }
    assert_eq!(
        stripped.get_all(header::HOST).iter().count(),
        hosts_before,
        "Host changed"
    );

    // Forwarding headers from an untrusted peer: only the peer survives.
    let host = "example.test";
    let mut forwarded = stripped.clone();
    hygiene::set_forwarding(
        &mut forwarded,
        &Forwarding {
            peer,
            tls: false,
            host,
            trusted_proxies: &[],
        },
    );
    assert_eq!(forwarded.get_all("x-forwarded-for").iter().count(), 1);
    assert_eq!(
        forwarded["x-forwarded-for"],
        peer.to_string().as_str(),
        "spoofed XFF: {headers:?}"
    );
    assert_eq!(forwarded["x-forwarded-proto"], "http");
    assert_eq!(forwarded["x-forwarded-host"], host);
    assert!(!forwarded.contains_key("x-real-ip"));
    let element = forwarded["forwarded"].to_str().expect("Forwarded is ASCII");
    assert!(
        !element.contains(','),
        "client Forwarded elements survived: {element}"
    );

    // From a trusted peer: the chain is extended, and ends with the peer.
    let trusted: [ipnet::IpNet; 1] = [ipnet::IpNet::from(peer)];
    let mut chained = stripped.clone();
    hygiene::set_forwarding(
        &mut chained,
        &Forwarding {
            peer,
            tls: true,
            host,
            trusted_proxies: &trusted,
        },
    );
    let xff = chained["x-forwarded-for"].to_str().expect("XFF is ASCII");
    assert!(
        xff == peer.to_string() || xff.ends_with(&format!(", {peer}")),
        "XFF {xff:?}"
    );

    // Via appends exactly one entry.
    let mut via = stripped.clone();
    let pseudonym = hygiene::Via::new("ravelin").expect("a valid Via pseudonym");
    hygiene::add_via(&mut via, http::Version::HTTP_11, &pseudonym);
    let via = via[header::VIA].to_str().unwrap_or_default().to_string();
    assert!(via.ends_with("1.1 ravelin"), "Via {via:?}");

    // Response side: no Server header reaches the client.
    let mut response = headers.clone();
    hygiene::sanitize_response(&mut response);
    assert!(!response.contains_key(header::SERVER));

    // Host selection from the target and the headers.
    let Ok(uri) = target.parse::<http::Uri>() else {
        return;
    };
    let mut request = http::Request::new(());
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let (parts, ()) = request.into_parts();
    if let Ok(host) = hygiene::request_host(&parts) {
        assert!(!host.contains('@'), "userinfo in host {host:?}");
        assert_eq!(host, host.to_ascii_lowercase());
        assert!(!host.ends_with('.') || host.is_empty());
    }
}
