//! Driving the `ravelin plugin` registry commands and a proxy whose plugin
//! comes from a registry, for the registry tests.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::Proxy;
use crate::client::{self, get};
use crate::origin::Origin;
use crate::proxy::{self, plugin_chain_config};

/// Runs `ravelin plugin ARGS` with `stdin` and extra environment.
pub fn plugin_command(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
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

pub fn said(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// `ravelin plugin push FILE REF`; returns the digest it printed.
pub fn push(file: &str, reference: &str) -> String {
    let output = plugin_command(&["push", file, reference], "", &[]);
    assert!(output.status.success(), "push failed: {}", said(&output));
    digest_in(&said(&output))
}

pub fn digest_in(text: &str) -> String {
    let line = text.lines().find_map(|l| l.strip_prefix("digest:"));
    line.unwrap_or_else(|| panic!("no digest in: {text}"))
        .trim()
        .to_string()
}

/// A proxy config whose one route runs plugin `p` from `source` (with
/// extra keys), its cache in `cache`.
pub fn config(origin: &Origin, source: &str, extra: &str, cache: &Path) -> String {
    let table = format!("[plugins.p]\nsource = \"{source}\"\n{extra}\n");
    let server = format!("[server]\nplugin_cache_dir = \"{}\"\n", cache.display());
    server + &plugin_chain_config(origin.addr, &table, &["p"])
}

pub async fn version(c: &client::HttpsClient, proxy: &Proxy) -> Option<String> {
    let answer = get(c, &proxy.url("/")).await.ok()?;
    assert_eq!(answer.status, 200, "{}", proxy.log());
    answer.header("x-version").map(str::to_string)
}

/// Waits until the proxy serves version `want`, at most `limit`.
pub async fn wait_for_version(
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

/// An ed25519 key pair made by openssl: (private PEM, public PEM) in `dir`.
pub fn key_pair(dir: &Path, name: &str) -> (String, String) {
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
