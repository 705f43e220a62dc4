//! Reading a client's HTTP/1.1 request head: one `httparse` pass over the
//! bytes read, the target and header values kept as slices of them, and
//! the body's framing by RFC 9112 §6.3 — with the one reading a smuggler
//! relies on, `Content-Length` beside `Transfer-Encoding`, marked
//! ambiguous so the pipeline refuses it (and the connection closes) where
//! RFC 9112 would let the length be ignored.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::{HeaderValue, Method, Request, StatusCode, Uri, Version, header, request};

use crate::codec::fields::{self, Facts, MAX_HEADERS, Span};

/// Room kept in a request's header map for the fields the proxy adds
/// (`X-Forwarded-*`, `Forwarded`, `Via`, a request id), so that adding
/// them does not grow it.
const FIELDS_ADDED: usize = 8;

/// A request head, and how its body follows.
pub struct RequestHead {
    pub parts: request::Parts,
    pub body: BodyFraming,
    /// Whether the client lets the connection carry another request.
    pub keep_alive: bool,
    /// Whether the client waits for `100 Continue` before its body.
    pub expect_continue: bool,
}

/// How a request's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    /// Both `Content-Length` and `Transfer-Encoding`: no body is read, the
    /// request is refused and the connection closed after the answer (the
    /// head says it does not keep alive).
    Ambiguous,
}

/// A head the proxy answers itself, with a 400 or a 431, and then closes.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    #[error("the request head is over {0} bytes or {MAX_HEADERS} fields")]
    TooLarge(usize),
    #[error("the request head is malformed: {0}")]
    Parse(httparse::Error),
    #[error("the request is malformed: {0}")]
    Malformed(&'static str),
}

impl HeadError {
    pub fn status(&self) -> StatusCode {
        match self {
            HeadError::TooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Takes the head at the start of `buf` off it, or `None` while it is not
/// complete. Blank lines before a request line are skipped (RFC 9112 §2.2).
pub fn take(buf: &mut BytesMut, max_head: usize) -> Result<Option<RequestHead>, HeadError> {
    let mut slots = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut spans = [Span::default(); MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut []);
    let length = match parsed.parse_with_uninit_headers(buf, &mut slots) {
        Ok(httparse::Status::Complete(length)) if length <= max_head => length,
        Ok(httparse::Status::Partial) if buf.len() <= max_head => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge(max_head)),
        Err(e) => return Err(HeadError::Parse(e)),
    };
    let method = Method::from_bytes(parsed.method.unwrap_or_default().as_bytes())
        .map_err(|_| HeadError::Malformed("the method is not a token"))?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let target = parsed.path.unwrap_or_default().as_bytes();
    let target_at = target.as_ptr() as usize - buf.as_ptr() as usize;
    let target_range = target_at..target_at + target.len();
    let count = parsed.headers.len();
    fields::spans(buf, parsed.headers, &mut spans);
    let head = buf.split_to(length).freeze();
    let uri = Uri::from_maybe_shared(head.slice(target_range))
        .map_err(|_| HeadError::Malformed("the request target is not a valid URI"))?;
    let (mut headers, facts) = fields::header_map(&head, &spans[..count], FIELDS_ADDED)
        .map_err(|_| HeadError::Malformed("a header field is not valid"))?;
    let body = framing(version, &facts, &mut headers)?;
    let expect_continue = version == Version::HTTP_11
        && facts.expects_continue
        && !matches!(body, BodyFraming::None | BodyFraming::Ambiguous);
    let keep_alive = facts.keeps_alive(version) && body != BodyFraming::Ambiguous;
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.version = version;
    parts.headers = headers;
    Ok(Some(RequestHead {
        parts,
        body,
        keep_alive,
        expect_continue,
    }))
}

/// The body's framing: `Transfer-Encoding` (HTTP/1.1 only, ending in
/// chunked) over none; else `Content-Length`, left as one plain number
/// when it came repeated or as a list of the same; else no body.
fn framing(
    version: Version,
    facts: &Facts,
    headers: &mut http::HeaderMap,
) -> Result<BodyFraming, HeadError> {
    if let Some(chunked) = facts.transfer_encoding {
        if version == Version::HTTP_10 {
            return Err(HeadError::Malformed(
                "Transfer-Encoding in an HTTP/1.0 request",
            ));
        }
        if facts.has_length_field() {
            return Ok(BodyFraming::Ambiguous);
        }
        if !chunked {
            return Err(HeadError::Malformed(
                "the last transfer coding is not chunked",
            ));
        }
        return Ok(BodyFraming::Chunked);
    }
    let Some(length) = facts.content_length().map_err(HeadError::Malformed)? else {
        return Ok(BodyFraming::None);
    };
    if facts.length_is_unplain() {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(match length {
        0 => BodyFraming::None,
        length => BodyFraming::Length(length),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(wire: &str) -> Result<Option<(RequestHead, BytesMut)>, HeadError> {
        let mut buf = BytesMut::from(wire);
        Ok(take(&mut buf, 8192)?.map(|head| (head, buf)))
    }

    fn head(wire: &str) -> RequestHead {
        parse(wire).unwrap().unwrap().0
    }

    #[test]
    fn a_complete_head_is_taken_and_the_body_left() {
        let (head, rest) = parse(
            "\r\nPOST /a?b=c HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\nokGET",
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.parts.method, Method::POST);
        assert_eq!(head.parts.uri, "/a?b=c");
        let values: Vec<_> = head.parts.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert_eq!(head.body, BodyFraming::Length(2));
        assert!(head.keep_alive && !head.expect_continue);
        assert_eq!(&rest[..], b"okGET");
    }

    #[test]
    fn a_partial_head_waits_and_a_huge_one_is_refused() {
        assert!(parse("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        let huge = format!("GET / HTTP/1.1\r\nA: {}\r\n", "x".repeat(8192));
        assert!(matches!(parse(&huge), Err(HeadError::TooLarge(_))));
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        let refused = parse(&many).err().unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
    }

    #[test]
    fn framing_follows_rfc_9112_and_refuses_ambiguity() {
        let chunked = head("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(chunked.body, BodyFraming::Chunked);
        let both =
            head("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(both.body, BodyFraming::Ambiguous);
        assert!(!both.keep_alive, "the connection closes after the refusal");
        assert_eq!(head("GET / HTTP/1.1\r\n\r\n").body, BodyFraming::None);
        let listed = head("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(listed.body, BodyFraming::Length(5));
        let values: Vec<_> = listed
            .parts
            .headers
            .get_all("content-length")
            .iter()
            .collect();
        assert_eq!(values, ["5"], "passed on as one plain number");
        assert_eq!(
            head("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").body,
            BodyFraming::None
        );
        for bad in [
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(HeadError::Malformed(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keep_alive_and_expect_follow_the_version() {
        assert!(!head("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive);
        assert!(!head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive);
        let expect = head("PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n");
        assert!(expect.expect_continue);
        assert!(!head("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n").expect_continue);
    }

    #[test]
    fn bad_heads_are_refused_with_a_400() {
        for wire in [
            "GET / HTTP/1.2\r\n\r\n",
            "GET /\r\n\r\n",
            "GET / HTTP/1.1\r\nX A: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\x00b\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
        ] {
            let error = parse(wire)
                .err()
                .unwrap_or_else(|| panic!("{wire:?} taken"));
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{wire:?}");
        }
    }
}
