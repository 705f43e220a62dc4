//! `ravelin plugin test`: runs a plugin offline, with no network (outbound
//! calls fail), through every hook the proxy would call — request, request
//! body, a stand-in upstream response, response, response body whole or in
//! chunks, and `on-log` — for a sequence of requests that share one kv.
//! [`Harness`] is the library form, for a plugin's own tests.

use crate::{
    BodyDecision, ChunkDecision, Decision, Exchange, LogInfo, NoOutbound, PluginError, PluginSpec,
    Runtime, RuntimeConfig,
};
use crate::{Chain, RequestInfo};
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// The size of the chunks a stand-in body is streamed in.
const CHUNK: usize = 16 << 10;

/// Splits `text` into a head and a body at the first blank line.
fn head_and_body(text: &str) -> (&str, &str) {
    text.split_once("\n\n").unwrap_or((text, ""))
}

/// `Name: value` lines into `headers`.
fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
    mut add: impl FnMut(&str, &str),
) -> Result<(), String> {
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("{line:?} is not `Name: value`"))?;
        add(name.trim(), value.trim());
    }
    Ok(())
}

/// Parses a sample request: a first line `METHOD TARGET` (TARGET a path or
/// an absolute URL), then `Name: value` header lines, then an optional
/// blank line and body.
pub fn parse_request(text: &str) -> Result<http::Request<Bytes>, String> {
    let (head, body) = head_and_body(text);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, target) = first
        .trim()
        .split_once(' ')
        .ok_or("the first line must be `METHOD TARGET`")?;
    let mut builder = http::Request::builder().method(method).uri(target.trim());
    parse_headers(lines, |n, v| {
        builder = std::mem::take(&mut builder).header(n, v)
    })?;
    builder
        .body(Bytes::from(body.to_string()))
        .map_err(|e| format!("invalid request: {e}"))
}

/// Parses a stand-in upstream response: a first line `STATUS`, then
/// `Name: value` header lines, then an optional blank line and body.
pub fn parse_response(text: &str) -> Result<http::Response<Bytes>, String> {
    let (head, body) = head_and_body(text);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| "the first line must be a status code".to_string())?;
    let mut builder = http::Response::builder().status(status);
    parse_headers(lines, |n, v| {
        builder = std::mem::take(&mut builder).header(n, v)
    })?;
    builder
        .body(Bytes::from(body.to_string()))
        .map_err(|e| format!("invalid response: {e}"))
}

/// What the plugin did with one request.
#[derive(Debug)]
pub struct OfflineReport {
    /// The request-side decision, as text.
    pub decision: String,
    /// The request as forwarded upstream (if it was).
    pub forwarded: Option<String>,
    /// The response the client would get.
    pub response: String,
}

impl fmt::Display for OfflineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "decision: {}", self.decision)?;
        if let Some(forwarded) = &self.forwarded {
            writeln!(f, "forwarded upstream:\n{forwarded}")?;
        }
        write!(f, "response to the client:\n{}", self.response)
    }
}

fn show_head(first: String, headers: &http::HeaderMap, body: &[u8]) -> String {
    let mut text = format!("  {first}\n");
    for (n, v) in headers {
        text += &format!("  {n}: {}\n", String::from_utf8_lossy(v.as_bytes()));
    }
    text + &format!("  \n  {}", String::from_utf8_lossy(body))
}

fn show_response(response: &http::Response<Bytes>) -> String {
    show_head(
        response.status().to_string(),
        response.headers(),
        response.body(),
    )
}

/// One plugin loaded for offline runs: every exchange shares its runtime
/// (and so its kv store).
pub struct Harness {
    chain: Chain,
    served: u64,
}

impl Harness {
    /// Loads `file` with `config` (no pooling: instances start fresh).
    pub async fn load(file: &Path, config: serde_json::Value) -> Result<Self, PluginError> {
        let settings = RuntimeConfig {
            pooling: false,
            ..RuntimeConfig::default()
        };
        let runtime = Runtime::new(settings, Arc::new(NoOutbound), None)?;
        let mut spec = PluginSpec::new("plugin-under-test", file);
        spec.config = config;
        let chain = runtime.load(spec).await?.chain(&["plugin-under-test"])?;
        Ok(Harness { chain, served: 0 })
    }

