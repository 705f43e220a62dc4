//! Loading: broken components and refused configs give clear errors; the
//! TOML form of a spec.

use crate::harness::*;
use ravelin_runtime::{FilePluginSpec, PluginError};
use ravelin_test_guests::{FAULTS, NOOP, V2_PROBE, WAF};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ravelin-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[tokio::test]
async fn a_broken_component_is_refused_with_a_clear_error() {
    let rt = runtime();
    let garbage = temp_file("garbage.wasm", b"not wasm at all");
    let err = rt
        .load(spec("g", garbage.to_str().expect("path"), json!(null)))
        .await
        .expect_err("garbage");
    assert!(
        matches!(err, PluginError::Load { .. })
            && err.to_string().contains("not a valid component"),
        "{err}"
    );

    // An empty component: valid, but it exports none of the hooks.
    let empty = temp_file("empty.wasm", b"\0asm\x0d\0\x01\0");
    let err = rt
        .load(spec("e", empty.to_str().expect("path"), json!(null)))
        .await
        .expect_err("wrong world");
    assert!(
        err.to_string()
            .contains("does not fit the ravelin:plugin/filter world"),
        "{err}"
    );

    let err = rt
        .load(spec("m", "/nonexistent/x.wasm", json!(null)))
        .await
        .expect_err("missing");
    assert!(
        err.to_string().contains("cannot read /nonexistent/x.wasm"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_config_and_a_trap_at_load_are_refused() {
    let rt = runtime();
    let err = rt
        .load(spec("r", FAULTS, json!({ "mode": "refuse" })))
        .await
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "plugin r: configuration refused: mode \"refuse\": this config is refused"
    );
    let err = rt
        .load(spec("t", FAULTS, json!({ "mode": "trap-at-load" })))
        .await
        .expect_err("trap");
    assert!(
        matches!(
            err,
            PluginError::Trap {
                hook: "configure",
                ..
            }
        ),
        "{err}"
    );
    let err = rt
        .load(spec("w", WAF, json!({ "block_patterns": [""] })))
        .await
        .expect_err("waf");
    assert!(
        err.to_string()
            .contains("an empty pattern would block everything"),
        "{err}"
    );
}

#[tokio::test]
async fn limits_outside_the_runtime_are_refused() {
    let rt = runtime();
    let mut s = spec("big", NOOP, json!(null));
    s.memory_limit = 1 << 40;
    let err = rt.load(s).await.expect_err("limit");
    assert!(
        matches!(err, PluginError::Spec { .. }) && err.to_string().contains("memory limit"),
        "{err}"
    );
}

#[tokio::test]
async fn configure_has_its_own_deadline() {
    let rt = runtime();
    // 300 ms of work at load: past the 50 ms a hook gets, within configure's.
    let mut slow = spec(
        "slow",
        FAULTS,
        json!({ "mode": "slow-load", "load_ms": 300 }),
    );
    slow.deadline = Duration::from_millis(50);
    let set = plugins(&rt, vec![slow]).await;
    // Building the version is not a served call: the admin summary's
    // calls and mean latency are the hooks' alone.
    assert_eq!(stats(&set, "slow").calls, 0);
    assert_eq!(stats(&set, "slow").mean_latency, Duration::ZERO);

    let mut endless = spec("endless", FAULTS, json!({ "mode": "loop-at-load" }));
    endless.configure_deadline = Duration::from_millis(200);
    let started = Instant::now();
    let err = rt.load(endless).await.expect_err("an endless configure");
    assert!(
        matches!(
            err,
            PluginError::Deadline { hook: "configure", limit, .. } if limit == Duration::from_millis(200)
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn file_spec_parses_toml_with_defaults_and_refuses_unknown_keys() {
    let text = r#"
        source = "waf.wasm"
        config = { block_patterns = ["../"], status = 403 }
        deadline_ms = 20
        fail = "open"
        isolation = "exchange"
    "#;
    let file: FilePluginSpec = toml::from_str(text).expect("toml");
    let spec = file
        .into_spec("waf", Path::new("/etc/ravelin"))
        .expect("valid");
    assert_eq!(spec.source, Path::new("/etc/ravelin/waf.wasm"));
    assert_eq!(
        spec.config,
        json!({ "block_patterns": ["../"], "status": 403 })
    );
    assert_eq!(spec.deadline, std::time::Duration::from_millis(20));
    assert_eq!(spec.configure_deadline, std::time::Duration::from_secs(10));
    assert_eq!(spec.memory_limit, 64 << 20);
    assert_eq!(spec.fail, ravelin_runtime::FailPolicy::Open);
    assert_eq!(spec.isolation, ravelin_runtime::Isolation::Exchange);

    let err =
        toml::from_str::<FilePluginSpec>("source = \"x\"\ndeadline = 5").expect_err("unknown key");
    assert!(
        err.to_string().contains("unknown field `deadline`"),
        "{err}"
    );
    let file: FilePluginSpec = toml::from_str("source = \"x\"\ndeadline_ms = 0").expect("toml");
    let err = file
        .into_spec("x", Path::new("/"))
        .expect_err("zero deadline");
    assert!(err.contains("plugins.x: deadline"), "{err}");
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk_and_reused() {
    let dir = std::env::temp_dir().join(format!("ravelin-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = ravelin_runtime::RuntimeConfig {
        cache_dir: Some(dir.clone()),
        max_instances: 16,
        ..Default::default()
    };
    let mut first_names = None;
    for _ in 0..2 {
        let rt = ravelin_runtime::Runtime::new(
            config.clone(),
            std::sync::Arc::new(ravelin_runtime::NoOutbound),
            None,
        )
        .expect("rt");
        let set = plugins(&rt, vec![spec("noop", NOOP, json!(null))]).await;
        let chain = set.chain(&["noop"]).expect("chain");
        assert!(matches!(
            run(&chain, "/").await.1,
            ravelin_runtime::Decision::Continue
        ));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("cache dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        // The component, its instrumented form and its snapshot after init.
        assert_eq!(
            names.len(),
            3,
            "three artifacts, reused the second time: {names:?}"
        );
        assert!(names.iter().all(|n| n.ends_with(".cwasm")), "{names:?}");
        let digest = set.digest("noop").expect("digest");
        let original = names.iter().filter(|n| n.starts_with(digest)).count();
        assert_eq!(
            original, 2,
            "the component and its instrumented form: {names:?}"
        );
        match &first_names {
            None => first_names = Some(names),
            Some(first) => assert_eq!(first, &names, "nothing compiled again"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_snapshot_holding_secrets_is_never_written_to_the_cache() {
    let dir = std::env::temp_dir().join(format!("ravelin-cache-secret-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = ravelin_runtime::RuntimeConfig {
        cache_dir: Some(dir.clone()),
        max_instances: 16,
        ..Default::default()
    };
    let rt = ravelin_runtime::Runtime::new(
        config,
        std::sync::Arc::new(ravelin_runtime::NoOutbound),
        None,
    )
    .expect("rt");
    let mut s = spec("probe", V2_PROBE, json!({}));
    s.secret_files = vec![("token".into(), temp_file("token.secret", b"s3cret-7f1c\n"))];
    let set = plugins(&rt, vec![s]).await;
    let chain = set.chain(&["probe"]).expect("chain");
    assert_eq!(
        responded(run(&chain, "/v2/init").await.1).1,
        "local=1 kv=0 table=0"
    );
    let artifacts: Vec<_> = std::fs::read_dir(&dir)
        .expect("cache dir")
        .flatten()
        .collect();
    assert_eq!(
        artifacts.len(),
        2,
        "the component and its instrumented form only"
    );
    for artifact in artifacts {
        let bytes = std::fs::read(artifact.path()).expect("read artifact");
        assert!(
            !bytes.windows(11).any(|w| w == b"s3cret-7f1c"),
            "{} holds the secret",
            artifact.path().display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn secret_files_reach_configure_and_a_missing_one_is_refused() {
    let rt = runtime();
    let secret = temp_file("mode.secret", b"refuse\n");
    let mut s = spec("s", FAULTS, json!({}));
    s.secret_files = vec![("mode".into(), secret)];
    let err = rt
        .load(s.clone())
        .await
        .expect_err("the secret says refuse");
    assert_eq!(
        err.to_string(),
        "plugin s: configuration refused: mode \"refuse\": this config is refused"
    );
    s.secret_files = vec![("mode".into(), "/nonexistent/secret".into())];
    let err = rt.load(s).await.expect_err("missing secret");
    assert!(
        err.to_string()
            .contains("cannot read secret file /nonexistent/secret"),
        "{err}"
    );
}
