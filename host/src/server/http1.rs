//! HTTP/1.1 connections that let go of hyper while they wait. hyper keeps
//! a read and a write buffer (8 KiB each) for as long as it serves a
//! connection, keep-alive waits included: with thousands of idle clients
//! that is most of the proxy's memory. So a connection with no request in
//! flight and no byte moved for [`PARK_AFTER`] is taken back from hyper (a
//! graceful shutdown of an idle hyper connection writes nothing, and
//! `poll_without_shutdown` hands back the socket with any bytes read
//! ahead), waits for its next bytes with a few bytes of buffer
//! ([`park`]), and gets a fresh hyper connection when they come.
//!
//! An upgrade (101) hands the socket to the pipeline's splice through the
//! request's [`ClientUpgrade`] instead of hyper's own upgrade channel.

use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::framing::{HeadClock, Verdicts};
use super::idle::LastActivity;
use super::prefixed::Prefixed;
use super::side_wake::SideWake;
use crate::hygiene;
use crate::pipeline::{self, ClientUpgrade, ConnInfo, Proxy, UpgradeHandoff};
use crate::upstream::{BoxError, ProxyBody};

/// How long a connection with nothing in flight keeps its hyper connection.
const PARK_AFTER: Duration = Duration::from_millis(500);

/// What a connection's serving loop watches besides hyper.
pub struct Watch {
    pub head_clock: Arc<HeadClock>,
    pub last_activity: Arc<LastActivity>,
    pub head_limit: Duration,
    pub idle_limit: Duration,
    pub shutdown: CancellationToken,
}

impl Watch {
    /// How much longer the connection may wait: for the rest of a head it
    /// has begun (or its first), else for its next request.
    fn wait_left(&self) -> Duration {
        match self.head_clock.age() {
            Some(age) => self.head_limit.saturating_sub(age),
            None => {
                let idle = self.last_activity.age().unwrap_or_default();
                self.idle_limit.saturating_sub(idle)
            }
        }
    }
}

/// Waits for a parked connection's next bytes, holding 16 bytes of buffer
/// (hyper reads the rest): `None` when the client closed, the wait ran out
/// or the proxy drains.
pub async fn park<IO: AsyncRead + Unpin>(io: &mut IO, watch: &Watch) -> Option<Bytes> {
    let mut buf = [0u8; 16];
    tokio::select! {
        read = io.read(&mut buf) => match read {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(Bytes::copy_from_slice(&buf[..n])),
        },
        _ = tokio::time::sleep(watch.wait_left()) => None,
        _ = watch.shutdown.cancelled() => None,
    }
}

/// What one connection's requests and its serving loop share.
pub struct Http1Conn {
    pub proxy: Arc<Proxy>,
    pub conn: Arc<ConnInfo>,
    pub verdicts: Arc<Verdicts>,
    pub max_head: usize,
    pub watch: Watch,
}

/// Serves HTTP/1.1 on `io` (whose first bytes, already read, are `carry`)
/// until the client leaves, the connection idles out, or the proxy drains.
///
/// Not an async fn, and `shared` comes in its Arc (and `close` borrows the
/// socket), because an async fn keeps room for its arguments for as long
/// as it runs, beside the locals they are moved into: a parked
/// connection's task would carry them twice over. The async block uses the
/// arguments it captures in place.
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would keep its arguments twice"
)]
pub fn serve<IO>(mut io: IO, mut carry: Bytes, shared: Arc<Http1Conn>) -> impl Future<Output = ()>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    async move {
        let watch = &shared.watch;
        let busy = Arc::new(AtomicUsize::new(0));
        let handoff: Arc<Mutex<Option<UpgradeHandoff>>> = Arc::default();
        loop {
            if carry.is_empty() {
                match park(&mut io, watch).await {
                    Some(bytes) => carry = bytes,
                    None => return close(&mut io).await,
                }
            }
            let service = service(shared.clone(), busy.clone(), handoff.clone());
            // Boxed, with hyper's connection made inside the box and the box
            // bound before it is awaited: a parked connection's task holds none
            // of a running one's state. (Made here and moved in, or awaited as
            // a temporary, the connection and the unboxed future kept their
            // room in this future, 3 KiB for every parked connection.)
            let running = Box::pin(drive(carry, io, service, &shared, &busy));
            let (ended, parts) = running.await;
            let Some((read_ahead, rest, next_io)) = parts else {
                return;
            };
            carry = join(read_ahead, rest);
            io = next_io;
            let upgrade = handoff.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(tx) = upgrade.filter(|tx| !tx.is_closed()) {
                let _ = tx.send(Box::new(Prefixed::new(carry, io)));
                return;
            }
            if ended != Ended::Parked {
                return close(&mut io).await;
            }
        }
    }
}

#[derive(PartialEq, Eq)]
enum Ended {
    /// Let go while idle: the connection waits for its next request.
    Parked,
    /// hyper is done with it: the client asked to close, or the proxy did.
    Done,
}

