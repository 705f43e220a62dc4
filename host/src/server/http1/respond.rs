//! Writing the answer to a client's HTTP/1.1 request: the status line and
//! fields in wire form, and the body's framing — none after HEAD, 1xx, 204
//! and 304; the answer's own `Content-Length`, else the body's known size;
//! else chunked, or up to the close for an HTTP/1.0 client. `Connection`
//! says when the connection ends after it, and `Date` is added when the
//! answer has none (RFC 9110 §6.6.1), from a per-thread copy made once a
//! second.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use http::{HeaderValue, Response, StatusCode, Version, header};
use http_body::Body;

use crate::codec::fields::Facts;
use crate::codec::{Framing, Outgoing, put_header, put_length};
use crate::upstream::ProxyBody;

/// What the answer depends on of its request.
pub struct Asked {
    pub head: bool,
    pub version: Version,
    /// Whether the client and the proxy both let the connection live on.
    pub keep_alive: bool,
}

/// An answer ready to write, and whether the connection lives on after it.
pub struct Reply {
    pub outgoing: Outgoing,
    pub keep_alive: bool,
}

pub fn encode(response: Response<ProxyBody>, asked: &Asked) -> Reply {
    let (parts, body) = response.into_parts();
    let status = parts.status;
    let mut out = BytesMut::with_capacity(head_size(&parts.headers));
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.extend_from_slice(b" ");
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    // One pass writes the fields and notes what decides the framing; the
    // length and the connection's fate are written after it.
    let mut facts = Facts::default();
    for (name, value) in &parts.headers {
        facts.note(name, value.as_bytes());
        if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
            put_header(&mut out, name.as_str(), value);
        }
    }
    let no_length = status.is_informational() || status == StatusCode::NO_CONTENT;
    let bodiless = asked.head || no_length || status == StatusCode::NOT_MODIFIED;
    let declared = facts.content_length().ok().flatten();
    if let (Some(length), false) = (declared, no_length) {
        put_length(&mut out, length);
    }
    let mut keep_alive = asked.keep_alive && !facts.close;
    let framing = if bodiless {
        None
    } else if let Some(length) = declared {
        Some(Framing::Length(length))
    } else if body.is_end_stream() {
        put_length(&mut out, 0);
        None
    } else if let Some(length) = body.size_hint().exact() {
        put_length(&mut out, length);
        Some(Framing::Length(length))
    } else if asked.version == Version::HTTP_11 {
        put_header(
            &mut out,
            "transfer-encoding",
            &HeaderValue::from_static("chunked"),
        );
        Some(Framing::Chunked)
    } else {
        keep_alive = false;
        Some(Framing::UntilClose)
    };
    if status != StatusCode::SWITCHING_PROTOCOLS {
        if !keep_alive && !facts.close {
            put_header(&mut out, "connection", &HeaderValue::from_static("close"));
        } else if keep_alive && asked.version == Version::HTTP_10 {
            put_header(
                &mut out,
                "connection",
                &HeaderValue::from_static("keep-alive"),
            );
        }
    }
    if !facts.dated {
        put_date(&mut out);
    }
    out.extend_from_slice(b"\r\n");
    Reply {
        outgoing: Outgoing::new(out, framing.map(|framing| (body, framing))),
        keep_alive,
    }
}

/// The head's size in wire form, with room for the fields added here.
fn head_size(headers: &http::HeaderMap) -> usize {
    let fields: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    fields + 128
}

thread_local! {
    /// This thread's `date` field and the second it was made for.
    static DATE: RefCell<(u64, [u8; 29])> = const { RefCell::new((0, [0; 29])) };
}

