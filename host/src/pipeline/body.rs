//! The request body on its way upstream. A body of known size up to the
//! buffer limit, or an HTTP/1.1 chunked body that ends within it, is read
//! whole first: its framing is then proven valid before the origin sees a
//! byte, and a retry can send it again. Larger bodies stream, capped at the
//! configured maximum.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, Version, header};
use http_body::Body as _;
use http_body_util::{BodyExt, BodyStream, Empty, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};

use crate::error::ProxyError;
use crate::upstream::{BoxError, ProxyBody, UpstreamError};

const FINE: u8 = 0;
const TOO_LARGE: u8 = 1;
const BROKEN: u8 = 2;

pub enum PreparedBody {
    Buffered(Bytes),
    /// Taken by the first attempt; `fault` says whether the client's side failed.
    Streaming {
        body: Option<ProxyBody>,
        fault: Arc<AtomicU8>,
    },
}

impl PreparedBody {
    pub async fn prepare(
        body: Incoming,
        headers: &HeaderMap,
        version: Version,
        buffer: usize,
        max: u64,
    ) -> Result<Self, ProxyError> {
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
            return read_up_to(body, buffer, max).await;
        }
        Ok(streaming(Vec::new(), body, max))
    }

    /// The body for one attempt: a copy when buffered, the stream once.
    pub fn attempt(&mut self) -> ProxyBody {
        match self {
            PreparedBody::Buffered(bytes) if bytes.is_empty() => {
                Empty::new().map_err(|never| match never {}).boxed()
            }
            PreparedBody::Buffered(bytes) => Full::new(bytes.clone())
                .map_err(|never| match never {})
                .boxed(),
            PreparedBody::Streaming { body, .. } => body
                .take()
                .unwrap_or_else(|| Empty::new().map_err(|never| match never {}).boxed()),
        }
    }

    pub fn is_replayable(&self) -> bool {
        matches!(self, PreparedBody::Buffered(_))
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
            PreparedBody::Buffered(_) => error.into(),
        }
    }
}

async fn read_up_to(
    mut body: Incoming,
    buffer: usize,
    max: u64,
) -> Result<PreparedBody, ProxyError> {
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
            return Ok(streaming(frames, body, max - size as u64));
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

/// Streams `prefix` then the rest of `body`, at most `max` more bytes.
fn streaming(prefix: Vec<Frame<Bytes>>, body: Incoming, max: u64) -> PreparedBody {
    let fault = Arc::new(AtomicU8::new(FINE));
    let seen = fault.clone();
    let limited = BodyStream::new(Limited::new(
        body,
        usize::try_from(max).unwrap_or(usize::MAX),
    ));
    let rest = TryStreamExt::map_err(limited, move |e: BoxError| {
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
