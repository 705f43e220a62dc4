//! Plugins shared through an OCI registry, against a real one (Debian's
//! `docker-registry`, on loopback): push → ls → inspect → pull with the
//! `ravelin plugin` commands; a proxy that runs a plugin by `oci://` tag and
//! hot-swaps a new tag under load with no failed request; a tampered blob
//! refused; a digest pin that restarts from the cache with the registry
//! stopped; a registry outage at reload that keeps the running version; and
//! basic auth from each credential source.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, get};
use ravelin_tests::origin::Origin;
use ravelin_tests::plugin_cli::{
    config, digest_in, plugin_command, push, said, version, wait_for_version,
};
use ravelin_tests::proxy;
use ravelin_tests::registry::{self as registry_server, RegistryServer};

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
        text.contains("world:     ravelin:plugin/filter@0.2.0"),
        "the WIT world is missing: {text}"
    );
    let imports = text
        .split("imports:\n")
        .nth(1)
        .and_then(|rest| rest.split("exports:").next())
        .unwrap_or_default();
    assert!(imports.contains("ravelin:plugin/types@0.2.0"), "{text}");
    assert!(
        imports.lines().all(|line| line.contains(':')),
        "imports should list interfaces only, not the types a world uses: {text}"
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

    // A reader that stops early (`| head`) ends the command quietly, as
    // SIGPIPE ends a Unix tool, not with a panic.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let piped = std::process::Command::new(ravelin_tests::proxy::binary())
        .args(["plugin", "inspect", &format!("{host}/team/swap:v1.2.0")])
        .env("DOCKER_CONFIG", "/nonexistent-ravelin-test")
        .stdout(writer)
        .output()
        .expect("run ravelin plugin inspect");
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert_eq!(piped.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let missing = plugin_command(&["pull", &format!("{host}/team/swap:nope")], "", &[]);
    assert!(!missing.status.success());
    assert!(
        said(&missing).contains("team/swap:nope"),
        "{}",
        said(&missing)
    );
}

/// `component` with a custom section of `size` bytes appended (still a
/// valid component).
fn padded(component: &[u8], size: usize) -> Vec<u8> {
    let name = b"padding";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.resize(payload.len() + size, 0xa5);
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section
    let mut len = payload.len();
    loop {
        let low = (len & 0x7f) as u8;
        len >>= 7;
        bytes.push(if len == 0 { low } else { low | 0x80 });
        if len == 0 {
            break;
        }
    }
    bytes.extend_from_slice(&payload);
    bytes
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_component_goes_up_in_chunks_and_comes_back_whole() {
    let registry = RegistryServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let big = dir.path().join("big.wasm");
    let bytes = padded(&std::fs::read(guests::SWAP_A).unwrap(), 5 << 20);
    std::fs::write(&big, &bytes).unwrap();
    let reference = format!("{}/team/big:v1", registry.host());
    let digest = push(big.to_str().unwrap(), &reference);
    // Pushed again: the layer is already there and is not sent again.
    assert_eq!(push(big.to_str().unwrap(), &reference), digest);

    let out = dir.path().join("pulled.wasm");
    let pull = plugin_command(&["pull", &reference, "-o", out.to_str().unwrap()], "", &[]);
    assert!(pull.status.success(), "{}", said(&pull));
    assert!(
        std::fs::read(&out).unwrap() == bytes,
        "the pulled component differs"
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

    // The admin listing names the registry reference and manifest, not the
    // cache file the runtime loaded.
    let (status, listing) = proxy.admin("/plugins");
    assert_eq!(status, 200, "{listing}");
    let listing: serde_json::Value = serde_json::from_str(&listing).expect("json");
    assert_eq!(
        listing[0]["source"],
        format!("oci://{reference}"),
        "{listing}"
    );
    assert_eq!(listing[0]["registry"]["manifest_digest"], digest.as_str());

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