fn put_date(out: &mut BytesMut) {
    let now = SystemTime::now();
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    DATE.with_borrow_mut(|(made, date)| {
        if *made != second {
            date.copy_from_slice(httpdate::fmt_http_date(now).as_bytes());
            *made = second;
        }
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    });
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty, Full, StreamBody};

    use super::*;

    fn asked(version: Version, keep_alive: bool) -> Asked {
        Asked {
            head: false,
            version,
            keep_alive,
        }
    }

    async fn wire(response: Response<ProxyBody>, asked: &Asked) -> (String, bool) {
        let mut reply = encode(response, asked);
        let mut sink = Vec::new();
        std::future::poll_fn(|cx| reply.outgoing.poll_send(&mut sink, cx))
            .await
            .unwrap();
        let text = String::from_utf8(sink).unwrap();
        // The date changes; the rest must not.
        let text = text
            .lines()
            .filter(|l| !l.starts_with("date: "))
            .collect::<Vec<_>>()
            .join("\n");
        (text, reply.keep_alive)
    }

    fn full(text: &'static str) -> ProxyBody {
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(|never| match never {})
            .boxed()
    }

    fn streamed() -> ProxyBody {
        let frames = vec![Ok(http_body::Frame::data(Bytes::from_static(b"hi")))];
        StreamBody::new(futures_util::stream::iter(frames)).boxed()
    }

    #[tokio::test]
    async fn a_known_size_gets_its_length_and_an_unknown_one_chunks() {
        let (text, kept) = wire(Response::new(full("ok")), &asked(Version::HTTP_11, true)).await;
        assert_eq!(text, "HTTP/1.1 200 OK\ncontent-length: 2\n\nok");
        assert!(kept);
        let (text, _) = wire(Response::new(streamed()), &asked(Version::HTTP_11, true)).await;
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\ntransfer-encoding: chunked\n\n2\nhi\n0\n"
        );
    }

    #[tokio::test]
    async fn an_http_1_0_client_gets_its_own_terms() {
        let (text, kept) = wire(Response::new(streamed()), &asked(Version::HTTP_10, true)).await;
        assert_eq!(text, "HTTP/1.1 200 OK\nconnection: close\n\nhi");
        assert!(!kept);
        let (text, kept) = wire(Response::new(full("ok")), &asked(Version::HTTP_10, true)).await;
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\ncontent-length: 2\nconnection: keep-alive\n\nok"
        );
        assert!(kept);
    }

    #[tokio::test]
    async fn bodiless_answers_and_the_answers_own_close() {
        let mut no_content = Response::new(Empty::new().map_err(|n| match n {}).boxed());
        *no_content.status_mut() = StatusCode::NO_CONTENT;
        no_content
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let (text, _) = wire(no_content, &asked(Version::HTTP_11, true)).await;
        assert_eq!(text, "HTTP/1.1 204 No Content\n");
        let mut head = Response::new(full("body"));
        head.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("4"));
        let asked_head = Asked {
            head: true,
            ..asked(Version::HTTP_11, true)
        };
        let (text, _) = wire(head, &asked_head).await;
        assert_eq!(text, "HTTP/1.1 200 OK\ncontent-length: 4\n");
        let mut refused = Response::new(full("no"));
        *refused.status_mut() = StatusCode::BAD_REQUEST;
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        let (text, kept) = wire(refused, &asked(Version::HTTP_11, true)).await;
        assert_eq!(
            text,
            "HTTP/1.1 400 Bad Request\nconnection: close\ncontent-length: 2\n\nno"
        );
        assert!(!kept);
    }

    #[test]
    fn a_date_is_added_when_the_answer_has_none() {
        let reply = encode(Response::new(full("")), &asked(Version::HTTP_11, true));
        let mut out = Vec::new();
        let mut outgoing = reply.outgoing;
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(outgoing.poll_send(&mut out, &mut cx).is_ready());
        let text = String::from_utf8(out).unwrap();
        let date = text.lines().find_map(|l| l.strip_prefix("date: ")).unwrap();
        assert!(httpdate::parse_http_date(date.trim()).is_ok(), "{date}");
    }
}
