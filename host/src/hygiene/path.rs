//! Path normalisation before routing, so `/a/../admin`, `/%2e%2e/admin` and
//! `//admin` all route (and reach the origin) as `/admin`: unreserved
//! characters are percent-decoded, other escapes upper-cased and kept
//! (`%2F` stays an escape, never a separator), dot segments are removed
//! (RFC 3986 §5.2.4) and repeated slashes merged.

use super::Refusal;

pub fn normalize_path(path: &str) -> Result<String, Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::InvalidPath);
    }
    let decoded = decode_unreserved(path)?;
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
    Ok(normal)
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
            assert_eq!(normalize_path(raw).unwrap(), "/admin", "{raw}");
        }
    }

    #[test]
    fn encoded_slash_stays_an_escape_and_backslash_is_not_a_separator() {
        assert_eq!(normalize_path("/a%2fb").unwrap(), "/a%2Fb");
        assert_eq!(
            normalize_path("/a%2f..%2fadmin").unwrap(),
            "/a%2F..%2Fadmin"
        );
        assert_eq!(normalize_path("/a\\..\\admin").unwrap(), "/a\\..\\admin");
    }

    #[test]
    fn root_and_trailing_slashes() {
        assert_eq!(normalize_path("/").unwrap(), "/");
        assert_eq!(normalize_path("/../..").unwrap(), "/");
        assert_eq!(normalize_path("/a/b/").unwrap(), "/a/b/");
        assert_eq!(normalize_path("/a/b/..").unwrap(), "/a/");
    }

    #[test]
    fn non_ascii_bytes_pass_unchanged() {
        assert_eq!(normalize_path("/caf\u{e9}/./x").unwrap(), "/caf\u{e9}/x");
    }

    #[test]
    fn broken_escapes_are_refused() {
        assert_eq!(normalize_path("/a%zz"), Err(Refusal::InvalidPath));
        assert_eq!(normalize_path("/a%2"), Err(Refusal::InvalidPath));
        assert_eq!(normalize_path("*"), Err(Refusal::InvalidPath));
    }
}
