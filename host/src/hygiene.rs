//! Request and response hygiene at the proxy boundary: refusing ambiguous
//! requests, normalising the path, removing hop-by-hop headers, and writing
//! the forwarding headers (`X-Forwarded-*`, RFC 7239 `Forwarded`, `Via`).

use std::borrow::Cow;
use std::net::IpAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Version, request};
use ipnet::IpNet;

use crate::codec::fields;

mod path;

pub use path::{AmbiguousPaths, normalize_path};

/// Why a request was refused before routing; each maps to a 4xx. A server
/// layer that finds a protocol-level reason (HTTP/1 framing read two ways,
/// a connection header in HTTP/3, an unsafe method in 0-RTT data) puts it
/// in the request's extensions and the pipeline refuses the request with
/// it, logged like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("HTTP/1.1 request without a Host header")]
    MissingHost,
    #[error("more than one Host header")]
    DuplicateHost,
    #[error("the Host header is not a valid host[:port]")]
    InvalidHost,
    #[error("the request target is not a valid path")]
    InvalidPath,
    #[error("the path holds an escaped slash or backslash, a backslash, or a `;` on a dot segment")]
    AmbiguousPath,
    #[error("both Content-Length and Transfer-Encoding")]
    AmbiguousFraming,
    #[error("CONNECT is not served by a reverse proxy")]
    Connect,
    #[error(
        "a connection-specific header (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, or TE other than `trailers`) in an HTTP/3 request"
    )]
    ConnectionHeader,
    #[error("an unsafe method in TLS early data (0-RTT), which an attacker can replay")]
    TooEarly,
}

impl Refusal {
    pub fn status(self) -> http::StatusCode {
        match self {
            Refusal::Connect => http::StatusCode::METHOD_NOT_ALLOWED,
            Refusal::TooEarly => http::StatusCode::TOO_EARLY,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");
static KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
static PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// The host a request is for: the authority of an absolute-form or HTTP/2
/// target, else the single Host header; lowercase, without port.
pub fn request_host(parts: &request::Parts) -> Result<Cow<'_, str>, Refusal> {
    let hosts = parts.headers.get_all(header::HOST);
    let mut iter = hosts.iter();
    let first = iter.next();
    if iter.next().is_some() {
        return Err(Refusal::DuplicateHost);
    }
    if parts.method == Method::CONNECT {
        return Err(Refusal::Connect);
    }
    if parts.uri.authority().is_none()
        && let Some(host) = first.and_then(|value| plain_host(value.as_bytes()))
    {
        return Ok(Cow::Borrowed(host));
    }
    let authority = match (parts.uri.authority(), first) {
        (Some(authority), _) => authority.clone(),
        (None, Some(value)) => {
            let text = value.to_str().map_err(|_| Refusal::InvalidHost)?;
            text.parse::<http::uri::Authority>()
                .map_err(|_| Refusal::InvalidHost)?
        }
        (None, None) if parts.version == Version::HTTP_11 => return Err(Refusal::MissingHost),
        (None, None) => return Ok(Cow::Borrowed("")),
    };
    if authority.as_str().contains('@') || authority.host().is_empty() || !valid_port(&authority) {
        return Err(Refusal::InvalidHost);
    }
    Ok(Cow::Owned(
        authority.host().trim_end_matches('.').to_ascii_lowercase(),
    ))
}

/// The host of a Host header already in the form routing wants, seen in
/// one pass: lowercase letters, digits, `.` and `-`, not ending in a dot,
/// and a port of digits that fits 16 bits if there is one. Anything else
/// (upper case, IPv6, a trailing dot, oddities to refuse) goes through the
/// full parse.
fn plain_host(value: &[u8]) -> Option<&str> {
    let (host, port) = match value.iter().position(|&b| b == b':') {
        Some(colon) => (&value[..colon], Some(&value[colon + 1..])),
        None => (value, None),
    };
    let plain = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-';
    if host.is_empty() || host.ends_with(b".") || !host.iter().all(plain) {
        return None;
    }
    if let Some(port) = port {
        let digits = std::str::from_utf8(port).ok()?;
        if !digits.bytes().all(|b| b.is_ascii_digit())
            || (!digits.is_empty() && digits.parse::<u16>().is_err())
        {
            return None;
        }
    }
    std::str::from_utf8(host).ok()
}

/// Whether the authority's port, if it has one, is a number an origin reads
/// the same way: digits only, at most 65535 (`host:` with an empty port is
/// allowed, RFC 3986 §3.2.3). `http` accepts `localhost:abc` as an
/// authority, and an origin may read it as a different host.
fn valid_port(authority: &http::uri::Authority) -> bool {
    let text = authority.as_str();
    let after_host = match text.rfind(']') {
        Some(end) => &text[end + 1..],
        None => text,
    };
    match after_host.rsplit_once(':') {
        None | Some((_, "")) => true,
        Some((_, port)) => port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok(),
    }
}

/// Removes request header fields whose name holds an underscore. CGI, WSGI
/// and many frameworks map `_` to `-`, so an origin could read
/// `Transfer_Encoding` or `Content_Length` as the framing header the proxy
/// never checked (nginx's `underscores_in_headers off`).
pub fn drop_underscored(headers: &mut HeaderMap) {
    if !headers.keys().any(|name| name.as_str().contains('_')) {
        return;
    }
    let underscored: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().contains('_'))
        .cloned()
        .collect();
    for name in underscored {
        headers.remove(name);
    }
}

/// Whether the request asks to switch protocols (WebSocket and the like).
/// `h2c` is never an upgrade through the proxy: passing it on would let a
/// client speak HTTP/2 straight to the origin, past every rule (h2c
/// smuggling), so its headers are stripped like any hop-by-hop header.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    let protocol = headers.get(header::UPGRADE).and_then(|v| v.to_str().ok());
    protocol.is_some_and(|p| !p.to_ascii_lowercase().contains("h2c"))
        && connection_tokens(headers).any(|t| t.eq_ignore_ascii_case(b"upgrade"))
}

