//! The HTTP/1.1 framing guard. hyper resolves a request that carries both
//! `Content-Length` and `Transfer-Encoding` by ignoring the length (RFC 9112
//! §6.3 allows it), but that is the classic request-smuggling shape, so
//! Ravelin refuses it. This wrapper sees the bytes hyper reads, parses each
//! request head (httparse) just far enough to follow the framing, and
//! records in order whether each request was ambiguous. When it cannot
//! follow (an upgrade, HTTP/2, a head hyper will refuse anyway) it stops
//! looking and records nothing more.
//!
//! Following the heads also tells when one is being read: the [`HeadClock`]
//! runs from the connection's start until its first head is complete, and
//! from the first byte of each later head until that head is complete. So
//! `timeouts.client_header` bounds heads (and silent new connections), and
//! a keep-alive connection waiting for its next request is bounded by
//! `timeouts.idle_keepalive` alone — hyper's own header timer would run
//! while it waits, too.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stamp::Stamp;
use crate::hygiene;

/// Per-request verdicts, oldest first: `true` means ambiguous framing.
#[derive(Default)]
pub struct Verdicts(Mutex<VecDeque<bool>>);

impl Verdicts {
    /// The verdict of the next request the service handles.
    pub fn next_is_ambiguous(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .unwrap_or(false)
    }

    fn push(&self, ambiguous: bool) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(ambiguous);
    }
}

/// When the head being read began to arrive, if one is: set from the
/// connection's start, cleared when a head is complete, set again by the
/// first byte of the next.
pub type HeadClock = Stamp;

/// Where the scanner is in the request stream. `Head`, `ChunkSize` and
/// `Trailers` collect their bytes in the guard's reused `buf`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    Trailers,
    Off,
}

pub struct FramingGuard<T> {
    inner: T,
    state: State,
    buf: Vec<u8>,
    max_head: usize,
    verdicts: Arc<Verdicts>,
    clock: Arc<HeadClock>,
}

impl<T> FramingGuard<T> {
    pub fn new(inner: T, max_head: usize) -> (Self, Arc<Verdicts>, Arc<HeadClock>) {
        let verdicts = Arc::new(Verdicts::default());
        let clock = Arc::new(Stamp::now());
        (
            Self {
                inner,
                state: State::Head,
                buf: Vec::new(),
                max_head,
                verdicts: verdicts.clone(),
                clock: clock.clone(),
            },
            verdicts,
            clock,
        )
    }

    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let consumed = match &mut self.state {
                State::Off => return,
                State::Head | State::Trailers => {
                    take_line_block(&mut self.buf, bytes, self.max_head)
                }
                State::ChunkSize => take_line(&mut self.buf, bytes, 4096),
                State::Body(left) | State::ChunkData(left) => {
                    let n = (*left).min(bytes.len() as u64);
                    *left -= n;
                    Some(n as usize)
                }
            };
            if self.state == State::Head {
                self.clock.set_if_clear();
            }
            let Some(consumed) = consumed else {
                self.state = State::Off;
                self.clock.clear();
                return;
            };
            bytes = &bytes[consumed..];
            self.advance();
        }
    }

    /// Moves to the next state when the current one is complete.
    fn advance(&mut self) {
        let buf = &self.buf;
        let next = match self.state {
            State::Head if ends_block(buf) => self.head(buf),
            State::Body(0) => State::Head,
            State::ChunkData(0) => State::ChunkSize,
            State::ChunkSize if buf.ends_with(b"\n") => chunk_size(buf),
            State::Trailers if ends_block(buf) || is_blank_line(buf) => State::Head,
            _ => return,
        };
        self.buf.clear();
        if self.state == State::Head {
            self.clock.clear();
        }
        self.state = next;
    }

    fn head(&self, buf: &[u8]) -> State {
        if is_blank_line(buf) {
            return State::Head;
        }
        // Uninitialised: zeroing 128 headers (4 KiB) cost more than the parse.
        let mut headers = [const { std::mem::MaybeUninit::uninit() }; 128];
        let mut request = httparse::Request::new(&mut []);
        let parsed = request.parse_with_uninit_headers(buf, &mut headers);
        if !matches!(parsed, Ok(httparse::Status::Complete(_))) {
            return State::Off;
        }
        let framing = Framing::of(request.headers);
        let ambiguous = framing.lengths > 0 && framing.encoding.is_some();
        self.verdicts.push(ambiguous);
        let upgrade = request.method == Some("CONNECT") || framing.upgrade;
        if ambiguous || upgrade {
            return State::Off;
        }
        if let Some(last) = framing.encoding {
            return if hygiene::ends_in_chunked(last) {
                State::ChunkSize
            } else {
                State::Off
            };
        }
        match framing
            .length
            .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok())
        {
            Some(0) | None if framing.lengths == 0 => State::Head,
            Some(0) => State::Head,
            Some(n) => State::Body(n),
            None => State::Off,
        }
    }
}

