//! The Python A/B router (`plugins/ab-router-py/`), built from source with
//! componentize-py by its `build.sh`, against the behaviour every
//! language's example must show (`ravelin_tests::lang_behaviour`), and hot
//! swapped under load without a failed request; and a plugin made by
//! `ravelin plugin new --lang python`, built by its own `build.sh` and run
//! by `ravelin plugin test`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ravelin_tests::lang_behaviour::{
    Subject, assert_ab_router, assert_bad_configs_refused, assert_hot_swap_under_load,
};
use ravelin_tests::lang_build::{build_scaffold, run_scaffold};
use ravelin_tests::plugin_cli::{plugin_command, said};

/// What the Python plugin needs beyond the defaults.
const SETTINGS: &str = "";

/// The per-version snapshot of an interpreter is built before the proxy is
/// ready: allow for it on a loaded machine.
const READY_WITHIN: Duration = Duration::from_secs(180);

/// Builds `plugins/ab-router-py` once per test run; the component's path.
fn component() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = root.join("plugins/ab-router-py");
        let out = root.join("target/lang/ab_router_py.wasm");
        let started = Instant::now();
        let output = Command::new(dir.join("build.sh"))
            .arg(&out)
            .output()
            .expect("run plugins/ab-router-py/build.sh");
        assert!(
            output.status.success(),
            "building the Python example failed (run scripts/setup for componentize-py):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "python: built {} ({size} bytes) in {:?}",
            out.display(),
            started.elapsed()
        );
        out
    })
}

fn subject() -> Subject<'static> {
    Subject {
        lang: "python",
        component: component(),
        settings: SETTINGS,
        ready_within: READY_WITHIN,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_ab_router_shows_the_shared_behaviour() {
    assert_ab_router(&subject()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_ab_router_hot_swaps_under_load_without_a_failed_request() {
    let report = assert_hot_swap_under_load(&subject(), Duration::from_secs(300)).await;
    eprintln!("python hot swap under load: {report:?}");
}

#[test]
fn python_ab_router_refuses_a_bad_config_naming_the_problem() {
    assert_bad_configs_refused(&subject());
}

#[test]
fn scaffolded_python_plugin_builds_and_runs_in_plugin_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let parent = tempfile::tempdir().expect("temp dir");
    let dir = parent.path().display().to_string();
    let sdk = root.join("sdk").display().to_string();
    let args = [
        "new",
        "deny-py",
        "--lang",
        "python",
        "--dir",
        &dir,
        "--sdk-path",
        &sdk,
    ];
    let created = plugin_command(&args, "", &[]);
    assert!(created.status.success(), "{}", said(&created));
    let project = parent.path().join("deny-py");
    build_scaffold(&project);
    let out = run_scaffold(&project.join("target/deny_py.wasm"));
    assert!(
        out.contains("INFO denied /admin/users"),
        "the plugin's log line:\n{out}"
    );
    assert!(
        out.contains("x-plugin: deny-py"),
        "the header set upstream:\n{out}"
    );
}
