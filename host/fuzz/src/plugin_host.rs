//! The host side of the plugin API under hostile arguments: everything a
//! plugin can hand the host through `wit/plugin.wit` (header names and
//! values, status codes, request targets, its own responses, body
//! replacements, outbound requests, log messages, metric names, key-value
//! keys, values, TTLs and counters) goes through the same pure checks the
//! host functions call (`ravelin_runtime::guest_input`, `MemoryKv`).
//!
//! Invariants: nothing panics; nothing that could split a header or a
//! request line (CR, LF, NUL, other controls) is ever accepted; bodies,
//! log messages, metric names and the store stay within their limits; a
//! key-value namespace never sees another's values.
//!
//! Input format, one operation per line, fields separated by tabs, with
//! `\r`, `\n`, `\t`, `\0`, `\\` and `\xHH` escapes so corpus files stay
//! readable (see `corpus/plugin_host_api/`):
//!
//! ```text
//! header <name> <value>
//! status <code>
//! path <path-with-query>
//! respond <status> <body length> <max body> [<name> <value>]...
//! replace <body length> <max body>
//! outbound <method> <path-with-query> [<name> <value>]...
//! log <message>
//! metric <name>
//! kv-set <namespace> <key> <value> [<ttl ms>]
//! kv-get <namespace> <key>
//! kv-delete <namespace> <key>
//! kv-increment <namespace> <key> <delta> [<ttl ms>]
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderMap, Uri};
use ravelin_runtime::MemoryKv;
use ravelin_runtime::guest_input::{self, MAX_LOG_MESSAGE, MAX_METRIC_NAME};

/// The store's capacity in these checks: small, so eviction happens.
const KV_CAPACITY: usize = 4096;

/// The largest body the checks allocate.
const MAX_ALLOC: u64 = 1 << 20;

pub fn plugin_host_api(data: &[u8]) {
    let kv = MemoryKv::new(KV_CAPACITY);
    let mut written: HashMap<(String, String), Vec<Vec<u8>>> = HashMap::new();
    for line in data.split(|&b| b == b'\n') {
        let fields: Vec<String> = line.split(|&b| b == b'\t').map(unescape).collect();
        let (op, args) = fields.split_first().expect("split yields one field");
        let arg = |i: usize| args.get(i).map_or("", String::as_str);
        match op.as_str() {
            "header" => header(arg(0), arg(1)),
            "status" => status(number(arg(0))),
            "path" => path(arg(0)),
            "respond" => respond(
                number(arg(0)),
                number(arg(1)),
                number(arg(2)),
                &args[3.min(args.len())..],
            ),
            "replace" => replace(number(arg(0)), number(arg(1))),
            "outbound" => outbound(arg(0), arg(1), &args[2.min(args.len())..]),
            "log" => log(arg(0)),
            "metric" => metric(arg(0)),
            "kv-set" => {
                let ttl = args.get(3).map(|t| number(t));
                let stored = kv.set(&ns(arg(0)), arg(1).into(), arg(2).as_bytes().to_vec(), ttl);
                if stored.is_ok() {
                    let key = (arg(0).to_string(), arg(1).to_string());
                    written
                        .entry(key)
                        .or_default()
                        .push(arg(2).as_bytes().to_vec());
                }
            }
            "kv-get" => {
                let got = kv.get(&ns(arg(0)), arg(1).into()).map(|entry| entry.value);
                if let Some(value) = got {
                    let key = (arg(0).to_string(), arg(1).to_string());
                    let seen = written.get(&key).is_some_and(|vs| vs.contains(&value));
                    assert!(
                        seen,
                        "{key:?} holds {value:?}, never written under that namespace and key"
                    );
                }
            }
            "kv-delete" => {
                kv.delete(&ns(arg(0)), arg(1).into());
            }
            "kv-increment" => {
                let ttl = args.get(3).map(|t| number(t));
                if let Ok(n) = kv.increment(&ns(arg(0)), arg(1).into(), signed(arg(2)), ttl) {
                    let key = (arg(0).to_string(), arg(1).to_string());
                    written
                        .entry(key)
                        .or_default()
                        .push(n.to_string().into_bytes());
                }
            }
            _ => {}
        }
        assert!(
            kv.bytes() <= KV_CAPACITY,
            "the store holds {} bytes",
            kv.bytes()
        );
    }
}

fn ns(name: &str) -> Arc<str> {
    Arc::from(name)
}

/// A header a plugin sets: if accepted, written on the wire it is exactly
/// one line, `name: value`, with a token name and no control byte but tab.
fn header(name: &str, value: &str) {
    let (Ok(n), Ok(v)) = (
        guest_input::header_name(name),
        guest_input::header_value(value),
    ) else {
        return;
    };
    assert!(
        !n.as_str().is_empty() && n.as_str().bytes().all(is_tchar_lower),
        "header name {name:?} accepted as {n:?}"
    );
    assert_safe_value(v.as_bytes(), value);
    let mut map = HeaderMap::new();
    map.append(n, v);
    assert_eq!(map.len(), 1);
}

