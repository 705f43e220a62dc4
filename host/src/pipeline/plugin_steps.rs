//! The plugin steps of the request path: on-request in route order (4),
//! the request body hook for plugins that asked for bodies (5), and
//! on-response plus the response body hook in reverse order (7). A plugin
//! that answers ends the request there; a fail-closed plugin that fails
//! becomes a 502/503 without detail.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Response, header, request};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use ravelin_runtime::{BodyDecision, Decision, Exchange, Failure};

use super::body::PreparedBody;
use crate::error::{ProxyError, local_response};
use crate::plugins;
use crate::upstream::ProxyBody;

/// What a plugin step decided.
pub enum Step<T> {
    Go(T),
    Answer(Response<ProxyBody>),
}

/// A fail-closed plugin's failure as a response. The runtime has counted
/// it and logged it once per burst, so here it is only debug detail.
pub fn failed(failure: &Failure) -> Response<ProxyBody> {
    tracing::debug!("{}", failure.error);
    local_response(failure.status())
}

/// Step 4: the request hooks.
pub async fn on_request(exchange: &mut Exchange, parts: &mut request::Parts) -> Step<()> {
    match exchange.on_request(parts).await {
        Decision::Continue => Step::Go(()),
        Decision::Respond(response) => Step::Answer(plugins::response(response)),
        Decision::Fail(failure) => Step::Answer(failed(&failure)),
    }
}

/// Step 5 for plugins that asked for the request body: read up to the
/// largest `limit` they asked for and hand it to them. A body that ends
/// within it may be replaced; a larger one goes on whole and unchanged
/// (each plugin's over-limit rule decided what it saw).
pub async fn on_request_body(
    exchange: &mut Exchange,
    parts: &mut request::Parts,
    mut body: PreparedBody,
    limit: usize,
) -> Result<Step<PreparedBody>, ProxyError> {
    let (bytes, complete, mut trailers) = body.peek(limit).await?;
    match exchange
        .on_request_body(parts, bytes, complete, &mut trailers)
        .await
    {
        BodyDecision::Continue(_) if !complete => Ok(Step::Go(body)),
        BodyDecision::Continue(bytes) if trailers.is_empty() => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Ok(Step::Go(PreparedBody::Buffered(bytes)))
        }
        // Trailers go after a chunked body: no length.
        BodyDecision::Continue(bytes) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Ok(Step::Go(PreparedBody::BufferedWithTrailers(
                bytes, trailers,
            )))
        }
        BodyDecision::Respond(response) => Ok(Step::Answer(plugins::response(response))),
        BodyDecision::Fail(failure) => Ok(Step::Answer(failed(&failure))),
    }
}

/// Step 7: the response hooks, then the response body hook if asked for.
pub async fn on_response(
    exchange: &mut Exchange,
    response: Response<ProxyBody>,
) -> Response<ProxyBody> {
    let (mut head, body) = response.into_parts();
    match exchange.on_response(&mut head).await {
        Decision::Continue => {}
        Decision::Respond(answer) => return plugins::response(answer),
        Decision::Fail(failure) => return failed(&failure),
    }
    let Some(limit) = exchange.response_body_limit() else {
        return Response::from_parts(head, body);
    };
    let (collected, rest) = collect_up_to(body, limit).await;
    let Ok((collected, mut trailers)) = collected else {
        return local_response(http::StatusCode::BAD_GATEWAY);
    };
    match exchange
        .on_response_body(&mut head, collected, rest.is_none(), &mut trailers)
        .await
    {
        BodyDecision::Continue(bytes) => match rest {
            // Over the limit and the plugin is fail-open: send it all, unchanged.
            Some(rest) => Response::from_parts(head, prefixed(bytes, rest)),
            None if trailers.is_empty() => {
                head.headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                Response::from_parts(head, crate::compress::full(bytes))
            }
            None => {
                head.headers.remove(header::CONTENT_LENGTH);
                Response::from_parts(head, with_trailers(bytes, trailers))
            }
        },
        BodyDecision::Respond(answer) => plugins::response(answer),
        BodyDecision::Fail(failure) => failed(&failure),
    }
}

/// What [`collect_up_to`] read: the bytes and the trailers after them.
type Collected = Result<(Bytes, HeaderMap), ()>;

/// Reads at most `limit + 1` bytes; returns them (with the trailers when
/// the body ended) and, when the body goes on past the limit, the rest of it.
async fn collect_up_to(body: ProxyBody, limit: usize) -> (Collected, Option<ProxyBody>) {
    let mut stream = BodyStream::new(body);
    let mut buf = BytesMut::new();
    let mut trailers = HeaderMap::new();
    while let Some(frame) = stream.next().await {
        let Ok(frame) = frame else {
            return (Err(()), None);
        };
        match frame.into_data() {
            Ok(data) => buf.extend_from_slice(&data),
            Err(frame) => trailers.extend(frame.into_trailers().unwrap_or_default()),
        }
        if buf.len() > limit {
            let rest = BodyExt::boxed(StreamBody::new(stream));
            return (Ok((buf.freeze(), trailers)), Some(rest));
        }
    }
    (Ok((buf.freeze(), trailers)), None)
}

/// `bytes`, then `trailers`.
fn with_trailers(bytes: Bytes, trailers: HeaderMap) -> ProxyBody {
    let frames = [
        hyper::body::Frame::data(bytes),
        hyper::body::Frame::trailers(trailers),
    ];
    BodyExt::boxed(StreamBody::new(futures_util::stream::iter(
        frames.into_iter().map(Ok),
    )))
}

fn prefixed(prefix: Bytes, rest: ProxyBody) -> ProxyBody {
    let head = futures_util::stream::once(async move { Ok(hyper::body::Frame::data(prefix)) });
    BodyExt::boxed(StreamBody::new(head.chain(BodyStream::new(rest))))
}
