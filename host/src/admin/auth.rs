//! Who may use the admin listener: with a token configured, every request
//! but the load-balancer probes (`GET /healthz`, `GET /ready`) must carry
//! `Authorization: Bearer <token>`, compared in constant time; and no
//! request from a browser (one with an `Origin` header) is served, so a web
//! page cannot POST to a loopback admin listener (cross-site request).

use http::{HeaderMap, Method, header};

use crate::config::AdminToken;

/// Why a request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No valid bearer token: 401 with `WWW-Authenticate: Bearer`.
    Unauthorized,
    /// Sent by a browser page: 403.
    FromBrowser,
}

/// Whether the request may proceed.
pub fn check(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    token: Option<&AdminToken>,
) -> Result<(), Denied> {
    if headers.contains_key(header::ORIGIN) {
        return Err(Denied::FromBrowser);
    }
    let probe = *method == Method::GET && matches!(path, "/healthz" | "/ready");
    match token {
        Some(token) if !probe && !bearer_matches(headers, token) => Err(Denied::Unauthorized),
        _ => Ok(()),
    }
}

/// Exactly one `Authorization: Bearer <token>` header with the right token.
fn bearer_matches(headers: &HeaderMap, token: &AdminToken) -> bool {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let bytes = value.as_bytes();
    let Some((scheme, credentials)) = bytes.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && constant_time_eq(token.0.as_bytes(), credentials)
}

/// Compares in time that depends only on the length of `expected` (the
/// configured token), never on where `supplied` first differs.
fn constant_time_eq(expected: &[u8], supplied: &[u8]) -> bool {
    let mut diff = usize::from(expected.len() != supplied.len());
    for (i, byte) in expected.iter().enumerate() {
        let other = supplied.get(i).copied().unwrap_or(!byte);
        diff |= usize::from(byte ^ other);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn token() -> AdminToken {
        AdminToken("s3cret-s3cret-s3cret".into())
    }

    fn with(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_token_is_needed_everywhere_but_the_probes() {
        let none = HeaderMap::new();
        let t = token();
        for (method, path) in [
            (Method::GET, "/metrics"),
            (Method::POST, "/reload"),
            (Method::POST, "/healthz"),
            (Method::GET, "/nope"),
        ] {
            assert_eq!(
                check(&method, path, &none, Some(&t)),
                Err(Denied::Unauthorized),
                "{method} {path}"
            );
        }
        assert_eq!(check(&Method::GET, "/healthz", &none, Some(&t)), Ok(()));
        assert_eq!(check(&Method::GET, "/ready", &none, Some(&t)), Ok(()));
        assert_eq!(check(&Method::POST, "/reload", &none, None), Ok(()));
    }

    #[test]
    fn only_the_exact_bearer_token_passes() {
        let t = token();
        let ok = |value: &str| {
            let headers = with(&[(header::AUTHORIZATION, value)]);
            check(&Method::POST, "/reload", &headers, Some(&t)).is_ok()
        };
        assert!(ok("Bearer s3cret-s3cret-s3cret"));
        assert!(ok("bearer s3cret-s3cret-s3cret"));
        assert!(!ok("Bearer s3cret-s3cret-s3cre"));
        assert!(!ok("Bearer s3cret-s3cret-s3cret2"));
        assert!(!ok("Bearer  s3cret-s3cret-s3cret"));
        assert!(!ok("Basic s3cret-s3cret-s3cret"));
        assert!(!ok("Bearer"));
        assert!(!ok(""));
        let twice = with(&[
            (header::AUTHORIZATION, "Bearer s3cret-s3cret-s3cret"),
            (header::AUTHORIZATION, "Bearer s3cret-s3cret-s3cret"),
        ]);
        assert_eq!(
            check(&Method::POST, "/reload", &twice, Some(&t)),
            Err(Denied::Unauthorized)
        );
    }

    #[test]
    fn browser_requests_are_refused_even_without_a_token() {
        let headers = with(&[(header::ORIGIN, "https://evil.example")]);
        assert_eq!(
            check(&Method::POST, "/reload", &headers, None),
            Err(Denied::FromBrowser)
        );
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
