//! The first-party plugins: waf, auth, rewrite.

use crate::harness::*;
use ravelin_runtime::Decision;
use ravelin_test_guests::{AUTH, REWRITE, WAF};
use serde_json::json;

#[tokio::test]
async fn waf_blocks_by_prefix_and_decoded_pattern() {
    let rt = runtime();
    let config = json!({ "block_path_prefixes": ["/admin"], "block_patterns": ["../", "<script"] });
    let chain = chain(&rt, vec![spec("waf", WAF, config)]).await;
    for blocked in [
        "/admin/users",
        "/files?name=..%2F..%2Fetc%2Fpasswd",
        "/search?q=%3CScript%3E",
    ] {
        let (status, _) = responded(run(&chain, blocked).await.1);
        assert_eq!(status, 403, "{blocked}");
    }
    for allowed in ["/", "/administrator-guide", "/files?name=report.pdf"] {
        let decision = run(&chain, allowed).await.1;
        assert!(
            matches!(decision, Decision::Continue),
            "{allowed}: {decision:?}"
        );
    }
}

fn with_header(path: &str, name: &'static str, value: &str) -> http::request::Parts {
    let mut parts = request(path);
    parts.headers.insert(name, value.parse().expect("value"));
    parts
}

#[tokio::test]
async fn auth_needs_a_known_token_or_key_and_strips_it() {
    let rt = runtime();
    // The SHA-256 digests of "s3cret" and "k1".
    let config = json!({
        "bearer_tokens": ["sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"],
        "api_keys": { "keys": { "k1": "sha256:6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0" } },
    });
    let chain = chain(&rt, vec![spec("auth", AUTH, config)]).await;
    let (_, decision, _) = run(&chain, "/").await;
    let Decision::Respond(reply) = decision else {
        panic!("expected 401, got {decision:?}")
    };
    assert_eq!(reply.status(), 401);
    assert_eq!(
        header(reply.headers(), "www-authenticate").as_deref(),
        Some("Bearer realm=\"ravelin\"")
    );
    for (name, value) in [("authorization", "Bearer s3cret"), ("x-api-key", "k1")] {
        let mut parts = with_header("/", name, value);
        let mut ex = chain.exchange(info());
        assert!(
            matches!(ex.on_request(&mut parts).await, Decision::Continue),
            "{name}"
        );
        assert!(parts.headers.get(name).is_none(), "{name} is stripped");
    }
    let mut parts = with_header("/", "authorization", "Bearer wrong");
    assert!(matches!(
        chain.exchange(info()).on_request(&mut parts).await,
        Decision::Respond(_)
    ));
}

#[tokio::test]
async fn rewrite_swaps_the_prefix_and_edits_headers() {
    let rt = runtime();
    let config = json!({
        "rules": [{ "path": "^/api(/.*)?$", "rewrite": "/v1$1" }],
        "request": { "set": { "x-from": "ravelin" }, "remove": ["cookie"] },
        "response": { "remove": ["server"], "add": { "x-served-by": "ravelin" } },
    });
    let chain = chain(&rt, vec![spec("rewrite", REWRITE, config)]).await;
    let (mut ex, decision, parts) = run(&chain, "/api/items?page=2").await;
    assert!(matches!(decision, Decision::Continue));
    assert_eq!(
        parts.uri.path_and_query().map(|p| p.as_str()),
        Some("/v1/items?page=2")
    );
    assert_eq!(header(&parts.headers, "x-from").as_deref(), Some("ravelin"));
    assert!(parts.headers.get("cookie").is_none());
    let mut resp = response();
    let _ = ex.on_response(&mut resp).await;
    assert!(resp.headers.get("server").is_none());
    assert_eq!(
        header(&resp.headers, "x-served-by").as_deref(),
        Some("ravelin")
    );
}
