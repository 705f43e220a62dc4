//! Path normalisation before routing, so `/a/../admin`, `/%2e%2e/admin` and
//! `//admin` all route (and reach the origin) as `/admin`: unreserved
//! characters are percent-decoded, other escapes upper-cased and kept
//! (`%2F` stays an escape, never a separator), dot segments are removed
//! (RFC 3986 §5.2.4) and repeated slashes merged.
//!
//! Spellings an origin may resolve differently from the proxy — an escaped
//! slash or backslash, a raw backslash, a `;` parameter on a dot segment
//! (`..;/`) — are refused unless [`AmbiguousPaths::Keep`] says the origins
//! behind this proxy need them (Envoy's `path_with_escaped_slashes_action`).

use std::borrow::Cow;

use super::Refusal;

/// What to do with a path an origin could read as a different one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AmbiguousPaths {
    /// Refuse with 400: nothing reaches an origin.
    #[default]
    Reject,
    /// Forward unchanged (escapes upper-cased); the proxy routes on the path
    /// with `%2F`, `%5C`, `\` and `;` as ordinary characters.
    Keep,
}

/// The normalised path; borrowed when the path is already normal, as most
/// are.
pub fn normalize_path(path: &str, ambiguous: AmbiguousPaths) -> Result<Cow<'_, str>, Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::InvalidPath);
    }
    if is_normal(path) {
        return Ok(Cow::Borrowed(path));
    }
    let decoded = decode_unreserved(path)?;
    if ambiguous == AmbiguousPaths::Reject && is_ambiguous(&decoded) {
        return Err(Refusal::AmbiguousPath);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/').skip(1) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    let mut normal = String::with_capacity(decoded.len());
    for segment in &segments {
        normal.push('/');
        normal.push_str(segment);
    }
    if normal.is_empty() || (trailing && !segments.is_empty()) {
        normal.push('/');
    }
    Ok(Cow::Owned(normal))
}

/// Whether `path` (which starts with `/`) comes out of normalisation as it
/// went in, seen in one pass: no escape, backslash, `;` or byte the
/// decoder refuses, and no empty or dot segment but a trailing empty one.
fn is_normal(path: &str) -> bool {
    let mut segment_start = 1;
    for (i, &b) in path.as_bytes().iter().enumerate().skip(1) {
        match b {
            b'%' | b'\\' | b';' | 0x7f | ..=0x20 => return false,
            b'/' => {
                if matches!(&path[segment_start..i], "" | "." | "..") {
                    return false;
                }
                segment_start = i + 1;
            }
            _ => {}
        }
    }
    !matches!(&path[segment_start..], "." | "..")
}

/// Whether a path (already through [`decode_unreserved`], so escapes are
/// upper case and `%2e` is `.`) holds an escaped slash or backslash, a raw
/// backslash, or a dot segment carrying a `;` parameter (`..;x`, `.;`,
/// also with the `;` escaped): spellings that Tomcat, Spring, IIS and many
/// frameworks resolve to another path than the proxy routed.
fn is_ambiguous(decoded: &str) -> bool {
    if decoded.contains("%2F") || decoded.contains("%5C") || decoded.contains('\\') {
        return true;
    }
    decoded.split('/').any(|segment| {
        let cut = [segment.find(';'), segment.find("%3B")]
            .into_iter()
            .flatten()
            .min();
        cut.is_some_and(|at| matches!(&segment[..at], "." | ".."))
    })
}

