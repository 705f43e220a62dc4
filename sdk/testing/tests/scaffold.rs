//! `ravelin plugin new`'s crate passes its own tests, which build it to a
//! component and drive it through this library.

use ravelin_runtime::tool::{Lang, SdkDependency, scaffold};
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
#[ignore = "runs `cargo test` in a scaffolded crate: the runtime rebuilt with that crate's features, the plugin built for wasm32-wasip2 (a minute or more); run with --ignored"]
fn a_scaffolded_plugin_passes_its_own_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let parent = std::env::temp_dir().join(format!("ravelin-scaffold-test-{}", std::process::id()));
    let sdk = SdkDependency::Path(root.join("sdk"));
    let dir = scaffold(&parent, "my-filter", Lang::Rust, &sdk).expect("scaffold");
    // The workspace's versions and target dir: wasmtime and the rest are
    // reused where their features match, never compiled from scratch.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).expect("Cargo.lock");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let status = Command::new(env!("CARGO"))
        .arg("test")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the scaffolded crate's tests failed");
    let _ = std::fs::remove_dir_all(parent);
}
