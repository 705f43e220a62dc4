//! The `auth` plugin in the real proxy with JWTs checked against static
//! keys and secrets: every algorithm family accepted; expired,
//! not-yet-valid, wrong issuer or audience, missing claim, `alg: none`,
//! HS256 over an RSA public key and tampered tokens refused with RFC 6750
//! challenges; claims to headers with spoofed copies removed; an attribute
//! a later plugin keys on; bad configs refused at load. JWKS fetching is in
//! `edge_auth_jwks.rs`, the other methods in `edge_auth_credentials.rs`.

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::auth::{auth_table, bearer, config, get, start, www};
use ravelin_tests::client;
use ravelin_tests::jwt::{RSA_A, RSA_A_PUB, RSA_B, Signer, jwks, now};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{check_config, plugin_table};
use serde_json::{Value, json};

const SECRET: &str = "an HMAC secret of at least 32 bytes";

fn claims(extra: Value) -> Value {
    let mut claims = json!({"sub": "alice", "iss": "https://idp.test", "aud": "api",
        "iat": now(), "exp": now() + 600});
    for (k, v) in extra.as_object().expect("object") {
        claims[k] = v.clone();
    }
    claims
}

#[tokio::test(flavor = "multi_thread")]
async fn every_jwt_algorithm_family_is_accepted() {
    let origin = Origin::start("app").await;
    let (es256, es384, ed) = (Signer::ec("ES256"), Signer::ec("ES384"), Signer::ed25519());
    let set = jwks(&[es256.jwk("e1"), es384.jwk("e2"), ed.jwk("d1")]);
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("hs.secret"), format!("{SECRET}\n")).expect("secret");
    let tables = auth_table(
        guests::AUTH,
        "secret_files = { jwt_hmac_secret = \"hs.secret\" }",
        &format!("[plugins.auth.config.jwt]\nkeys = ['''{RSA_A_PUB}''', '''{set}''']\n"),
    );
    let proxy = Proxy::start_in(dir, &config(&origin, &tables, &["auth"], ""));
    let c = client::client(None, false);
    let signers = [
        Signer::hmac("HS256", SECRET.as_bytes()),
        Signer::hmac("HS384", SECRET.as_bytes()),
        Signer::hmac("HS512", SECRET.as_bytes()),
        Signer::rsa("RS256", RSA_A),
        Signer::rsa("RS384", RSA_A),
        Signer::rsa("RS512", RSA_A),
        Signer::rsa("PS256", RSA_A),
    ];
    for signer in &signers {
        let answer = bearer(&c, &proxy.url("/"), &signer.token(None, &claims(json!({})))).await;
        assert_eq!(answer.status, 200, "{}: {}", signer.alg(), proxy.log());
    }
    for (signer, kid) in [(&es256, "e1"), (&es384, "e2"), (&ed, "d1")] {
        let answer = bearer(
            &c,
            &proxy.url("/"),
            &signer.token(Some(kid), &claims(json!({}))),
        )
        .await;
        assert_eq!(answer.status, 200, "{}: {}", signer.alg(), proxy.log());
    }
    let stranger = Signer::rsa("RS256", RSA_B).token(None, &claims(json!({})));
    let refused = bearer(&c, &proxy.url("/"), &stranger).await;
    assert_eq!(refused.status, 401, "a key nobody configured");
    assert_eq!(origin.count(), signers.len() + 3);
}