    /// Runs one request through every hook, the upstream answering
    /// `upstream`; then `on-log`.
    pub async fn exchange(
        &mut self,
        request: http::Request<Bytes>,
        upstream: http::Response<Bytes>,
    ) -> OfflineReport {
        self.served += 1;
        let info = RequestInfo {
            route: "test".into(),
            request_id: format!("test-{}", self.served),
            client_addr: "127.0.0.1:50000".parse().ok(),
            peer_addr: "127.0.0.1:50000".parse().ok(),
            tls: None,
        };
        let started = Instant::now();
        let mut exchange = self.chain.exchange(info);
        let (report, status, sent) = run(&mut exchange, request, upstream).await;
        let log = LogInfo {
            status,
            request_body_bytes: 0,
            response_body_bytes: sent,
            duration: started.elapsed(),
            completed: true,
        };
        if exchange.wants_log() {
            exchange.on_log(log).await;
        }
        report
    }
}

/// An answer before the upstream: the report, its status, its body size.
fn answered(decision: &str, response: http::Response<Bytes>) -> (OfflineReport, u16, u64) {
    let report = OfflineReport {
        decision: decision.into(),
        forwarded: None,
        response: show_response(&response),
    };
    (
        report,
        response.status().as_u16(),
        response.body().len() as u64,
    )
}

async fn run(
    exchange: &mut Exchange,
    request: http::Request<Bytes>,
    upstream: http::Response<Bytes>,
) -> (OfflineReport, u16, u64) {
    let (mut parts, mut body) = request.into_parts();
    match exchange.on_request(&mut parts).await {
        Decision::Continue => {}
        Decision::Respond(r) => return answered("respond", r),
        Decision::Fail(f) => return answered(&format!("fail ({})", f.error), f.response()),
    }
    if let Some(limit) = exchange.request_body_limit() {
        let complete = body.len() <= limit;
        let seen = body.slice(..body.len().min(limit + 1));
        match exchange
            .on_request_body(&mut parts, seen, complete, &mut HeaderMap::new())
            .await
        {
            BodyDecision::Continue(b) if complete => body = b,
            BodyDecision::Continue(_) => {}
            BodyDecision::Respond(r) => return answered("respond (request body)", r),
            BodyDecision::Fail(f) => return answered(&format!("fail ({})", f.error), f.response()),
        }
    }
    let forwarded = Some(show_head(
        format!("{} {}", parts.method, parts.uri),
        &parts.headers,
        &body,
    ));
    let response = respond(exchange, upstream).await;
    let (status, sent) = (response.status().as_u16(), response.body().len() as u64);
    let report = OfflineReport {
        decision: "continue".into(),
        forwarded,
        response: show_response(&response),
    };
    (report, status, sent)
}

/// The response hooks, then the response body hooks (whole, then streamed
/// in chunks of [`CHUNK`] bytes).
async fn respond(
    exchange: &mut Exchange,
    upstream: http::Response<Bytes>,
) -> http::Response<Bytes> {
    let (mut head, mut body) = upstream.into_parts();
    match exchange.on_response(&mut head).await {
        Decision::Continue => {}
        Decision::Respond(r) => return r,
        Decision::Fail(f) => return f.response(),
    }
    if let Some(limit) = exchange.response_body_limit() {
        let complete = body.len() <= limit;
        let seen = body.slice(..body.len().min(limit + 1));
        match exchange
            .on_response_body(&mut head, seen, complete, &mut HeaderMap::new())
            .await
        {
            BodyDecision::Continue(b) if complete => body = b,
            BodyDecision::Continue(_) => {}
            BodyDecision::Respond(r) => return r,
            BodyDecision::Fail(f) => return f.response(),
        }
    }
    if exchange.response_streams() {
        let mut out = BytesMut::new();
        let mut chunks: Vec<Bytes> = (0..body.len())
            .step_by(CHUNK)
            .map(|at| body.slice(at..body.len().min(at + CHUNK)))
            .collect();
        if chunks.is_empty() {
            chunks.push(Bytes::new());
        }
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            match exchange
                .on_response_chunk(&mut head, chunk, i == last, &mut HeaderMap::new())
                .await
            {
                ChunkDecision::Data(data) => out.extend_from_slice(&data),
                ChunkDecision::Respond(r) => return r,
                ChunkDecision::Fail(f) => return f.response(),
            }
        }
        body = out.freeze();
    }
    http::Response::from_parts(head, body)
}

/// Runs `file` with `config` against each of `requests` in turn (sharing
/// one kv), the upstream answering `upstream` each time.
pub async fn run_offline(
    file: &Path,
    config: serde_json::Value,
    requests: Vec<http::Request<Bytes>>,
    upstream: http::Response<Bytes>,
) -> Result<Vec<OfflineReport>, PluginError> {
    let mut harness = Harness::load(file, config).await?;
    let mut reports = Vec::with_capacity(requests.len());
    for request in requests {
        reports.push(harness.exchange(request, upstream.clone()).await);
    }
    Ok(reports)
}
