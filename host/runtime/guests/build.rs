//! Builds every crate of the `plugins/` workspace: the WASI-free ones for
//! `wasm32-unknown-unknown` (then wrapped into components with
//! wit-component), the `sandbox` guest for `wasm32-wasip2`; writes
//! `$OUT_DIR/guests.rs` with one path constant per guest.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Guests built for `wasm32-wasip2` (they exercise WASI).
const WASI_GUESTS: &[&str] = &["sandbox"];

fn members(plugins: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for group in [plugins.to_path_buf(), plugins.join("testing")] {
        for entry in
            std::fs::read_dir(&group).with_context(|| format!("reading {}", group.display()))?
        {
            let path = entry?.path();
            if path.join("Cargo.toml").is_file() && path.join("src").is_dir() {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn cargo(plugins: &Path, target_dir: &Path, target: &str, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(plugins)
        .args(["build", "--release", "--target", target, "--target-dir"])
        .arg(target_dir)
        .args(args);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().context("running cargo for the guests")?;
    if !status.success() {
        bail!("building the guests for {target} failed");
    }
    Ok(())
}

fn main() -> Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.join("../../..").canonicalize()?;
    let plugins = root.join("plugins");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let target_dir = plugins.join("target");
    for path in [
        "plugins/Cargo.toml",
        "plugins/Cargo.lock",
        "plugins/.cargo/config.toml",
        "sdk/src",
        "sdk/Cargo.toml",
        "wit",
        // The WAF plugin's engine, a library crate below it.
        "plugins/waf/engine/src",
        "plugins/waf/engine/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(path).display());
    }
    let dirs = members(&plugins)?;
    for dir in &dirs {
        println!("cargo:rerun-if-changed={}", dir.join("src").display());
        println!(
            "cargo:rerun-if-changed={}",
            dir.join("Cargo.toml").display()
        );
    }
    let mut core_args = vec!["--workspace"];
    for g in WASI_GUESTS {
        core_args.extend(["--exclude", g]);
    }
    cargo(&plugins, &target_dir, "wasm32-unknown-unknown", &core_args)?;
    let wasi_args: Vec<&str> = WASI_GUESTS.iter().flat_map(|g| ["-p", *g]).collect();
    cargo(&plugins, &target_dir, "wasm32-wasip2", &wasi_args)?;

    let mut constants = String::new();
    for dir in &dirs {
        let crate_name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .context("guest dir name")?;
        let file = format!("{}.wasm", crate_name.replace('-', "_"));
        let path = if WASI_GUESTS.contains(&crate_name) {
            target_dir.join("wasm32-wasip2/release").join(&file)
        } else {
            let module = std::fs::read(
                target_dir
                    .join("wasm32-unknown-unknown/release")
                    .join(&file),
            )
            .with_context(|| format!("reading the {crate_name} module"))?;
            let component = wit_component::ComponentEncoder::default()
                .module(&module)?
                .validate(true)
                .encode()
                .with_context(|| format!("making {crate_name} a component"))?;
            let path = out.join(&file);
            std::fs::write(&path, component)?;
            path
        };
        let constant = crate_name.to_uppercase().replace('-', "_");
        constants += &format!(
            "/// The `{crate_name}` guest component.\npub const {constant}: &str = {:?};\n",
            path.display().to_string()
        );
    }
    std::fs::write(out.join("guests.rs"), constants)?;
    Ok(())
}
