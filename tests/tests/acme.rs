//! ACME against a real CA (Debian's pebble, real validation): a listener
//! gets a certificate by TLS-ALPN-01 on itself or by HTTP-01 on the plain
//! listener, serves it (verified against pebble's issuing root), keeps it
//! on disk (0600) and serves it again after a restart without the CA;
//! renews short-lived certificates under load with no failed request; and
//! with the CA down serves a flagged self-signed fallback, or keeps the
//! last good certificate while it retries.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use ravelin_tests::client::{self, get};
use ravelin_tests::origin::Origin;
use ravelin_tests::pebble::{Pebble, any_certificate_client, served_chain};
use ravelin_tests::{Proxy, free_port};

/// Ports of the proxy's listeners, fixed before pebble (which validates on
/// them) and the proxy start.
struct Ports {
    http: u16,
    https: u16,
}

impl Ports {
    fn new() -> Ports {
        Ports {
            http: free_port(),
            https: free_port(),
        }
    }

    fn https(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.https))
    }
}

/// A plain and an ACME listener for `localhost` in front of `origin`.
fn config(ports: &Ports, pebble: &Pebble, origin: &Origin, state: &Path, acme: &str) -> String {
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
name = "plain"
listen = "127.0.0.1:{http}"

[[listeners]]
name = "secure"
listen = "127.0.0.1:{https}"

[listeners.tls.acme]
directory = "{directory}"
directory_ca = "{ca}"
contact = ["mailto:ops@example.com"]
domains = ["localhost"]
state_dir = "{state}"
retry_min = "1s"
retry_max = "2s"
{acme}

[upstreams.app]
endpoints = [{{ address = "{origin}" }}]

[[routes]]
upstream = "app"
"#,
        http = ports.http,
        https = ports.https,
        directory = pebble.directory,
        ca = pebble.https_ca.display(),
        state = state.display(),
        origin = origin.addr,
    )
}

const ISSUED: &str = "ACME: new certificate installed";

/// The leaf `ports`' HTTPS listener serves for `localhost`, verified
/// against pebble's issuing root.
async fn served_leaf(ports: &Ports, pebble: &Pebble) -> Vec<u8> {
    let chain = served_chain(ports.https(), "localhost", pebble.issuing_roots().await)
        .await
        .expect("a certificate pebble issued for localhost");
    chain[0].to_vec()
}

