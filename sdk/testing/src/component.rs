//! [`build_component`]: builds a plugin crate into its component with
//! `cargo build --release --target wasm32-wasip2`, into a target directory
//! of its own (`target/ravelin-plugin-testing` in the crate), so it never
//! waits on the lock of the `cargo test` that calls it.

use std::path::{Path, PathBuf};

/// The target a plugin crate is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// The most lines of cargo's output an error keeps (its end).
const SHOWN_LINES: usize = 60;

/// Why a plugin crate did not build to a component.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be started.
    #[error("cannot run {command}: {reason}")]
    Spawn {
        /// The command, as a reader would type it.
        command: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The Rust toolchain has no standard library for [`TARGET`].
    #[error(
        "{command} failed: the {TARGET} target is not installed; install it with `rustup target add {TARGET}`"
    )]
    MissingTarget {
        /// The command, as a reader would type it.
        command: String,
    },
    /// The build failed.
    #[error("{command} failed ({status}):\n{output}")]
    Failed {
        /// The command, as a reader would type it.
        command: String,
        /// Its exit status.
        status: String,
        /// The end of what cargo and rustc printed.
        output: String,
    },
    /// The build succeeded but wrote no `.wasm` for the crate.
    #[error("{command} wrote no .wasm for {manifest}: is the crate's `crate-type` [\"cdylib\"]?")]
    NoComponent {
        /// The command, as a reader would type it.
        command: String,
        /// The crate's manifest.
        manifest: PathBuf,
    },
}

/// Builds the plugin crate whose `Cargo.toml` is in `manifest_dir` (pass
/// `env!("CARGO_MANIFEST_DIR")` from its tests) and returns the path of
/// its component. The cargo that runs the tests (`$CARGO`) builds it.
pub async fn build_component(manifest_dir: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    let dir = manifest_dir.as_ref();
    let manifest = dir.join("Cargo.toml");
    let command = format!(
        "`cargo build --release --target {TARGET}` in {}",
        dir.display()
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = tokio::process::Command::new(cargo)
        .args(["build", "--release", "--target", TARGET])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(dir.join("target/ravelin-plugin-testing"))
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BuildError::Spawn {
            command: command.clone(),
            reason: e.to_string(),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("target may not be installed") {
            return Err(BuildError::MissingTarget { command });
        }
        return Err(BuildError::Failed {
            command,
            status: output.status.to_string(),
            output: last_lines(&stderr),
        });
    }
    component_path(&output.stdout, &manifest).ok_or(BuildError::NoComponent { command, manifest })
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(SHOWN_LINES)..].join("\n")
}

/// The `.wasm` cargo's JSON messages (`stdout`) say it wrote for the crate
/// of `manifest`.
fn component_path(stdout: &[u8], manifest: &Path) -> Option<PathBuf> {
    let manifest = manifest.canonicalize().ok()?;
    let of_crate = |message: &serde_json::Value| {
        message["reason"] == "compiler-artifact"
            && message["manifest_path"]
                .as_str()
                .and_then(|p| Path::new(p).canonicalize().ok())
                .is_some_and(|p| p == manifest)
    };
    stdout
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter(of_crate)
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|file| file.as_str().map(PathBuf::from))
        .find(|file| file.extension().is_some_and(|e| e == "wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_is_found_among_cargos_messages() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let stdout = format!(
            "{}\n{}\n{}\n",
            r#"{"reason":"compiler-artifact","manifest_path":"/elsewhere/Cargo.toml","filenames":["/t/dep.wasm"]}"#,
            serde_json::json!({
                "reason": "compiler-artifact",
                "manifest_path": manifest,
                "filenames": ["/t/wasm32-wasip2/release/my_plugin.wasm"],
            }),
            r#"{"reason":"build-finished","success":true}"#,
        );
        let found = component_path(stdout.as_bytes(), &manifest);
        assert_eq!(
            found,
            Some(PathBuf::from("/t/wasm32-wasip2/release/my_plugin.wasm"))
        );
        assert_eq!(component_path(b"not json\n", &manifest), None);
    }
}
