//! `ravelin plugin new NAME`: writes a plugin crate that depends on
//! `ravelin-sdk` and builds to a component with `cargo build --release`.

use std::path::{Path, PathBuf};

/// Where the new crate gets `ravelin-sdk` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDependency {
    /// A path to the SDK crate (a Ravelin checkout's `sdk/`).
    Path(PathBuf),
    /// A version requirement from the registry.
    Version(String),
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64
}

fn manifest(name: &str, sdk: &SdkDependency) -> String {
    let dep = match sdk {
        SdkDependency::Path(p) => format!("{{ path = {:?} }}", p.display().to_string()),
        SdkDependency::Version(v) => format!("{v:?}"),
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

[profile.release]
opt-level = "s"
lto = true
strip = true
panic = "abort"
"#
    )
}

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

/// Creates `parent/NAME/` with `Cargo.toml`, `src/lib.rs`, `.gitignore` and
/// `.cargo/config.toml` (target `wasm32-wasip2`), and returns its path. In
/// it, `cargo build --release` writes
/// `target/wasm32-wasip2/release/NAME.wasm` (dashes as underscores).
pub fn scaffold(parent: &Path, name: &str, sdk: &SdkDependency) -> Result<PathBuf, String> {
    if !valid_name(name) {
        return Err(format!(
            "{name:?} is not a valid plugin name: use lower-case letters, digits, - and _"
        ));
    }
    let dir = parent.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let write = |rel: &str, text: String| {
        let path = dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write("Cargo.toml", manifest(name, sdk))?;
    write("src/lib.rs", source(name))?;
    write(
        ".cargo/config.toml",
        "[build]\ntarget = \"wasm32-wasip2\"\n".into(),
    )?;
    write(".gitignore", "/target\n".into())?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(valid_name("my-plugin_2"));
        assert!(!valid_name("My"));
        assert!(!valid_name("2x"));
        assert!(!valid_name("a/b"));
    }

    #[test]
    fn scaffold_writes_a_crate_and_refuses_to_overwrite() {
        let parent = std::env::temp_dir().join(format!("ravelin-scaffold-{}", std::process::id()));
        let sdk = SdkDependency::Version("0.1".into());
        let dir = scaffold(&parent, "hello-world", &sdk).expect("scaffold");
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("struct HelloWorld"));
        assert!(scaffold(&parent, "hello-world", &sdk).is_err());
        let _ = std::fs::remove_dir_all(parent);
    }
}
