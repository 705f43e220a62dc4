//! `ravelin plugin test FILE --request …`: runs a plugin against a sample
//! request with no network (outbound calls fail) and reports what it did.

use crate::{
    BodyDecision, Decision, NoOutbound, PluginError, PluginSpec, RequestInfo, Runtime,
    RuntimeConfig,
};
use bytes::Bytes;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Parses a sample request: a first line `METHOD TARGET` (TARGET a path or
/// an absolute URL), then `Name: value` header lines, then an optional
/// blank line and body.
pub fn parse_request(text: &str) -> Result<http::Request<Bytes>, String> {
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b),
        None => (text, ""),
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, target) = first
        .trim()
        .split_once(' ')
        .ok_or("the first line must be `METHOD TARGET`")?;
    let mut builder = http::Request::builder().method(method).uri(target.trim());
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("{line:?} is not `Name: value`"))?;
        builder = builder.header(name.trim(), value.trim());
    }
    builder
        .body(Bytes::from(body.to_string()))
        .map_err(|e| format!("invalid request: {e}"))
}

/// What the plugin did with the sample request.
#[derive(Debug)]
pub struct OfflineReport {
    /// The request-side decision, as text.
    pub decision: String,
    /// The request head as forwarded upstream (if it was).
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

fn show_request(parts: &http::request::Parts) -> String {
    let mut text = format!("  {} {}\n", parts.method, parts.uri);
    for (n, v) in &parts.headers {
        text += &format!("  {n}: {}\n", String::from_utf8_lossy(v.as_bytes()));
    }
    text
}

fn show_response(response: &http::Response<Bytes>) -> String {
    let mut text = format!("  {}\n", response.status());
    for (n, v) in response.headers() {
        text += &format!("  {n}: {}\n", String::from_utf8_lossy(v.as_bytes()));
    }
    text + &format!("  \n  {}", String::from_utf8_lossy(response.body()))
}

/// Runs `file` with `config` against `request`: the request hooks, then a
/// stand-in upstream answering `200 ok`, then the response hooks.
pub async fn run_offline(
    file: &Path,
    config: serde_json::Value,
    request: http::Request<Bytes>,
) -> Result<OfflineReport, PluginError> {
    let config_rt = RuntimeConfig {
        pooling: false,
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::new(config_rt, Arc::new(NoOutbound))?;
    let mut spec = PluginSpec::new("plugin-under-test", file);
    spec.config = config;
    spec.request_body = !request.body().is_empty();
    runtime.load(spec).await?;
    let chain = runtime.chain(&["plugin-under-test"])?;
    let info = RequestInfo {
        route: "test".into(),
        request_id: "test-1".into(),
        client_addr: "127.0.0.1:50000".parse().ok(),
        tls: None,
    };
    let mut exchange = chain.exchange(info);
    let (mut parts, body) = request.into_parts();
    let respond = |d: &str, r: http::Response<Bytes>| OfflineReport {
        decision: d.into(),
        forwarded: None,
        response: show_response(&r),
    };
    match exchange.on_request(&mut parts).await {
        Decision::Continue => {}
        Decision::Respond(r) => return Ok(respond("respond", r)),
        Decision::Fail(f) => return Ok(respond(&format!("fail ({})", f.error), f.response())),
    }
    if exchange.request_body_limit().is_some() {
        match exchange.on_request_body(&mut parts, body).await {
            BodyDecision::Continue(_) => {}
            BodyDecision::Respond(r) => return Ok(respond("respond (body)", r)),
            BodyDecision::Fail(f) => {
                return Ok(respond(&format!("fail ({})", f.error), f.response()));
            }
        }
    }
    let forwarded = Some(show_request(&parts));
    let upstream = http::Response::builder()
        .header("server", "origin")
        .body(())
        .map_err(|e| PluginError::Spec {
            plugin: "plugin-under-test".into(),
            reason: e.to_string(),
        })?;
    let (mut resp, ()) = upstream.into_parts();
    let decision = match exchange.on_response(&mut resp).await {
        Decision::Continue => http::Response::from_parts(resp, Bytes::from_static(b"ok")),
        Decision::Respond(r) => r,
        Decision::Fail(f) => f.response(),
    };
    Ok(OfflineReport {
        decision: "continue".into(),
        forwarded,
        response: show_response(&decision),
    })
}
