//! Reading an HTTP/1.1 upstream's response head: one `httparse` pass over
//! the bytes read, header values kept as slices of them (no copy), and the
//! body's framing decided by RFC 9112 §6.3: no body after HEAD, 1xx, 204
//! and 304; chunked when `Transfer-Encoding` ends in it (any
//! `Content-Length` beside it dropped, and the connection with it); else
//! `Content-Length`, all its values agreeing; else until the connection
//! closes.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::{HeaderMap, Method, Response, StatusCode, Version, header};

use super::Http1Error;
use crate::codec::Decoder;
use crate::codec::fields::{self, Facts, MAX_HEADERS, Span};

/// The largest response head read, as a limit against a runaway upstream.
pub const MAX_HEAD: usize = 64 * 1024;

/// Room kept in a response's header map for the fields the proxy and its
/// plugins add on the way back, so that adding them does not grow it.
const FIELDS_ADDED: usize = 4;

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

fn take_one(buf: &mut BytesMut, method: &Method) -> Result<Option<Head>, Http1Error> {
    let mut slots = [const { MaybeUninit::<httparse::Header>::uninit() }; MAX_HEADERS];
    let mut spans = [Span::default(); MAX_HEADERS];
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
    let count = parsed.headers.len();
    fields::spans(buf, parsed.headers, &mut spans);
    let head = buf.split_to(length).freeze();
    let (mut headers, facts) = fields::header_map(&head, &spans[..count], FIELDS_ADDED)
        .map_err(|_| Http1Error::Malformed("a header field is not valid"))?;
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = version;
    let keep_alive = facts.keeps_alive(version);
    let (decoder, framing_keeps_alive) = framing(method, status, &facts, &mut headers)?;
    *response.headers_mut() = headers;
    Ok(Some(Head {
        response,
        decoder,
        keep_alive: keep_alive && framing_keeps_alive,
    }))
}

/// The body's decoder, and whether its framing lets the connection live on.
fn framing(
    method: &Method,
    status: StatusCode,
    facts: &Facts,
    headers: &mut HeaderMap,
) -> Result<(Decoder, bool), Http1Error> {
    if method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok((Decoder::length(0), true));
    }
    if let Some(chunked) = facts.transfer_encoding {
        let had_length = facts.has_length_field();
        if had_length {
            headers.remove(header::CONTENT_LENGTH);
        }
        return Ok(if chunked {
            (Decoder::chunked(), !had_length)
        } else {
            (Decoder::until_close(), false)
        });
    }
    let length = facts.content_length().map_err(Http1Error::Malformed)?;
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
