//! The `auth` plugin in the real proxy with its other methods: every
//! enabled scheme challenged when no credential comes; hashed static tokens;
//! hashed API keys from a header or the query; credentials stripped or
//! forwarded; Basic against bcrypt and argon2, a costly verification paid
//! once; forward auth allowing (headers copied, client copies removed),
//! denying (status, headers and body relayed), timing out and unreachable;
//! Basic still working with its kv cache down.

use std::time::{Duration, Instant};

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::auth::{auth_table, bearer, cluster, config, get, start, www};
use ravelin_tests::client;
use ravelin_tests::jwt::sha256;
use ravelin_tests::origin::{Origin, respond};

// Hashes of "tortoise" (bcrypt, costs 4 and 10) and "hunter2" (argon2id).
const BCRYPT_4: &str = "$2b$04$akD0XUvnZgzxWUvyJRC0WeGJnE96QfZI1fqhs7yaqsBATgXuzvDoi";
const BCRYPT_10: &str = "$2b$10$akD0XUvnZgzxWUvyJRC0WeDie/7fvHWXC3hCrIiwdwn2tTOjUbNKG";
const ARGON2: &str = "$argon2id$v=19$m=256,t=1,p=1$cmF2ZWxpbi10ZXN0LXNsdA$mKfU2LUp+V1+45TDuBM/tZPAkXLW7h97CbiXz/Q0gfw";

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_credential_gets_every_enabled_challenge() {
    let origin = Origin::start("app").await;
    let auth = format!(
        "bearer_tokens = [\"{}\"]\n[plugins.auth.config.basic]\nusers = [\"alice:{BCRYPT_4}\"]\n",
        sha256("demo-token")
    );
    let proxy = start(guests::AUTH, &origin, "", &auth);
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
    let proxy = start(guests::AUTH, &origin, "", &auth);
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
    let proxy = start(guests::AUTH, &origin, "", &auth);
    let c = client::client(None, false);
    assert_eq!(bearer(&c, &proxy.url("/"), "t").await.status, 200);
    let seen = origin.received();
    assert_eq!(
        seen[0].headers.get("authorization").map(|v| v.as_bytes()),
        Some(&b"Bearer t"[..])
    );
    // And stripped by default.
    let origin2 = Origin::start("app2").await;
    let proxy2 = start(
        guests::AUTH,
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
    let proxy = start(guests::AUTH, &origin, "deadline_ms = 5000", &auth);
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
        &(auth("down") + "unavailable_status = 502\n"),
    );
    let extra = cluster("down", format!("127.0.0.1:{dead}"));
    let proxy = Proxy::start(&config(&origin, &tables, &["auth"], &extra));
    let down = get(&c, &proxy.url("/"), &[("authorization", "Bearer good")]).await;
    assert_eq!(
        down.status, 502,
        "an unreachable service fails closed, as configured"
    );
    assert!(proxy.log().contains("forward auth"), "{}", proxy.log());
    assert_eq!(origin.count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_still_verifies_when_kv_is_down() {
    let origin = Origin::start("app").await;
    let auth = format!("[plugins.auth.config.basic]\nusers = [\"alice:{BCRYPT_4}\"]\n");
    let tables = auth_table(guests::AUTH, "", &auth);
    let dead = ravelin_tests::free_port();
    let kv =
        format!("[kv]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1:{dead}\"\ntimeout_ms = 20\n");
    let proxy = Proxy::start(&config(&origin, &tables, &["auth"], &kv));
    let c = client::client(None, false);
    let url = proxy.url("/");
    for _ in 0..2 {
        let answer = get(&c, &url, &[("authorization", &basic("alice", "tortoise"))]).await;
        assert_eq!(answer.status, 200, "{}", proxy.log());
    }
    let wrong = get(&c, &url, &[("authorization", &basic("alice", "hare"))]).await;
    assert_eq!(wrong.status, 401);
}
