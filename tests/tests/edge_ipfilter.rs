//! The `ipfilter` plugin in the real proxy: deny before allow on the client
//! address the proxy determined (what a trusted proxy forwarded, else the
//! TCP peer, so a client cannot spoof it), IPv4 and IPv6, countries from
//! a MaxMind database the test builds and hands over through
//! `secret_files`, a configurable refusal, and bad blocks refused at load.

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

/// A MaxMind database (192.0.2.0/24 in `XX`, 2001:db8::/32 in `YY`),
/// base64-encoded by coreutils' `base64` as an operator would, written to
/// `dir/geo.b64`.
fn write_country_db(dir: &std::path::Path) {
    let mut writer = mmdb_writer::Writer::new("Test-Country");
    for (net, code) in [("192.0.2.0/24", "XX"), ("2001:db8::/32", "YY")] {
        let net: ipnet::IpNet = net.parse().expect("a network");
        let record = serde_json::json!({ "country": { "iso_code": code } });
        writer.insert(net, &record).expect("inserted");
    }
    let mmdb = dir.join("geo.mmdb");
    std::fs::write(&mmdb, writer.to_bytes().expect("a database")).expect("written");
    let encoded = std::process::Command::new("base64")
        .arg(&mmdb)
        .output()
        .expect("coreutils base64");
    assert!(encoded.status.success());
    std::fs::write(dir.join("geo.b64"), encoded.stdout).expect("written");
}

#[tokio::test(flavor = "multi_thread")]
async fn countries_from_a_maxmind_database_are_denied() {
    let origin = Origin::start("app").await;
    let dir = tempfile::tempdir().expect("temp dir");
    write_country_db(dir.path());
    let config = r#"{ deny = ["198.51.100.66"], deny_countries = ["xx"] }"#;
    let tables = plugin_table("ipfilter", guests::IPFILTER, config)
        + "secret_files = { country_db = \"geo.b64\" }\n";
    let server = "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n".to_string();
    let text = server + &plugin_chain_config(origin.addr, &tables, &["ipfilter"]);
    let proxy = Proxy::start_in(dir, &text);
    for (client, status) in [
        ("192.0.2.10", 403),
        ("2001:db8::10", 200),
        ("198.51.100.1", 200),
        ("198.51.100.66", 403),
    ] {
        assert_eq!(
            from(&proxy, client).await.status,
            status,
            "{client}: {}",
            proxy.log()
        );
    }
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
        ("{}", "neither allow, deny nor deny_countries"),
        (
            r#"{ deny_countries = ["XX"] }"#,
            "deny_countries needs country_db",
        ),
        (
            r#"{ deny_countries = ["XX"], country_db = "bm90IGEgZGF0YWJhc2U=" }"#,
            "ipfilter: country_db is not a MaxMind database",
        ),
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
