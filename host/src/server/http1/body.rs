//! A client's request body, read from its connection by whoever polls it
//! (the pipeline, in the connection's task): it sends `100 Continue` first
//! when the client waits for it, then cuts the body out of the bytes read.
//! It settles the connection when it ends; failing or dropped before its
//! end, it leaves the connection broken, for its bytes are out of step.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite};

use super::wire::{BodyState, Wire};
use crate::codec::{BodyError, Decoder};
use crate::upstream::BoxError;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

pub struct RequestBody<IO> {
    wire: Arc<Wire<IO>>,
    decoder: Decoder,
    /// What is left to write of `100 Continue`.
    interim: &'static [u8],
}

impl<IO: AsyncRead + AsyncWrite + Unpin> RequestBody<IO> {
    /// The body that `decoder` cuts out of `wire`, which it marks as being read.
    pub fn new(wire: Arc<Wire<IO>>, decoder: Decoder, expect_continue: bool) -> Self {
        wire.lock().body = BodyState::Reading;
        Self {
            wire,
            decoder,
            interim: if expect_continue { CONTINUE } else { &[] },
        }
    }

    fn fail(&mut self, error: BodyError) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.wire.lock().body = BodyState::Broken;
        self.decoder = Decoder::length(0);
        Poll::Ready(Some(Err(Box::new(ClientBodyError(error)))))
    }

    /// Writes `100 Continue`, the first time the body is wanted.
    fn poll_interim(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut wire = self.wire.lock();
        while !self.interim.is_empty() {
            let n = ready!(Pin::new(&mut wire.io).poll_write(cx, self.interim))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.interim.advance(n);
            if self.interim.is_empty() {
                ready!(Pin::new(&mut wire.io).poll_flush(cx))?;
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// What went wrong reading a client's request body.
#[derive(Debug, thiserror::Error)]
#[error("the client's request body: {0}")]
pub struct ClientBodyError(BodyError);

impl<IO: AsyncRead + AsyncWrite + Unpin> Body for RequestBody<IO> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.decoder.is_done() {
            return Poll::Ready(None);
        }
        if !this.interim.is_empty() && ready!(this.poll_interim(cx)).is_err() {
            return this.fail(BodyError::Truncated);
        }
        let mut wire = this.wire.lock();
        loop {
            match this.decoder.decode(&mut wire.read) {
                Err(e) => {
                    drop(wire);
                    return this.fail(e);
                }
                Ok(frame) if this.decoder.is_done() => {
                    wire.body = BodyState::Settled;
                    return Poll::Ready(frame.map(Ok));
                }
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) => {}
            }
            let hint = this.decoder.read_hint();
            let closed = match ready!(wire.poll_fill(cx, hint)) {
                Ok(0) => this.decoder.close().err(),
                Ok(_) => None,
                Err(_) => Some(BodyError::Truncated),
            };
            if let Some(e) = closed {
                drop(wire);
                return this.fail(e);
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.decoder.is_done()
    }

    fn size_hint(&self) -> SizeHint {
        self.decoder.size_hint()
    }
}

impl<IO> Drop for RequestBody<IO> {
    fn drop(&mut self) {
        if !self.decoder.is_done() {
            self.wire.lock().body = BodyState::Broken;
        }
    }
}
