//! One exchange through every hook the proxy would call, in the proxy's
//! order, with a stand-in upstream instead of the network: `on-request`,
//! the request body whole or streamed in chunks (if asked for), the
//! upstream, `on-response`, the response body whole or streamed in chunks
//! (if asked for), then `on-log`.

use crate::outcome::{Hook, Outcome};
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use ravelin_runtime::{BodyDecision, ChunkDecision, Decision, Exchange, Failure, LogInfo};
use std::time::Instant;

/// The size of the chunks a stand-in body is streamed in.
const CHUNK: usize = 16 << 10;

/// Where an exchange stopped before the end: the plugin answered (boxed:
/// the `Err` of every step) or failed.
enum Stop {
    Answer(Hook, Box<http::Response<Bytes>>),
    Fail(Hook, Failure),
}

/// `Ok` for `Continue`; the answer or failure of `hook` as a [`Stop`].
fn head(hook: Hook, decision: Decision) -> Result<(), Stop> {
    match decision {
        Decision::Continue => Ok(()),
        Decision::Respond(r) => Err(Stop::Answer(hook, Box::new(r))),
        Decision::Fail(f) => Err(Stop::Fail(hook, f)),
    }
}

/// The body to go on with: the plugins' if they saw it whole, else `body`.
fn body(hook: Hook, decision: BodyDecision, body: Bytes, complete: bool) -> Result<Bytes, Stop> {
    match decision {
        BodyDecision::Continue(b) if complete => Ok(b),
        BodyDecision::Continue(_) => Ok(body),
        BodyDecision::Respond(r) => Err(Stop::Answer(hook, Box::new(r))),
        BodyDecision::Fail(f) => Err(Stop::Fail(hook, f)),
    }
}

/// The request hooks; the request as it goes upstream.
async fn request_side(
    exchange: &mut Exchange,
    request: http::Request<Bytes>,
) -> Result<http::Request<Bytes>, Stop> {
    let (mut parts, mut sent) = request.into_parts();
    head(Hook::OnRequest, exchange.on_request(&mut parts).await)?;
    if let Some(limit) = exchange.request_body_limit() {
        let complete = sent.len() <= limit;
        let seen = sent.slice(..sent.len().min(limit + 1));
        let decision = exchange
            .on_request_body(&mut parts, seen, complete, &mut HeaderMap::new())
            .await;
        sent = body(Hook::OnRequestBody, decision, sent, complete)?;
    }
    if exchange.request_streams() {
        let mut out = BytesMut::new();
        for (chunk, end) in chunks(sent) {
            let decision = exchange
                .on_request_chunk(chunk, end, &mut HeaderMap::new())
                .await;
            out.extend_from_slice(&chunk_data(Hook::OnRequestChunk, decision)?);
        }
        sent = out.freeze();
    }
    Ok(http::Request::from_parts(parts, sent))
}

/// The response hooks; the response as it goes to the client.
async fn response_side(
    exchange: &mut Exchange,
    upstream: http::Response<Bytes>,
) -> Result<http::Response<Bytes>, Stop> {
    let (mut parts, mut sent) = upstream.into_parts();
    head(Hook::OnResponse, exchange.on_response(&mut parts).await)?;
    if let Some(limit) = exchange.response_body_limit() {
        let complete = sent.len() <= limit;
        let seen = sent.slice(..sent.len().min(limit + 1));
        let decision = exchange
            .on_response_body(&mut parts, seen, complete, &mut HeaderMap::new())
            .await;
        sent = body(Hook::OnResponseBody, decision, sent, complete)?;
    }
    if exchange.response_streams() {
        sent = stream(exchange, &mut parts, sent).await?;
    }
    Ok(http::Response::from_parts(parts, sent))
}

/// `body` in [`CHUNK`]s (one empty chunk for an empty body), each with
/// whether it is the last.
fn chunks(body: Bytes) -> Vec<(Bytes, bool)> {
    let mut chunks: Vec<Bytes> = (0..body.len())
        .step_by(CHUNK)
        .map(|at| body.slice(at..body.len().min(at + CHUNK)))
        .collect();
    if chunks.is_empty() {
        chunks.push(Bytes::new());
    }
    let last = chunks.len() - 1;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| (chunk, i == last))
        .collect()
}

/// The bytes a chunk hook passed on, or where it stopped.
fn chunk_data(hook: Hook, decision: ChunkDecision) -> Result<Bytes, Stop> {
    match decision {
        ChunkDecision::Data(data) => Ok(data),
        ChunkDecision::Respond(r) => Err(Stop::Answer(hook, Box::new(r))),
        ChunkDecision::Fail(f) => Err(Stop::Fail(hook, f)),
    }
}

/// `on-response-chunk` for each [`CHUNK`] of `body`; what the client gets.
async fn stream(
    exchange: &mut Exchange,
    parts: &mut http::response::Parts,
    body: Bytes,
) -> Result<Bytes, Stop> {
    let mut out = BytesMut::new();
    for (chunk, end) in chunks(body) {
        let decision = exchange
            .on_response_chunk(parts, chunk, end, &mut HeaderMap::new())
            .await;
        out.extend_from_slice(&chunk_data(Hook::OnResponseChunk, decision)?);
    }
    Ok(out.freeze())
}

/// Runs `exchange` to its end, `on-log` included; the outcome has no log
/// lines yet (the harness adds them).
pub(crate) async fn run(
    mut exchange: Exchange,
    request: http::Request<Bytes>,
    upstream: http::Response<Bytes>,
) -> Outcome {
    let started = Instant::now();
    let mut forwarded = None;
    let passed = match request_side(&mut exchange, request).await {
        Ok(request) => {
            forwarded = Some(request);
            response_side(&mut exchange, upstream).await
        }
        Err(stop) => Err(stop),
    };
    let (mut answered_at, mut failure) = (None, None);
    let response = match passed {
        Ok(response) => response,
        Err(Stop::Answer(hook, response)) => {
            answered_at = Some(hook);
            *response
        }
        Err(Stop::Fail(hook, f)) => {
            let response = f.response();
            failure = Some((hook, f.error));
            response
        }
    };
    if exchange.wants_log() {
        let info = LogInfo {
            status: response.status().as_u16(),
            // As the proxy reports it today (it does not count them).
            request_body_bytes: 0,
            response_body_bytes: response.body().len() as u64,
            duration: started.elapsed(),
            completed: true,
        };
        if let Some(f) = exchange.on_log(info).await {
            failure.get_or_insert((Hook::OnLog, f.error));
        }
    }
    Outcome {
        forwarded,
        response,
        answered_at,
        failure,
        logs: Vec::new(),
    }
}
