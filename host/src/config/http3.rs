//! `http3 = { … }` on a TLS listener: HTTP/3 over QUIC on the same port
//! number over UDP, with the QUIC limits a client cannot stretch.

use std::time::Duration;

use serde::Deserialize;

use super::units;

/// The HTTP/3 side of a TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http3 {
    /// Request streams a client may have open at once on one connection.
    pub max_concurrent_streams: u32,
    /// A connection with no packet for this long is closed.
    pub idle_timeout: Duration,
    /// The largest UDP datagram payload accepted (fixed when the socket binds).
    pub max_udp_payload_size: u16,
    /// Validate every client address with a retry token before any
    /// handshake work, against spoofed source addresses.
    pub retry: bool,
    /// Accept 0-RTT early data (replayable: unsafe methods in it get 425).
    pub early_data: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileHttp3 {
    pub max_concurrent_streams: u32,
    pub idle_timeout: units::Duration,
    pub max_udp_payload_size: u16,
    pub retry: bool,
    pub early_data: bool,
}

impl Default for FileHttp3 {
    fn default() -> Self {
        Self {
            max_concurrent_streams: 100,
            idle_timeout: units::Duration::secs(30),
            max_udp_payload_size: 1472,
            retry: false,
            early_data: false,
        }
    }
}

/// The largest idle timeout QUIC can carry is far beyond this; a day is
/// already more than any client keeps a connection.
const MAX_IDLE: Duration = Duration::from_secs(86_400);

/// Checks `raw` (at `key`) for a listener with or without TLS; problems
/// come back as (key, message).
pub fn validate(key: &str, raw: FileHttp3, tls: bool) -> Result<Http3, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let mut add = |field: &str, message: String| {
        let at = if field.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{field}")
        };
        problems.push((at, message));
    };
    if !tls {
        add(
            "",
            "HTTP/3 runs over QUIC, which is always encrypted: give this listener a `tls` table, or remove `http3`".into(),
        );
    }
    if !(1..=10_000).contains(&raw.max_concurrent_streams) {
        add(
            "max_concurrent_streams",
            format!(
                "{} is out of range: allow 1 to 10000 request streams per connection",
                raw.max_concurrent_streams
            ),
        );
    }
    let idle = raw.idle_timeout.0;
    if idle.is_zero() || idle > MAX_IDLE {
        add(
            "idle_timeout",
            format!("{idle:?} is out of range: use more than 0 and at most 24h"),
        );
    }
    if !(1200..=65527).contains(&raw.max_udp_payload_size) {
        add(
            "max_udp_payload_size",
            format!(
                "{} is out of range: QUIC needs at least 1200 bytes, and a UDP payload is at most 65527",
                raw.max_udp_payload_size
            ),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Http3 {
        max_concurrent_streams: raw.max_concurrent_streams,
        idle_timeout: idle,
        max_udp_payload_size: raw.max_udp_payload_size,
        retry: raw.retry,
        early_data: raw.early_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_conservative() {
        let http3 = validate("listeners[0].http3", FileHttp3::default(), true).unwrap();
        assert_eq!(http3.max_concurrent_streams, 100);
        assert!(
            !http3.early_data,
            "0-RTT is replayable: off unless asked for"
        );
        assert!(!http3.retry);
    }

    #[test]
    fn each_problem_names_its_key() {
        let raw = FileHttp3 {
            max_concurrent_streams: 0,
            idle_timeout: units::Duration::secs(0),
            max_udp_payload_size: 1000,
            ..FileHttp3::default()
        };
        let problems = validate("listeners[1].http3", raw, false).unwrap_err();
        let keys: Vec<_> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "listeners[1].http3",
                "listeners[1].http3.max_concurrent_streams",
                "listeners[1].http3.idle_timeout",
                "listeners[1].http3.max_udp_payload_size",
            ]
        );
        assert!(problems[0].1.contains("tls"), "{}", problems[0].1);
    }
}
