//! The end of an exchange, as the response body goes out: plugins that
//! asked for the body streamed see it chunk by chunk (the host never holds
//! it all), and plugins that implement `on-log` are called once the body has
//! gone (or the client left), on a task of their own, off the client's path.

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, Response, header, response};
use http_body::{Body, SizeHint};
use http_body_util::{BodyExt, BodyStream};
use hyper::body::Frame;
use ravelin_runtime::{ChunkDecision, Exchange, LogInfo};

use super::plugin_steps::failed;
use crate::error::ProxyError;
use crate::plugins;
use crate::upstream::{BoxError, ProxyBody};

type Item = Result<Frame<Bytes>, BoxError>;

/// Hands `result` to the client through the rest of `exchange`: chunk hooks
/// and `on-log` where plugins want them; otherwise the exchange ends here
/// and its instances go back at once.
pub async fn finish(
    mut exchange: Exchange,
    result: Result<Response<ProxyBody>, ProxyError>,
    started: Instant,
) -> Result<Response<ProxyBody>, ProxyError> {
    let response = match result {
        Ok(response) => response,
        Err(error) => {
            log_later(exchange, error.status().as_u16(), 0, started, false);
            return Err(error);
        }
    };
    let streams = exchange.response_streams();
    if !streams && !exchange.wants_log() {
        return Ok(response);
    }
    let (mut head, body) = response.into_parts();
    // A transformed stream's length is unknown; an untouched body keeps its
    // own, so the client still gets a Content-Length.
    let hint = match streams {
        true => SizeHint::default(),
        false => body.size_hint(),
    };
    let mut upstream = BodyStream::new(body);
    let mut first = None;
    let mut trailers = HeaderMap::new();
    if streams {
        // The first chunk decides before the head goes out: a plugin may
        // still answer instead.
        head.headers.remove(header::CONTENT_LENGTH);
        let (chunk, end) = match next_data(&mut upstream, &mut trailers).await {
            Some(Ok(chunk)) => (chunk, false),
            Some(Err(_)) => return Ok(failed_upstream(exchange, started)),
            None => (Bytes::new(), true),
        };
        match exchange
            .on_response_chunk(&mut head, chunk, end, &mut trailers)
            .await
        {
            ChunkDecision::Data(data) => first = Some((data, end)),
            ChunkDecision::Respond(answer) => {
                let status = answer.status().as_u16();
                log_later(exchange, status, 0, started, true);
                return Ok(plugins::response(answer));
            }
            ChunkDecision::Fail(failure) => {
                let response = failed(&failure);
                log_later(exchange, response.status().as_u16(), 0, started, false);
                return Ok(response);
            }
        }
    }
    let tail = Tail {
        exchange: Some(exchange),
        head: head_copy(&head, streams),
        upstream,
        first,
        streams,
        trailers,
        ended: false,
        sent: 0,
        expected: hint.exact(),
        started,
    };
    let stream = futures_util::stream::unfold(tail, |mut tail| async move {
        let item = tail.next().await?;
        Some((item, tail))
    });
    let body = TailBody {
        frames: Mutex::new(Box::pin(stream)),
        hint,
    };
    Ok(Response::from_parts(head, BodyExt::boxed(body)))
}

/// The parts of the response head the chunk hooks see.
fn head_copy(head: &response::Parts, streams: bool) -> response::Parts {
    let mut copy = Response::new(()).into_parts().0;
    copy.status = head.status;
    if streams {
        copy.headers = head.headers.clone();
    }
    copy
}

/// The upstream broke before its first byte: 502, and the log hears of it.
fn failed_upstream(exchange: Exchange, started: Instant) -> Response<ProxyBody> {
    let status = http::StatusCode::BAD_GATEWAY;
    log_later(exchange, status.as_u16(), 0, started, false);
    crate::error::local_response(status)
}

/// The next data of `body`; trailers met on the way are kept in `trailers`
/// (the last chunk hook sees them, then they follow the body).
async fn next_data(
    body: &mut BodyStream<ProxyBody>,
    trailers: &mut HeaderMap,
) -> Option<Result<Bytes, BoxError>> {
    while let Some(frame) = body.next().await {
        match frame.map(Frame::into_data) {
            Ok(Ok(data)) => return Some(Ok(data)),
            Ok(Err(other)) => trailers.extend(other.into_trailers().unwrap_or_default()),
            Err(e) => return Some(Err(e)),
        }
    }
    None
}

