//! Each hook: what the guest reads and changes, short-circuits, order.

use crate::harness::*;
use bytes::Bytes;
use ravelin_runtime::{BodyDecision, Decision};
use ravelin_test_guests::{PROBE, SWAP_A, SWAP_B};
use serde_json::Value;

#[tokio::test]
async fn on_request_rewrites_path_and_headers() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (_ex, decision, parts) = run(&chain, "/rewrite").await;
    assert!(matches!(decision, Decision::Continue), "{decision:?}");
    assert_eq!(
        parts.uri.path_and_query().map(|p| p.as_str()),
        Some("/rewritten?from=probe")
    );
    assert_eq!(header(&parts.headers, "x-probe").as_deref(), Some("1"));
    let multi: Vec<_> = parts
        .headers
        .get_all("x-multi")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(multi, ["a", "b"]);
    assert!(parts.headers.get("x-remove").is_none());
}

#[tokio::test]
async fn request_facts_reach_the_guest() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (_ex, decision, _) = run(&chain, "/info?q=1").await;
    let (status, body) = responded(decision);
    assert_eq!(status, 200);
    for fact in [
        "method=GET",
        "path=/info?q=1",
        "authority=Some(\"example.com\")",
        "client=Some(\"192.0.2.7:40000\")",
        "tls=Some(\"Some(\\\"example.com\\\")/Some(\\\"h2\\\")/TLSv1.3\")",
        "route=api",
        "id=req-42",
        "x-a=[\"1\", \"2\"]",
        "names=9",
    ] {
        assert!(body.contains(fact), "{fact} missing from {body}");
    }
}

#[tokio::test]
async fn respond_skips_the_rest_of_the_chain_and_the_response_hooks_of_later_plugins() {
    let rt = runtime();
    let chain = chain(
        &rt,
        vec![
            spec("a", SWAP_A, Value::Null),
            spec("probe", PROBE, Value::Null),
            spec("b", SWAP_B, Value::Null),
        ],
    )
    .await;
    let (mut ex, decision, parts) = run(&chain, "/respond").await;
    let Decision::Respond(reply) = decision else {
        panic!("expected a response, got {decision:?}")
    };
    assert_eq!(reply.status(), 418);
    assert_eq!(header(reply.headers(), "x-short").as_deref(), Some("yes"));
    assert_eq!(reply.body(), &Bytes::from_static(b"short"));
    assert_eq!(
        header(&parts.headers, "x-version").as_deref(),
        Some("a"),
        "plugin b must not run"
    );
    let (mut resp, ()) = reply.map(|_| ()).into_parts();
    resp.headers.remove("x-version");
    assert!(matches!(
        ex.on_response(&mut resp).await,
        Decision::Continue
    ));
    assert_eq!(
        header(&resp.headers, "x-version").as_deref(),
        Some("a"),
        "only plugin a's response hook runs"
    );
    assert!(resp.headers.get("x-probe-response").is_none());
}

#[tokio::test]
async fn response_hooks_run_in_reverse_order() {
    let rt = runtime();
    let chain = chain(
        &rt,
        vec![
            spec("a", SWAP_A, Value::Null),
            spec("b", SWAP_B, Value::Null),
        ],
    )
    .await;
    let (mut ex, _, parts) = run(&chain, "/").await;
    assert_eq!(header(&parts.headers, "x-version").as_deref(), Some("b"));
    let mut resp = response();
    assert!(matches!(
        ex.on_response(&mut resp).await,
        Decision::Continue
    ));
    assert_eq!(header(&resp.headers, "x-version").as_deref(), Some("a"));
}

#[tokio::test]
async fn on_response_changes_status_and_headers() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", PROBE, Value::Null)]).await;
    let (mut ex, _, _) = run(&chain, "/resp-status").await;
    let mut resp = response();
    assert!(matches!(
        ex.on_response(&mut resp).await,
        Decision::Continue
    ));
    assert_eq!(resp.status, 201);
    assert_eq!(
        header(&resp.headers, "x-probe-response").as_deref(),
        Some("seen:yes")
    );
    assert!(resp.headers.get("server").is_none());
}

#[tokio::test]
async fn body_hooks_run_only_when_asked_for() {
    let rt = runtime();
    let mut with_bodies = spec("probe", PROBE, Value::Null);
    with_bodies.request_body = true;
    with_bodies.response_body = true;
    with_bodies.max_body_bytes = 16;
    let chain = chain(&rt, vec![with_bodies, spec("a", SWAP_A, Value::Null)]).await;
    let (mut ex, _, mut parts) = run(&chain, "/").await;
    assert_eq!(ex.request_body_limit(), Some(16));
    let body = continued(
        ex.on_request_body(
            &mut parts,
            Bytes::from_static(b"hello"),
            true,
            &mut http::HeaderMap::new(),
        )
        .await,
    );
    assert_eq!(body, Bytes::from_static(b"HELLO"));
    let blocked = ex
        .on_request_body(
            &mut parts,
            Bytes::from_static(b"block"),
            true,
            &mut http::HeaderMap::new(),
        )
        .await;
    assert!(
        matches!(blocked, BodyDecision::Respond(ref r) if r.status() == 403),
        "{blocked:?}"
    );
    let too_big = ex
        .on_request_body(
            &mut parts,
            Bytes::from(vec![b'x'; 17]),
            true,
            &mut http::HeaderMap::new(),
        )
        .await;
    assert!(
        matches!(too_big, BodyDecision::Respond(ref r) if r.status() == 413),
        "{too_big:?}"
    );
    let mut resp = response();
    let _ = ex.on_response(&mut resp).await;
    let body = continued(
        ex.on_response_body(
            &mut resp,
            Bytes::from_static(b"done"),
            true,
            &mut http::HeaderMap::new(),
        )
        .await,
    );
    assert_eq!(body, Bytes::from_static(b"done!"));

    let plain = chain_without_bodies(&rt).await;
    let (ex, _, _) = run(&plain, "/").await;
    assert_eq!(ex.request_body_limit(), None);
    assert_eq!(ex.response_body_limit(), None);
}

async fn chain_without_bodies(rt: &ravelin_runtime::Runtime) -> ravelin_runtime::Chain {
    chain(rt, vec![spec("plain", PROBE, Value::Null)]).await
}

#[tokio::test]
async fn an_empty_chain_continues() {
    let rt = runtime();
    let chain = plugins(&rt, vec![])
        .await
        .chain::<&str>(&[])
        .expect("chain");
    assert!(chain.is_empty());
    let (mut ex, decision, _) = run(&chain, "/").await;
    assert!(matches!(decision, Decision::Continue));
    assert!(matches!(
        ex.on_response(&mut response()).await,
        Decision::Continue
    ));
}

/// The host runs exchanges inside hyper services on a multi-thread runtime:
/// the exchange and its hook futures must be `Send`.
#[test]
fn exchanges_and_their_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn check(
        ex: &mut ravelin_runtime::Exchange,
        parts: &mut http::request::Parts,
        resp: &mut http::response::Parts,
    ) {
        send(&ex.on_request(parts));
        send(&ex.on_request_body(parts, Bytes::new(), true, &mut http::HeaderMap::new()));
        send(&ex.on_response(resp));
        send(&ex.on_response_body(resp, Bytes::new(), true, &mut http::HeaderMap::new()));
    }
    let _ = check;
    fn sync_and_send<T: Send + Sync>() {}
    sync_and_send::<ravelin_runtime::Runtime>();
    sync_and_send::<ravelin_runtime::Chain>();
    sync_and_send::<ravelin_runtime::PluginSet>();
}
