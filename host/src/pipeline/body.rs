//! The request body on its way upstream. A body of known size up to the
//! buffer limit, or an HTTP/1.1 chunked body that ends within it, is read
//! whole first: its framing is then proven valid before the origin sees a
//! byte, and a retry can send it again. Larger bodies stream, capped at the
//! configured maximum.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, Version, header};
use http_body::Body as _;
use http_body_util::{BodyExt, BodyStream, Full, Limited, StreamBody};
use hyper::body::Frame;

use super::ClientBody;
use crate::error::ProxyError;
use crate::upstream::{BoxError, ProxyBody, UpstreamError, empty_body};

const FINE: u8 = 0;
const TOO_LARGE: u8 = 1;
const BROKEN: u8 = 2;

pub enum PreparedBody {
    Buffered(Bytes),
    /// A whole body a plugin saw, with the trailers that followed it.
    BufferedWithTrailers(Bytes, HeaderMap),
    /// Taken by the first attempt; `fault` says whether the client's side failed.
    Streaming {
        body: Option<ProxyBody>,
        fault: Arc<AtomicU8>,
    },
}

/// How a request body may arrive.
pub struct BodyLimits {
    /// Bodies up to this size are read whole before forwarding.
    pub buffer: usize,
    /// The largest body accepted.
    pub max: u64,
    /// A body read whole must arrive within this; a streamed one may not
    /// pause longer than this.
    pub timeout: Duration,
}

impl PreparedBody {
    pub async fn prepare(
        body: ClientBody,
        headers: &HeaderMap,
        version: Version,
        limits: &BodyLimits,
    ) -> Result<Self, ProxyError> {
        let (buffer, max) = (limits.buffer, limits.max);
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max) {
            return Err(ProxyError::BodyTooLarge);
        }
        if body.is_end_stream() {
            return Ok(PreparedBody::Buffered(Bytes::new()));
        }
        let chunked_h1 = version < Version::HTTP_2 && body.size_hint().exact().is_none();
        if declared.is_some_and(|n| n <= buffer as u64) || chunked_h1 {
            return tokio::time::timeout(limits.timeout, read_up_to(body, limits))
                .await
                .map_err(|_| ProxyError::BodyTimeout)?;
        }
        Ok(streaming(Vec::new(), body, max, limits.timeout))
    }

    /// A body sent as `body` streams (already limited and paced upstream of
    /// here: the request chunk hooks' output).
    pub fn streamed(body: ProxyBody) -> Self {
        PreparedBody::Streaming {
            body: Some(body),
            fault: Arc::new(AtomicU8::new(FINE)),
        }
    }

    /// The error for the client's body breaking while it streamed.
    pub fn client_error(&self, reason: String) -> ProxyError {
        match self {
            PreparedBody::Streaming { fault, .. } if fault.load(Ordering::Relaxed) == TOO_LARGE => {
                ProxyError::BodyTooLarge
            }
            _ => ProxyError::BadBody(reason),
        }
    }

    /// The body for one attempt: a copy when buffered, the stream once.
    pub fn attempt(&mut self) -> ProxyBody {
        match self {
            PreparedBody::Buffered(bytes) if bytes.is_empty() => empty_body(),
            PreparedBody::Buffered(bytes) => Full::new(bytes.clone())
                .map_err(|never| match never {})
                .boxed(),
            PreparedBody::BufferedWithTrailers(bytes, trailers) => {
                let frames = [
                    Frame::data(bytes.clone()),
                    Frame::trailers(trailers.clone()),
                ];
                BodyExt::boxed(StreamBody::new(futures_util::stream::iter(
                    frames.into_iter().map(Ok),
                )))
            }
            PreparedBody::Streaming { body, .. } => body.take().unwrap_or_else(empty_body),
        }
    }

    /// The first bytes of the body, more than `limit` of them when there
    /// are: (bytes, whether that is the whole body, the trailers that
    /// followed a whole body). A streamed body is read that far and keeps
    /// those bytes at its front.
    pub async fn peek(&mut self, limit: usize) -> Result<(Bytes, bool, HeaderMap), ProxyError> {
        let (body, fault) = match self {
            PreparedBody::Buffered(bytes) => return Ok((bytes.clone(), true, HeaderMap::new())),
            PreparedBody::BufferedWithTrailers(bytes, trailers) => {
                return Ok((bytes.clone(), true, trailers.clone()));
            }
            PreparedBody::Streaming { body, fault } => (body, fault),
        };
        let Some(mut stream) = body.take() else {
            return Ok((Bytes::new(), false, HeaderMap::new()));
        };
        let mut trailers = HeaderMap::new();
        let mut frames = Vec::new();
        let mut seen = BytesMut::new();
        let mut complete = true;
        while let Some(frame) = stream.frame().await {
            let frame = frame.map_err(|e| match fault.load(Ordering::Relaxed) {
                TOO_LARGE => ProxyError::BodyTooLarge,
                _ => ProxyError::BadBody(e.to_string()),
            })?;
            if let Some(data) = frame.data_ref() {
                seen.extend_from_slice(data);
            }
            if let Some(t) = frame.trailers_ref() {
                trailers.extend(t.clone());
            }
            frames.push(frame);
            if seen.len() > limit {
                complete = false;
                break;
            }
        }
        let head = futures_util::stream::iter(frames.into_iter().map(Ok));
        *body = Some(BodyExt::boxed(StreamBody::new(
            head.chain(BodyStream::new(stream)),
        )));
        Ok((seen.freeze(), complete, trailers))
    }

    pub fn is_replayable(&self) -> bool {
        !matches!(self, PreparedBody::Streaming { .. })
    }

    /// Blames the client when the upstream attempt failed because the
    /// client's body did.
    pub fn explain(&self, error: UpstreamError) -> ProxyError {
        match self {
            PreparedBody::Streaming { fault, .. } => match fault.load(Ordering::Relaxed) {
                TOO_LARGE => ProxyError::BodyTooLarge,
                BROKEN => ProxyError::BadBody(error.to_string()),
                _ => error.into(),
            },
            PreparedBody::Buffered(_) | PreparedBody::BufferedWithTrailers(..) => error.into(),
        }
    }
}

