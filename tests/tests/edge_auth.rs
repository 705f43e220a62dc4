//! The `auth` plugin in the real proxy, with static keys and secrets: every
//! JWT algorithm family accepted; expired, not-yet-valid, wrong issuer or
//! audience, missing claim, `alg: none`, HS256 over an RSA public key and
//! tampered tokens refused with RFC 6750 challenges; hashed static tokens
//! and API keys (header and query); Basic against bcrypt and argon2 (the
//! verification cached); forward auth allowing, denying and down; claims to
//! headers with spoofed copies removed; an attribute a later plugin keys
//! on; credentials stripped or forwarded; bad configs refused at load.
//! JWKS fetching is in `edge_auth_jwks.rs`.

use std::time::{Duration, Instant};

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::auth::{auth_table, bearer, cluster, config, get};
use ravelin_tests::client;
use ravelin_tests::jwt::{RSA_A, RSA_A_PUB, RSA_B, Signer, jwks, now, sha256};
use ravelin_tests::origin::{Origin, respond};
use ravelin_tests::proxy::{check_config, plugin_table};
use serde_json::{Value, json};

const SECRET: &str = "an HMAC secret of at least 32 bytes";
// Hashes of "tortoise" (bcrypt, costs 4 and 10) and "hunter2" (argon2id).
const BCRYPT_4: &str = "$2b$04$akD0XUvnZgzxWUvyJRC0WeGJnE96QfZI1fqhs7yaqsBATgXuzvDoi";
const BCRYPT_10: &str = "$2b$10$akD0XUvnZgzxWUvyJRC0WeDie/7fvHWXC3hCrIiwdwn2tTOjUbNKG";
const ARGON2: &str = "$argon2id$v=19$m=256,t=1,p=1$cmF2ZWxpbi10ZXN0LXNsdA$mKfU2LUp+V1+45TDuBM/tZPAkXLW7h97CbiXz/Q0gfw";

/// A proxy running `auth` alone in front of `origin`.
fn start(origin: &Origin, settings: &str, auth: &str) -> Proxy {
    let tables = auth_table(guests::AUTH, settings, auth);
    Proxy::start(&config(origin, &tables, &["auth"], ""))
}

fn claims(extra: Value) -> Value {
    let mut claims = json!({"sub": "alice", "iss": "https://idp.test", "aud": "api",
        "iat": now(), "exp": now() + 600});
    for (k, v) in extra.as_object().expect("object") {
        claims[k] = v.clone();
    }
    claims
}

