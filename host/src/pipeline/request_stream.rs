//! Step 5–6 for plugins that asked for the request body streamed: the body
//! goes upstream through their chunk hooks as it arrives, never held whole.
//! One task drives both sides — it pumps the client's body through the
//! hooks into a small channel the upstream request reads, while the
//! upstream call runs — so the exchange needs no lock. The response hooks
//! run only once the whole body has passed the chunk hooks; a plugin that
//! answers mid-body abandons the upstream request.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, Response};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use hyper::body::Frame;
use ravelin_runtime::{ChunkDecision, Exchange};
use tokio::sync::mpsc;

use super::body::PreparedBody;
use super::plugin_steps::{Step, failed};
use crate::error::ProxyError;
use crate::plugins;
use crate::upstream::{BoxError, ProxyBody};

type Item = Result<Frame<Bytes>, BoxError>;

/// Frames in flight between the hooks and the upstream request.
const IN_FLIGHT: usize = 4;

/// How the pump ended.
enum Pumped {
    /// The whole body went through the hooks (and upstream, as far as the
    /// upstream read it).
    Done,
    /// A plugin answered or failed: the client gets this instead.
    Answer(Response<ProxyBody>),
    /// The client's body broke.
    Broken(String),
}

/// Sends the request upstream with `send` (given the body to send) while
/// the client's `body` passes through the exchange's request chunk hooks.
/// `pause` bounds how long one chunk may wait for the upstream to take it.
pub async fn send_streamed<F, Fut>(
    exchange: &mut Exchange,
    mut body: PreparedBody,
    pause: Duration,
    send: F,
) -> Result<Step<Response<ProxyBody>>, ProxyError>
where
    F: FnOnce(PreparedBody) -> Fut,
    Fut: Future<Output = Result<Response<ProxyBody>, ProxyError>>,
{
    let (tx, rx) = mpsc::channel::<Item>(IN_FLIGHT);
    let finished = Arc::new(AtomicBool::new(false));
    let upstream_body = StreamBody::new(frames_of(rx, finished.clone()));
    let upstream = send(PreparedBody::streamed(BodyExt::boxed(upstream_body)));
    let pump = pump(exchange, body.attempt(), tx, pause, &finished);
    tokio::pin!(upstream);
    tokio::pin!(pump);
    let mut response = None;
    let pumped = loop {
        tokio::select! {
            pumped = &mut pump => break pumped,
            sent = &mut upstream, if response.is_none() => response = Some(sent),
        }
    };
    match pumped {
        Pumped::Answer(answer) => return Ok(Step::Answer(answer)),
        Pumped::Broken(reason) => return Err(body.client_error(reason)),
        Pumped::Done => {}
    }
    let response = match response {
        Some(response) => response,
        None => upstream.await,
    };
    response.map(Step::Go)
}

/// The receiving end of the channel, as the upstream request's body. The
/// body ends cleanly only when the pump `finished`; a pump dropped before
/// (a plugin answered, the client's body broke) ends it with an error, so
/// the upstream connection is cut rather than a truncated body completed
/// (the upstream connection is written by a task of its own, which would
/// otherwise finish the chunked body when the channel closes).
fn frames_of(
    mut rx: mpsc::Receiver<Item>,
    finished: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = Item> {
    let mut ended = false;
    futures_util::stream::poll_fn(move |cx| {
        if ended {
            return Poll::Ready(None);
        }
        match rx.poll_recv(cx) {
            Poll::Ready(None) if !finished.load(Ordering::Acquire) => {
                ended = true;
                Poll::Ready(Some(Err(BoxError::from("the request body was abandoned"))))
            }
            other => other,
        }
    })
}

/// Pumps the client's body through the chunk hooks into `tx`.
async fn pump(
    exchange: &mut Exchange,
    body: ProxyBody,
    tx: mpsc::Sender<Item>,
    pause: Duration,
    finished: &AtomicBool,
) -> Pumped {
    let mut frames = BodyStream::new(body);
    let mut trailers = HeaderMap::new();
    let mut upstream_gone = false;
    loop {
        let (chunk, end) = match frames.next().await {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => (data, false),
                Err(other) => {
                    trailers.extend(other.into_trailers().unwrap_or_default());
                    continue;
                }
            },
            Some(Err(e)) => {
                let _ = tx.send(Err(BoxError::from(e.to_string()))).await;
                return Pumped::Broken(e.to_string());
            }
            None => (Bytes::new(), true),
        };
        let data = match exchange.on_request_chunk(chunk, end, &mut trailers).await {
            ChunkDecision::Data(data) => data,
            ChunkDecision::Respond(answer) => return Pumped::Answer(plugins::response(answer)),
            ChunkDecision::Fail(failure) => return Pumped::Answer(failed(&failure)),
        };
        if !data.is_empty() && !upstream_gone {
            upstream_gone = !forward(&tx, Frame::data(data), pause).await;
        }
        if end {
            if !trailers.is_empty() && !upstream_gone {
                forward(&tx, Frame::trailers(trailers), pause).await;
            }
            finished.store(true, Ordering::Release);
            return Pumped::Done;
        }
    }
}

/// Hands one frame to the upstream request; false when it no longer reads
/// (it answered, or went away, or stalled past `pause`): the rest of the
/// body still passes the hooks, and is dropped.
async fn forward(tx: &mpsc::Sender<Item>, frame: Frame<Bytes>, pause: Duration) -> bool {
    matches!(
        tokio::time::timeout(pause, tx.send(Ok(frame))).await,
        Ok(Ok(()))
    )
}
