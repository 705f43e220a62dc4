//! Reading an HTTP/1.1 upstream's response head: one `httparse` pass over
//! the bytes read, header values kept as slices of them (no copy), and the
//! body's framing decided by RFC 9112 §6.3: no body after HEAD, 1xx, 204
//! and 304; chunked when `Transfer-Encoding` ends in it (any
//! `Content-Length` beside it dropped, and the connection with it); else
//! `Content-Length`, all its values agreeing; else until the connection
//! closes.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version, header};

use super::Http1Error;
use super::decode::Decoder;
use crate::hygiene;

/// The largest response head read, as a limit against a runaway upstream.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a response head (hyper's limit too).
pub const MAX_HEADERS: usize = 100;

/// A response head, and how its body follows.
pub struct Head {
    pub response: Response<()>,
    pub decoder: Decoder,
    /// Whether the connection can carry another exchange after this one.
    pub keep_alive: bool,
}

/// Takes the head at the start of `buf` off it, or `None` while it is not
/// complete. Informational answers (1xx but 101) are taken off and skipped.
pub fn take(buf: &mut BytesMut, method: &Method) -> Result<Option<Head>, Http1Error> {
    loop {
        let Some(head) = take_one(buf, method)? else {
            return Ok(None);
        };
        if !head.response.status().is_informational()
            || head.response.status() == StatusCode::SWITCHING_PROTOCOLS
        {
            return Ok(Some(head));
        }
    }
}

/// Where a header's name and value lie in the head.
#[derive(Clone, Copy, Default)]
struct Field {
    name: (u32, u32),
    value: (u32, u32),
}

fn take_one(buf: &mut BytesMut, method: &Method) -> Result<Option<Head>, Http1Error> {
    let mut slots = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut fields = [Field::default(); MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut []);
    let parse = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut parsed,
        buf,
        &mut slots,
    );
    let length = match parse {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(Http1Error::HeadTooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Http1Error::HeadTooLarge),
        Err(e) => return Err(Http1Error::MalformedHead(e)),
    };
    let status = parsed
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(Http1Error::Malformed("its status code is out of range"))?;
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let base = buf.as_ptr() as usize;
    let offset = |part: &[u8]| ((part.as_ptr() as usize - base) as u32, part.len() as u32);
    let count = parsed.headers.len();
    for (field, header) in fields.iter_mut().zip(parsed.headers.iter()) {
        *field = Field {
            name: offset(header.name.as_bytes()),
            value: offset(header.value),
        };
    }
    let head = buf.split_to(length).freeze();
    let mut headers = HeaderMap::with_capacity(count);
    for field in &fields[..count] {
        let (start, len) = (field.name.0 as usize, field.name.1 as usize);
        let name = HeaderName::from_bytes(&head[start..start + len]).map_err(|_| bad_field())?;
        let (start, len) = (field.value.0 as usize, field.value.1 as usize);
        let value = HeaderValue::from_maybe_shared(head.slice(start..start + len))
            .map_err(|_| bad_field())?;
        headers.append(name, value);
    }
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = version;
    let keep_alive = keeps_alive(version, &headers);
    let (decoder, framing_keeps_alive) = framing(method, status, &mut headers)?;
    *response.headers_mut() = headers;
    Ok(Some(Head {
        response,
        decoder,
        keep_alive: keep_alive && framing_keeps_alive,
    }))
}

fn bad_field() -> Http1Error {
    Http1Error::Malformed("a header field is not valid")
}

/// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes
/// it unless told to keep it.
fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let says = |token: &str| {
        headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if version == Version::HTTP_10 {
        says("keep-alive")
    } else {
        !says("close")
    }
}

