//! Mutual TLS on a listener through the real proxy (`tls.client_auth`):
//! `required` refuses, in the handshake, clients without a certificate or
//! with one from another CA (or from an impostor of the CA's name), and
//! lets a good one through, its subject and names reaching a plugin;
//! `optional` lets a client without a certificate through (the plugin sees
//! none) but still refuses a bad one; the CA bundle is re-read on reload,
//! and a missing one stops a start or refuses a reload, naming the file.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ravelin_test_guests as guests;
use ravelin_tests::certs::Identity;
use ravelin_tests::client::{self, HttpsClient, get};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{self, plugin_table};
use ravelin_tests::{Pki, Proxy};
use rcgen::SanType;

/// A proxy with one HTTPS listener (server certificate `server.pem` for
/// 127.0.0.1) asking for client certificates from `clients-ca.pem` in
/// `mode`, in front of `origin`, running the v2 probe.
fn config(origin: &Origin, mode: &str) -> String {
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
name = "mtls"
listen = "{{https}}"
tls.certificates = [{{ cert = "server.pem", key = "server.key" }}]
tls.client_auth = {{ ca = "clients-ca.pem", mode = "{mode}" }}

[upstreams.app]
endpoints = [{{ address = "{}" }}]

{}
[[routes]]
upstream = "app"
plugins = ["probe"]
"#,
        origin.addr,
        plugin_table("probe", guests::V2_PROBE, "{}")
    )
}

/// The server's PKI (its CA is what clients trust) and a directory holding
/// the server certificate and, as `clients-ca.pem`, `clients`' CA.
fn prepared(clients: &Pki) -> (Pki, tempfile::TempDir) {
    let server = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    server.issue(&["127.0.0.1"], dir.path(), "server");
    write_clients_ca(clients, dir.path());
    (server, dir)
}

fn write_clients_ca(clients: &Pki, dir: &Path) {
    std::fs::write(dir.join("clients-ca.pem"), &clients.ca_pem).unwrap();
}

/// Alice's client certificate from `pki`, with one name of every kind.
fn alice(pki: &Pki, dir: &Path) -> Identity {
    let sans = vec![
        SanType::DnsName("alice.example".try_into().unwrap()),
        SanType::IpAddress("192.0.2.7".parse().unwrap()),
        SanType::URI("spiffe://example/alice".try_into().unwrap()),
        SanType::Rfc822Name("alice@example.com".try_into().unwrap()),
    ];
    pki.issue_client("alice", sans, dir, "alice")
}

fn url(proxy: &Proxy, path: &str) -> String {
    format!("https://{}{path}", proxy.https)
}

/// The body `c` gets for `path` (200 expected).
async fn fetch(c: &HttpsClient, proxy: &Proxy, path: &str) -> String {
    let answer = get(c, &url(proxy, path)).await;
    let answer = answer.unwrap_or_else(|e| panic!("{e}\n{}", proxy.log()));
    assert_eq!(answer.status, 200, "{}", proxy.log());
    answer.text()
}

/// The proxy's verdict on a handshake by a client presenting `identity`
/// (see [`client::tls_handshake`]).
async fn handshake(proxy: &Proxy, server: &Pki, identity: Option<&Identity>) -> Result<(), String> {
    let wait = Duration::from_millis(500);
    client::tls_handshake(proxy.https, server.roots(), identity, wait).await
}

#[tokio::test(flavor = "multi_thread")]
async fn required_refuses_a_client_without_a_certificate_or_from_another_ca() {
    let clients = Pki::new();
    let (server, dir) = prepared(&clients);
    let stranger = alice(&Pki::named("Other CA"), dir.path());
    let impostor = Pki::new().issue_client("alice", Vec::new(), dir.path(), "impostor");
    let origin = Origin::start("app").await;
    let proxy = Proxy::start_in(dir, &config(&origin, "required"));

    let refused = handshake(&proxy, &server, None).await.unwrap_err();
    assert!(refused.contains("CertificateRequired"), "{refused}");
    let refused = handshake(&proxy, &server, Some(&stranger))
        .await
        .unwrap_err();
    assert!(refused.contains("UnknownCA"), "{refused}");
    // A CA of the clients' CA's name but another key: the signature fails.
    let refused = handshake(&proxy, &server, Some(&impostor))
        .await
        .unwrap_err();
    assert!(refused.contains("DecryptError"), "{refused}");

    // An HTTP client gets no answer either.
    let anonymous = client::client(Some(server.roots()), false);
    assert!(get(&anonymous, &url(&proxy, "/")).await.is_err());
    let other_ca = client::client_with_identity(server.roots(), &stranger);
    assert!(get(&other_ca, &url(&proxy, "/")).await.is_err());
    assert_eq!(origin.count(), 0, "nothing reached the origin");
}