/// What a request head says about where its message ends.
struct Framing<'h> {
    /// How many `Content-Length` fields, and the first one's value.
    lengths: usize,
    length: Option<&'h [u8]>,
    /// The last `Transfer-Encoding` field's value, if any.
    encoding: Option<&'h [u8]>,
    upgrade: bool,
}

impl<'h> Framing<'h> {
    fn of(headers: &[httparse::Header<'h>]) -> Self {
        let mut framing = Framing {
            lengths: 0,
            length: None,
            encoding: None,
            upgrade: false,
        };
        for header in headers {
            let name = header.name;
            if name.eq_ignore_ascii_case("content-length") {
                framing.lengths += 1;
                framing.length = framing.length.or(Some(header.value));
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                framing.encoding = Some(header.value);
            } else if name.eq_ignore_ascii_case("upgrade") {
                framing.upgrade = true;
            }
        }
        framing
    }
}

fn is_blank_line(buf: &[u8]) -> bool {
    buf == b"\r\n" || buf == b"\n"
}

fn ends_block(buf: &[u8]) -> bool {
    buf.ends_with(b"\r\n\r\n") || buf.ends_with(b"\n\n")
}

/// Appends bytes up to and including the end of a header block; returns how
/// many were taken, or `None` past `max` (a block may end at `max + 1`).
/// This runs on every request head: line ends are found with `memchr` and
/// the block is copied once.
fn take_line_block(buf: &mut Vec<u8>, bytes: &[u8], max: usize) -> Option<usize> {
    let end = memchr::memchr_iter(b'\n', bytes)
        .map(|at| at + 1)
        .find(|&end| ends_block_or_blank(buf, &bytes[..end]));
    let taken = end.unwrap_or(bytes.len());
    let limit = if end.is_some() { max + 1 } else { max };
    if buf.len() + taken > limit {
        return None;
    }
    buf.extend_from_slice(&bytes[..taken]);
    Some(taken)
}

/// Whether `buf` followed by `more` (which ends a line) ends a header
/// block, or is a lone blank line: [`ends_block`] or [`is_blank_line`] of
/// the two together, without joining them.
fn ends_block_or_blank(buf: &[u8], more: &[u8]) -> bool {
    if more.len() >= 4 {
        return ends_block(more);
    }
    // The last four bytes of the two, or all of them when fewer.
    let from_buf = &buf[buf.len().saturating_sub(4 - more.len())..];
    let mut last = [0u8; 4];
    let len = from_buf.len() + more.len();
    last[..from_buf.len()].copy_from_slice(from_buf);
    last[from_buf.len()..len].copy_from_slice(more);
    let last = &last[..len];
    ends_block(last) || is_blank_line(last)
}

/// Appends bytes up to and including the end of a line, as
/// [`take_line_block`] does a block.
fn take_line(buf: &mut Vec<u8>, bytes: &[u8], max: usize) -> Option<usize> {
    let end = memchr::memchr(b'\n', bytes).map(|at| at + 1);
    buf.extend_from_slice(&bytes[..end.unwrap_or(bytes.len())]);
    match end {
        Some(end) => (buf.len() <= max + 1).then_some(end),
        None => (buf.len() <= max).then_some(bytes.len()),
    }
}

fn chunk_size(line: &[u8]) -> State {
    let line = std::str::from_utf8(line).unwrap_or("");
    let size = line.split(';').next().unwrap_or("").trim();
    if line.trim().is_empty() {
        // The CRLF that ends a chunk's data.
        return State::ChunkSize;
    }
    match u64::from_str_radix(size, 16) {
        Ok(0) => State::Trailers,
        Ok(n) => State::ChunkData(n),
        Err(_) => State::Off,
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for FramingGuard<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before && self.state != State::Off {
            self.scan(&buf.filled()[before..]);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FramingGuard<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(chunks: &[&[u8]]) -> Vec<bool> {
        let (mut guard, verdicts, _) = FramingGuard::new((), 8192);
        for chunk in chunks {
            guard.scan(chunk);
        }
        let mut out = Vec::new();
        while let Some(v) = verdicts.0.lock().unwrap().pop_front() {
            out.push(v);
        }
        out
    }

    #[test]
    fn follows_pipelined_bodies_of_both_framings() {
        let stream = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n\
GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(verdicts(&[stream]), vec![false, false, true]);
        // The same bytes, one at a time.
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(verdicts(&bytes), vec![false, false, true]);
    }

    /// Bare-LF line ends, a blank line before a head, trailers: the same
    /// verdicts whether the stream comes whole or split at any one byte.
    #[test]
    fn every_split_of_the_stream_reads_the_same() {
        let stream: &[u8] = b"\r\nGET / HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi\
POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n\
\nPUT / HTTP/1.1\nContent-Length: 1\nTransfer-Encoding: chunked\n\n";
        let whole = verdicts(&[stream]);
        assert_eq!(whole, vec![false, false, true]);
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            assert_eq!(verdicts(&[a, b]), whole, "split at {at}");
        }
    }

    #[test]
    fn a_body_that_looks_like_a_head_is_not_judged() {
        let inner = b"GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut stream = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            inner.len()
        )
        .into_bytes();
        stream.extend_from_slice(inner);
        assert_eq!(verdicts(&[&stream]), vec![false]);
    }

    #[test]
    fn the_head_clock_runs_from_the_start_then_only_while_a_head_arrives() {
        let (mut guard, _, clock) = FramingGuard::new((), 8192);
        assert!(
            clock.age().is_some(),
            "a new connection awaits its first head"
        );
        guard.scan(b"GET / HTTP/1.1\r\nHost: a\r\n");
        assert!(clock.age().is_some(), "half a head");
        guard.scan(b"\r\n");
        assert_eq!(clock.age(), None, "between requests");
        guard.scan(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(clock.age(), None, "reading a body");
        guard.scan(b"hiG");
        assert!(clock.age().is_some(), "the next head began");
        guard.scan(b"ET / HTTP/2.0\r\n\r\n");
        assert_eq!(clock.age(), None, "no longer followed");
    }

    /// The byte-at-a-time reading of the limits: a block may end at
    /// `max + 1` bytes, and anything longer stops the guard.
    #[test]
    fn the_head_limit_holds_whichever_way_the_bytes_arrive() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        for max in [head.len() - 2, head.len() - 1, head.len()] {
            let whole = take_line_block(&mut Vec::new(), head, max);
            let mut buf = Vec::new();
            let mut split = Some(0);
            for chunk in head.chunks(3) {
                split = take_line_block(&mut buf, chunk, max).map(|n| split.unwrap_or(0) + n);
                if split.is_none() || ends_block(&buf) {
                    break;
                }
            }
            let fits = head.len() <= max + 1;
            assert_eq!(whole, fits.then_some(head.len()), "max {max}");
            assert_eq!(split.is_some(), fits, "max {max}, in chunks");
        }
    }

    #[test]
    fn stops_after_an_upgrade() {
        let stream = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(verdicts(&[stream]), vec![false]);
    }
}