/// `GET /` over HTTPS to `localhost`, trusting pebble's root only.
async fn https_status(ports: &Ports, pebble: &Pebble) -> u16 {
    let c = client::client(Some(pebble.issuing_roots().await), false);
    let url = format!("https://localhost:{}/", ports.https);
    get(&c, &url)
        .await
        .map(|a| a.status)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn metric(proxy: &Proxy, name: &str) -> Option<f64> {
    let (_, text) = proxy.admin("/metrics");
    let prefix = format!("{name}{{listener=\"secure\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn issues_serves_and_restarts(challenge: &str) {
    let ports = Ports::new();
    let mut pebble = Pebble::start(ports.http, ports.https, None);
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let text = config(&ports, &pebble, &origin, state.path(), challenge);
    let proxy = Proxy::start(&text);
    assert!(
        proxy.wait_for_log(ISSUED, Duration::from_secs(60)),
        "no certificate:\n{}\npebble:\n{}",
        proxy.log(),
        pebble.log()
    );
    let leaf = served_leaf(&ports, &pebble).await;
    assert_eq!(https_status(&ports, &pebble).await, 200);
    assert_eq!(
        metric(&proxy, "ravelin_acme_certificate_fallback"),
        Some(0.0)
    );
    let expiry = metric(&proxy, "ravelin_acme_certificate_expiry_timestamp_seconds");
    assert!(expiry.is_some_and(|t| t > 1.7e9), "{expiry:?}");
    assert_eq!(mode(state.path()), 0o700);
    for file in ["cert.pem", "key.pem", "account.json"] {
        assert_eq!(mode(&state.path().join(file)), 0o600, "{file}");
    }
    // A restart with the CA gone serves the stored certificate.
    let roots = pebble.issuing_roots().await;
    drop(proxy);
    pebble.stop();
    let proxy = Proxy::start(&text);
    assert!(
        proxy.log().contains("serving the stored certificate"),
        "{}",
        proxy.log()
    );
    let again = served_chain(ports.https(), "localhost", roots.clone())
        .await
        .unwrap();
    assert_eq!(again[0].to_vec(), leaf, "the stored certificate is served");
    let c = client::client(Some(roots), false);
    let url = format!("https://localhost:{}/", ports.https);
    assert_eq!(get(&c, &url).await.unwrap().status, 200);
    assert!(!proxy.log().contains("cannot obtain"), "{}", proxy.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_alpn_01_issues_serves_and_restarts_from_disk() {
    issues_serves_and_restarts(r#"challenge = "tls-alpn-01""#).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_01_issues_serves_and_restarts_from_disk() {
    issues_serves_and_restarts(r#"challenge = "http-01""#).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_listener_claims_only_pending_http_01_tokens() {
    let ports = Ports::new();
    let pebble = Pebble::start(ports.http, ports.https, None);
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&config(
        &ports,
        &pebble,
        &origin,
        state.path(),
        r#"challenge = "http-01""#,
    ));
    let c = client::client(None, false);
    let base = format!("http://127.0.0.1:{}", ports.http);
    let unknown = get(&c, &format!("{base}/.well-known/acme-challenge/nope"))
        .await
        .unwrap();
    assert_eq!(unknown.status, 404);
    assert_eq!(get(&c, &format!("{base}/app")).await.unwrap().status, 200);
    assert_eq!(
        origin.count(),
        1,
        "the challenge path never reaches the origin"
    );
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread")]
async fn renews_under_load_without_a_failed_request() {
    let ports = Ports::new();
    // 40 s certificates renewed 30 s ahead: a new one about every 10 s.
    let pebble = Pebble::start(ports.http, ports.https, Some(40));
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let text = config(
        &ports,
        &pebble,
        &origin,
        state.path(),
        r#"renew_before = "30s""#,
    );
    let proxy = Proxy::start(&text);
    assert!(
        proxy.wait_for_log(ISSUED, Duration::from_secs(60)),
        "{}",
        proxy.log()
    );
    let first = served_leaf(&ports, &pebble).await;
    let roots = pebble.issuing_roots().await;
    let pooled = client::client(Some(roots.clone()), false);
    let url = format!("https://localhost:{}/", ports.https);
    let (mut sent, mut failed, mut leaves) = (0, Vec::new(), vec![first]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && leaves.len() < 3 {
        // One request on a kept connection, one on a new one.
        for c in [&pooled, &client::client(Some(roots.clone()), false)] {
            sent += 1;
            match get(c, &url).await {
                Ok(a) if a.status == 200 => {}
                other => failed.push(other.map(|a| a.status)),
            }
        }
        let leaf = served_leaf(&ports, &pebble).await;
        if leaves.last() != Some(&leaf) {
            leaves.push(leaf);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        failed.is_empty(),
        "{} of {sent} failed: {failed:?}",
        failed.len()
    );
    assert!(
        leaves.len() >= 3,
        "renewed {} times in 60 s:\n{}",
        leaves.len() - 1,
        proxy.log()
    );
    assert!(sent > 50, "only {sent} requests");
    let renewals = metric(&proxy, "ravelin_acme_certificate_renewals_total");
    assert!(renewals.is_some_and(|n| n >= 3.0), "{renewals:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_down_at_first_start_serves_a_flagged_fallback() {
    let ports = Ports::new();
    let mut pebble = Pebble::start(ports.http, ports.https, None);
    pebble.stop();
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&config(&ports, &pebble, &origin, state.path(), ""));
    assert!(
        proxy.log().contains("serving a self-signed fallback"),
        "{}",
        proxy.log()
    );
    assert_eq!(
        metric(&proxy, "ravelin_acme_certificate_fallback"),
        Some(1.0)
    );
    let c = any_certificate_client();
    let url = format!("https://localhost:{}/", ports.https);
    assert_eq!(get(&c, &url).await.unwrap().status, 200);
    assert!(
        proxy.wait_for_log("cannot obtain a certificate", Duration::from_secs(10)),
        "{}",
        proxy.log()
    );
    let failures = || metric(&proxy, "ravelin_acme_certificate_renewal_failures_total");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && failures().unwrap_or(0.0) < 2.0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        failures().unwrap_or(0.0) >= 2.0,
        "retried: {:?}",
        failures()
    );
    assert!(
        !state.path().join("cert.pem").exists(),
        "no fallback is stored"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ca_down_at_renewal_keeps_serving_the_last_certificate() {
    let ports = Ports::new();
    // 60 s certificates renewed 50 s ahead: due 10 s after issuance.
    let mut pebble = Pebble::start(ports.http, ports.https, Some(60));
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let text = config(
        &ports,
        &pebble,
        &origin,
        state.path(),
        r#"renew_before = "50s""#,
    );
    let proxy = Proxy::start(&text);
    assert!(
        proxy.wait_for_log(ISSUED, Duration::from_secs(60)),
        "{}",
        proxy.log()
    );
    let leaf = served_leaf(&ports, &pebble).await;
    let roots = pebble.issuing_roots().await;
    pebble.stop();
    assert!(
        proxy.wait_for_log("cannot obtain a certificate", Duration::from_secs(30)),
        "{}",
        proxy.log()
    );
    let failures = || metric(&proxy, "ravelin_acme_certificate_renewal_failures_total");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && failures().unwrap_or(0.0) < 2.0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        failures().unwrap_or(0.0) >= 2.0,
        "retried: {:?}",
        failures()
    );
    let served = served_chain(ports.https(), "localhost", roots.clone())
        .await
        .unwrap();
    assert_eq!(
        served[0].to_vec(),
        leaf,
        "the last good certificate is served"
    );
    let c = client::client(Some(roots), false);
    let url = format!("https://localhost:{}/", ports.https);
    assert_eq!(get(&c, &url).await.unwrap().status, 200);
    assert_eq!(
        metric(&proxy, "ravelin_acme_certificate_fallback"),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_validation_is_logged_with_the_problem_document() {
    let ports = Ports::new();
    // Pebble validates http-01 on a port where nothing listens.
    let pebble = Pebble::start(free_port(), ports.https, None);
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let text = config(
        &ports,
        &pebble,
        &origin,
        state.path(),
        r#"challenge = "http-01""#,
    );
    let proxy = Proxy::start(&text);
    assert!(
        proxy.wait_for_log("urn:ietf:params:acme:error:", Duration::from_secs(30)),
        "{}",
        proxy.log()
    );
    assert!(proxy.log().contains("validation failed"), "{}", proxy.log());
    assert_eq!(
        metric(&proxy, "ravelin_acme_certificate_fallback"),
        Some(1.0)
    );
    let c = any_certificate_client();
    let url = format!("https://localhost:{}/", ports.https);
    assert_eq!(get(&c, &url).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn reloads_keep_the_certificate_and_refuse_acme_changes() {
    let ports = Ports::new();
    let pebble = Pebble::start(ports.http, ports.https, None);
    let origin = Origin::start("app").await;
    let state = tempfile::tempdir().unwrap();
    let text = config(&ports, &pebble, &origin, state.path(), "");
    let proxy = Proxy::start(&text);
    assert!(
        proxy.wait_for_log(ISSUED, Duration::from_secs(60)),
        "{}",
        proxy.log()
    );
    let leaf = served_leaf(&ports, &pebble).await;
    // Another setting changes: the listener keeps its certificate.
    let other = format!("{text}\n[compression]\nenabled = false\n");
    std::fs::write(&proxy.config, proxy.fill(&other)).unwrap();
    let (status, body) = proxy.reload();
    assert_eq!(status, 200, "{body}");
    assert_eq!(served_leaf(&ports, &pebble).await, leaf);
    // The ACME table changes: refused, it applies at start-up only.
    let changed = config(
        &ports,
        &pebble,
        &origin,
        state.path(),
        r#"renew_before = "10d""#,
    );
    std::fs::write(&proxy.config, proxy.fill(&changed)).unwrap();
    let (status, body) = proxy.reload();
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("restart the proxy to apply a change to [listeners.tls.acme]"),
        "{body}"
    );
    assert_eq!(served_leaf(&ports, &pebble).await, leaf);
}

#[test]
fn check_names_an_unreadable_directory_ca() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[listeners]]
listen = "127.0.0.1:8443"

[listeners.tls.acme]
directory = "https://127.0.0.1:14000/dir"
directory_ca = "missing-ca.pem"
domains = ["localhost"]
state_dir = "acme"

[upstreams.app]
endpoints = [{ address = "127.0.0.1:9000" }]

[[routes]]
upstream = "app"
"#;
    let output = ravelin_tests::proxy::check(dir.path(), text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("`listeners[0].tls.acme.directory_ca`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing-ca.pem: cannot read certificates"),
        "{stderr}"
    );
}
