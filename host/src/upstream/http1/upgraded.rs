//! The origin's connection after it answered 101: the socket, with the
//! bytes it sent after its head (already read with it) served first. It
//! travels to the pipeline as an extension of the response.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::upstream::connect::Stream;

pub struct Upgraded {
    read_ahead: BytesMut,
    io: Stream,
}

/// The upgraded connection, as a response extension (hence `Clone`); the
/// first to take it has it.
#[derive(Clone)]
pub struct OriginUpgrade(Arc<Mutex<Option<Upgraded>>>);

impl OriginUpgrade {
    pub fn new(io: Stream, read_ahead: BytesMut) -> Self {
        Self(Arc::new(Mutex::new(Some(Upgraded { read_ahead, io }))))
    }

    pub fn take(&self) -> Option<Upgraded> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read_ahead.is_empty() {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let n = this.read_ahead.len().min(buf.remaining());
        buf.put_slice(&this.read_ahead[..n]);
        this.read_ahead.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_read_ahead_come_before_the_socket_s() {
        let (near, mut far) = tokio::io::duplex(64);
        let upgrade = OriginUpgrade::new(Box::new(near), BytesMut::from(&b"early "[..]));
        let mut upgraded = upgrade.clone().take().unwrap();
        assert!(upgrade.take().is_none(), "taken once");
        far.write_all(b"late").await.unwrap();
        drop(far);
        let mut all = String::new();
        upgraded.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "early late");
    }
}
