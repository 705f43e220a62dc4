//! Plugin signatures against a real registry: `ravelin plugin sign`, a
//! plugin that requires a trusted key's signature refused when unsigned or
//! signed by another key (at load and at reload, the running version
//! kept), and a signed digest pin that starts from the cache with the
//! registry stopped.

use std::time::Duration;

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client;
use ravelin_tests::origin::Origin;
use ravelin_tests::plugin_cli::{config, key_pair, plugin_command, push, said, version};
use ravelin_tests::proxy;
use ravelin_tests::registry::RegistryServer;

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

    // The same policy set once for every registry plugin, in [server];
    // a plugin's own `signatures` overrides it.
    let everywhere = config(&origin, &format!("oci://{host}/swap:v2"), "", cache.path()).replacen(
        "[server]\n",
        &format!("[server]\nplugin_{}\n", required),
        1,
    );
    let (ok, output) = proxy::check_config(&everywhere);
    assert!(!ok, "{everywhere}");
    assert!(
        output.contains("plugins.p.source") && output.contains("it is not signed"),
        "{output}"
    );
    let exempt = everywhere.replace(
        "[plugins.p]\n",
        "[plugins.p]\nsignatures = { required = false }\n",
    );
    let (ok, output) = proxy::check_config(&exempt);
    assert!(ok, "{output}");

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
