//! The `cors` plugin in the real proxy: preflights answered at the proxy
//! (allowed ones with every field, refused ones with none), actual
//! cross-origin responses with `Access-Control-Allow-Origin` and `Vary:
//! Origin`, an origin's own CORS fields replaced or removed, requests
//! without `Origin` untouched, and `*` with credentials refused at load.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, Answer, send};
use ravelin_tests::origin::{self, Origin};
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};

const POLICY: &str = r#"{ allowed_origins = ["https://app.example.com", "https://*.example.org"], allowed_methods = ["GET", "PUT"], allowed_headers = ["x-token", "content-type"], expose_headers = ["x-total"], max_age = 600, allow_credentials = true }"#;

/// An origin that sets its own `Access-Control-Allow-Origin: *`.
async fn permissive_origin() -> Origin {
    Origin::serve("app", |_| async {
        let mut response = origin::respond(200, "app");
        let headers = response.headers_mut();
        headers.insert(
            "access-control-allow-origin",
            http::HeaderValue::from_static("*"),
        );
        response
    })
    .await
}

fn start(origin: &Origin, policy: &str) -> Proxy {
    let tables = plugin_table("cors", guests::CORS, policy);
    Proxy::start(&plugin_chain_config(origin.addr, &tables, &["cors"]))
}

async fn exchange(proxy: &Proxy, method: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(method).uri(proxy.url("/"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let c = client::client(None, false);
    send(&c, request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("an answer")
}

fn preflight<'a>(origin: &'a str, method: &'a str, headers: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("origin", origin),
        ("access-control-request-method", method),
        ("access-control-request-headers", headers),
    ]
}

const CORS_FIELDS: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-expose-headers",
];

#[tokio::test(flavor = "multi_thread")]
async fn an_allowed_preflight_is_answered_at_the_proxy() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, POLICY);
    for site in ["https://app.example.com", "https://a.b.example.org"] {
        let answer = exchange(
            &proxy,
            "OPTIONS",
            &preflight(site, "PUT", "X-Token, content-type"),
        )
        .await;
        assert_eq!(answer.status, 204, "{}", proxy.log());
        assert_eq!(answer.header("access-control-allow-origin"), Some(site));
        assert_eq!(
            answer.header("access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            answer.header("access-control-allow-methods"),
            Some("GET, PUT")
        );
        assert_eq!(
            answer.header("access-control-allow-headers"),
            Some("x-token, content-type")
        );
        assert_eq!(answer.header("access-control-max-age"), Some("600"));
        let vary = answer.header("vary").unwrap_or_default();
        assert!(
            vary.contains("Origin") && vary.contains("Access-Control-Request-Method"),
            "{vary}"
        );
    }
    assert_eq!(origin.count(), 0, "preflights never reach the origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_preflight_gets_204_without_cors_fields() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, POLICY);
    for (site, method, headers) in [
        ("https://evil.test", "PUT", ""),
        ("https://example.org", "GET", ""),
        ("https://app.example.com", "DELETE", ""),
        ("https://app.example.com", "GET", "x-token, x-secret"),
    ] {
        let answer = exchange(&proxy, "OPTIONS", &preflight(site, method, headers)).await;
        assert_eq!(answer.status, 204, "{site} {method} {headers}");
        for field in CORS_FIELDS {
            assert_eq!(
                answer.header(field),
                None,
                "{site} {method} {headers}: {field}"
            );
        }
    }
    assert_eq!(origin.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowed_origin_gets_cors_fields_on_the_actual_response() {
    let origin = permissive_origin().await;
    let proxy = start(&origin, POLICY);
    let answer = exchange(&proxy, "GET", &[("origin", "https://app.example.com")]).await;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    assert_eq!(answer.text(), "app");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://app.example.com"),
        "the origin's * replaced"
    );
    assert_eq!(
        answer.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(
        answer.header("access-control-expose-headers"),
        Some("x-total")
    );
    assert_eq!(answer.header("vary"), Some("Origin"));
    // OPTIONS without Access-Control-Request-Method is not a preflight.
    let options = exchange(&proxy, "OPTIONS", &[("origin", "https://app.example.com")]).await;
    assert_eq!((options.status, origin.count()), (200, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_origin_gets_no_cors_fields_at_all() {
    let origin = permissive_origin().await;
    let proxy = start(&origin, POLICY);
    let answer = exchange(&proxy, "GET", &[("origin", "https://evil.test")]).await;
    assert_eq!(answer.status, 200);
    for field in CORS_FIELDS {
        assert_eq!(answer.header(field), None, "{field}");
    }
    assert_eq!(
        answer.header("vary"),
        Some("Origin"),
        "a cache must not reuse it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_origin_are_untouched() {
    let origin = permissive_origin().await;
    let proxy = start(&origin, POLICY);
    let answer = exchange(&proxy, "GET", &[]).await;
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("*"),
        "the origin's own"
    );
    assert_eq!(answer.header("vary"), None);
    let options = exchange(
        &proxy,
        "OPTIONS",
        &[("access-control-request-method", "PUT")],
    )
    .await;
    assert_eq!(options.status, 200);
    assert_eq!(origin.count(), 2, "both reached the origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn any_origin_without_credentials_is_answered_with_a_star() {
    let origin = Origin::start("app").await;
    let proxy = start(
        &origin,
        r#"{ allowed_origins = ["*"], allowed_headers = ["*"] }"#,
    );
    let pre = exchange(
        &proxy,
        "OPTIONS",
        &preflight("https://x.test", "POST", "x-a"),
    )
    .await;
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert_eq!(pre.header("access-control-allow-headers"), Some("x-a"));
    assert_eq!(pre.header("access-control-allow-credentials"), None);
    let actual = exchange(&proxy, "GET", &[("origin", "https://x.test")]).await;
    assert_eq!(actual.header("access-control-allow-origin"), Some("*"));
    assert_eq!(actual.header("vary"), None);
}

#[test]
fn a_star_with_credentials_is_refused_at_load() {
    for (config, expected) in [
        (
            r#"{ allowed_origins = ["*"], allow_credentials = true }"#,
            "allow_credentials = true cannot be combined with allowed_origins = [\"*\"]",
        ),
        (
            r#"{ allowed_origins = ["https://a.test"], expose_headers = ["*"], allow_credentials = true }"#,
            "cannot be combined with expose_headers = [\"*\"]",
        ),
        (
            r#"{ allowed_origins = ["https://a*.test"] }"#,
            "may only have `*.` at the start of the host",
        ),
    ] {
        let tables = plugin_table("cors", guests::CORS, config);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["cors"],
        ));
        assert!(!ok && said.contains(expected), "{config}: {said}");
    }
}
