//! Checks on what a plugin hands the host: header names and values, status
//! codes, request targets, its own responses, outbound requests, body sizes,
//! log messages and metric names. Pure functions, so the host API
//! (`imports`, `exchange`) and the fuzz targets
//! (`host/fuzz`) run the same code. Anything that could split a header or a
//! request line (CR, LF, NUL, other controls) is refused here.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode, Uri};

/// The most bytes of one log message that reach the log.
pub const MAX_LOG_MESSAGE: usize = 4096;

/// The longest guest metric name.
pub const MAX_METRIC_NAME: usize = 64;

/// A header name: an RFC 9110 token (stored lower case).
pub fn header_name(name: &str) -> Result<HeaderName, String> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("invalid header name {name:?}"))
}

/// A header value: visible characters, spaces, tabs and bytes from 0x80
/// (obs-text); never CR, LF, NUL or another control.
pub fn header_value(value: impl AsRef<[u8]>) -> Result<HeaderValue, String> {
    HeaderValue::from_bytes(value.as_ref()).map_err(|_| "invalid header value".to_string())
}

/// A status code from 100 to 999.
pub fn status(code: u16) -> Result<StatusCode, String> {
    StatusCode::from_u16(code).map_err(|_| format!("invalid status {code}"))
}

/// An origin-form target (`/path?query`) replacing the one in `uri`; the
/// scheme and authority stay.
pub fn path_with_query(uri: &Uri, value: &str) -> Result<Uri, String> {
    if !value.starts_with('/') {
        return Err(format!("{value:?} does not start with /"));
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        value
            .parse()
            .map_err(|_| format!("{value:?} is not a valid path and query"))?,
    );
    Uri::from_parts(parts).map_err(|e| e.to_string())
}

/// A body a plugin hands back (a replacement or its own answer), at most
/// `max_body` bytes.
pub fn body(body: Vec<u8>, max_body: usize) -> Result<Bytes, String> {
    if body.len() > max_body {
        return Err(format!(
            "a body of {} bytes exceeds max_body_bytes ({max_body})",
            body.len()
        ));
    }
    Ok(Bytes::from(body))
}

/// The response a plugin asks the proxy to send.
pub fn response<V: AsRef<[u8]>>(
    code: u16,
    headers: Vec<(String, V)>,
    bytes: Vec<u8>,
    max_body: usize,
) -> Result<http::Response<Bytes>, String> {
    let bytes = body(bytes, max_body)?;
    let mut response = http::Response::new(bytes);
    *response.status_mut() = status(code)?;
    for (name, value) in headers {
        let v = header_value(value).map_err(|_| format!("invalid value for header {name:?}"))?;
        response.headers_mut().append(header_name(&name)?, v);
    }
    Ok(response)
}

/// A request a plugin sends to an upstream: a method token, an origin-form
/// target (the host supplies the authority) and valid headers.
pub fn outbound_request<V: AsRef<[u8]>>(
    method: &str,
    path_with_query: &str,
    headers: &[(String, V)],
    body: Vec<u8>,
) -> Result<http::Request<Bytes>, String> {
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("invalid outbound request: method {method:?}"))?;
    let uri = self::path_with_query(&Uri::default(), path_with_query)
        .map_err(|e| format!("invalid outbound request: {e}"))?;
    let mut request = http::Request::new(Bytes::from(body));
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    for (name, value) in headers {
        let v = header_value(value)
            .map_err(|_| format!("invalid outbound request: value for header {name:?}"))?;
        let n = header_name(name).map_err(|e| format!("invalid outbound request: {e}"))?;
        request.headers_mut().append(n, v);
    }
    Ok(request)
}

/// A log message cut to [`MAX_LOG_MESSAGE`] bytes, on a character boundary.
pub fn log_message(message: &str) -> &str {
    let mut end = message.len().min(MAX_LOG_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    &message[..end]
}

/// Whether `name` may name a guest metric: letters, digits and `_`, 1 to
/// [`MAX_METRIC_NAME`] bytes.
pub fn metric_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_METRIC_NAME
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_splitting_bytes_are_refused() {
        for value in ["a\r\nx-injected: 1", "a\nb", "a\rb", "a\0b", "a\x7fb"] {
            assert!(header_value(value).is_err(), "{value:?}");
        }
        for name in ["", "a b", "a:b", "a\r\nb", "\0"] {
            assert!(header_name(name).is_err(), "{name:?}");
        }
        assert_eq!(header_name("X-Ok").unwrap().as_str(), "x-ok");
    }

    #[test]
    fn statuses_outside_100_to_999_are_refused() {
        assert!(status(99).is_err());
        assert!(status(1000).is_err());
        assert_eq!(status(999).unwrap().as_u16(), 999);
    }

    #[test]
    fn outbound_targets_are_origin_form() {
        let none: &[(String, String)] = &[];
        assert!(outbound_request("GET", "http://elsewhere/x", none, vec![]).is_err());
        assert!(outbound_request("GET", "/a b", none, vec![]).is_err());
        assert!(outbound_request("GE T", "/a", none, vec![]).is_err());
        let ok = outbound_request(
            "POST",
            "/a?b=c",
            &[("x".to_string(), "y".to_string())],
            vec![1],
        );
        assert_eq!(ok.unwrap().uri().to_string(), "/a?b=c");
    }

    #[test]
    fn bodies_over_the_limit_are_refused() {
        assert!(body(vec![0; 11], 10).is_err());
        assert_eq!(body(vec![0; 10], 10).unwrap().len(), 10);
        assert!(response::<String>(200, vec![], vec![0; 11], 10).is_err());
    }

    #[test]
    fn log_messages_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_LOG_MESSAGE);
        let cut = log_message(&long);
        assert!(cut.len() <= MAX_LOG_MESSAGE && cut.len() >= MAX_LOG_MESSAGE - 1);
    }
}
