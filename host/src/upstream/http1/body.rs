//! An HTTP/1.1 response body, read by the request's task from the
//! connection it arrives on; the rest of the request's body (when the
//! origin answered before it was all sent) goes out as it is read. Once
//! the body has ended on a connection that can live on, the connection
//! goes back to its endpoint's idle pool. A body dropped before its end
//! (the client left) drops the connection with it: it is mid-message.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::request::Upload;
use super::{Http1, Http1Error};
use crate::codec::Decoder;
use crate::upstream::pool::IdlePool;

pub struct ResponseBody {
    decoder: Decoder,
    /// The connection, until the body ends or fails.
    live: Option<Live>,
}

struct Live {
    conn: Http1,
    /// What is left of the request to send.
    upload: Option<Upload>,
    keep_alive: bool,
    pool: Arc<IdlePool<Http1>>,
}

impl ResponseBody {
    pub(super) fn new(
        conn: Http1,
        upload: Option<Upload>,
        decoder: Decoder,
        keep_alive: bool,
        pool: Arc<IdlePool<Http1>>,
    ) -> Self {
        let mut body = Self {
            decoder,
            live: Some(Live {
                conn,
                upload,
                keep_alive,
                pool,
            }),
        };
        if body.decoder.is_done() {
            body.finish();
        }
        body
    }

    /// A body with nothing in it and no connection (after a 101).
    pub fn empty() -> Self {
        Self {
            decoder: Decoder::length(0),
            live: None,
        }
    }

    /// The body has ended: the connection goes back to the pool when the
    /// whole request went out and nothing but this answer came in.
    fn finish(&mut self) {
        if let Some(live) = self.live.take()
            && live.keep_alive
            && live.upload.is_none()
            && live.conn.read.is_empty()
        {
            live.pool.put(live.conn);
        }
    }

    fn fail(&mut self, error: Http1Error) -> Poll<Option<Result<Frame<Bytes>, Http1Error>>> {
        self.live = None;
        Poll::Ready(Some(Err(error)))
    }
}

impl Live {
    /// Sends more of the request; a request that cannot be sent any more
    /// is given up on, and the connection with it once this answer ends.
    fn push_upload(&mut self, cx: &mut Context<'_>) {
        if let Some(upload) = &mut self.upload {
            match upload.poll_send(&mut self.conn.io, cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(())) => self.upload = None,
                Poll::Ready(Err(e)) => {
                    tracing::debug!("the rest of the request was not sent: {e}");
                    self.upload = None;
                    self.keep_alive = false;
                }
            }
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Http1Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Http1Error>>> {
        let this = self.get_mut();
        loop {
            let Some(live) = &mut this.live else {
                return Poll::Ready(None);
            };
            live.push_upload(cx);
            match this.decoder.decode(&mut live.conn.read) {
                Err(e) => return this.fail(e.into()),
                Ok(Some(frame)) => {
                    if this.decoder.is_done() {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Ok(None) if this.decoder.is_done() => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Ok(None) => {}
            }
            match std::task::ready!(live.conn.poll_read(cx, this.decoder.read_hint())) {
                Ok(0) => {
                    live.keep_alive = false;
                    if let Err(e) = this.decoder.close() {
                        return this.fail(e.into());
                    }
                }
                Ok(_) => {}
                Err(e) => return this.fail(Http1Error::Read(e)),
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