fn www(answer: &client::Answer) -> String {
    answer
        .header("www-authenticate")
        .unwrap_or_default()
        .to_string()
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
    start(origin, "", &format!("realm = \"api\"\n{jwt}"))
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
async fn a_missing_credential_gets_every_enabled_challenge() {
    let origin = Origin::start("app").await;
    let auth = format!(
        "bearer_tokens = [\"{}\"]\n[plugins.auth.config.basic]\nusers = [\"alice:{BCRYPT_4}\"]\n",
        sha256("demo-token")
    );
    let proxy = start(&origin, "", &auth);
    let c = client::client(None, false);
    let answer = get(&c, &proxy.url("/"), &[]).await;
    assert_eq!(answer.status, 401);
    let challenges: Vec<&str> = answer
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().expect("ascii"))
        .collect();
    assert_eq!(
        challenges,
        [
            "Bearer realm=\"ravelin\"",
            "Basic realm=\"ravelin\", charset=\"UTF-8\""
        ]
    );
    assert_eq!(bearer(&c, &proxy.url("/"), "demo-token").await.status, 200);
    let wrong = bearer(&c, &proxy.url("/"), "demo-tokem").await;
    assert_eq!(wrong.status, 401);
    assert!(www(&wrong).contains("invalid_token"));
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_work_from_the_header_and_the_query_and_are_stripped() {
    let origin = Origin::start("app").await;
    let auth = format!(
        "[plugins.auth.config.api_keys]\nquery = \"api_key\"\nkeys = {{ ci = \"{}\", mobile = \"{}\" }}\n",
        sha256("key-ci"),
        sha256("key mobile")
    );
    let proxy = start(&origin, "", &auth);
    let c = client::client(None, false);
    assert_eq!(
        get(&c, &proxy.url("/h"), &[("x-api-key", "key-ci")])
            .await
            .status,
        200
    );
    assert_eq!(
        get(&c, &proxy.url("/q?a=1&api_key=key%20mobile&b=2"), &[])
            .await
            .status,
        200
    );
    let wrong = get(&c, &proxy.url("/"), &[("x-api-key", "key-cj")]).await;
    assert_eq!(wrong.status, 401);
    assert!(www(&wrong).starts_with("ApiKey realm="), "{}", www(&wrong));
    assert_eq!(
        get(&c, &proxy.url("/q?api_key=nope"), &[]).await.status,
        401
    );
    let seen = origin.received();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].headers.get("x-api-key").is_none(),
        "header stripped"
    );
    assert_eq!(
        seen[1].uri.path_and_query().map(|p| p.as_str()),
        Some("/q?a=1&b=2")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_are_forwarded_only_when_asked() {
    let origin = Origin::start("app").await;
    let auth = format!(
        "forward_credentials = true\nbearer_tokens = [\"{}\"]\n",
        sha256("t")
    );
    let proxy = start(&origin, "", &auth);
    let c = client::client(None, false);
    assert_eq!(bearer(&c, &proxy.url("/"), "t").await.status, 200);
    let seen = origin.received();
    assert_eq!(
        seen[0].headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer t"[..])
    );
    // And stripped by default (`a_missing_credential...` keeps it; check here).
    let origin2 = Origin::start("app2").await;
    let proxy2 = start(
        &origin2,
        "",
        &format!("bearer_tokens = [\"{}\"]\n", sha256("t")),
    );
    assert_eq!(bearer(&c, &proxy2.url("/"), "t").await.status, 200);
    assert!(origin2.received()[0].headers.get("authorization").is_none());
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_checks_bcrypt_and_argon2_hashes() {
    let origin = Origin::start("app").await;
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("users"),
        format!("# htpasswd\nbob:{ARGON2}\n"),
    )
    .expect("users");
    let tables = auth_table(
        guests::AUTH,
        "secret_files = { htpasswd = \"users\" }",
        &format!(
            "realm = \"staff\"\n[plugins.auth.config.basic]\nusers = [\"alice:{BCRYPT_4}\"]\n"
        ),
    );
    let proxy = Proxy::start_in(dir, &config(&origin, &tables, &["auth"], ""));
    let c = client::client(None, false);
    let url = proxy.url("/");
    assert_eq!(
        get(&c, &url, &[("authorization", &basic("alice", "tortoise"))])
            .await
            .status,
        200
    );
    assert_eq!(
        get(&c, &url, &[("authorization", &basic("bob", "hunter2"))])
            .await
            .status,
        200
    );
    for (user, password) in [("alice", "hunter2"), ("bob", "tortoise"), ("carol", "x")] {
        let refused = get(&c, &url, &[("authorization", &basic(user, password))]).await;
        assert_eq!(refused.status, 401, "{user}");
        assert_eq!(www(&refused), "Basic realm=\"staff\", charset=\"UTF-8\"");
    }
    assert_eq!(origin.count(), 2);
    assert!(origin.received()[0].headers.get("authorization").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_costly_bcrypt_verification_is_paid_once() {
    let origin = Origin::start("app").await;
    let auth = format!("[plugins.auth.config.basic]\nusers = [\"alice:{BCRYPT_10}\"]\n");
    let proxy = start(&origin, "deadline_ms = 5000", &auth);
    let c = client::client(None, false);
    let credentials = basic("alice", "tortoise");
    let timed = |c: &client::HttpsClient| {
        let (c, url, credentials) = (c.clone(), proxy.url("/"), credentials.clone());
        async move {
            let started = Instant::now();
            let answer = get(&c, &url, &[("authorization", &credentials)]).await;
            (answer.status, started.elapsed())
        }
    };
    let (status, first) = timed(&c).await;
    assert_eq!(status, 200, "{}", proxy.log());
    let mut later = Duration::MAX;
    for _ in 0..5 {
        let (status, took) = timed(&c).await;
        assert_eq!(status, 200);
        later = later.min(took);
    }
    assert!(
        first > later * 4,
        "cost 10 first {first:?}, cached {later:?}"
    );
    let wrong = get(
        &c,
        &proxy.url("/"),
        &[("authorization", &basic("alice", "tortoisE"))],
    )
    .await;
    assert_eq!(
        wrong.status, 401,
        "a cached success does not admit another password"
    );
}

/// An auth service: `Bearer good` → 200 with `X-User: alice`; `Bearer
/// slow` → answers after 2 s; anything else → 302 to the login page.
async fn auth_service() -> Origin {
    Origin::serve("authsvc", |r| async move {
        let credential = r
            .headers
            .get("authorization")
            .map(|v| v.as_bytes().to_vec());
        match credential.as_deref() {
            Some(b"Bearer good") => {
                let mut ok = respond(200, "");
                ok.headers_mut()
                    .insert("x-user", "alice".parse().expect("value"));
                ok.headers_mut()
                    .insert("x-internal", "secret".parse().expect("value"));
                ok
            }
            Some(b"Bearer slow") => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                respond(200, "")
            }
            _ => {
                let mut no = respond(302, "please log in\n");
                no.headers_mut()
                    .insert("location", "/login".parse().expect("value"));
                no.headers_mut()
                    .insert("x-internal", "secret".parse().expect("value"));
                no
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_auth_allows_denies_and_fails_closed() {
    let origin = Origin::start("app").await;
    let service = auth_service().await;
    let dead = ravelin_tests::free_port();
    let auth = |cluster: &str| {
        format!(
            "[plugins.auth.config.forward_auth]\ncluster = \"{cluster}\"\npath = \"/verify\"\n\
             timeout_ms = 500\ncopy_headers = [\"x-user\"]\n"
        )
    };
    let tables = auth_table(
        guests::AUTH,
        "allowed_upstreams = [\"authsvc\"]",
        &auth("authsvc"),
    );
    let extra = cluster("authsvc", service.addr);
    let proxy = Proxy::start(&config(&origin, &tables, &["auth"], &extra));
    let c = client::client(None, false);
    let allowed = get(
        &c,
        &proxy.url("/page?x=1"),
        &[("authorization", "Bearer good"), ("x-user", "mallory")],
    )
    .await;
    assert_eq!(allowed.status, 200, "{}", proxy.log());
    let seen = &origin.received()[0];
    assert_eq!(
        seen.headers.get("x-user").map(|v| v.as_bytes()),
        Some(&b"alice"[..])
    );
    assert_eq!(
        seen.headers.get_all("x-user").iter().count(),
        1,
        "the client's copy is gone"
    );
    assert!(
        seen.headers.get("x-internal").is_none(),
        "only copy_headers are copied"
    );
    let asked = &service.received()[0];
    assert_eq!(asked.uri.path(), "/verify");
    assert_eq!(
        asked.headers.get("x-forwarded-uri").map(|v| v.as_bytes()),
        Some(&b"/page?x=1"[..])
    );
    assert_eq!(
        asked
            .headers
            .get("x-forwarded-method")
            .map(|v| v.as_bytes()),
        Some(&b"GET"[..])
    );
    assert!(asked.headers.get("x-forwarded-host").is_some());
    assert!(asked.headers.get("x-forwarded-proto").is_some());

    let denied = get(&c, &proxy.url("/page"), &[("authorization", "Bearer bad")]).await;
    assert_eq!(denied.status, 302);
    assert_eq!(denied.header("location"), Some("/login"));
    assert_eq!(denied.text(), "please log in\n");
    assert!(
        denied.header("x-internal").is_none(),
        "only relay_headers are relayed"
    );

    let slow = get(&c, &proxy.url("/"), &[("authorization", "Bearer slow")]).await;
    assert_eq!(slow.status, 503, "a timeout fails closed");
    assert_eq!(origin.count(), 1);

    let tables = auth_table(
        guests::AUTH,
        "allowed_upstreams = [\"down\"]",
        &auth("down"),
    );
    let extra = cluster("down", format!("127.0.0.1:{dead}"));
    let proxy = Proxy::start(&config(&origin, &tables, &["auth"], &extra));
    let down = get(&c, &proxy.url("/"), &[("authorization", "Bearer good")]).await;
    assert_eq!(down.status, 503, "an unreachable service fails closed");
    assert!(proxy.log().contains("forward auth"), "{}", proxy.log());
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn claims_become_headers_and_spoofed_copies_are_removed() {
    let origin = Origin::start("app").await;
    let jwt = "[plugins.auth.config.jwt]\nhmac_secrets = [\"an HMAC secret of at least 32 bytes\"]\n\
               claims_to_headers = { sub = \"X-User-Id\", email = \"X-User-Email\" }\n";
    let proxy = start(&origin, "", jwt);
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
