//! HTTP/1.1 with clients, spoken by our own codec: one loop per connection
//! reads a request head (`head`), hands the request to the pipeline, writes
//! its answer (`respond`) and goes round again while the connection lives.
//! The request's body (`body`) is read by whoever polls it, from the same
//! socket and buffer (`wire`), and the head is parsed once, its framing
//! checked on the way (no second parser beside it).
//!
//! Between requests a connection waits (`wait`) within its time limits,
//! letting its buffer go when it stays quiet. An upgrade (101) hands the
//! socket, with what was read ahead, to the pipeline's splice through the
//! request's [`ClientUpgrade`].

mod body;
mod head;
mod respond;
mod wait;
mod wire;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::BytesMut;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_util::sync::CancellationToken;

use super::prefixed::Prefixed;
use crate::codec::Decoder;
use crate::hygiene::{self, Refusal};
use crate::pipeline::{self, ClientUpgrade, ConnInfo, Proxy, UpgradeHandoff};
use crate::upstream::empty_body;
use body::RequestBody;
use head::{BodyFraming, HeadError, RequestHead};
use respond::{Asked, Reply};
use wait::{Next, Waiting, next_head};
use wire::{BodyState, Wire, WireState};

/// The limits a connection waits within.
pub struct Watch {
    /// For a request head, from its first byte (or the connection's start).
    pub head_limit: Duration,
    /// For the next request on a kept-alive connection.
    pub idle_limit: Duration,
    pub shutdown: CancellationToken,
}

/// What one connection's requests and its serving loop share.
pub struct Http1Conn {
    pub proxy: Arc<Proxy>,
    pub conn: Arc<ConnInfo>,
    pub max_head: usize,
    pub watch: Watch,
}

/// Serves HTTP/1.1 on `io` (whose first bytes, already read, are `carry`)
/// until the client leaves, the connection idles out, or the proxy drains.
///
/// Not an async fn: the socket goes into its shared [`Wire`] before the
/// future is made, so a parked connection's task holds a pointer to it, not
/// the socket and its copy (an async fn keeps room for its arguments for as
/// long as it runs, beside the locals they are moved into).
pub fn serve<IO>(io: IO, carry: &[u8], shared: Arc<Http1Conn>) -> impl Future<Output = ()>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let wire = Arc::new(Wire::new(io, BytesMut::from(carry)));
    async move {
        let mut waiting = Waiting::new();
        loop {
            let head = match next_head(&wire, &shared, &mut waiting).await {
                Next::Head(head) => head,
                Next::Refuse(error) => {
                    refuse(&wire, &error, &shared.conn).await;
                    break;
                }
                Next::Close => break,
            };
            // Boxed, and bound before it is awaited: a waiting connection's
            // task holds none of a running exchange's state.
            let exchange = Box::pin(exchange(&wire, head, &shared));
            match exchange.await {
                After::KeepAlive => {}
                After::Close => break,
                After::Gone => return,
                After::Upgrade(handoff) => return hand_over(wire, handoff),
            }
        }
        close(&wire).await;
    }
}

/// How a connection goes on after an exchange.
enum After {
    KeepAlive,
    /// Closed with a FIN (and a TLS close_notify).
    Close,
    /// Dropped: the client left, or the answer could not be written.
    Gone,
    /// The socket goes to the request's upgrade.
    Upgrade(UpgradeHandoff),
}

