//! One HTTP/1.1 upstream connection, spoken by our own codec and driven by
//! the request that uses it: the request's task writes the request, reads
//! the response head, and its body reads the rest (see [`body`]). No task
//! or channel of its own; idle in the pool it is not polled at all.

mod body;
mod request;
mod response;
mod upgraded;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use http::{Method, Request, Response, StatusCode};
use tokio::io::{AsyncRead, ReadBuf};

pub use body::ResponseBody;
pub use upgraded::OriginUpgrade;

use super::connect::Stream;
use super::pool::{IdlePool, Reusable};
use super::proxy_body::{BoxError, ProxyBody};
use request::Upload;
use response::Head;

/// What went wrong in an exchange with an HTTP/1.1 upstream.
#[derive(Debug, thiserror::Error)]
pub enum Http1Error {
    #[error("reading from the upstream failed: {0}")]
    Read(std::io::Error),
    #[error("writing to the upstream failed: {0}")]
    Write(std::io::Error),
    #[error("the upstream closed the connection before a complete response head")]
    ClosedBeforeHead,
    #[error("the upstream closed the connection before the end of the response body")]
    Truncated,
    #[error("the upstream's response head is over {} KiB or {} fields", response::MAX_HEAD / 1024, crate::codec::fields::MAX_HEADERS)]
    HeadTooLarge,
    #[error("the upstream's response head is malformed: {0}")]
    MalformedHead(httparse::Error),
    #[error("the upstream's response is malformed: {0}")]
    Malformed(&'static str),
    #[error("the request cannot be sent: {0}")]
    Request(&'static str),
    #[error("the request's body failed: {0}")]
    RequestBody(BoxError),
}

impl From<crate::codec::BodyError> for Http1Error {
    fn from(error: crate::codec::BodyError) -> Self {
        use crate::codec::BodyError;
        match error {
            BodyError::Malformed(why) => Http1Error::Malformed(why),
            BodyError::Trailers(e) => Http1Error::MalformedHead(e),
            BodyError::Truncated => Http1Error::Truncated,
        }
    }
}

/// An exchange that failed, with the request when none of it went out.
pub enum Failure {
    /// Nothing was written nor taken from the body: the request can go
    /// whole on another connection.
    Unsent(Box<Request<ProxyBody>>, Http1Error),
    Failed(Http1Error),
}

pub struct Http1 {
    io: Stream,
    /// Bytes read and not yet taken. Kept while the connection is idle, as
    /// hyper kept its buffers: once the last response's frames are gone its
    /// allocation is reused whole, where a fresh one per exchange cost more
    /// than parsing the head.
    read: BytesMut,
}

/// Bytes asked of the socket for a response head and the start of its body.
const HEAD_READ: usize = 8 * 1024;

impl Http1 {
    pub fn new(io: Stream) -> Self {
        Self {
            io,
            read: BytesMut::new(),
        }
    }

    /// Sends `request` and reads until the response head has arrived; the
    /// response's body reads the rest and then gives the connection back
    /// to `pool`.
    pub async fn exchange(
        mut self,
        request: Request<ProxyBody>,
        pool: &Arc<IdlePool<Http1>>,
    ) -> Result<Response<ResponseBody>, Failure> {
        let (parts, body) = request.into_parts();
        let mut upload = Some(Upload::new(&parts, body).map_err(Failure::Failed)?);
        let mut write_failed = None;
        let head = poll_fn(|cx| {
            if let Some(sending) = &mut upload {
                match sending.poll_send(&mut self.io, cx) {
                    Poll::Pending => {}
                    Poll::Ready(Ok(())) => upload = None,
                    Poll::Ready(Err(e @ (Http1Error::Request(_) | Http1Error::RequestBody(_)))) => {
                        return Poll::Ready(Err(e));
                    }
                    // The origin may have answered before it stopped
                    // reading (a 413, say): its answer is still read.
                    Poll::Ready(Err(e)) if sending.is_touched() => {
                        write_failed = Some(e);
                        upload = None;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                }
            }
            self.poll_head(cx, &parts.method)
        })
        .await;
        let head = match head {
            Ok(head) => head,
            Err(error) => {
                let error = write_failed.unwrap_or(error);
                return Err(match upload.and_then(Upload::into_unsent) {
                    Some(body) => {
                        Failure::Unsent(Box::new(Request::from_parts(parts, body)), error)
                    }
                    None => Failure::Failed(error),
                });
            }
        };
        let Head {
            response,
            decoder,
            keep_alive,
        } = head;
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let mut response = response.map(|()| ResponseBody::empty());
            let upgrade = OriginUpgrade::new(self.io, self.read);
            response.extensions_mut().insert(upgrade);
            return Ok(response);
        }
        let keep_alive = keep_alive && write_failed.is_none();
        let body = ResponseBody::new(self, upload, decoder, keep_alive, pool.clone());
        Ok(response.map(|()| body))
    }

    /// Reads until a whole response head is in, and takes it.
    fn poll_head(
        &mut self,
        cx: &mut Context<'_>,
        method: &Method,
    ) -> Poll<Result<Head, Http1Error>> {
        loop {
            if !self.read.is_empty()
                && let Some(head) = response::take(&mut self.read, method)?
            {
                return Poll::Ready(Ok(head));
            }
            match std::task::ready!(self.poll_read(cx, HEAD_READ)) {
                Ok(0) => return Poll::Ready(Err(Http1Error::ClosedBeforeHead)),
                Ok(_) => {}
                Err(e) => return Poll::Ready(Err(Http1Error::Read(e))),
            }
        }
    }

    /// Reads what the socket has into the buffer, with room for `hint`
    /// bytes; `Ok(0)` at the connection's end.
    fn poll_read(&mut self, cx: &mut Context<'_>, hint: usize) -> Poll<std::io::Result<usize>> {
        self.read.reserve(hint);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read)
    }
}

impl Reusable for Http1 {
    /// Whether another request can go out on this connection: nothing
    /// waiting on the socket, neither a close nor stray bytes (one read
    /// with a no-op waker, which costs nothing while it is not readable).
    fn is_reusable(&mut self) -> bool {
        if !self.read.is_empty() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut probe = [0u8; 1];
        let mut probe = ReadBuf::new(&mut probe);
        matches!(
            Pin::new(&mut self.io).poll_read(&mut cx, &mut probe),
            Poll::Pending
        )
    }
}

#[cfg(test)]
mod tests;
