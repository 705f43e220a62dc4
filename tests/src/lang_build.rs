//! Builds a language's example plugin from source with its real toolchain,
//! through the same `build.sh` its guide tells a newcomer to run, so the
//! end-to-end tests drive what the guide produces.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A built example: its component and how long the build took.
pub struct Built {
    /// The component `build.sh` wrote.
    pub component: PathBuf,
    /// The build's wall-clock time.
    pub took: Duration,
}

/// Runs `plugins/<example>/build.sh` into a directory of its own under the
/// test target's scratch space and returns the component `artifact` it
/// leaves there. Panics with the build's output when it fails (a missing
/// toolchain: run `scripts/setup`).
pub fn build_example(example: &str, artifact: &str) -> Built {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("plugins").join(example).join("build.sh");
    let out = std::env::temp_dir().join(format!("ravelin-{example}-{}", std::process::id()));
    let started = Instant::now();
    let output = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let took = started.elapsed();
    assert!(
        output.status.success(),
        "{} failed ({}); is the toolchain installed (scripts/setup)?\n{}{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let component = out.join(artifact);
    assert!(
        component.is_file(),
        "{} did not write {}",
        script.display(),
        component.display()
    );
    Built { component, took }
}

/// Runs the `build.sh` of a project `ravelin plugin new --lang …` wrote;
/// panics with its output when it fails.
pub fn build_scaffold(project: &Path) {
    let built = Command::new(project.join("build.sh"))
        .output()
        .expect("run the scaffold's build.sh");
    assert!(
        built.status.success(),
        "{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
}

/// Runs a scaffolded plugin (which refuses a configured path prefix) in
/// `ravelin plugin test` on `GET /admin/users` then `GET /hello`, checks it
/// ran and refused the first, and returns what it printed.
pub fn run_scaffold(component: &Path) -> String {
    let component = component.display().to_string();
    let args = [
        "test",
        &component,
        "--config",
        r#"{"deny_prefix": "/admin"}"#,
        "--request",
        "GET /admin/users",
        "--request",
        "GET /hello",
    ];
    let ran = crate::plugin_cli::plugin_command(&args, "", &[]);
    let out = crate::plugin_cli::said(&ran);
    assert!(ran.status.success(), "{out}");
    assert!(
        out.contains("403 Forbidden"),
        "/admin/users refused:\n{out}"
    );
    out
}