fn connection_tokens(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| fields::tokens(v.as_bytes()))
}

/// The hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy
/// `Keep-Alive` and `Proxy-Connection` and the proxy credentials).
static HOP_BY_HOP: [&HeaderName; 9] = [
    &header::CONNECTION,
    &KEEP_ALIVE,
    &PROXY_CONNECTION,
    &header::PROXY_AUTHENTICATE,
    &header::PROXY_AUTHORIZATION,
    &header::TE,
    &header::TRAILER,
    &header::TRANSFER_ENCODING,
    &header::UPGRADE,
];

/// The headers a proxy writes for its client; from anyone but a trusted
/// proxy they are replaced.
static FORWARDING: [&HeaderName; 5] = [
    &X_FORWARDED_FOR,
    &X_FORWARDED_PROTO,
    &X_FORWARDED_HOST,
    &header::FORWARDED,
    &X_REAL_IP,
];

/// Whether any of `names` is present, in one walk over the message's
/// names: most messages carry none of the headers a rule is about, and
/// a walk over their few names is cheaper than a hashed lookup per rule.
fn has_any(headers: &HeaderMap, names: &[&HeaderName]) -> bool {
    headers.keys().any(|key| names.contains(&key))
}

/// Removes hop-by-hop headers and every header `Connection` names. An
/// upgrade keeps `Upgrade` and `Connection: upgrade`; `TE: trailers` (which
/// gRPC needs) is kept; `Host` can never be removed this way.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if !has_any(headers, &HOP_BY_HOP) {
        return;
    }
    let upgrade = is_upgrade(headers)
        .then(|| headers.get(header::UPGRADE).cloned())
        .flatten();
    let named: Vec<HeaderName> = connection_tokens(headers)
        .filter_map(|t| HeaderName::from_bytes(t).ok())
        .filter(|name| *name != header::HOST)
        .collect();
    for name in named {
        headers.remove(name);
    }
    let te_trailers = headers
        .get(header::TE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"trailers"));
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if te_trailers {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
    if let Some(protocol) = upgrade {
        headers.insert(header::UPGRADE, protocol);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Who sent the request and how, for the forwarding headers.
pub struct Forwarding<'a> {
    pub peer: IpAddr,
    pub tls: bool,
    pub host: &'a str,
    pub trusted_proxies: &'a [IpNet],
}

/// The client's address as the proxy determines it from a request whose
/// forwarding headers `set_forwarding` has written: the rightmost address
/// of `X-Forwarded-For` that is not a trusted proxy (the TCP peer itself
/// when it is not trusted).
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    let mut client = peer;
    let Some(chain) = joined(headers, &X_FORWARDED_FOR) else {
        return client;
    };
    for hop in chain.rsplit(',') {
        if !trusted(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = ip,
            Err(_) => break,
        }
    }
    client
}

