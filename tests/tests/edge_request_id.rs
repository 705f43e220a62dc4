//! The `request-id` plugin in the real proxy: a new UUIDv7 (or random) id
//! on the request to the origin and on the response, an untrusted incoming
//! id replaced, a trusted one kept only when it passes the checks, the id
//! readable by a later plugin as the attribute `request_id`, and bad
//! configs refused at load.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, Answer, send};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};

/// A proxy in front of `origin` running `request-id` with `config`, then
/// the plugins of `more` (tables and names).
fn start(origin: &Origin, config: &str, more: (&str, &[&str])) -> Proxy {
    let tables = plugin_table("request-id", guests::REQUEST_ID, config) + more.0;
    let chain = [&["request-id"], more.1].concat();
    Proxy::start(&plugin_chain_config(origin.addr, &tables, &chain))
}

/// `GET /` with `headers`.
async fn get(proxy: &Proxy, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(proxy.url("/"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let c = client::client(None, false);
    let request = request.body(Full::new(Bytes::new())).expect("request");
    send(&c, request).await.expect("an answer")
}

/// The value of `name` in the last request `origin` received.
fn seen(origin: &Origin, name: &str) -> String {
    let last = origin
        .received()
        .pop()
        .expect("a request reached the origin");
    let value = last
        .headers
        .get(name)
        .expect("the header reached the origin");
    value.to_str().expect("text").to_string()
}

fn is_uuidv7(id: &str) -> bool {
    let b = id.as_bytes();
    id.len() == 36
        && b[14] == b'7'
        && b"89ab".contains(&b[19])
        && id.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && id
            .bytes()
            .all(|c| c == b'-' || matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_uuidv7_reaches_the_origin_and_the_client() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, "{}", ("", &[]));
    let first = get(&proxy, &[]).await;
    assert_eq!(first.status, 200, "{}", proxy.log());
    let id = seen(&origin, "x-request-id");
    assert!(is_uuidv7(&id), "{id}");
    assert_eq!(
        first.header("x-request-id"),
        Some(id.as_str()),
        "the client gets the origin's id"
    );
    get(&proxy, &[]).await;
    let second = seen(&origin, "x-request-id");
    assert!(is_uuidv7(&second) && second != id, "{second} after {id}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incoming_id_is_replaced_unless_trusted() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, "{}", ("", &[]));
    let answer = get(&proxy, &[("x-request-id", "chosen-by-client")]).await;
    let id = seen(&origin, "x-request-id");
    assert!(is_uuidv7(&id), "an untrusted id was forwarded: {id}");
    assert_eq!(answer.header("x-request-id"), Some(id.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_id_is_kept_only_when_it_passes_the_checks() {
    let origin = Origin::start("app").await;
    let config = r#"{ header = "X-Correlation-Id", trust_incoming = true, max_length = 16 }"#;
    let proxy = start(&origin, config, ("", &[]));
    let kept = get(&proxy, &[("x-correlation-id", "abc-123.x:y")]).await;
    assert_eq!(seen(&origin, "x-correlation-id"), "abc-123.x:y");
    assert_eq!(kept.header("x-correlation-id"), Some("abc-123.x:y"));
    for bad in ["a b", "0123456789abcdefg", "a\"b"] {
        let answer = get(&proxy, &[("x-correlation-id", bad)]).await;
        let id = seen(&origin, "x-correlation-id");
        assert!(is_uuidv7(&id), "{bad:?} kept as {id}");
        assert_eq!(answer.header("x-correlation-id"), Some(id.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn random_ids_are_32_hex_digits_and_the_response_can_go_without() {
    let origin = Origin::start("app").await;
    let proxy = start(
        &origin,
        r#"{ generate = "random", header = "x-trace", response_header = false }"#,
        ("", &[]),
    );
    let answer = get(&proxy, &[]).await;
    let id = seen(&origin, "x-trace");
    assert!(
        id.len() == 32 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(answer.header("x-trace"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_plugin_reads_the_id_as_the_request_id_attribute() {
    let origin = Origin::start("app").await;
    // One request a minute per `request_id` attribute: the same trusted id
    // twice is refused, two fresh ids are not.
    let limit = r#"{ key = { attribute = "request_id" }, missing_key = "skip", limits = [{ rate = 1, per = "1m" }] }"#;
    let tables = plugin_table("ratelimit", guests::RATELIMIT, limit);
    let proxy = start(
        &origin,
        "{ trust_incoming = true }",
        (&tables, &["ratelimit"]),
    );
    assert_eq!(get(&proxy, &[]).await.status, 200, "{}", proxy.log());
    assert_eq!(get(&proxy, &[]).await.status, 200, "fresh ids count apart");
    assert_eq!(get(&proxy, &[("x-request-id", "same")]).await.status, 200);
    // The refusal comes from the later plugin; the request id still runs
    // its response hook on it.
    let refused = get(&proxy, &[("x-request-id", "same")]).await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("x-request-id"), Some("same"));
}

#[test]
fn bad_configs_are_refused_at_load_naming_the_key() {
    for (config, expected) in [
        (
            r#"{ header = "x id" }"#,
            "header \"x id\" is not a valid header name",
        ),
        (
            r#"{ max_length = 5000 }"#,
            "max_length 5000 must be 1 to 1024",
        ),
        (r#"{ generate = "uuidv4" }"#, "unknown variant `uuidv4`"),
    ] {
        let tables = plugin_table("request-id", guests::REQUEST_ID, config);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["request-id"],
        ));
        assert!(!ok && said.contains(expected), "{config}: {said}");
    }
}