/// Runs one hyper connection on `io` (whose first bytes, already read, are
/// `carry`) until it ends or is parked; gives back what it read ahead, the
/// put-back bytes it did not read, and the socket.
async fn drive<IO, S>(
    carry: Bytes,
    io: IO,
    service: S,
    shared: &Http1Conn,
    busy: &AtomicUsize,
) -> (Ended, Option<(Bytes, Bytes, IO)>)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = ProxyBody> + Unpin,
    S::Future: Unpin,
    S::Error: Into<BoxError>,
{
    // Made afresh each time (it costs nothing) rather than kept while parked.
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The framing guard's head clock bounds heads instead: hyper's
        // timer also runs while a keep-alive connection waits.
        .header_read_timeout(None)
        .max_buf_size(shared.max_head)
        .keep_alive(true);
    let mut connection = builder.serve_connection(TokioIo::new(Prefixed::new(carry, io)), service);
    let watch = &shared.watch;
    let park_after = PARK_AFTER.min(watch.idle_limit);
    let period = park_after.min(watch.head_limit / 4) + Duration::from_millis(1);
    let mut check = tokio::time::interval(period);
    let mut shutdown = std::pin::pin!(watch.shutdown.cancelled());
    let side = SideWake::new();
    let (mut parking, mut draining) = (false, false);
    let result = poll_fn(|cx| {
        loop {
            if let Poll::Ready(result) = connection.poll_without_shutdown(cx) {
                return Poll::Ready(Some(result));
            }
            let Some(side_waker) = side.woken(cx) else {
                return Poll::Pending;
            };
            let mut side_cx = Context::from_waker(side_waker);
            let mut fired = false;
            if !draining && shutdown.as_mut().poll(&mut side_cx).is_ready() {
                Pin::new(&mut connection).graceful_shutdown();
                draining = true;
                fired = true;
            }
            if check.poll_tick(&mut side_cx).is_ready() {
                if watch
                    .head_clock
                    .age()
                    .is_some_and(|t| t >= watch.head_limit)
                {
                    tracing::debug!(
                        "request head not complete within {:?}: connection closed",
                        watch.head_limit
                    );
                    return Poll::Ready(None);
                }
                let quiet = watch.last_activity.age().is_some_and(|t| t >= park_after);
                if !parking && !draining && quiet && busy.load(Ordering::Acquire) == 0 {
                    Pin::new(&mut connection).graceful_shutdown();
                    parking = true;
                }
                fired = true;
            }
            if !fired {
                return Poll::Pending;
            }
            // Round again: the connection moves on after a shutdown, and
            // the side futures that fired wait for their next event.
            side.again();
        }
    })
    .await;
    let Some(result) = result else {
        return (Ended::Done, None);
    };
    if let Err(e) = result {
        tracing::debug!("connection ended: {e}");
        return (Ended::Done, None);
    }
    let parts = connection.into_parts();
    let (rest, io) = parts.io.into_inner().into_parts();
    let ended = if parking && !draining {
        Ended::Parked
    } else {
        Ended::Done
    };
    (ended, Some((parts.read_buf, rest, io)))
}

fn join(first: Bytes, second: Bytes) -> Bytes {
    if first.is_empty() {
        return second;
    }
    if second.is_empty() {
        return first;
    }
    let mut both = BytesMut::with_capacity(first.len() + second.len());
    both.extend_from_slice(&first);
    both.extend_from_slice(&second);
    both.freeze()
}

/// Ends the connection with a FIN (and a TLS close_notify), bounded.
async fn close<IO: AsyncWrite + Unpin>(io: &mut IO) {
    let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
}

/// A response on its way, boxed so the hyper connection can be taken apart.
type Answer = Pin<Box<dyn Future<Output = Result<http::Response<ProxyBody>, Infallible>> + Send>>;

/// The hyper service of one hyper connection: each request marked busy
/// until its response body is done, and an upgrade request given its claim
/// on the connection.
fn service(
    shared: Arc<Http1Conn>,
    busy: Arc<AtomicUsize>,
    handoff: Arc<Mutex<Option<UpgradeHandoff>>>,
) -> impl hyper::service::HttpService<Incoming, ResBody = ProxyBody, Error = Infallible, Future = Answer>
+ Unpin {
    hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req = super::client_request(req, Some(&shared.verdicts));
        if hygiene::is_upgrade(req.headers()) {
            let (claim, tx) = ClientUpgrade::pair();
            req.extensions_mut().insert(claim);
            *handoff.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        }
        let in_flight = InFlight::enter(&busy);
        let answer = pipeline::handle(shared.proxy.clone(), shared.conn.clone(), req);
        Box::pin(async move {
            let response = answer.await?;
            Ok(response.map(|body| {
                ProxyBody::new(Tracked {
                    body,
                    _in_flight: in_flight,
                })
            }))
        }) as Answer
    })
}

/// One request between its head and the end of its response body.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted as in flight until
/// hyper has written (or dropped) it.
struct Tracked {
    body: ProxyBody,
    _in_flight: InFlight,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
