//! An upstream response body. Over HTTP/1.1 it carries the connection it
//! arrives on and polls it whenever it is polled itself (the connection has
//! no task of its own); once the body has ended, the connection goes back
//! to its endpoint's idle pool. A body dropped before its end (the client
//! left) drops the connection with it: it is mid-message, not reusable.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use super::http1::Http1;
use super::pool::IdlePool;

pub struct UpstreamBody {
    incoming: Incoming,
    /// HTTP/1.1 only: the connection to drive, and where it goes after.
    carried: Option<Carried>,
}

struct Carried {
    conn: Http1,
    pool: Arc<IdlePool>,
}

impl UpstreamBody {
    /// A body whose connection runs on its own (HTTP/2) or is gone.
    pub fn detached(incoming: Incoming) -> Self {
        Self {
            incoming,
            carried: None,
        }
    }

    /// A body that drives `conn`, returned to `pool` after the body's end.
    pub fn carrying(incoming: Incoming, conn: Http1, pool: Arc<IdlePool>) -> Self {
        let mut body = Self {
            incoming,
            carried: Some(Carried { conn, pool }),
        };
        if body.incoming.is_end_stream() {
            body.release();
        }
        body
    }

    /// Polls the connection; drops it once it has ended (which also ends
    /// or fails the body).
    fn drive(&mut self, cx: &mut Context<'_>) {
        if self.carried.as_mut().is_some_and(|c| c.conn.drive(cx)) {
            self.carried = None;
        }
    }

    /// The exchange is over: the connection goes back to the pool.
    fn release(&mut self) {
        if let Some(Carried { conn, pool }) = self.carried.take() {
            pool.put(conn);
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        // The connection first reads what the body waits for, so a frame
        // that has arrived is taken in this poll without a wake-up.
        this.drive(cx);
        let poll = Pin::new(&mut this.incoming).poll_frame(cx);
        match &poll {
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Err(_))) => this.carried = None,
            Poll::Ready(Some(Ok(_))) if this.incoming.is_end_stream() => this.release(),
            _ => {}
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}