/// Writes `X-Forwarded-For/-Proto/-Host` and `Forwarded`. A trusted peer's
/// headers are extended; anyone else's are replaced, so a client cannot
/// choose the address an origin sees.
pub fn set_forwarding(headers: &mut HeaderMap, f: &Forwarding<'_>) {
    let trusted = f.trusted_proxies.iter().any(|net| net.contains(&f.peer));
    let proto = if f.tls { "https" } else { "http" };
    let mut received = has_any(headers, &FORWARDING);
    if received && !trusted {
        for name in FORWARDING {
            headers.remove(name);
        }
        received = false;
    }
    let previous = |headers: &HeaderMap, name| {
        if received {
            joined(headers, name)
        } else {
            None
        }
    };
    if !received || !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static(proto));
    }
    if (!received || !headers.contains_key(&X_FORWARDED_HOST)) && !f.host.is_empty() {
        set(headers, &X_FORWARDED_HOST, f.host.to_owned());
    }
    let ip = ip_text(f.peer);
    let (open, close) = match f.peer {
        IpAddr::V4(_) => ("", ""),
        IpAddr::V6(_) => ("\"[", "]\""),
    };
    let host_fits = !f.host.is_empty()
        && f.host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    let (host_open, host, host_close) = match host_fits {
        true => (";host=\"", f.host, "\""),
        false => ("", "", ""),
    };
    let element = concat(&[
        "for=", open, &ip, close, ";proto=", proto, host_open, host, host_close,
    ]);
    let forwarded = match previous(headers, &header::FORWARDED) {
        Some(previous) => concat(&[&previous, ", ", &element]),
        None => element,
    };
    set(headers, &header::FORWARDED, forwarded);
    let xff = match previous(headers, &X_FORWARDED_FOR) {
        Some(previous) => concat(&[&previous, ", ", &ip]),
        None => ip,
    };
    set(headers, &X_FORWARDED_FOR, xff);
}

/// This proxy's `Via` entries (`1.1 ravelin`, `2 ravelin` for HTTP/2, `3
/// ravelin` for HTTP/3), made once from the configured pseudonym: every
/// request and response gets one.
#[derive(Debug, Clone)]
pub struct Via {
    /// HTTP/1.0, HTTP/1.1, HTTP/2, HTTP/3.
    entries: [HeaderValue; 4],
}

impl Via {
    pub fn new(pseudonym: &str) -> Result<Via, String> {
        let entry = |version: &str| {
            HeaderValue::try_from(concat(&[version, " ", pseudonym]))
                .map_err(|_| format!("`{pseudonym}` cannot be a header value"))
        };
        Ok(Via {
            entries: [entry("1.0")?, entry("1.1")?, entry("2")?, entry("3")?],
        })
    }

    fn entry(&self, version: Version) -> &HeaderValue {
        let index = match version {
            Version::HTTP_10 => 0,
            Version::HTTP_2 => 2,
            Version::HTTP_3 => 3,
            _ => 1,
        };
        &self.entries[index]
    }
}

/// Adds this proxy to `Via`, for a message received over `version`.
pub fn add_via(headers: &mut HeaderMap, version: Version, via: &Via) {
    let entry = via.entry(version);
    match joined(headers, &header::VIA) {
        Some(previous) => {
            let appended = concat(&[&previous, ", ", entry.to_str().unwrap_or_default()]);
            set(headers, &header::VIA, appended);
        }
        None => {
            headers.insert(header::VIA, entry.clone());
        }
    }
}

/// Cleans an origin's response headers before they reach the client.
pub fn sanitize_response(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    headers.remove(header::SERVER);
}

fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// `parts` end to end, in one allocation: the forwarding headers are
/// written for every request, and `format!` costs several times as much.
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    parts.iter().for_each(|part| out.push_str(part));
    out
}

/// The address as text, an IPv4 one digit by digit (its `Display` goes
/// through the formatting machinery).
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut out = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        if octet >= 100 {
            out.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            out.push(char::from(b'0' + octet / 10 % 10));
        }
        out.push(char::from(b'0' + octet % 10));
    }
    out
}

/// Sets `name` to `value`, taking the string's buffer as the value's own.
fn set(headers: &mut HeaderMap, name: &HeaderName, value: String) {
    if let Ok(value) = HeaderValue::try_from(value) {
        headers.insert(name.clone(), value);
    }
}

#[cfg(test)]
mod tests;
