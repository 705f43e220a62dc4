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

/// The fields of `head` at `spans`, their values slices of it, in a map
/// with room for `spare` more (so the fields a proxy adds do not grow it),
/// and what they say about the body and the connection.
pub fn header_map(
    head: &Bytes,
    spans: &[Span],
    spare: usize,
) -> Result<(HeaderMap, Facts), InvalidField> {
    let mut headers = HeaderMap::with_capacity(spans.len() + spare);
    let mut facts = Facts::default();
    for span in spans {
        let (start, len) = (span.name.0 as usize, span.name.1 as usize);
        let name = HeaderName::from_bytes(&head[start..start + len]).map_err(|_| InvalidField)?;
        let (start, len) = (span.value.0 as usize, span.value.1 as usize);
        let value = HeaderValue::from_maybe_shared(head.slice(start..start + len))
            .map_err(|_| InvalidField)?;
        facts.note(&name, value.as_bytes());
        headers.append(name, value);
    }
    Ok((headers, facts))
}

/// What a head's fields say about its body's length and its connection,
/// noted field by field as the head is read or written, so that no one
/// searches the map for them afterwards.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts {
    /// `Content-Length`, when every value so far is digits and agrees.
    length: Option<u64>,
    /// What is wrong with `Content-Length`, once something is.
    bad_length: Option<&'static str>,
    /// How many `Content-Length` values came (a list counts each).
    length_values: u8,
    /// Whether a `Content-Length` value came as more than digits.
    length_unplain: bool,
    /// `Transfer-Encoding`, when present: whether its last coding is chunked.
    pub transfer_encoding: Option<bool>,
    /// Whether `Connection` names `close`.
    pub close: bool,
    /// Whether `Connection` names `keep-alive`.
    pub keep_alive: bool,
    /// Whether the head has `Expect: 100-continue`.
    pub expects_continue: bool,
    /// Whether the head has a `Date`.
    pub dated: bool,
}

impl Facts {
    /// Takes in one field.
    pub fn note(&mut self, name: &HeaderName, value: &[u8]) {
        if *name == header::CONTENT_LENGTH {
            self.note_length(value);
        } else if *name == header::TRANSFER_ENCODING {
            self.transfer_encoding = Some(ends_in_chunked(value));
        } else if *name == header::CONNECTION {
            for token in tokens(value) {
                self.close |= token.eq_ignore_ascii_case(b"close");
                self.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if *name == header::EXPECT {
            self.expects_continue = value.eq_ignore_ascii_case(b"100-continue");
        } else if *name == header::DATE {
            self.dated = true;
        }
    }

    fn note_length(&mut self, value: &[u8]) {
        self.length_unplain |= value.is_empty() || !value.iter().all(u8::is_ascii_digit);
        for part in value.split(|&b| b == b',') {
            self.length_values = self.length_values.saturating_add(1);
            let part = part.trim_ascii();
            let parsed = (!part.is_empty() && part.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(part).ok()?.parse::<u64>().ok())
                .flatten();
            match parsed {
                None => {
                    self.bad_length
                        .get_or_insert("its content-length is not a number");
                }
                Some(parsed) if self.length.is_some_and(|seen| seen != parsed) => {
                    self.bad_length
                        .get_or_insert("its content-length values disagree");
                }
                Some(parsed) => self.length = Some(parsed),
            }
        }
    }

    /// The body's length by `Content-Length`: every value (comma-separated
    /// lists included) digits only, and all of them agreeing.
    pub fn content_length(&self) -> Result<Option<u64>, &'static str> {
        match self.bad_length {
            Some(wrong) => Err(wrong),
            None => Ok(self.length),
        }
    }

    /// Whether any `Content-Length` field came.
    pub fn has_length_field(&self) -> bool {
        self.length_values > 0
    }

    /// Whether `Content-Length` came repeated or as a list, or with spaces.
    pub fn length_is_unplain(&self) -> bool {
        self.length_values > 1 || self.length_unplain
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes
    /// it unless told to keep it.
    pub fn keeps_alive(&self, version: Version) -> bool {
        if version == Version::HTTP_10 {
            self.keep_alive
        } else {
            !self.close
        }
    }
}

/// The comma-separated tokens of a list-valued field, trimmed, empty ones
/// skipped.
pub fn tokens(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(<[u8]>::trim_ascii)
        .filter(|t| !t.is_empty())
}

/// Whether a `Transfer-Encoding` value's last coding is `chunked`, which
/// alone delimits the message (RFC 9112 §6.3): the client-side and the
/// upstream codec decide a body's end by it.
pub fn ends_in_chunked(transfer_encoding: &[u8]) -> bool {
    transfer_encoding
        .rsplit(|&b| b == b',')
        .next()
        .is_some_and(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(fields: &[(&HeaderName, &str)]) -> Facts {
        let mut facts = Facts::default();
        for (name, value) in fields {
            facts.note(name, value.as_bytes());
        }
        facts
    }

    fn with_lengths(values: &[&str]) -> Facts {
        let fields: Vec<_> = values
            .iter()
            .map(|v| (&header::CONTENT_LENGTH, *v))
            .collect();
        facts(&fields)
    }

    #[test]
    fn content_length_takes_digits_only_and_agreeing_values() {
        assert_eq!(with_lengths(&[]).content_length(), Ok(None));
        assert!(!with_lengths(&[]).has_length_field());
        let plain = with_lengths(&["005"]);
        assert_eq!(plain.content_length(), Ok(Some(5)));
        assert!(plain.has_length_field() && !plain.length_is_unplain());
        let listed = with_lengths(&["5, 5", "5"]);
        assert_eq!(listed.content_length(), Ok(Some(5)));
        assert!(listed.length_is_unplain());
        assert!(with_lengths(&["5", "5"]).length_is_unplain());
        for bad in ["+5", "-5", "0x5", "5 5", "", "99999999999999999999999"] {
            assert!(with_lengths(&[bad]).content_length().is_err(), "{bad:?}");
        }
        assert!(with_lengths(&["5", "6"]).content_length().is_err());
        assert!(with_lengths(&["x", "5"]).content_length().is_err());
    }

    #[test]
    fn connection_tokens_decide_keep_alive() {
        assert!(facts(&[]).keeps_alive(Version::HTTP_11));
        assert!(!facts(&[]).keeps_alive(Version::HTTP_10));
        let close = facts(&[(&header::CONNECTION, "foo, Close")]);
        assert!(!close.keeps_alive(Version::HTTP_11));
        let keep = facts(&[(&header::CONNECTION, "Keep-Alive")]);
        assert!(keep.keeps_alive(Version::HTTP_10));
        let split = facts(&[
            (&header::CONNECTION, "foo"),
            (&header::CONNECTION, " close ,"),
        ]);
        assert!(!split.keeps_alive(Version::HTTP_11));
    }

    #[test]
    fn the_last_transfer_coding_decides_chunked() {
        assert_eq!(facts(&[]).transfer_encoding, None);
        let te = |v| facts(&[(&header::TRANSFER_ENCODING, v)]).transfer_encoding;
        assert_eq!(te("gzip, Chunked "), Some(true));
        assert_eq!(te("chunked, gzip"), Some(false));
        let split = facts(&[
            (&header::TRANSFER_ENCODING, "chunked"),
            (&header::TRANSFER_ENCODING, "gzip"),
        ]);
        assert_eq!(split.transfer_encoding, Some(false));
    }
}
