//! Writing a request to an HTTP/1.1 upstream: the head in wire form, then
//! the body framed by its length or in chunks (trailers included), pulled
//! from the request's body as the socket takes it. The framing follows the request's own
//! `Content-Length` when it has one, else what its body knows of its size,
//! as hyper's client does (a GET, HEAD or CONNECT of unknown size goes
//! without a body).

use std::task::{Context, Poll};

use bytes::BytesMut;
use http::{HeaderValue, Method, header, request};
use http_body::Body;
use tokio::io::AsyncWrite;

use super::Http1Error;
use crate::codec::fields::Facts;
use crate::codec::{Framing, Outgoing, SendError, put_header, put_length};
use crate::upstream::proxy_body::ProxyBody;

/// A request's bytes on their way out (see [`Outgoing`]).
pub struct Upload(Outgoing);

impl Upload {
    /// Encodes the head of `parts`; the body follows as [`Upload::poll_send`]
    /// is polled.
    pub fn new(parts: &request::Parts, body: ProxyBody) -> Result<Self, Http1Error> {
        let mut out = BytesMut::with_capacity(head_size(parts));
        out.extend_from_slice(parts.method.as_str().as_bytes());
        out.extend_from_slice(b" ");
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let mut facts = Facts::default();
        for (name, value) in &parts.headers {
            facts.note(name, value.as_bytes());
            if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
                put_header(&mut out, name.as_str(), value);
            }
        }
        let framing = framing(parts, &facts, &body)?;
        match &framing {
            Some(Framing::Length(n)) => put_length(&mut out, *n),
            Some(Framing::Chunked) => {
                put_header(
                    &mut out,
                    "transfer-encoding",
                    &HeaderValue::from_static("chunked"),
                );
            }
            _ => {}
        }
        out.extend_from_slice(b"\r\n");
        Ok(Self(Outgoing::new(
            out,
            framing.map(|framing| (body, framing)),
        )))
    }

    /// Whether a byte has gone out or a body frame been taken.
    pub fn is_touched(&self) -> bool {
        self.0.is_touched()
    }

    /// The body, when nothing of the request has gone out or been taken
    /// from it: the request can then go whole on another connection.
    pub fn into_unsent(self) -> Option<ProxyBody> {
        self.0.into_unsent()
    }

    /// Writes what is encoded and encodes more as the body yields it;
    /// ready once the whole request is written and flushed.
    pub fn poll_send<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Http1Error>> {
        self.0.poll_send(io, cx).map_err(|e| match e {
            SendError::Write(e) => Http1Error::Write(e),
            SendError::Body(e) => Http1Error::RequestBody(e),
            SendError::Length(why) => Http1Error::Request(why),
        })
    }
}

/// The framing of the body, or `None` when the request goes without one.
fn framing(
    parts: &request::Parts,
    facts: &Facts,
    body: &ProxyBody,
) -> Result<Option<Framing>, Http1Error> {
    if let Some(length) = facts.content_length().map_err(Http1Error::Request)? {
        return Ok(Some(Framing::Length(length)));
    }
    if body.is_end_stream() {
        return Ok(None);
    }
    Ok(match body.size_hint().exact() {
        Some(length) => Some(Framing::Length(length)),
        None if matches!(parts.method, Method::GET | Method::HEAD | Method::CONNECT) => None,
        None => Some(Framing::Chunked),
    })
}

/// The head's size in wire form, with room for a framing header.
fn head_size(parts: &request::Parts) -> usize {
    let target = parts.uri.path_and_query().map_or(1, |p| p.as_str().len());
    let headers: usize = parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    parts.method.as_str().len() + target + 12 + headers + 32
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, StreamBody};

    use super::*;

    fn body(data: &'static [u8]) -> ProxyBody {
        Full::new(Bytes::from_static(data))
            .map_err(|never| match never {})
            .boxed()
    }

    /// A body of unknown size that yields `parts` one by one.
    fn streamed(parts: &[&'static [u8]]) -> ProxyBody {
        let frames = parts
            .iter()
            .map(|p| Ok(http_body::Frame::data(Bytes::from_static(p))))
            .collect::<Vec<_>>();
        StreamBody::new(futures_util::stream::iter(frames)).boxed()
    }

    async fn wire(request: http::Request<ProxyBody>) -> Result<String, Http1Error> {
        let (parts, body) = request.into_parts();
        let mut upload = Upload::new(&parts, body)?;
        let mut sink = Vec::new();
        std::future::poll_fn(|cx| upload.poll_send(&mut sink, cx)).await?;
        Ok(String::from_utf8(sink).unwrap())
    }

    #[tokio::test]
    async fn a_get_goes_without_framing_headers() {
        let request = http::Request::get("/a?b=c")
            .header("host", "origin")
            .body(body(b""))
            .unwrap();
        assert_eq!(
            wire(request).await.unwrap(),
            "GET /a?b=c HTTP/1.1\r\nhost: origin\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_body_of_known_size_gets_its_length() {
        let request = http::Request::post("/").body(body(b"hello")).unwrap();
        assert_eq!(
            wire(request).await.unwrap(),
            "POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello"
        );
    }

    #[tokio::test]
    async fn a_body_of_unknown_size_is_chunked() {
        let request = http::Request::put("/")
            .header("transfer-encoding", "chunked")
            .body(streamed(&[b"hello", b"", b" world!"]))
            .unwrap();
        assert_eq!(
            wire(request).await.unwrap(),
            "PUT / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn a_get_of_unknown_size_goes_without_its_body() {
        let request = http::Request::get("/").body(streamed(&[b"x"])).unwrap();
        assert_eq!(wire(request).await.unwrap(), "GET / HTTP/1.1\r\n\r\n");
    }

    #[tokio::test]
    async fn a_body_that_disagrees_with_its_content_length_fails() {
        let long = http::Request::post("/")
            .header("content-length", "3")
            .body(streamed(&[b"hello"]))
            .unwrap();
        let short = http::Request::post("/")
            .header("content-length", "9")
            .body(streamed(&[b"hello"]))
            .unwrap();
        let bad = http::Request::post("/")
            .header("content-length", "five")
            .body(body(b"hello"))
            .unwrap();
        for request in [long, short, bad] {
            assert!(matches!(wire(request).await, Err(Http1Error::Request(_))));
        }
    }
}
