//! A connection's wait for its next request head, within the time limits:
//! `client_header` from a head's first byte, `idle_keepalive` between
//! requests, and the drain. A ticker checks them (not every wake-up does).
//!
//! A waiting connection holds its read buffer for [`PARK_AFTER`], then
//! lets it go and waits with 16 bytes of stack ([`park`]): thousands of
//! idle clients cost little.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::head::{self, HeadError, RequestHead};
use super::wire::Wire;
use super::{Http1Conn, Watch};

/// How long a connection waiting for its next request keeps its buffer.
const PARK_AFTER: Duration = Duration::from_millis(500);
/// Bytes asked of the socket for a request head.
const HEAD_READ: usize = 8 * 1024;

/// A connection's wait for its next request head.
pub struct Waiting {
    /// Ticks while the connection waits: the time limits are checked at
    /// each (not at every wake-up); a parked connection's ticks once, at
    /// the end of its idle time. Made at the first wait.
    check: Option<Interval>,
    /// When the head being read began to arrive, if one has.
    head_since: Option<Instant>,
}

impl Waiting {
    /// The wait of a new connection, whose first head is due within the
    /// head limit from now.
    pub fn new() -> Self {
        Waiting {
            check: None,
            head_since: Some(Instant::now()),
        }
    }
}

pub enum Next {
    Head(Box<RequestHead>),
    /// Answered with a 400 or 431, then closed.
    Refuse(HeadError),
    Close,
}

/// Reads until a request head is complete, within the time limits.
pub async fn next_head<IO>(wire: &Wire<IO>, shared: &Http1Conn, waiting: &mut Waiting) -> Next
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let mut idle_since = Instant::now();
    loop {
        let waited = poll_fn(|cx| poll_head(wire, shared, waiting, idle_since, cx)).await;
        if let Waited::Done(next) = waited {
            return next;
        }
        if !park(wire, &shared.watch, waiting, idle_since).await {
            return Next::Close;
        }
        idle_since = Instant::now();
    }
}

enum Waited {
    Done(Next),
    /// Quiet for [`PARK_AFTER`]: let the buffer go.
    Park,
}

fn poll_head<IO>(
    wire: &Wire<IO>,
    shared: &Http1Conn,
    waiting: &mut Waiting,
    idle_since: Instant,
    cx: &mut Context<'_>,
) -> Poll<Waited>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let watch = &shared.watch;
    loop {
        let mut state = wire.lock();
        if !state.read.is_empty() {
            waiting.head_since.get_or_insert_with(Instant::now);
            match head::take(&mut state.read, shared.max_head) {
                Ok(Some(head)) => {
                    waiting.head_since = None;
                    return Poll::Ready(Waited::Done(Next::Head(Box::new(head))));
                }
                Ok(None) => {}
                Err(error) => return Poll::Ready(Waited::Done(Next::Refuse(error))),
            }
        }
        match state.poll_fill(cx, HEAD_READ) {
            Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(Waited::Done(Next::Close)),
            Poll::Ready(Ok(_)) => continue,
            Poll::Pending => {}
        }
        let empty = state.read.is_empty();
        drop(state);
        let check = waiting.check.get_or_insert_with(|| checker(watch));
        let Poll::Ready(now) = check.poll_tick(cx) else {
            return Poll::Pending;
        };
        if watch.shutdown.is_cancelled() {
            return Poll::Ready(Waited::Done(Next::Close));
        }
        match waiting.head_since {
            Some(since) if now.saturating_duration_since(since) >= watch.head_limit => {
                tracing::debug!(
                    "request head not complete within {:?}: connection closed",
                    watch.head_limit
                );
                return Poll::Ready(Waited::Done(Next::Close));
            }
            Some(_) => {}
            None => {
                let idle = now.saturating_duration_since(idle_since);
                if idle >= watch.idle_limit {
                    return Poll::Ready(Waited::Done(Next::Close));
                }
                if idle >= PARK_AFTER && empty {
                    return Poll::Ready(Waited::Park);
                }
            }
        }
    }
}

/// The wait's ticker: often enough to hold each limit to a quarter of it.
fn checker(watch: &Watch) -> Interval {
    let period = (PARK_AFTER / 4)
        .min(watch.head_limit / 4)
        .min(watch.idle_limit / 4)
        .max(Duration::from_millis(1));
    let mut check = tokio::time::interval_at(Instant::now() + period, period);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    check
}

/// Waits for a parked connection's next bytes, its buffer let go (they
/// are read with 16 bytes of stack) and its ticker set to the end of the
/// idle time: `false` when the client closed, the wait ran out or the
/// proxy drains.
async fn park<IO: AsyncRead + Unpin>(
    wire: &Wire<IO>,
    watch: &Watch,
    waiting: &mut Waiting,
    idle_since: Instant,
) -> bool {
    {
        let mut state = wire.lock();
        if state.read.is_empty() {
            state.read = BytesMut::new();
        }
    }
    let check = waiting.check.get_or_insert_with(|| checker(watch));
    check.reset_at(idle_since + watch.idle_limit);
    let arrived = poll_fn(|cx| {
        let mut state = wire.lock();
        let mut buf = [0u8; 16];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut state.io).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) if !read.filled().is_empty() => {
                let filled = read.filled();
                state.read.extend_from_slice(filled);
                return Poll::Ready(true);
            }
            Poll::Ready(_) => return Poll::Ready(false),
            Poll::Pending => {}
        }
        check.poll_tick(cx).map(|_| false)
    });
    let arrived = tokio::select! {
        arrived = arrived => arrived,
        _ = watch.shutdown.cancelled() => false,
    };
    if let Some(check) = &mut waiting.check {
        check.reset();
    }
    arrived
}
