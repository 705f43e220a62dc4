//! Writing an HTTP/1.1 message: its head, already in wire form, then its
//! body framed by length, in chunks (trailers included) or up to the
//! close, pulled from the body as the socket takes it. Head and the body's
//! first frames go out in one write when they are ready together.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::Body;
use tokio::io::AsyncWrite;

use crate::upstream::proxy_body::{BoxError, ProxyBody, empty_body};

/// Body bytes gathered before they are written, at most.
const WRITE_BATCH: usize = 64 * 1024;

/// How a body is delimited on the wire.
pub enum Framing {
    /// So many bytes still to send.
    Length(u64),
    Chunked,
    /// The bytes as they come; the connection's close ends them.
    UntilClose,
}

/// Why a message could not be written whole.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("writing failed: {0}")]
    Write(std::io::Error),
    #[error("its body failed: {0}")]
    Body(BoxError),
    #[error("{0}")]
    Length(&'static str),
}

/// A message's bytes on their way out: what is encoded and not yet
/// written, and the body still to read.
pub struct Outgoing {
    out: BytesMut,
    body: Option<(ProxyBody, Framing)>,
    /// Whether a byte has been written or a body frame taken: past that,
    /// the message cannot be given back whole.
    touched: bool,
}

impl Outgoing {
    /// A message whose head is `head`; its body (if any) follows as
    /// [`Outgoing::poll_send`] is polled.
    pub fn new(head: BytesMut, body: Option<(ProxyBody, Framing)>) -> Self {
        Self {
            out: head,
            body,
            touched: false,
        }
    }

    /// Whether a byte has gone out or a body frame been taken.
    pub fn is_touched(&self) -> bool {
        self.touched
    }

    /// The body, when nothing has gone out or been taken from it.
    pub fn into_unsent(self) -> Option<ProxyBody> {
        if self.touched {
            return None;
        }
        Some(match self.body {
            Some((body, _)) => body,
            None => empty_body(),
        })
    }

    /// Writes what is encoded and encodes more as the body yields it;
    /// ready once the whole message is written and flushed.
    pub fn poll_send<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError>> {
        loop {
            let body_open = self.fill(cx)?;
            if self.out.is_empty() {
                ready!(Pin::new(&mut *io).poll_flush(cx)).map_err(SendError::Write)?;
                return if body_open {
                    Poll::Pending
                } else {
                    Poll::Ready(Ok(()))
                };
            }
            let written =
                ready!(Pin::new(&mut *io).poll_write(cx, &self.out)).map_err(SendError::Write)?;
            if written == 0 {
                return Poll::Ready(Err(SendError::Write(std::io::ErrorKind::WriteZero.into())));
            }
            self.touched = true;
            self.out.advance(written);
        }
    }

    /// Encodes the body's frames that are ready, up to a batch; whether the
    /// body has more to come.
    fn fill(&mut self, cx: &mut Context<'_>) -> Result<bool, SendError> {
        while let Some((body, framing)) = &mut self.body {
            if self.out.len() >= WRITE_BATCH {
                return Ok(true);
            }
            let frame = match Pin::new(&mut *body).poll_frame(cx) {
                Poll::Pending => return Ok(true),
                Poll::Ready(Some(frame)) => {
                    self.touched = true;
                    frame.map_err(SendError::Body)?
                }
                Poll::Ready(None) => {
                    finish(framing, None, &mut self.out)?;
                    self.body = None;
                    return Ok(false);
                }
            };
            match frame.into_data() {
                Ok(data) => put_data(framing, &data, &mut self.out)?,
                // Trailers end the body: only chunked framing carries them.
                Err(frame) => {
                    finish(framing, frame.trailers_ref(), &mut self.out)?;
                    self.body = None;
                    return Ok(false);
                }
            }
        }
        Ok(false)
    }
}

fn put_data(framing: &mut Framing, data: &[u8], out: &mut BytesMut) -> Result<(), SendError> {
    match framing {
        Framing::Length(left) => {
            *left = left
                .checked_sub(data.len() as u64)
                .ok_or(SendError::Length(
                    "its body is longer than its content-length",
                ))?;
            out.extend_from_slice(data);
        }
        Framing::Chunked if data.is_empty() => {}
        Framing::Chunked => {
            let mut size = [0u8; 16];
            let digits = hex(data.len(), &mut size);
            out.reserve(digits.len() + data.len() + 4);
            out.extend_from_slice(digits);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
        }
        Framing::UntilClose => out.extend_from_slice(data),
    }
    Ok(())
}

/// The lower-case hex digits of `n`, written into `buf`.
fn hex(mut n: usize, buf: &mut [u8; 16]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            return &buf[at..];
        }
    }
}

fn finish(
    framing: &Framing,
    trailers: Option<&HeaderMap>,
    out: &mut BytesMut,
) -> Result<(), SendError> {
    match framing {
        Framing::Length(0) | Framing::UntilClose => Ok(()),
        Framing::Length(_) => Err(SendError::Length(
            "its body is shorter than its content-length",
        )),
        Framing::Chunked => {
            out.extend_from_slice(b"0\r\n");
            for (name, value) in trailers.into_iter().flatten() {
                put_header(out, name.as_str(), value);
            }
            out.extend_from_slice(b"\r\n");
            Ok(())
        }
    }
}

/// Appends one header field in wire form.
pub fn put_header(out: &mut BytesMut, name: &str, value: &HeaderValue) {
    out.reserve(name.len() + value.len() + 4);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes a `content-length` field of `length`.
pub fn put_length(out: &mut BytesMut, length: u64) {
    out.extend_from_slice(b"content-length: ");
    out.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    async fn wire(framing: Framing, frames: Vec<http_body::Frame<Bytes>>) -> String {
        let body = StreamBody::new(futures_util::stream::iter(
            frames.into_iter().map(Ok::<_, BoxError>),
        ))
        .boxed();
        let mut outgoing = Outgoing::new(BytesMut::from("HEAD\r\n"), Some((body, framing)));
        let mut sink = Vec::new();
        std::future::poll_fn(|cx| outgoing.poll_send(&mut sink, cx))
            .await
            .unwrap();
        String::from_utf8(sink).unwrap()
    }

    #[tokio::test]
    async fn chunks_carry_their_size_in_hex_and_trailers_end_them() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        let frames = vec![
            http_body::Frame::data(Bytes::from(vec![b'a'; 26])),
            http_body::Frame::data(Bytes::new()),
            http_body::Frame::trailers(trailers),
        ];
        let expected = format!(
            "HEAD\r\n1a\r\n{}\r\n0\r\ngrpc-status: 0\r\n\r\n",
            "a".repeat(26)
        );
        assert_eq!(wire(Framing::Chunked, frames).await, expected);
        assert_eq!(wire(Framing::Chunked, vec![]).await, "HEAD\r\n0\r\n\r\n");
    }

    #[tokio::test]
    async fn other_framings_drop_trailers() {
        let frames = || {
            vec![
                http_body::Frame::data(Bytes::from_static(b"ok")),
                http_body::Frame::trailers(HeaderMap::new()),
            ]
        };
        assert_eq!(wire(Framing::Length(2), frames()).await, "HEAD\r\nok");
        assert_eq!(wire(Framing::UntilClose, frames()).await, "HEAD\r\nok");
    }

    #[test]
    fn hex_sizes() {
        let mut buf = [0u8; 16];
        assert_eq!(hex(0, &mut buf), b"0");
        assert_eq!(hex(0x1f40, &mut buf), b"1f40");
        assert_eq!(hex(usize::MAX, &mut buf), b"ffffffffffffffff");
    }
}
