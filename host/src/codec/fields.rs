//! The header fields of a parsed HTTP/1.1 head, as a request or a
//! response reads them: values kept as slices of the head (no copy), and
//! what the fields say about the connection and the body's length.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Version, header};

/// The most header fields a head may carry (hyper's limit too).
pub const MAX_HEADERS: usize = 100;

/// Where a field's name and value lie in the head.
#[derive(Clone, Copy, Default)]
pub struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// Where each of `parsed` lies in `buf`, which httparse parsed them from.
pub fn spans(buf: &[u8], parsed: &[httparse::Header<'_>], out: &mut [Span; MAX_HEADERS]) {
    let base = buf.as_ptr() as usize;
    let offset = |part: &[u8]| ((part.as_ptr() as usize - base) as u32, part.len() as u32);
    for (span, header) in out.iter_mut().zip(parsed) {
        *span = Span {
            name: offset(header.name.as_bytes()),
            value: offset(header.value),
        };
    }
}

/// A field that `http` does not take as a name or value.
#[derive(Debug)]
pub struct InvalidField;

/// The fields of `head` at `spans`, their values slices of it.
pub fn header_map(head: &Bytes, spans: &[Span]) -> Result<HeaderMap, InvalidField> {
    let mut headers = HeaderMap::with_capacity(spans.len());
    for span in spans {
        let (start, len) = (span.name.0 as usize, span.name.1 as usize);
        let name = HeaderName::from_bytes(&head[start..start + len]).map_err(|_| InvalidField)?;
        let (start, len) = (span.value.0 as usize, span.value.1 as usize);
        let value = HeaderValue::from_maybe_shared(head.slice(start..start + len))
            .map_err(|_| InvalidField)?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// Whether `Connection` names `token`.
pub fn connection_says(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes
/// it unless told to keep it.
pub fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    if version == Version::HTTP_10 {
        connection_says(headers, "keep-alive")
    } else {
        !connection_says(headers, "close")
    }
}

/// The body's length by `Content-Length`: every value (comma-separated
/// lists included) digits only, and all of them agreeing.
pub fn content_length(headers: &HeaderMap) -> Result<Option<u64>, &'static str> {
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let part = part.trim_ascii();
            let parsed = (!part.is_empty() && part.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(part).ok()?.parse::<u64>().ok())
                .flatten()
                .ok_or("its content-length is not a number")?;
            if length.is_some_and(|seen| seen != parsed) {
                return Err("its content-length values disagree");
            }
            length = Some(parsed);
        }
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_lengths(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::CONTENT_LENGTH, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn content_length_takes_digits_only_and_agreeing_values() {
        assert_eq!(content_length(&with_lengths(&[])), Ok(None));
        assert_eq!(content_length(&with_lengths(&["005"])), Ok(Some(5)));
        assert_eq!(content_length(&with_lengths(&["5, 5", "5"])), Ok(Some(5)));
        for bad in ["+5", "-5", "0x5", "5 5", "", "99999999999999999999999"] {
            assert!(content_length(&with_lengths(&[bad])).is_err(), "{bad:?}");
        }
        assert!(content_length(&with_lengths(&["5", "6"])).is_err());
    }

    #[test]
    fn connection_tokens_decide_keep_alive() {
        let mut headers = HeaderMap::new();
        assert!(keeps_alive(Version::HTTP_11, &headers));
        assert!(!keeps_alive(Version::HTTP_10, &headers));
        headers.insert(header::CONNECTION, HeaderValue::from_static("foo, Close"));
        assert!(!keeps_alive(Version::HTTP_11, &headers));
        headers.insert(header::CONNECTION, HeaderValue::from_static("Keep-Alive"));
        assert!(keeps_alive(Version::HTTP_10, &headers));
    }
}
