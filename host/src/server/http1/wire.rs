//! One client connection's socket and the bytes read from it, shared by
//! the connection's serving loop (which reads heads and writes answers)
//! and the request body in flight (which reads the rest of its request).
//! Both run in the connection's task and take the lock only for a poll,
//! never across one: the body is read from inside the answer's writing.

use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite};

/// Where the request body in flight stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BodyState {
    /// None in flight: the loop may read what comes next.
    Settled,
    /// Being read: its bytes are the body's, not the loop's.
    Reading,
    /// It failed or was left unread: the connection cannot go on.
    Broken,
}

pub struct Wire<IO> {
    state: Mutex<WireState<IO>>,
}

pub struct WireState<IO> {
    pub io: IO,
    /// Bytes read and not yet taken.
    pub read: BytesMut,
    pub body: BodyState,
    /// The client ended its side after requests still unanswered in
    /// `read` (`printf … | nc` does): they are answered, and its end of
    /// file is no longer taken for its leaving.
    pub half_closed: bool,
}

impl<IO> Wire<IO> {
    pub fn new(io: IO, read: BytesMut) -> Self {
        Self {
            state: Mutex::new(WireState {
                io,
                read,
                body: BodyState::Settled,
                half_closed: false,
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, WireState<IO>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn into_inner(self) -> WireState<IO> {
        self.state
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Wire<IO> {
    /// A writer that takes the lock for each write.
    pub fn writer(&self) -> WireWriter<'_, IO> {
        WireWriter(self)
    }
}

impl<IO: AsyncRead + Unpin> WireState<IO> {
    /// Reads what the socket has into the buffer, with room for `hint`
    /// bytes; `Ok(0)` at the connection's end.
    pub fn poll_fill(&mut self, cx: &mut Context<'_>, hint: usize) -> Poll<std::io::Result<usize>> {
        self.read.reserve(hint);
        tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read)
    }
}

pub struct WireWriter<'a, IO>(&'a Wire<IO>);

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WireWriter<'_, IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0.lock().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0.lock().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0.lock().io).poll_shutdown(cx)
    }
}