fn decode_unreserved(path: &str) -> Result<String, Refusal> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'%' {
            if b < 0x21 || b == 0x7f {
                return Err(Refusal::InvalidPath);
            }
            // Bytes of multi-byte UTF-8 characters pass through unchanged.
            out.push(b);
            i += 1;
            continue;
        }
        let hex = bytes.get(i + 1..i + 3).ok_or(Refusal::InvalidPath)?;
        let value = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or(Refusal::InvalidPath)?;
        if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
            out.push(value);
        } else {
            out.extend_from_slice(format!("%{value:02X}").as_bytes());
        }
        i += 3;
    }
    // Only ASCII was decoded into the UTF-8 input, so this cannot fail.
    String::from_utf8(out).map_err(|_| Refusal::InvalidPath)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict(path: &str) -> Result<String, Refusal> {
        normalize_path(path, AmbiguousPaths::Reject).map(Cow::into_owned)
    }

    fn keep(path: &str) -> Result<String, Refusal> {
        normalize_path(path, AmbiguousPaths::Keep).map(Cow::into_owned)
    }

    /// The one-pass check agrees with the full normalisation: a path it
    /// calls normal comes out unchanged, and every path that comes out
    /// unchanged from these is one it calls normal.
    #[test]
    fn the_fast_path_agrees_with_the_full_normalisation() {
        let pieces = [
            "/", "a", ".", "..", "%2e", "%41", ";", "\\", "b.c", "~", "//",
        ];
        let mut checked = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let path = format!("/{a}{b}{c}");
                    let fast = is_normal(&path);
                    let slow = strict(&path).ok().filter(|n| *n == path).is_some();
                    if fast {
                        assert!(
                            slow,
                            "{path} is called normal but normalises to {:?}",
                            strict(&path)
                        );
                    }
                    checked += usize::from(fast);
                }
            }
        }
        assert!(checked > 50, "only {checked} paths took the fast path");
        for normal in [
            "/",
            "/bytes/2",
            "/a/b/",
            "/a/...",
            "/caf\u{e9}/x",
            "/.well-known/x",
        ] {
            assert!(is_normal(normal), "{normal}");
            assert_eq!(strict(normal).unwrap(), normal);
        }
        for not in [
            "//a", "/a/./b", "/a/..", "/a/.", "/a%2Fb", "/a;b", "/a\\b", "/a b",
        ] {
            assert!(!is_normal(not), "{not}");
        }
    }

    #[test]
    fn traversal_tricks_collapse_to_the_real_target() {
        for raw in [
            "/a/../admin",
            "/%2e%2e/admin",
            "/%2E%2E/%61dmin",
            "//admin",
            "/./admin",
            "/x/./../admin",
        ] {
            assert_eq!(strict(raw).unwrap(), "/admin", "{raw}");
            assert_eq!(keep(raw).unwrap(), "/admin", "{raw}");
        }
    }

    #[test]
    fn escaped_slashes_backslashes_and_dot_parameters_are_refused() {
        for raw in [
            "/a%2fb",
            "/public/..%2Fadmin",
            "/public/%2e%2e%2fadmin",
            "/public/..%5cadmin",
            "/public/..%5Cadmin",
            "/public/..\\admin",
            "/public/..;/admin",
            "/public/x/..;/..;/admin",
            "/public/.;/admin",
            "/public/%2e%2e;x/admin",
            "/public/..%3b/admin",
            "/public/..;",
        ] {
            assert_eq!(strict(raw), Err(Refusal::AmbiguousPath), "{raw}");
        }
    }

    #[test]
    fn parameters_on_ordinary_segments_and_double_escapes_pass() {
        assert_eq!(strict("/a;jsessionid=1/b").unwrap(), "/a;jsessionid=1/b");
        assert_eq!(strict("/a/...;x").unwrap(), "/a/...;x");
        assert_eq!(strict("/a/%252F").unwrap(), "/a/%252F");
    }

    #[test]
    fn keep_forwards_escaped_slashes_and_backslashes_unchanged() {
        assert_eq!(keep("/a%2fb").unwrap(), "/a%2Fb");
        assert_eq!(keep("/a%2f..%2fadmin").unwrap(), "/a%2F..%2Fadmin");
        assert_eq!(keep("/a\\..\\admin").unwrap(), "/a\\..\\admin");
        assert_eq!(keep("/public/..;/admin").unwrap(), "/public/..;/admin");
    }

    #[test]
    fn root_and_trailing_slashes() {
        assert_eq!(strict("/").unwrap(), "/");
        assert_eq!(strict("/../..").unwrap(), "/");
        assert_eq!(strict("/a/b/").unwrap(), "/a/b/");
        assert_eq!(strict("/a/b/..").unwrap(), "/a/");
    }

    #[test]
    fn non_ascii_bytes_pass_unchanged() {
        assert_eq!(strict("/caf\u{e9}/./x").unwrap(), "/caf\u{e9}/x");
    }

    #[test]
    fn broken_escapes_are_refused() {
        for path in ["/a%zz", "/a%2", "*"] {
            assert_eq!(strict(path), Err(Refusal::InvalidPath), "{path}");
            assert_eq!(keep(path), Err(Refusal::InvalidPath), "{path}");
        }
    }
}
