//! The test harness: a runtime with a small pool, specs for the guests, and
//! sample requests and responses.

use bytes::Bytes;
use ravelin_runtime::{
    Chain, Decision, Exchange, NoOutbound, Outbound, PluginSet, PluginSpec, PluginStats,
    RequestInfo, Runtime, RuntimeConfig,
};
use std::sync::Arc;

/// A runtime sized for tests, with no outbound clusters.
pub fn runtime() -> Runtime {
    runtime_with(Arc::new(NoOutbound))
}

/// A runtime sized for tests, sending outbound calls to `outbound`.
pub fn runtime_with(outbound: Arc<dyn Outbound>) -> Runtime {
    let config = RuntimeConfig {
        max_instances: 64,
        ..RuntimeConfig::default()
    };
    Runtime::new(config, outbound, None).expect("runtime")
}

/// A spec for `path` named `name`, with `config`.
pub fn spec(name: &str, path: &str, config: serde_json::Value) -> PluginSpec {
    let mut spec = PluginSpec::new(name, path);
    spec.config = config;
    spec
}

/// Builds the plugin set of `specs`.
pub async fn plugins(runtime: &Runtime, specs: Vec<PluginSpec>) -> PluginSet {
    runtime.prepare(specs, None).await.expect("prepare")
}

/// Loads `specs` and returns the chain of all of them, in order.
pub async fn chain(runtime: &Runtime, specs: Vec<PluginSpec>) -> Chain {
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    plugins(runtime, specs).await.chain(&names).expect("chain")
}

/// The stats of plugin `name` in `set`.
pub fn stats(set: &PluginSet, name: &str) -> PluginStats {
    let stats = set.stats().into_iter().find(|s| s.name == name);
    stats.expect("a plugin of that name")
}

/// `GET path` with ten headers, two of them `x-a`.
pub fn request(path: &str) -> http::request::Parts {
    let mut builder = http::Request::builder()
        .method("GET")
        .uri(path)
        .header("host", "example.com");
    for (n, v) in [
        ("user-agent", "test/1.0"),
        ("accept", "*/*"),
        ("x-a", "1"),
        ("x-a", "2"),
        ("x-remove", "gone"),
        ("cookie", "c=1"),
        ("accept-language", "en"),
        ("x-request-id", "r1"),
        ("cache-control", "no-cache"),
    ] {
        builder = builder.header(n, v);
    }
    builder.body(()).expect("request").into_parts().0
}

/// An upstream's `200` with `server` and `x-upstream` headers.
pub fn response() -> http::response::Parts {
    let builder = http::Response::builder()
        .status(200)
        .header("server", "origin")
        .header("x-upstream", "yes");
    builder.body(()).expect("response").into_parts().0
}

/// Facts for the exchange.
pub fn info() -> RequestInfo {
    RequestInfo {
        client_addr: "192.0.2.7:40000".parse().ok(),
        peer_addr: "192.0.2.1:50000".parse().ok(),
        tls: Some(ravelin_runtime::TlsInfo {
            sni: Some("example.com".into()),
            alpn: Some("h2".into()),
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            client_cert: Some(std::sync::Arc::new(ravelin_runtime::ClientCert {
                der: vec![0x30, 0x03, 0x02, 0x01, 0x00],
                subject: "CN=alice, O=Example".into(),
                sans: vec![
                    ravelin_runtime::San::Dns("alice.example".into()),
                    ravelin_runtime::San::Ip([192, 0, 2, 7].into()),
                ],
            })),
        }),
        route: "api".into(),
        request_id: "req-42".into(),
    }
}

/// Runs `on_request` for `path`; returns the exchange, decision and parts.
pub async fn run(chain: &Chain, path: &str) -> (Exchange, Decision, http::request::Parts) {
    let mut exchange = chain.exchange(info());
    let mut parts = request(path);
    let decision = exchange.on_request(&mut parts).await;
    (exchange, decision, parts)
}

/// The body of a plugin's response as text; panics on any other decision.
pub fn responded(decision: Decision) -> (u16, String) {
    match decision {
        Decision::Respond(r) => (
            r.status().as_u16(),
            String::from_utf8_lossy(r.body()).into_owned(),
        ),
        other => panic!("expected a plugin response, got {other:?}"),
    }
}

/// The status of a failure; panics on any other decision.
pub fn failed(decision: Decision) -> (u16, ravelin_runtime::PluginError) {
    match decision {
        Decision::Fail(f) => (f.status().as_u16(), f.error),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The first value of header `name`.
pub fn header(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The body bytes of a body decision that continued.
pub fn continued(decision: ravelin_runtime::BodyDecision) -> Bytes {
    match decision {
        ravelin_runtime::BodyDecision::Continue(b) => b,
        other => panic!("expected the body to go on, got {other:?}"),
    }
}
