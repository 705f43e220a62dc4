//! Plugins shared through an OCI registry, against a real one (Debian's
//! `docker-registry`, on loopback): push → ls → inspect → pull with the
//! `ravelin plugin` commands; a proxy that runs a plugin by `oci://` tag and
//! hot-swaps a new tag under load with no failed request; a tampered blob
//! refused; signatures required, checked, and cached; a digest pin that restarts from the cache with the registry
//! stopped; a registry outage at reload that keeps the running version; and
//! basic auth from each credential source.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, get};
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{self, plugin_chain_config};
use ravelin_tests::registry::{self as registry_server, RegistryServer};

/// Runs `ravelin plugin ARGS` with `stdin` and extra environment.
fn plugin_command(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(proxy::binary())
        .arg("plugin")
        .args(args)
        .env("DOCKER_CONFIG", "/nonexistent-ravelin-test")
        .env_remove("RAVELIN_REGISTRY_USERNAME")
        .env_remove("RAVELIN_REGISTRY_PASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ravelin plugin");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("wait for ravelin plugin")
}

fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// `ravelin plugin push FILE REF`; returns the digest it printed.
fn push(file: &str, reference: &str) -> String {
    let output = plugin_command(&["push", file, reference], "", &[]);
    assert!(output.status.success(), "push failed: {}", said(&output));
    digest_in(&said(&output))
}

fn digest_in(text: &str) -> String {
    let line = text.lines().find_map(|l| l.strip_prefix("digest:"));
    line.unwrap_or_else(|| panic!("no digest in: {text}"))
        .trim()
        .to_string()
}

/// A proxy config whose one route runs plugin `p` from `source` (with
/// extra keys), its cache in `cache`.
fn config(origin: &Origin, source: &str, extra: &str, cache: &std::path::Path) -> String {
    let table = format!("[plugins.p]\nsource = \"{source}\"\n{extra}\n");
    let server = format!("[server]\nplugin_cache_dir = \"{}\"\n", cache.display());
    server + &plugin_chain_config(origin.addr, &table, &["p"])
}

async fn version(c: &client::HttpsClient, proxy: &Proxy) -> Option<String> {
    let answer = get(c, &proxy.url("/")).await.ok()?;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    answer.header("x-version").map(str::to_string)
}

