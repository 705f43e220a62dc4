//! Plugin versions belong to the config snapshot: a reload that would change
//! a plugin but is refused for another reason (here a missing certificate)
//! changes nothing at all, and a changed plugin file goes through the same
//! all-or-nothing rebuild as a changed config.

use std::path::Path;
use std::time::Duration;

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::{self, get};
use ravelin_tests::origin::Origin;

/// A proxy in front of `origin` whose one route runs plugin `plugin`
/// (declared by `plugin_table`); `tls` adds an HTTPS listener with these
/// certificate lines.
fn config(origin: &Origin, plugin_table: &str, tls: Option<&str>) -> String {
    let https = tls
        .map(|certs| format!("\n[[listeners]]\nname = \"secure\"\nlisten = \"{{https}}\"\ntls.certificates = [{certs}]\n"))
        .unwrap_or_default();
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"
{https}
[upstreams.app]
endpoints = [{{ address = "{}" }}]

{plugin_table}

[[routes]]
upstream = "app"
plugins = ["p"]
"#,
        origin.addr
    )
}

fn rewrite(value: &str) -> String {
    format!(
        "[plugins.p]\nsource = \"{}\"\nconfig = {{ request = {{ set = {{ x-plugin = \"{value}\" }} }} }}\n",
        guests::REWRITE
    )
}

const MISSING_CERT: &str = r#"{ cert = "{dir}/missing.pem", key = "{dir}/missing.key" }"#;

/// The header `name` the origin saw on the last request.
fn last_seen(origin: &Origin, name: &str) -> Option<String> {
    let received = origin.received();
    let last = received.last()?;
    Some(last.headers.get(name)?.to_str().ok()?.to_string())
}

/// Waits until the log holds `needle` `count` times, at most 10 s.
fn wait_for_count(proxy: &Proxy, needle: &str, count: usize) -> bool {
    for _ in 0..500 {
        if proxy.log().matches(needle).count() >= count {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Replaces `to` with a copy of `from` atomically, as a deploy would.
fn install(from: &str, to: &Path) {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).expect("copy plugin");
    std::fs::rename(&tmp, to).expect("install plugin");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_reload_that_changes_a_plugin_changes_nothing() {
    let origin = Origin::start("app").await;
    let proxy = Proxy::start(&config(&origin, &rewrite("A"), None));
    let c = client::client(None, false);
    assert_eq!(get(&c, &proxy.url("/")).await.unwrap().status, 200);
    assert_eq!(last_seen(&origin, "x-plugin").as_deref(), Some("A"));

    proxy.write_config(&config(&origin, &rewrite("B"), Some(MISSING_CERT)));
    assert!(
        wait_for_count(&proxy, "configuration not reloaded", 1),
        "the broken reload was not tried:\n{}",
        proxy.log()
    );
    assert!(proxy.log().contains("missing.pem"), "{}", proxy.log());
    for _ in 0..3 {
        assert_eq!(get(&c, &proxy.url("/")).await.unwrap().status, 200);
        assert_eq!(
            last_seen(&origin, "x-plugin").as_deref(),
            Some("A"),
            "a refused reload changed the plugin:\n{}",
            proxy.log()
        );
    }

    proxy.write_config(&config(&origin, &rewrite("B"), None));
    assert!(
        wait_for_count(&proxy, "configuration reloaded", 1),
        "{}",
        proxy.log()
    );
    assert_eq!(get(&c, &proxy.url("/")).await.unwrap().status, 200);
    assert_eq!(last_seen(&origin, "x-plugin").as_deref(), Some("B"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_plugin_file_is_refused_with_the_snapshot_it_would_join() {
    let origin = Origin::start("app").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let live = dir.path().join("live.wasm");
    install(guests::SWAP_A, &live);
    let table = format!("[plugins.p]\nsource = \"{}\"\n", live.display());
    let proxy = Proxy::start_in(dir, &config(&origin, &table, None));
    let c = client::client(None, false);
    let version = |answer: client::Answer| {
        let value = answer.headers.get("x-version").cloned();
        value.and_then(|v| v.to_str().ok().map(str::to_string))
    };
    assert_eq!(
        version(get(&c, &proxy.url("/")).await.unwrap()).as_deref(),
        Some("a")
    );

    // The config breaks first; then the plugin file changes: the rebuild
    // the new file triggers is refused with the config, and a stays.
    proxy.write_config(&config(&origin, &table, Some(MISSING_CERT)));
    assert!(wait_for_count(&proxy, "configuration not reloaded", 1));
    std::thread::sleep(Duration::from_millis(300));
    let refused = proxy.log().matches("configuration not reloaded").count();
    install(guests::SWAP_B, &live);
    assert!(
        wait_for_count(&proxy, "configuration not reloaded", refused + 1),
        "the plugin change did not trigger a rebuild:\n{}",
        proxy.log()
    );
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!(version(answer).as_deref(), Some("a"), "{}", proxy.log());
    assert_eq!(last_seen(&origin, "x-version").as_deref(), Some("a"));

    // The config is fixed: the same rebuild now swaps both in.
    proxy.write_config(&config(&origin, &table, None));
    assert!(wait_for_count(&proxy, "configuration reloaded", 1));
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!(version(answer).as_deref(), Some("b"), "{}", proxy.log());
    let (status, plugins) = proxy.admin("/plugins");
    assert_eq!(status, 200);
    assert!(plugins.contains("\"swaps\": 1"), "{plugins}");

    // A plugin file change alone swaps through the same path.
    install(guests::SWAP_A, &live);
    assert!(wait_for_count(&proxy, "configuration reloaded", 2));
    let answer = get(&c, &proxy.url("/")).await.unwrap();
    assert_eq!(version(answer).as_deref(), Some("a"));
}