#[tokio::test(flavor = "multi_thread")]
async fn required_lets_a_good_certificate_through_and_plugins_see_its_names() {
    let clients = Pki::new();
    let (server, dir) = prepared(&clients);
    let alice = alice(&clients, dir.path());
    let origin = Origin::start("app").await;
    let proxy = Proxy::start_in(dir, &config(&origin, "required"));

    let c = client::client_with_identity(server.roots(), &alice);
    assert_eq!(handshake(&proxy, &server, Some(&alice)).await, Ok(()));
    assert_eq!(fetch(&c, &proxy, "/").await, "app");
    assert_eq!(origin.count(), 1);
    let seen = fetch(&c, &proxy, "/v2/client-cert").await;
    let expected = format!(
        "subject=CN=alice sans=dns:alice.example,ip:192.0.2.7,uri:spiffe://example/alice,email:alice@example.com der={}",
        alice.der().len()
    );
    assert_eq!(seen, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn optional_lets_a_client_without_a_certificate_through_and_checks_one_sent() {
    let clients = Pki::new();
    let (server, dir) = prepared(&clients);
    let alice = alice(&clients, dir.path());
    let stranger =
        Pki::named("Other CA").issue_client("mallory", Vec::new(), dir.path(), "mallory");
    let origin = Origin::start("app").await;
    let proxy = Proxy::start_in(dir, &config(&origin, "optional"));

    let anonymous = client::client(Some(server.roots()), false);
    assert_eq!(fetch(&anonymous, &proxy, "/v2/client-cert").await, "none");
    assert_eq!(fetch(&anonymous, &proxy, "/").await, "app");
    assert_eq!(origin.count(), 1);

    let c = client::client_with_identity(server.roots(), &alice);
    let seen = fetch(&c, &proxy, "/v2/client-cert").await;
    assert!(
        seen.starts_with("subject=CN=alice sans=dns:alice.example,"),
        "{seen}"
    );

    let refused = handshake(&proxy, &server, Some(&stranger))
        .await
        .unwrap_err();
    assert!(
        refused.contains("UnknownCA"),
        "a certificate sent must be valid: {refused}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_rereads_the_ca_bundle_and_a_missing_one_changes_nothing() {
    let (first, second) = (Pki::named("First CA"), Pki::named("Second CA"));
    let (server, dir) = prepared(&first);
    let alice = alice(&first, dir.path());
    let bob = second.issue_client("bob", Vec::new(), dir.path(), "bob");
    let origin = Origin::start("app").await;
    let proxy = Proxy::start_in(dir, &config(&origin, "required"));
    let as_bob = client::client_with_identity(server.roots(), &bob);
    assert_eq!(handshake(&proxy, &server, Some(&alice)).await, Ok(()));
    assert!(handshake(&proxy, &server, Some(&bob)).await.is_err());

    write_clients_ca(&second, proxy.dir.path());
    assert_eq!(proxy.reload(), (200, "reloaded\n".into()));
    let refused = handshake(&proxy, &server, Some(&alice)).await;
    assert!(refused.is_err(), "the old CA is gone");
    assert_eq!(fetch(&as_bob, &proxy, "/").await, "app");

    let ca = proxy.dir.path().join("clients-ca.pem");
    std::fs::remove_file(&ca).unwrap();
    let (status, body) = proxy.reload();
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("listeners[0].tls.client_auth.ca")
            && body.contains(&format!("{}: cannot read certificates", ca.display())),
        "{body}"
    );
    let (bob_again, alice_again) = (
        handshake(&proxy, &server, Some(&bob)).await,
        handshake(&proxy, &server, Some(&alice)).await,
    );
    assert!(
        bob_again.is_ok() && alice_again.is_err(),
        "the running CA bundle stays: bob {bob_again:?}, alice {alice_again:?}"
    );
}

#[test]
fn a_missing_ca_bundle_stops_the_start_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    Pki::new().issue(&["127.0.0.1"], dir.path(), "server");
    let text = r#"
[admin]
listen = "127.0.0.1:0"

[[listeners]]
listen = "127.0.0.1:0"
tls.certificates = [{ cert = "server.pem", key = "server.key" }]
tls.client_auth = { ca = "no-such-ca.pem" }

[upstreams.app]
endpoints = [{ address = "127.0.0.1:9" }]

[[routes]]
upstream = "app"
"#;
    let config = dir.path().join("ravelin.toml");
    std::fs::write(&config, text).unwrap();
    let run = Command::new(proxy::binary())
        .args(["run", "-c"])
        .arg(&config)
        .output()
        .expect("run ravelin");
    let missing = dir.path().join("no-such-ca.pem");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "it started: {stderr}");
    assert!(
        stderr.contains("ravelin.toml:8: `listeners[0].tls.client_auth.ca`")
            && stderr.contains(&format!("{}: cannot read certificates", missing.display())),
        "{stderr}"
    );
    let check = proxy::check(dir.path(), text);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(!check.status.success(), "`ravelin check` passed it");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}