/// One request through the pipeline and its answer back to the client.
async fn exchange<IO>(wire: &Arc<Wire<IO>>, head: Box<RequestHead>, shared: &Http1Conn) -> After
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let RequestHead {
        mut parts,
        body: framing,
        keep_alive,
        expect_continue,
    } = *head;
    let decoder = match framing {
        BodyFraming::None => None,
        BodyFraming::Ambiguous => {
            parts.extensions.insert(Refusal::AmbiguousFraming);
            None
        }
        BodyFraming::Length(length) => Some(Decoder::length(length)),
        BodyFraming::Chunked => Some(Decoder::chunked()),
    };
    let body = match decoder {
        Some(decoder) => RequestBody::new(wire.clone(), decoder, expect_continue).boxed(),
        None => empty_body(),
    };
    let handoff = hygiene::is_upgrade(&parts.headers).then(|| {
        let (claim, handoff) = ClientUpgrade::pair();
        parts.extensions.insert(claim);
        handoff
    });
    let mut asked = Asked {
        head: parts.method == Method::HEAD,
        version: parts.version,
        keep_alive,
    };
    let request = Request::from_parts(parts, body);
    let mut answer = pipeline::handle(shared.proxy.clone(), shared.conn.clone(), request);
    let response = poll_fn(|cx| {
        if let Poll::Ready(Ok(response)) = answer.as_mut().poll(cx) {
            return Poll::Ready(Some(response));
        }
        if client_left(wire, shared.max_head, cx) {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    drop(answer);
    let Some(response) = response else {
        tracing::debug!(client = %shared.conn.peer, "the client left before its answer");
        return After::Gone;
    };
    let upgraded = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    // A drain that began while the request was served ends the connection.
    asked.keep_alive &= !shared.watch.shutdown.is_cancelled();
    let Reply {
        mut outgoing,
        keep_alive,
    } = respond::encode(response, &asked);
    let mut writer = wire.writer();
    // A client that leaves while the answer's body waits on its origin
    // ends the exchange (and lets go of the origin) then, not at the next
    // write.
    let sent = poll_fn(|cx| match outgoing.poll_send(&mut writer, cx) {
        Poll::Pending if client_left(wire, shared.max_head, cx) => Poll::Ready(Ok(false)),
        Poll::Pending => Poll::Pending,
        Poll::Ready(result) => Poll::Ready(result.map(|()| true)),
    })
    .await;
    match sent {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(client = %shared.conn.peer, "the client left during its answer");
            return After::Gone;
        }
        Err(e) => {
            tracing::debug!(client = %shared.conn.peer, "the answer was not written whole: {e}");
            return After::Gone;
        }
    }
    drop(outgoing);
    match handoff {
        Some(handoff) if upgraded => After::Upgrade(handoff),
        _ if keep_alive && wire.lock().body == BodyState::Settled => After::KeepAlive,
        _ => After::Close,
    }
}

/// Whether the client has closed (or reset) the connection while its
/// answer is awaited. Bytes it sends meanwhile (a pipelined request) are
/// kept for later, up to a head's worth; none are read while the
/// request's own body is being read. An end of file after such bytes is a
/// half-close, not a leave: the requests it sent are answered.
fn client_left<IO: AsyncRead + Unpin>(
    wire: &Wire<IO>,
    max_head: usize,
    cx: &mut Context<'_>,
) -> bool {
    let mut state = wire.lock();
    if state.body == BodyState::Reading || state.half_closed {
        return false;
    }
    let mut buf = [0u8; 512];
    while state.read.len() < max_head {
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut state.io).poll_read(cx, &mut read) {
            Poll::Pending => return false,
            Poll::Ready(Err(_)) => return true,
            Poll::Ready(Ok(())) if read.filled().is_empty() => {
                state.half_closed = !state.read.is_empty();
                return !state.half_closed;
            }
            Poll::Ready(Ok(())) => {
                let filled = read.filled();
                state.read.extend_from_slice(filled);
            }
        }
    }
    false
}

/// Answers a head that cannot be served (400, 431) before the close.
async fn refuse<IO>(wire: &Wire<IO>, error: &HeadError, conn: &ConnInfo)
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let status = error.status();
    tracing::debug!(client = %conn.peer, "{error}: answered {status}");
    let asked = Asked {
        head: false,
        version: http::Version::HTTP_11,
        keep_alive: false,
    };
    let mut reply = respond::encode(crate::error::local_response(status), &asked);
    let mut writer = wire.writer();
    let _ = poll_fn(|cx| reply.outgoing.poll_send(&mut writer, cx)).await;
}

/// Gives the socket, with the bytes read after the 101's request, to the
/// upgrade that claims it; nothing else may hold it by then.
fn hand_over<IO>(wire: Arc<Wire<IO>>, handoff: UpgradeHandoff)
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    match Arc::try_unwrap(wire) {
        Ok(wire) => {
            let WireState { io, read, .. } = wire.into_inner();
            let _ = handoff.send(Box::new(Prefixed::new(read.freeze(), io)));
        }
        Err(_) => tracing::debug!("upgrade dropped: the request's body still holds its connection"),
    }
}

/// Ends the connection with a FIN (and a TLS close_notify), bounded.
async fn close<IO: AsyncRead + AsyncWrite + Unpin>(wire: &Wire<IO>) {
    let mut writer = wire.writer();
    let _ = tokio::time::timeout(Duration::from_secs(1), writer.shutdown()).await;
}
