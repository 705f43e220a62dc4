//! Trailers: a body hook that saw the whole body reads and changes the
//! trailers after it; one that saw only a prefix, or another hook, cannot.

use crate::harness::*;
use bytes::Bytes;
use ravelin_runtime::{BodyDecision, ChunkDecision, Decision};
use ravelin_test_guests::{STREAM_UPPER, V2_PROBE};
use serde_json::json;

fn trailers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
    pairs
        .iter()
        .map(|(n, v)| {
            (
                http::HeaderName::from_static(n),
                http::HeaderValue::from_static(v),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_request_body_hook_sees_the_trailers_of_a_whole_body_only() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("probe", V2_PROBE, json!({}))]).await;
    for (path, body, expected) in [
        (
            "/v2/body-whole",
            "0123456789",
            "len=10 truncated=false trailers=x-check:1;x-probe:seen set=ok",
        ),
        (
            "/v2/body-whole?over=prefix",
            "0123456789abcdefXYZ",
            "len=16 truncated=true trailers= set=err",
        ),
    ] {
        let mut ex = chain.exchange(info());
        let mut parts = request(path);
        assert!(matches!(
            ex.on_request(&mut parts).await,
            Decision::Continue
        ));
        let mut sent = trailers(&[("x-check", "1")]);
        let complete = !path.contains("prefix");
        let decision = ex
            .on_request_body(&mut parts, Bytes::from(body), complete, &mut sent)
            .await;
        let BodyDecision::Respond(answer) = decision else {
            panic!("the probe answers from its body hook: {decision:?}");
        };
        assert_eq!(String::from_utf8_lossy(answer.body()), expected);
        if complete {
            assert_eq!(
                header(&sent, "x-probe").as_deref(),
                Some("seen"),
                "set-trailer reached the host"
            );
        }
    }
}

#[tokio::test]
async fn the_last_chunk_hook_rewrites_the_response_trailers() {
    let rt = runtime();
    let chain = chain(&rt, vec![spec("upper", STREAM_UPPER, json!({}))]).await;
    let mut ex = chain.exchange(info());
    let mut parts = request("/");
    assert!(matches!(
        ex.on_request(&mut parts).await,
        Decision::Continue
    ));
    let mut resp = response();
    assert!(matches!(
        ex.on_response(&mut resp).await,
        Decision::Continue
    ));
    let mut sent = trailers(&[("grpc-message", "fine")]);
    let first = ex
        .on_response_chunk(&mut resp, Bytes::from_static(b"ab"), false, &mut sent)
        .await;
    assert!(
        matches!(first, ChunkDecision::Data(ref d) if d == "AB"),
        "{first:?}"
    );
    assert_eq!(
        header(&sent, "grpc-message").as_deref(),
        Some("fine"),
        "not lent before the end"
    );
    let last = ex
        .on_response_chunk(&mut resp, Bytes::new(), true, &mut sent)
        .await;
    assert!(matches!(last, ChunkDecision::Data(_)), "{last:?}");
    assert_eq!(header(&sent, "grpc-message").as_deref(), Some("FINE"));
}