/// Calls `on-log` on a task of its own when a plugin of `exchange` wants it.
fn log_later(exchange: Exchange, status: u16, sent: u64, started: Instant, completed: bool) {
    if !exchange.wants_log() {
        return;
    }
    let info = LogInfo {
        status,
        request_body_bytes: 0,
        response_body_bytes: sent,
        duration: started.elapsed(),
        completed,
    };
    if let Ok(tokio) = tokio::runtime::Handle::try_current() {
        tokio.spawn(exchange.on_log(info));
    }
}

/// The response body on its way out, with the exchange that watches it.
struct Tail {
    exchange: Option<Exchange>,
    head: response::Parts,
    upstream: BodyStream<ProxyBody>,
    /// The first chunk, already through the chunk hooks (and whether it was
    /// also the last).
    first: Option<(Bytes, bool)>,
    streams: bool,
    /// The upstream's trailers (streamed bodies: as the last chunk hook
    /// left them), sent after the last data.
    trailers: HeaderMap,
    ended: bool,
    sent: u64,
    /// The body's length when known: the client (hyper) stops reading once
    /// it has that many bytes, so reaching it completes the exchange.
    expected: Option<u64>,
    started: Instant,
}

impl Tail {
    async fn next(&mut self) -> Option<Item> {
        if let Some((data, end)) = self.first.take() {
            self.ended = end;
            if !data.is_empty() {
                return Some(Ok(self.count(data)));
            }
        }
        while !self.ended {
            if !self.streams {
                return match self.upstream.next().await {
                    Some(Ok(frame)) => Some(Ok(self.pass(frame))),
                    Some(Err(e)) => {
                        self.ended = true;
                        Some(Err(e))
                    }
                    None => {
                        self.ended = true;
                        break;
                    }
                };
            }
            let (data, end) = match next_data(&mut self.upstream, &mut self.trailers).await {
                Some(Ok(data)) => (data, false),
                Some(Err(e)) => {
                    self.ended = true;
                    return Some(Err(e));
                }
                None => {
                    self.ended = true;
                    (Bytes::new(), true)
                }
            };
            if let Some(item) = self.chunk(data, end).await {
                return Some(item);
            }
        }
        if !self.trailers.is_empty() {
            return Some(Ok(Frame::trailers(std::mem::take(&mut self.trailers))));
        }
        self.finish_log(true);
        None
    }

    /// A frame of a body no plugin streams: data is counted, trailers pass.
    fn pass(&mut self, frame: Frame<Bytes>) -> Frame<Bytes> {
        match frame.into_data() {
            Ok(data) => self.count(data),
            Err(other) => other,
        }
    }

    /// Runs the chunk hooks; `None` when they passed nothing on yet.
    async fn chunk(&mut self, data: Bytes, end: bool) -> Option<Item> {
        let exchange = self.exchange.as_mut()?;
        let trailers = &mut self.trailers;
        match exchange
            .on_response_chunk(&mut self.head, data, end, trailers)
            .await
        {
            ChunkDecision::Data(data) if data.is_empty() => None,
            ChunkDecision::Data(data) => Some(Ok(self.count(data))),
            ChunkDecision::Fail(failure) => {
                self.ended = true;
                Some(Err(BoxError::from(failure.error.to_string())))
            }
            ChunkDecision::Respond(_) => {
                self.ended = true;
                Some(Err(BoxError::from(
                    "a plugin answered after the response began",
                )))
            }
        }
    }

    fn count(&mut self, data: Bytes) -> Frame<Bytes> {
        self.sent += data.len() as u64;
        if self.expected == Some(self.sent) {
            self.ended = true;
            self.finish_log(true);
        }
        Frame::data(data)
    }

    fn finish_log(&mut self, completed: bool) {
        if let Some(exchange) = self.exchange.take() {
            let status = self.head.status.as_u16();
            log_later(exchange, status, self.sent, self.started, completed);
        }
    }
}

impl Drop for Tail {
    /// The client left (or the body broke) before the end: `on-log` still
    /// runs, told so.
    fn drop(&mut self) {
        self.finish_log(false);
    }
}

/// The response body on its way out: the tail's frames, behind a lock that
/// makes them `Sync` for the body type (only `&mut` ever reaches it, so the
/// lock is never contended; the exchange inside is `Send` but not `Sync`),
/// with the upstream body's size hint when the plugins leave it unchanged.
struct TailBody<S> {
    frames: Mutex<Pin<Box<S>>>,
    hint: SizeHint,
}

impl<S: Stream<Item = Item>> Body for TailBody<S> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let frames = self.get_mut().frames.get_mut();
        let frames = frames.unwrap_or_else(PoisonError::into_inner);
        frames.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}
