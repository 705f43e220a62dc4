//! The `auth` plugin fetching its keys from a JWKS served by a real origin:
//! many concurrent cold requests make exactly one fetch; `Cache-Control:
//! max-age` decides when the set expires and, past three quarters of it,
//! one request refreshes while the others go on; a rotated key with an
//! unknown `kid` is picked up by one refetch, and a second unknown `kid`
//! does not refetch again; an unreachable provider answers 503 (and logs
//! why); a kv backend that is down (Redis on a dead port) still verifies,
//! each instance fetching for itself.

use std::time::Duration;

use futures_util::future::join_all;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::auth::{Idp, auth_table, bearer, cluster, config};
use ravelin_tests::client;
use ravelin_tests::jwt::{RSA_A, RSA_B, Signer, jwks, now};
use ravelin_tests::origin::Origin;
use serde_json::json;

/// A proxy verifying tokens against the JWKS of `idp_addr`, with `jwks`
/// settings added to the `jwks` table and `extra` tables (`[kv]`).
fn start(origin: &Origin, idp_addr: impl std::fmt::Display, jwks: &str, extra: &str) -> Proxy {
    let auth = format!(
        "[plugins.auth.config.jwt]\njwks = {{ cluster = \"idp\", path = \"/.well-known/jwks.json\", timeout_ms = 1000{jwks} }}\n"
    );
    // These tests count fetches, not CPU: a roomy deadline keeps a loaded
    // test machine's preemption from failing a verification.
    let settings = "allowed_upstreams = [\"idp\"]\ndeadline_ms = 1000";
    let tables = auth_table(guests::AUTH, settings, &auth);
    let extra = format!("{}\n{extra}", cluster("idp", idp_addr));
    Proxy::start(&config(origin, &tables, &["auth"], &extra))
}

fn claims() -> serde_json::Value {
    json!({"sub": "alice", "exp": now() + 600})
}

async fn statuses(proxy: &Proxy, tokens: &[String]) -> Vec<u16> {
    let c = client::client(None, false);
    let url = proxy.url("/");
    join_all(tokens.iter().map(|t| {
        let (c, url) = (c.clone(), url.clone());
        async move { bearer(&c, &url, t).await.status }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_cold_requests_make_one_fetch() {
    let origin = Origin::start("app").await;
    let es = Signer::ec("ES256");
    let idp = Idp::start(
        jwks(&[es.jwk("k1")]),
        "max-age=300",
        Duration::from_millis(300),
    )
    .await;
    let proxy = start(&origin, idp.origin.addr, "", "");
    let tokens: Vec<String> = (0..20).map(|_| es.token(Some("k1"), &claims())).collect();
    let answers = statuses(&proxy, &tokens).await;
    assert_eq!(answers, vec![200; 20], "{}", proxy.log());
    assert_eq!(
        idp.fetches(),
        1,
        "one fetch for 20 concurrent cold requests"
    );
    let answers = statuses(&proxy, &tokens[..5]).await;
    assert_eq!(answers, vec![200; 5], "{}", proxy.log());
    assert_eq!(idp.fetches(), 1, "then served from the cache");
}

#[tokio::test(flavor = "multi_thread")]
async fn max_age_decides_expiry_and_one_request_refreshes_early() {
    let origin = Origin::start("app").await;
    let rs = Signer::rsa("RS256", RSA_A);
    let idp = Idp::start(jwks(&[rs.jwk("a")]), "public, max-age=8", Duration::ZERO).await;
    let proxy = start(&origin, idp.origin.addr, ", min_cache_s = 1", "");
    let token = rs.token(Some("a"), &claims());
    assert_eq!(
        statuses(&proxy, std::slice::from_ref(&token)).await,
        [200],
        "{}",
        proxy.log()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(statuses(&proxy, std::slice::from_ref(&token)).await, [200]);
    assert_eq!(idp.fetches(), 1, "fresh for 8 s");
    // Past the refresh point (6 s of 8), a second from expiry either way so
    // a loaded machine's delays cannot move the requests out of the window:
    // one of these refetches, none waits.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let answers = statuses(&proxy, &vec![token.clone(); 8]).await;
    assert_eq!(answers, vec![200; 8]);
    assert_eq!(idp.fetches(), 2, "exactly one background refresh");
    // The refreshed set lives 8 s more: past that it is fetched again.
    tokio::time::sleep(Duration::from_millis(9000)).await;
    assert_eq!(statuses(&proxy, &[token]).await, [200]);
    assert_eq!(idp.fetches(), 3, "expired, refetched");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_is_picked_up_by_one_refetch() {
    let origin = Origin::start("app").await;
    let (a, b) = (Signer::rsa("RS256", RSA_A), Signer::rsa("RS256", RSA_B));
    let idp = Idp::start(jwks(&[a.jwk("a")]), "max-age=3600", Duration::ZERO).await;
    let proxy = start(&origin, idp.origin.addr, "", "");
    assert_eq!(
        statuses(&proxy, &[a.token(Some("a"), &claims())]).await,
        [200],
        "{}",
        proxy.log()
    );
    idp.rotate(jwks(&[a.jwk("a"), b.jwk("b")]));
    let rotated = b.token(Some("b"), &claims());
    assert_eq!(
        statuses(&proxy, std::slice::from_ref(&rotated)).await,
        [200],
        "{}",
        proxy.log()
    );
    assert_eq!(idp.fetches(), 2, "the unknown kid refetched once");
    assert_eq!(statuses(&proxy, &[rotated]).await, [200]);
    let unknown = b.token(Some("c"), &claims());
    assert_eq!(
        statuses(&proxy, &[unknown.clone(), unknown]).await,
        [401, 401]
    );
    assert_eq!(
        idp.fetches(),
        2,
        "another unknown kid soon after does not refetch"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_provider_answers_503_and_says_why() {
    let origin = Origin::start("app").await;
    let dead = ravelin_tests::free_port();
    let proxy = start(&origin, format!("127.0.0.1:{dead}"), "", "");
    let token = Signer::ec("ES256").token(Some("k"), &claims());
    let answers = statuses(&proxy, &vec![token; 5]).await;
    assert_eq!(answers, vec![503; 5], "{}", proxy.log());
    assert!(proxy.log().contains("JWKS"), "{}", proxy.log());
    assert_eq!(origin.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_still_fetched_when_kv_is_down() {
    let origin = Origin::start("app").await;
    let es = Signer::ec("ES384");
    let idp = Idp::start(jwks(&[es.jwk("k")]), "max-age=300", Duration::ZERO).await;
    let dead = ravelin_tests::free_port();
    let kv =
        format!("[kv]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:{dead}\"\ntimeout_ms = 50\n");
    let proxy = start(&origin, idp.origin.addr, "", &kv);
    let token = es.token(Some("k"), &claims());
    assert_eq!(
        statuses(&proxy, std::slice::from_ref(&token)).await,
        [200],
        "{}",
        proxy.log()
    );
    assert_eq!(statuses(&proxy, &[token]).await, [200]);
    assert!(idp.fetches() >= 1);
    assert!(proxy.log().contains("kv unavailable"), "{}", proxy.log());
}