/// The body's decoder, and whether its framing lets the connection live on.
fn framing(
    method: &Method,
    status: StatusCode,
    headers: &mut HeaderMap,
) -> Result<(Decoder, bool), Http1Error> {
    if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((Decoder::length(0), true));
    }
    if let Some(last) = headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .next_back()
    {
        let chunked = hygiene::ends_in_chunked(last.as_bytes());
        let had_length = headers.remove(header::CONTENT_LENGTH).is_some();
        return Ok(if chunked {
            (Decoder::chunked(), !had_length)
        } else {
            (Decoder::until_close(), false)
        });
    }
    let mut length = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for part in value.as_bytes().split(|&b| b == b',') {
            let part = part.trim_ascii();
            let parsed = (!part.is_empty() && part.iter().all(u8::is_ascii_digit))
                .then(|| std::str::from_utf8(part).ok()?.parse::<u64>().ok())
                .flatten()
                .ok_or(Http1Error::Malformed("its content-length is not a number"))?;
            if length.is_some_and(|seen| seen != parsed) {
                return Err(Http1Error::Malformed("its content-length values disagree"));
            }
            length = Some(parsed);
        }
    }
    Ok(match length {
        Some(length) => (Decoder::length(length), true),
        None => (Decoder::until_close(), false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(wire: &str, method: Method) -> Result<Option<(Head, BytesMut)>, Http1Error> {
        let mut buf = BytesMut::from(wire);
        Ok(take(&mut buf, &method)?.map(|head| (head, buf)))
    }

    fn head(wire: &str) -> Head {
        parse(wire, Method::GET).unwrap().unwrap().0
    }

    #[test]
    fn a_complete_head_is_taken_and_the_body_left() {
        let (head, rest) = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\nok",
            Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(head.response.status(), 200);
        let values: Vec<_> = head.response.headers().get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert!(head.keep_alive);
        assert_eq!(head.decoder.size_hint().exact(), Some(2));
        assert_eq!(&rest[..], b"ok");
    }

    #[test]
    fn a_partial_head_waits_and_a_huge_one_fails() {
        assert!(
            parse("HTTP/1.1 200 OK\r\nA: b\r\n", Method::GET)
                .unwrap()
                .is_none()
        );
        let huge = format!("HTTP/1.1 200 OK\r\nA: {}\r\n", "x".repeat(MAX_HEAD));
        assert!(matches!(
            parse(&huge, Method::GET),
            Err(Http1Error::HeadTooLarge)
        ));
    }

    #[test]
    fn informational_answers_are_skipped_but_101_is_not() {
        let (answer, rest) = parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            Method::POST,
        )
        .unwrap()
        .unwrap();
        assert_eq!(answer.response.status(), 204);
        assert!(rest.is_empty());
        let upgrade = head("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
        assert_eq!(upgrade.response.status(), 101);
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert!(chunked.keep_alive && !chunked.decoder.is_done());
        let both =
            head("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert!(!both.keep_alive);
        assert!(!both.response.headers().contains_key("content-length"));
        let not_chunked = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
        assert!(!not_chunked.keep_alive);
        let unframed = head("HTTP/1.1 200 OK\r\n\r\n");
        assert!(!unframed.keep_alive);
        let repeated = head("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n");
        assert_eq!(repeated.decoder.size_hint().exact(), Some(3));
        let (head_answer, _) = parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", Method::HEAD)
            .unwrap()
            .unwrap();
        assert!(head_answer.decoder.is_done() && head_answer.keep_alive);
        assert!(
            head("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n")
                .decoder
                .is_done()
        );
    }

    #[test]
    fn connection_tokens_decide_keep_alive() {
        assert!(
            !head("HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 0\r\n\r\n")
                .keep_alive
        );
        assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        let kept = head("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(kept.keep_alive);
        assert_eq!(kept.response.version(), Version::HTTP_10);
    }

    #[test]
    fn bad_heads_fail_with_what_is_wrong() {
        for wire in [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        ] {
            assert!(
                matches!(parse(wire, Method::GET), Err(Http1Error::Malformed(_))),
                "{wire:?}"
            );
        }
        assert!(matches!(
            parse("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", Method::GET),
            Err(Http1Error::MalformedHead(_))
        ));
        assert!(matches!(
            parse("SMTP ready\r\n\r\n", Method::GET),
            Err(Http1Error::MalformedHead(_))
        ));
    }
}