fn assert_safe_value(bytes: &[u8], input: &str) {
    assert!(
        !bytes.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f),
        "header value {input:?} accepted with a control byte"
    );
}

fn is_tchar_lower(b: u8) -> bool {
    (b.is_ascii_alphanumeric() && !b.is_ascii_uppercase()) || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn status(code: u64) {
    let code = u16::try_from(code).unwrap_or(u16::MAX);
    let accepted = guest_input::status(code).is_ok();
    assert_eq!(accepted, (100..=999).contains(&code), "status {code}");
}

/// A target a plugin sets: origin-form, no byte that could end a request
/// line, and the authority the proxy routed on is kept.
fn path(value: &str) {
    let uri: Uri = "http://a.test/x".parse().expect("uri");
    let Ok(new) = guest_input::path_with_query(&uri, value) else {
        return;
    };
    assert_eq!(
        new.authority(),
        uri.authority(),
        "{value:?} changed the authority"
    );
    assert_target(&new, value);
}

fn assert_target(uri: &Uri, input: &str) {
    let target = uri.path_and_query().map_or("", |p| p.as_str());
    assert!(
        target.starts_with('/'),
        "{input:?} -> {target:?}: not origin-form"
    );
    assert!(
        !target.bytes().any(|b| b <= 0x20 || b == 0x7f),
        "{input:?} -> {target:?}: a byte that ends a request line"
    );
}

fn respond(code: u64, len: u64, max: u64, headers: &[String]) {
    let code = u16::try_from(code).unwrap_or(u16::MAX);
    let pairs = pairs(headers);
    let body = vec![b'b'; len.min(MAX_ALLOC) as usize];
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let Ok(response) = guest_input::response(code, pairs.clone(), body, max) else {
        return;
    };
    assert!(response.body().len() <= max, "a body over max_body_bytes");
    assert!((100..=999).contains(&response.status().as_u16()));
    assert_eq!(
        response.headers().len(),
        pairs.len(),
        "headers lost or added"
    );
    for (name, value) in response.headers() {
        assert!(name.as_str().bytes().all(is_tchar_lower));
        assert_safe_value(value.as_bytes(), "(response)");
    }
}

fn replace(len: u64, max: u64) {
    let body = vec![b'r'; len.min(MAX_ALLOC) as usize];
    let size = body.len();
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    assert_eq!(
        guest_input::body(body, max).is_ok(),
        size <= max,
        "{size} against {max}"
    );
}

fn outbound(method: &str, target: &str, headers: &[String]) {
    let pairs = pairs(headers);
    let Ok(request) = guest_input::outbound_request(method, target, &pairs, b"x".to_vec()) else {
        return;
    };
    assert!(
        request
            .method()
            .as_str()
            .bytes()
            .all(|b| is_tchar_lower(b.to_ascii_lowercase())),
        "method {method:?} accepted"
    );
    assert!(
        request.uri().authority().is_none(),
        "{target:?}: a plugin chose the authority"
    );
    assert_target(request.uri(), target);
    for value in request.headers().values() {
        assert_safe_value(value.as_bytes(), "(outbound)");
    }
}

fn log(message: &str) {
    let cut = guest_input::log_message(message);
    assert!(cut.len() <= MAX_LOG_MESSAGE);
    assert!(message.starts_with(cut));
}

fn metric(name: &str) {
    if guest_input::metric_name(name) {
        assert!(!name.is_empty() && name.len() <= MAX_METRIC_NAME);
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{name:?}"
        );
    }
}

fn pairs(fields: &[String]) -> Vec<(String, String)> {
    fields
        .chunks(2)
        .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
        .collect()
}

/// Digits in `text`, saturating at `u64::MAX` (other characters ignored).
fn number(text: &str) -> u64 {
    text.bytes().filter(u8::is_ascii_digit).fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    })
}

fn signed(text: &str) -> i64 {
    let magnitude = i64::try_from(number(text)).unwrap_or(i64::MAX);
    if text.starts_with('-') {
        -magnitude
    } else {
        magnitude
    }
}

/// Decodes the escapes of the input format; the result is UTF-8 (lossily),
/// as every string the component model passes is.
fn unescape(field: &[u8]) -> String {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        let next = field.get(i + 1).copied();
        let (byte, used) = match (b, next) {
            (b'\\', Some(b'r')) => (b'\r', 2),
            (b'\\', Some(b'n')) => (b'\n', 2),
            (b'\\', Some(b't')) => (b'\t', 2),
            (b'\\', Some(b'0')) => (0, 2),
            (b'\\', Some(b'\\')) => (b'\\', 2),
            (b'\\', Some(b'x')) => match field
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
            {
                Some(v) => (v, 4),
                None => (b, 1),
            },
            _ => (b, 1),
        };
        out.push(byte);
        i += used;
    }
    String::from_utf8_lossy(&out).into_owned()
}
