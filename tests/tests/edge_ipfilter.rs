//! The `ipfilter` plugin in the real proxy: deny before allow on the client
//! address the proxy determined (what a trusted proxy forwarded, else the
//! TCP peer, so a client cannot spoof it), IPv4 and IPv6, a configurable
//! refusal, and bad blocks refused at load.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, Answer, send};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{check_config, plugin_chain_config, plugin_table};

/// A proxy running `ipfilter` with `config`; `trusted` lists the
/// `trusted_proxies`.
fn start(origin: &Origin, config: &str, trusted: &str) -> Proxy {
    let tables = plugin_table("ipfilter", guests::IPFILTER, config);
    let server = format!("[server]\ntrusted_proxies = [{trusted}]\n");
    Proxy::start(&(server + &plugin_chain_config(origin.addr, &tables, &["ipfilter"])))
}

/// `GET /` as if forwarded for `client` (by 127.0.0.1).
async fn from(proxy: &Proxy, client: &str) -> Answer {
    let c = client::client(None, false);
    let request = Request::get(proxy.url("/"))
        .header("x-forwarded-for", client)
        .body(Full::new(Bytes::new()))
        .expect("request");
    send(&c, request).await.expect("an answer")
}

#[tokio::test(flavor = "multi_thread")]
async fn deny_wins_over_allow_on_the_forwarded_client_address() {
    let origin = Origin::start("app").await;
    let config = r#"{ allow = ["10.0.0.0/8", "2001:db8::/32"], deny = ["10.6.6.0/24", "2001:db8:bad::/48"] }"#;
    let proxy = start(&origin, config, "\"127.0.0.1\"");
    for (client, status) in [
        ("10.1.2.3", 200),
        ("10.6.6.6", 403),
        ("192.0.2.1", 403),
        ("2001:db8:1::5", 200),
        ("2001:db8:bad::5", 403),
        ("2001:db9::1", 403),
    ] {
        let answer = from(&proxy, client).await;
        assert_eq!(answer.status, status, "{client}: {}", proxy.log());
        if status == 403 {
            assert_eq!(answer.text(), "forbidden\n");
        }
    }
    assert_eq!(origin.count(), 2, "refused requests never reach the origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_peer_cannot_spoof_its_address() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, r#"{ deny = ["127.0.0.0/8"] }"#, "");
    assert_eq!(
        from(&proxy, "10.1.2.3").await.status,
        403,
        "the peer counts, not the header"
    );
    let allowing = start(&origin, r#"{ allow = ["10.0.0.0/8"] }"#, "");
    assert_eq!(from(&allowing, "10.1.2.3").await.status, 403);
    assert_eq!(origin.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_refusal_status_and_body_are_configurable() {
    let origin = Origin::start("app").await;
    let config = r#"{ deny = ["192.0.2.0/24"], status = 451, body = "not here" }"#;
    let proxy = start(&origin, config, "\"127.0.0.1\"");
    let refused = from(&proxy, "192.0.2.9").await;
    assert_eq!((refused.status, refused.text().as_str()), (451, "not here"));
    assert_eq!(
        from(&proxy, "198.51.100.1").await.status,
        200,
        "a deny list alone admits the rest"
    );
}

#[test]
fn bad_blocks_are_refused_at_load_with_a_hint() {
    for (config, expected) in [
        (
            r#"{ deny = ["10.0.0.1/8"] }"#,
            "ipfilter: deny: \"10.0.0.1/8\" has host bits set; did you mean 10.0.0.0/8?",
        ),
        (
            r#"{ allow = ["example.com"] }"#,
            "ipfilter: allow: \"example.com\" is not an IP address",
        ),
        ("{}", "neither allow nor deny"),
    ] {
        let tables = plugin_table("ipfilter", guests::IPFILTER, config);
        let (ok, said) = check_config(&plugin_chain_config(
            ([127, 0, 0, 1], 9).into(),
            &tables,
            &["ipfilter"],
        ));
        assert!(!ok && said.contains(expected), "{config}: {said}");
    }
}
