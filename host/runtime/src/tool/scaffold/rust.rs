//! `ravelin plugin new NAME --lang rust` (the default): a plugin crate
//! that depends on `ravelin-sdk`, builds to a component with `cargo build
//! --release --target wasm32-wasip2`, and tests itself natively with
//! `cargo test` through `ravelin-plugin-testing`.

use super::{SdkDependency, Writer};

fn manifest(name: &str, sdk: &SdkDependency) -> String {
    // The test library sits beside the SDK (`sdk/testing`) and shares its version.
    let (dep, testing) = match sdk {
        SdkDependency::Path(p) => (
            format!("{{ path = {:?} }}", p.display().to_string()),
            format!("{{ path = {:?} }}", p.join("testing").display().to_string()),
        ),
        SdkDependency::Version(v) => (format!("{v:?}"), format!("{v:?}")),
    };
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

# A plugin is built on its own, even inside another workspace.
[workspace]

[lib]
crate-type = ["cdylib"]

[dependencies]
ravelin-sdk = {dep}
serde = {{ version = "1", features = ["derive"] }}

# `cargo test` runs natively: tests/plugin.rs builds the component and runs
# it in Ravelin's plugin runtime.
[dev-dependencies]
ravelin-plugin-testing = {testing}
tokio = {{ version = "1", features = ["macros", "rt"] }}

[profile.release]
opt-level = "s"
lto = true
strip = true
panic = "abort"

# The runtime the tests load the plugin into (wasmtime) crawls unoptimised.
[profile.dev.package."*"]
opt-level = 2
debug = false
"#
    )
}

/// `tests/plugin.rs`: the scaffolded plugin's behaviour, run in the runtime.
const TESTS: &str = r#"//! The plugin built to its component and run in Ravelin's plugin runtime,
//! natively, by `cargo test` (see the `ravelin-plugin-testing` docs).
use ravelin_plugin_testing::{Harness, Hook, Request, Upstream, Value, json};

async fn plugin(config: Value) -> Harness {
    Harness::build_and_load(env!("CARGO_MANIFEST_DIR"), config)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_denied_prefix_is_answered_by_the_plugin() {
    let mut h = plugin(json!({ "deny_prefix": "/admin" })).await;
    let out = h.send(Request::get("/admin/users"), Upstream::ok("hello")).await;
    assert_eq!(out.answered_at(), Some(Hook::OnRequest));
    assert_eq!(out.status(), 403);
}

#[tokio::test]
async fn other_requests_go_upstream_marked_both_ways() {
    let mut h = plugin(json!(null)).await;
    let out = h.send(Request::get("/x"), Upstream::ok("hello")).await;
    let forwarded = out.forwarded().expect("went upstream");
    assert_eq!(forwarded.headers()["x-plugin"], "NAME");
    assert_eq!(out.headers()["x-plugin"], "NAME");
    assert_eq!(out.body(), "hello");
}
"#;

fn source(name: &str) -> String {
    let type_name: String = name
        .split(['-', '_'])
        .map(|w| {
            w.chars()
                .take(1)
                .flat_map(char::to_uppercase)
                .chain(w.chars().skip(1))
                .collect::<String>()
        })
        .collect();
    format!(
        r#"//! The `{name}` Ravelin plugin (contract `ravelin:plugin@0.2.0`).
use ravelin_sdk::{{Config, Decision, Hooks, Plugin, Reply, Request, Response}};

/// This plugin's configuration: the `config` table of `[plugins.{name}]`.
#[derive(serde::Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Settings {{
    /// Requests whose path starts with this are answered with 403.
    deny_prefix: Option<String>,
}}

struct {type_name} {{
    settings: Settings,
}}

impl Plugin for {type_name} {{
    /// The hooks beyond `on_request` this plugin implements: a hook not
    /// listed here is never called. Without `ON_RESPONSE` the host gives
    /// the instance back as soon as `on_request` returns.
    const HOOKS: Hooks = Hooks::ON_RESPONSE;

    fn configure(config: Config) -> Result<Self, String> {{
        let settings = config.parse_or_default()?;
        Ok({type_name} {{ settings }})
    }}

    fn on_request(&mut self, req: &Request) -> Decision {{
        if let Some(prefix) = &self.settings.deny_prefix
            && req.path().starts_with(prefix.as_str())
        {{
            return Reply::text(403, "forbidden\n").into();
        }}
        let _ = req.set_header("x-plugin", "{name}");
        Decision::Continue
    }}

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {{
        let _ = resp.set_header("x-plugin", "{name}");
        Decision::Continue
    }}
}}

ravelin_sdk::export!({type_name});
"#
    )
}

/// A small shadow stack for the component (fresh instances touch fewer
/// pages: see docs/benchmarks.md); native builds (the tests) are untouched.
const CARGO_CONFIG: &str = "\
# The component's shadow stack: 64 KiB instead of 1 MiB makes a fresh
# instance about 3x cheaper to start; raise it if the plugin traps with an
# out-of-bounds access on deep recursion or large local arrays.
[target.wasm32-wasip2]
rustflags = [\"-C\", \"link-arg=-zstack-size=65536\"]
";

/// Writes `Cargo.toml`, `src/lib.rs`, `tests/plugin.rs`,
/// `.cargo/config.toml` (the component's stack size) and `.gitignore`. In
/// the crate, `cargo build --release --target wasm32-wasip2` writes
/// `target/wasm32-wasip2/release/NAME.wasm` (dashes as underscores), and
/// `cargo test` runs the tests.
pub(super) fn write(out: &Writer, name: &str, sdk: &SdkDependency) -> Result<(), String> {
    out.file("Cargo.toml", &manifest(name, sdk))?;
    out.file("src/lib.rs", &source(name))?;
    out.file("tests/plugin.rs", &TESTS.replace("NAME", name))?;
    out.file(".cargo/config.toml", CARGO_CONFIG)?;
    out.file(".gitignore", "/target\n")
}

#[cfg(test)]
mod tests {
    use super::super::{Lang, scaffold};
    use super::*;

    #[test]
    fn scaffold_writes_a_crate_and_refuses_to_overwrite() {
        let parent = std::env::temp_dir().join(format!("ravelin-scaffold-{}", std::process::id()));
        let sdk = SdkDependency::Version("0.1".into());
        let dir = scaffold(&parent, "hello-world", Lang::Rust, &sdk).expect("scaffold");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("struct HelloWorld"));
        let tests = std::fs::read_to_string(dir.join("tests/plugin.rs")).expect("tests");
        assert!(tests.contains(r#"headers()["x-plugin"], "hello-world")"#));
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("manifest");
        assert!(
            manifest.contains("ravelin-plugin-testing = \"0.1\""),
            "{manifest}"
        );
        let cargo = std::fs::read_to_string(dir.join(".cargo/config.toml")).expect("config");
        assert!(cargo.contains("stack-size=65536"), "{cargo}");
        assert!(scaffold(&parent, "hello-world", Lang::Rust, &sdk).is_err());
        let _ = std::fs::remove_dir_all(parent);
    }

    #[test]
    fn the_test_library_comes_from_beside_a_path_sdk() {
        let manifest = manifest("p", &SdkDependency::Path("/src/ravelin/sdk".into()));
        assert!(manifest.contains(r#"ravelin-sdk = { path = "/src/ravelin/sdk" }"#));
        let testing = r#"ravelin-plugin-testing = { path = "/src/ravelin/sdk/testing" }"#;
        assert!(manifest.contains(testing), "{manifest}");
    }
}