/// Waits until the proxy serves version `want`, at most `limit`.
async fn wait_for_version(
    c: &client::HttpsClient,
    proxy: &Proxy,
    want: &str,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if version(c, proxy).await.as_deref() == Some(want) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn push_ls_inspect_pull_round_trip() {
    let registry = RegistryServer::start();
    let host = registry.host();
    let first = push(guests::SWAP_A, &format!("{host}/team/swap:v1.2.0"));
    push(guests::SWAP_B, &format!("{host}/team/swap:v1.10.0"));
    // The config's `created` is pinned: the same component, the same digest.
    assert_eq!(
        push(guests::SWAP_A, &format!("{host}/team/swap:latest")),
        first
    );

    let ls = plugin_command(&["ls", &format!("{host}/team/swap")], "", &[]);
    assert!(ls.status.success(), "{}", said(&ls));
    assert_eq!(
        String::from_utf8_lossy(&ls.stdout),
        "v1.2.0\nv1.10.0\nlatest\n"
    );

    let inspect = plugin_command(&["inspect", &format!("{host}/team/swap:v1.2.0")], "", &[]);
    let text = said(&inspect);
    assert!(inspect.status.success(), "{text}");
    assert_eq!(digest_in(&text), first);
    assert!(text.contains("application/wasm"), "{text}");
    assert!(
        text.contains("ravelin:plugin/"),
        "the WIT imports/exports are missing: {text}"
    );
    assert!(text.contains("org.opencontainers.image.title"), "{text}");

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("pulled.wasm");
    let by_digest = format!("{host}/team/swap@{first}");
    let pull = plugin_command(&["pull", &by_digest, "-o", out.to_str().unwrap()], "", &[]);
    assert!(pull.status.success(), "{}", said(&pull));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(guests::SWAP_A).unwrap()
    );

    let missing = plugin_command(&["pull", &format!("{host}/team/swap:nope")], "", &[]);
    assert!(!missing.status.success());
    assert!(
        said(&missing).contains("team/swap:nope"),
        "{}",
        said(&missing)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_runs_a_plugin_by_tag_and_check_says_it_is_unpinned() {
    let registry = RegistryServer::start();
    let reference = format!("{}/swap:live", registry.host());
    let digest = push(guests::SWAP_A, &reference);
    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let text = config(&origin, &format!("oci://{reference}"), "", cache.path());
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    assert_eq!(
        version(&c, &proxy).await.as_deref(),
        Some("a"),
        "{}",
        proxy.log()
    );

    let (ok, output) = proxy::check_config(&text);
    assert!(ok, "{output}");
    assert!(output.contains("tag `live` is not pinned"), "{output}");
    assert!(
        output.contains(&format!("@{digest}")),
        "check does not say what to pin: {output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_tag_is_swapped_in_under_load_with_no_failed_request() {
    let registry = RegistryServer::start();
    let reference = format!("{}/swap:live", registry.host());
    push(guests::SWAP_A, &reference);
    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let text = config(
        &origin,
        &format!("oci://{reference}"),
        "refresh = \"1s\"",
        cache.path(),
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (c, url, stop) = (c.clone(), proxy.url("/"), stop.clone());
        workers.push(tokio::spawn(async move {
            let (mut seen, mut failed) = (Vec::new(), Vec::new());
            let deadline = Instant::now() + Duration::from_secs(30);
            for _ in 0..20_000 {
                if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                match get(&c, &url).await {
                    Ok(a) if a.status == 200 => {
                        seen.push(a.header("x-version").unwrap_or("-").to_string())
                    }
                    Ok(a) => failed.push(format!("status {}", a.status)),
                    Err(e) => failed.push(e),
                }
            }
            (seen, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    push(guests::SWAP_B, &reference);
    let swapped = wait_for_version(&c, &proxy, "b", Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut seen, mut failed) = (Vec::new(), Vec::new());
    for worker in workers {
        let (s, f) = worker.await.expect("load worker");
        seen.extend(s);
        failed.extend(f);
    }
    assert!(swapped, "the new tag was not picked up:\n{}", proxy.log());
    assert!(
        failed.is_empty(),
        "{} failed requests: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(
        seen.iter().any(|v| v == "a") && seen.iter().any(|v| v == "b"),
        "load saw no swap"
    );
    assert!(
        seen.iter().all(|v| v == "a" || v == "b"),
        "a response came from no version"
    );
    println!("{} requests under load, 0 failed", seen.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tampered_blob_is_refused_and_the_running_version_stays() {
    let registry = RegistryServer::start();
    let host = registry.host();
    push(guests::SWAP_A, &format!("{host}/swap:live"));
    let tampered = format!("{host}/swap:next");
    push(guests::SWAP_B, &tampered);
    let layer = {
        let inspect = plugin_command(&["inspect", &tampered], "", &[]);
        let text = said(&inspect);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("layer:"))
            .expect("layer line")
            .trim()
            .to_string();
        line.split_whitespace()
            .next()
            .expect("layer digest")
            .to_string()
    };
    let blob = registry.blob_file(&layer);
    let mut bytes = std::fs::read(&blob).expect("the blob in the registry's storage");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).expect("tamper with the blob");

    let pull = plugin_command(&["pull", &tampered, "-o", "/dev/null"], "", &[]);
    assert!(!pull.status.success());
    assert!(
        said(&pull).contains("does not match its digest"),
        "{}",
        said(&pull)
    );

    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let proxy = Proxy::start(&config(
        &origin,
        &format!("oci://{host}/swap:live"),
        "",
        cache.path(),
    ));
    let c = client::client(None, false);
    assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
    proxy.write_config(&config(
        &origin,
        &format!("oci://{tampered}"),
        "",
        cache.path(),
    ));
    assert!(
        proxy.wait_for_log("configuration not reloaded", Duration::from_secs(10)),
        "{}",
        proxy.log()
    );
    assert!(
        proxy.log().contains("does not match its digest"),
        "{}",
        proxy.log()
    );
    assert!(proxy.log().contains("plugins.p.source"), "{}", proxy.log());
    assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
    assert!(
        !cache
            .path()
            .join("oci/blobs")
            .join(format!("{}.wasm", &layer[7..]))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_pin_restarts_from_the_cache_with_the_registry_stopped() {
    let mut registry = RegistryServer::start();
    let host = registry.host();
    let digest = push(guests::SWAP_A, &format!("{host}/swap:v1"));
    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let pinned = config(
        &origin,
        &format!("oci://{host}/swap@{digest}"),
        "",
        cache.path(),
    );
    let tagged = config(&origin, &format!("oci://{host}/swap:v1"), "", cache.path());
    let c = client::client(None, false);
    {
        let proxy = Proxy::start(&pinned);
        assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
        let proxy = Proxy::start(&tagged);
        assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
    }
    registry.stop();

    let proxy = Proxy::start(&pinned);
    assert_eq!(
        version(&c, &proxy).await.as_deref(),
        Some("a"),
        "{}",
        proxy.log()
    );
    let proxy = Proxy::start(&tagged);
    assert_eq!(
        version(&c, &proxy).await.as_deref(),
        Some("a"),
        "{}",
        proxy.log()
    );
    assert!(
        proxy.log().contains("registry unreachable"),
        "no warning: {}",
        proxy.log()
    );

    // Nothing cached for this one: check says why it cannot load.
    let never = config(&origin, &format!("oci://{host}/other:v1"), "", cache.path());
    let (ok, output) = proxy::check_config(&never);
    assert!(!ok);
    assert!(output.contains("plugins.p.source"), "{output}");
    assert!(
        output.contains("never resolved on this machine"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_down_at_reload_keeps_the_running_version() {
    let mut registry = RegistryServer::start();
    let reference = format!("{}/swap:live", registry.host());
    push(guests::SWAP_A, &reference);
    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let text = config(
        &origin,
        &format!("oci://{reference}"),
        "refresh = \"1s\"",
        cache.path(),
    );
    let proxy = Proxy::start(&text);
    let c = client::client(None, false);
    assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));

    registry.stop();
    assert!(
        proxy.wait_for_log(
            "refresh: the running version stays",
            Duration::from_secs(10)
        ),
        "{}",
        proxy.log()
    );
    let (status, body) = proxy.reload();
    assert_eq!(status, 200, "{body}\n{}", proxy.log());
    assert!(
        proxy.log().contains("registry unreachable"),
        "{}",
        proxy.log()
    );
    for _ in 0..5 {
        assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_credentials_from_flags_environment_and_docker_config() {
    let registry = RegistryServer::with_auth();
    let reference = format!("{}/private:v1", registry.host());
    let (user, password) = (registry_server::USER, registry_server::PASSWORD);

    let anonymous = plugin_command(&["push", guests::SWAP_A, &reference], "", &[]);
    assert!(!anonymous.status.success());
    assert!(
        said(&anonymous).contains("cannot push to"),
        "{}",
        said(&anonymous)
    );

    let flags = [
        "push",
        guests::SWAP_A,
        &reference,
        "--username",
        user,
        "--password-stdin",
    ];
    let pushed = plugin_command(&flags, &format!("{password}\n"), &[]);
    assert!(pushed.status.success(), "{}", said(&pushed));

    let env = [
        ("RAVELIN_REGISTRY_USERNAME", user),
        ("RAVELIN_REGISTRY_PASSWORD", password),
    ];
    let ls = plugin_command(&["ls", &format!("{}/private", registry.host())], "", &env);
    assert!(ls.status.success(), "{}", said(&ls));
    assert_eq!(String::from_utf8_lossy(&ls.stdout), "v1\n");

    let docker = tempfile::tempdir().expect("temp dir");
    let auth = STANDARD.encode(format!("{user}:{password}"));
    let json = format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        registry.host()
    );
    std::fs::write(docker.path().join("config.json"), json).expect("docker config");
    let docker_env = [("DOCKER_CONFIG", docker.path().to_str().unwrap())];
    let out = docker.path().join("pulled.wasm");
    let pull = plugin_command(
        &["pull", &reference, "-o", out.to_str().unwrap()],
        "",
        &docker_env,
    );
    assert!(pull.status.success(), "{}", said(&pull));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(guests::SWAP_A).unwrap()
    );

    let wrong = [
        ("RAVELIN_REGISTRY_USERNAME", user),
        ("RAVELIN_REGISTRY_PASSWORD", "wrong"),
    ];
    let denied = plugin_command(
        &["pull", &reference, "-o", out.to_str().unwrap()],
        "",
        &wrong,
    );
    assert!(!denied.status.success());
}

/// An ed25519 key pair made by openssl: (private PEM, public PEM) in `dir`.
fn key_pair(dir: &std::path::Path, name: &str) -> (String, String) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private)
        .status()
        .expect("run openssl genpkey");
    assert!(made.success());
    let made = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .expect("run openssl pkey");
    assert!(made.success());
    let text = |p: std::path::PathBuf| p.to_str().expect("utf-8 path").to_string();
    (text(private), text(public))
}

#[tokio::test(flavor = "multi_thread")]
async fn signatures_are_required_checked_and_cached_for_offline_starts() {
    let mut registry = RegistryServer::start();
    let host = registry.host();
    let keys = tempfile::tempdir().expect("temp dir");
    let (trusted, trusted_pub) = key_pair(keys.path(), "trusted");
    let (stranger, _) = key_pair(keys.path(), "stranger");
    let signed = push(guests::SWAP_A, &format!("{host}/swap:v1"));
    let sign = plugin_command(
        &["sign", &format!("{host}/swap:v1"), "--key", &trusted],
        "",
        &[],
    );
    assert!(sign.status.success(), "{}", said(&sign));
    assert!(
        said(&sign).contains(&format!("sha256-{}.sig", &signed[7..])),
        "{}",
        said(&sign)
    );
    push(guests::SWAP_B, &format!("{host}/swap:v2"));

    // The signature tag is not a version; inspect names the signer.
    let ls = plugin_command(&["ls", &format!("{host}/swap")], "", &[]);
    assert_eq!(String::from_utf8_lossy(&ls.stdout), "v1\nv2\n");
    let inspect = plugin_command(&["inspect", &format!("{host}/swap:v1")], "", &[]);
    assert!(
        said(&inspect).contains("signatures: sha256:"),
        "{}",
        said(&inspect)
    );

    let origin = Origin::start("app").await;
    let cache = tempfile::tempdir().expect("temp dir");
    let required = format!("signatures = {{ required = true, keys = [\"{trusted_pub}\"] }}");
    let unsigned = config(
        &origin,
        &format!("oci://{host}/swap:v2"),
        &required,
        cache.path(),
    );
    let (ok, output) = proxy::check_config(&unsigned);
    assert!(!ok);
    assert!(
        output.contains("plugins.p.source") && output.contains("it is not signed"),
        "{output}"
    );

    let wrong = plugin_command(
        &["sign", &format!("{host}/swap:v2"), "--key", &stranger],
        "",
        &[],
    );
    assert!(wrong.status.success(), "{}", said(&wrong));
    let (ok, output) = proxy::check_config(&unsigned);
    assert!(!ok);
    assert!(output.contains("no signature by a trusted key"), "{output}");

    let pinned = config(
        &origin,
        &format!("oci://{host}/swap@{signed}"),
        &required,
        cache.path(),
    );
    let c = client::client(None, false);
    {
        let proxy = Proxy::start(&pinned);
        assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
        // A reload to the version no trusted key signed is refused.
        proxy.write_config(&unsigned);
        let refused = proxy.wait_for_log("configuration not reloaded", Duration::from_secs(10));
        assert!(refused, "{}", proxy.log());
        assert!(
            proxy.log().contains("no signature by a trusted key"),
            "{}",
            proxy.log()
        );
        assert_eq!(version(&c, &proxy).await.as_deref(), Some("a"));
    }
    registry.stop();
    let proxy = Proxy::start(&pinned);
    assert_eq!(
        version(&c, &proxy).await.as_deref(),
        Some("a"),
        "{}",
        proxy.log()
    );
}

#[test]
fn check_names_the_key_of_a_bad_registry_source() {
    let cases = [
        ("source = \"oci://127.0.0.1:9/swap\"", "name a tag"),
        (
            "source = \"oci://127.0.0.1:9/swap@sha256:00\"",
            "is not a digest",
        ),
        (
            "source = \"oci://127.0.0.1:9/swap@sha256:0000000000000000000000000000000000000000000000000000000000000000\"\nrefresh = \"5s\"",
            "refresh applies to a tag",
        ),
        (
            "source = \"oci://127.0.0.1:9/swap:v1\"\nrefresh = \"10ms\"",
            "at least 1s",
        ),
        (
            "source = \"local.wasm\"\nrefresh = \"5s\"",
            "apply only to an oci:// source",
        ),
        (
            "source = \"oci://127.0.0.1:9/swap:v1\"\nsignatures = { required = true }",
            "at least one public key",
        ),
        (
            "source = \"oci://127.0.0.1:9/swap:v1\"\nsignatures = { required = true, keys = [\"/nonexistent.pem\"] }",
            "signatures.keys[0]",
        ),
    ];
    for (table, expected) in cases {
        let text = format!(
            "[[listeners]]\nlisten = \"{{http}}\"\n[upstreams.app]\nendpoints = [{{ address = \"127.0.0.1:9\" }}]\n\
             [plugins.p]\n{table}\n[[routes]]\nupstream = \"app\"\nplugins = [\"p\"]\n"
        );
        let (ok, output) = proxy::check_config(&text);
        assert!(!ok, "{table} was accepted");
        assert!(output.contains("plugins.p"), "{table}: {output}");
        assert!(output.contains(expected), "{table}: {output}");
    }
}