async fn read_up_to(mut body: ClientBody, limits: &BodyLimits) -> Result<PreparedBody, ProxyError> {
    let (buffer, max) = (limits.buffer, limits.max);
    let mut frames = Vec::new();
    let mut size = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ProxyError::BadBody(e.to_string()))?;
        size += frame.data_ref().map_or(0, Bytes::len);
        if size as u64 > max {
            return Err(ProxyError::BodyTooLarge);
        }
        let trailers = frame.is_trailers();
        frames.push(frame);
        if size > buffer || trailers {
            return Ok(streaming(frames, body, max - size as u64, limits.timeout));
        }
    }
    let mut whole = BytesMut::with_capacity(size);
    for frame in frames {
        if let Ok(data) = frame.into_data() {
            whole.extend_from_slice(&data);
        }
    }
    Ok(PreparedBody::Buffered(whole.freeze()))
}

/// Streams `prefix` then the rest of `body`, at most `max` more bytes, with
/// no pause longer than `pause`.
fn streaming(
    prefix: Vec<Frame<Bytes>>,
    body: ClientBody,
    max: u64,
    pause: Duration,
) -> PreparedBody {
    let fault = Arc::new(AtomicU8::new(FINE));
    let seen = fault.clone();
    let limited = BodyStream::new(Limited::new(
        body,
        usize::try_from(max).unwrap_or(usize::MAX),
    ));
    let paced = futures_util::stream::unfold(limited, move |mut stream| async move {
        match tokio::time::timeout(pause, stream.next()).await {
            Ok(next) => next.map(|item| (item, stream)),
            Err(_) => Some((
                Err(BoxError::from("the client paused its body too long")),
                stream,
            )),
        }
    });
    let rest = TryStreamExt::map_err(paced, move |e: BoxError| {
        let kind = if e.is::<http_body_util::LengthLimitError>() {
            TOO_LARGE
        } else {
            BROKEN
        };
        seen.store(kind, Ordering::Relaxed);
        e
    });
    let stream = futures_util::stream::iter(prefix.into_iter().map(Ok)).chain(rest);
    PreparedBody::Streaming {
        body: Some(BodyExt::boxed(StreamBody::new(stream))),
        fault,
    }
}