/// A proxy accepting RS256 tokens of key A for issuer idp.test and
/// audience api, requiring `email`.
fn strict(origin: &Origin) -> Proxy {
    let jwt = format!(
        "[plugins.auth.config.jwt]\nkeys = ['''{RSA_A_PUB}''']\nissuer = \"https://idp.test\"\n\
         audience = [\"api\", \"web\"]\nleeway_s = 5\nrequired_claims = [\"email\"]\n"
    );
    start(guests::AUTH, origin, "", &format!("realm = \"api\"\n{jwt}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn jwt_claims_are_enforced_with_rfc_6750_answers() {
    let origin = Origin::start("app").await;
    let proxy = strict(&origin);
    let c = client::client(None, false);
    let rs = Signer::rsa("RS256", RSA_A);
    let url = proxy.url("/");
    let good = claims(json!({"email": "a@x", "aud": ["web", "other"]}));
    assert_eq!(
        bearer(&c, &url, &rs.token(None, &good)).await.status,
        200,
        "{}",
        proxy.log()
    );
    let expired = bearer(
        &c,
        &url,
        &rs.token(None, &claims(json!({"email": "a@x", "exp": now() - 10}))),
    )
    .await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        www(&expired),
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"the access token expired\""
    );
    for (what, bad) in [
        ("nbf", json!({"email": "a@x", "nbf": now() + 600})),
        ("iss", json!({"email": "a@x", "iss": "https://evil.test"})),
        ("aud", json!({"email": "a@x", "aud": "other"})),
        ("no exp", json!({"email": "a@x", "exp": null})),
    ] {
        let mut token_claims = claims(bad);
        token_claims
            .as_object_mut()
            .expect("object")
            .retain(|_, v| !v.is_null());
        let answer = bearer(&c, &url, &rs.token(None, &token_claims)).await;
        assert_eq!(answer.status, 401, "{what}");
        assert!(
            www(&answer).contains("error=\"invalid_token\""),
            "{what}: {}",
            www(&answer)
        );
    }
    let lacking = bearer(&c, &url, &rs.token(None, &claims(json!({})))).await;
    assert_eq!(
        lacking.status, 403,
        "a valid token without the required claim"
    );
    assert!(
        www(&lacking).contains("error=\"insufficient_scope\""),
        "{}",
        www(&lacking)
    );
    assert_eq!(origin.count(), 1, "no refused request reached the origin");
    assert!(
        proxy.log().contains("issuer"),
        "the reason is logged:\n{}",
        proxy.log()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_tokens_are_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let origin = Origin::start("app").await;
    let proxy = strict(&origin);
    let c = client::client(None, false);
    let url = proxy.url("/");
    let good = Signer::rsa("RS256", RSA_A).token(None, &claims(json!({"email": "a@x"})));
    let (head, rest) = good.split_once('.').expect("token");
    let (_, signature) = rest.split_once('.').expect("token");
    let admin = B64.encode(claims(json!({"email": "a@x", "sub": "admin"})).to_string());
    let none_head = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let confused =
        Signer::hmac("HS256", RSA_A_PUB.as_bytes()).token(None, &claims(json!({"email": "a@x"})));
    let confused_trimmed = Signer::hmac("HS256", RSA_A_PUB.trim().as_bytes())
        .token(None, &claims(json!({"email": "a@x"})));
    for (what, token) in [
        ("tampered payload", format!("{head}.{admin}.{signature}")),
        ("alg none", format!("{none_head}.{admin}.")),
        ("HS256 over the RSA public key", confused),
        ("HS256 over the trimmed RSA public key", confused_trimmed),
        ("garbage", "not.a.token".to_string()),
    ] {
        let answer = bearer(&c, &url, &token).await;
        assert_eq!(answer.status, 401, "{what}");
        assert!(www(&answer).contains("error=\"invalid_token\""), "{what}");
    }
    assert_eq!(origin.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_become_headers_and_spoofed_copies_are_removed() {
    let origin = Origin::start("app").await;
    let jwt = "[plugins.auth.config.jwt]\nhmac_secrets = [\"an HMAC secret of at least 32 bytes\"]\n\
               claims_to_headers = { sub = \"X-User-Id\", email = \"X-User-Email\" }\n";
    let proxy = start(guests::AUTH, &origin, "", jwt);
    let c = client::client(None, false);
    let token = Signer::hmac("HS256", SECRET.as_bytes()).token(None, &claims(json!({})));
    let headers = [
        ("authorization", format!("Bearer {token}")),
        ("x-user-id", "admin".to_string()),
        ("x-user-email", "boss@corp".to_string()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    assert_eq!(
        get(&c, &proxy.url("/"), &headers).await.status,
        200,
        "{}",
        proxy.log()
    );
    let seen = &origin.received()[0];
    assert_eq!(
        seen.headers.get_all("x-user-id").iter().collect::<Vec<_>>(),
        ["alice"]
    );
    assert!(
        seen.headers.get("x-user-email").is_none(),
        "the token has no email: the spoof is gone anyway"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_plugin_keys_on_the_subject_attribute() {
    let origin = Origin::start("app").await;
    let jwt = format!("[plugins.auth.config.jwt]\nhmac_secrets = [\"{SECRET}\"]\n");
    let limit = r#"{ key = { attribute = "auth.subject" }, limits = [{ name = "u", rate = 1, per = "1m", burst = 1 }] }"#;
    let tables =
        auth_table(guests::AUTH, "", &jwt) + &plugin_table("ratelimit", guests::RATELIMIT, limit);
    let proxy = Proxy::start(&config(&origin, &tables, &["auth", "ratelimit"], ""));
    let c = client::client(None, false);
    let hs = Signer::hmac("HS256", SECRET.as_bytes());
    let alice = hs.token(None, &claims(json!({})));
    let bob = hs.token(None, &claims(json!({"sub": "bob"})));
    assert_eq!(
        bearer(&c, &proxy.url("/"), &alice).await.status,
        200,
        "{}",
        proxy.log()
    );
    assert_eq!(
        bearer(&c, &proxy.url("/"), &alice).await.status,
        429,
        "alice's own quota"
    );
    assert_eq!(
        bearer(&c, &proxy.url("/"), &bob).await.status,
        200,
        "bob has his"
    );
}

#[test]
fn bad_configs_are_refused_at_load_naming_the_key() {
    let origin = "127.0.0.1:9".parse().expect("addr");
    let refused = |auth: &str, settings: &str, expected: &str| {
        let tables = auth_table(guests::AUTH, settings, auth);
        let text = ravelin_tests::proxy::plugin_chain_config(origin, &tables, &["auth"]);
        let (ok, said) = check_config(&text);
        assert!(!ok, "accepted: {auth}");
        assert!(
            said.contains(expected),
            "{auth}: expected {expected:?} in:\n{said}"
        );
    };
    refused(
        "bearer_tokens = [\"demo-token\"]",
        "",
        "bearer_tokens[0]: must be \"sha256:",
    );
    refused("bearer_tokens = [\"sha256:12\"]", "", "64 hex digits");
    refused("", "", "no method enabled");
    refused("tokens = []", "", "unknown field `tokens`");
    refused(
        &format!("[plugins.auth.config.jwt]\nkeys = ['''{RSA_A}''']"),
        "",
        "never the private one",
    );
    refused(
        "[plugins.auth.config.jwt]\nhmac_secrets = [\"short\"]",
        "",
        "jwt.hmac_secrets[0]: HMAC secret of 5 bytes",
    );
    refused(
        &format!("[plugins.auth.config.jwt]\nkeys = ['''{RSA_A_PUB}''']\nalgorithms = [\"none\"]"),
        "",
        "jwt.algorithms: \"none\" is not one of",
    );
    refused("[plugins.auth.config.jwt]\nleeway_s = 5", "", "jwt: no key");
    refused(
        "[plugins.auth.config.jwt]\njwks = { cluster = \"idp\", path = \"jwks.json\" }",
        "",
        "jwt.jwks.path",
    );
    refused(
        "[plugins.auth.config.api_keys]\nkeys = { ci = \"plain\" }",
        "",
        "api_keys.keys.ci",
    );
    refused(
        "[plugins.auth.config.basic]\nusers = [\"alice:plain\"]",
        "",
        "basic.users: line 1 (alice)",
    );
    refused("[plugins.auth.config.basic]\nusers = [\"$argon2id$v=19$m=999999,t=1,p=1$cmF2ZWxpbi10ZXN0LXNsdA$mKfU2LUp+V1+45TDuBM/tZPAkXLW7h97CbiXz/Q0gfw\"]".replace("[\"$", "[\"u:$").as_str(), "", "over the");
    refused(
        "[plugins.auth.config.forward_auth]\ncluster = \"a\"\npath = \"/v\"\nunavailable_status = 200",
        "",
        "forward_auth.unavailable_status",
    );
}
