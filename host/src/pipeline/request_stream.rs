//! Step 5–6 for plugins that asked for the request body streamed: the body
//! goes upstream through their chunk hooks as it arrives, never held whole.
//! One task drives both sides — it pumps the client's body through the
//! hooks into a small channel the upstream request reads, while the
//! upstream call runs — so the exchange needs no lock. The response hooks
//! run only once the whole body has passed the chunk hooks; a plugin that
//! answers mid-body abandons the upstream request.

use std::future::Future;
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
    let upstream_body = StreamBody::new(tokio_stream_of(rx));
    let upstream = send(PreparedBody::streamed(BodyExt::boxed(upstream_body)));
    let pump = pump(exchange, body.attempt(), tx, pause);
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

/// The receiving end of the channel, as a stream of frames.
fn tokio_stream_of(mut rx: mpsc::Receiver<Item>) -> impl futures_util::Stream<Item = Item> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Pumps the client's body through the chunk hooks into `tx`.
async fn pump(
    exchange: &mut Exchange,
    body: ProxyBody,
    tx: mpsc::Sender<Item>,
    pause: Duration,
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
