//! Compiling components, cached on disk by content hash and engine
//! compatibility hash, so a restart (or a swap back to a known version)
//! loads native code in milliseconds instead of compiling again.
// Loading a precompiled artifact is `unsafe` in wasmtime; it is allowed here
// and nowhere else (the crate denies `unsafe_code`).
#![allow(unsafe_code)]

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The hex SHA-256 of `bytes`: a component's version digest.
pub(crate) fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key for everything that makes compiled code (in)compatible: wasmtime's
/// version, target and the engine's settings.
pub(crate) fn engine_key(engine: &Engine) -> String {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    format!("{:016x}", h.finish())
}

fn artifact(dir: &Path, digest: &str, engine_key: &str) -> PathBuf {
    dir.join(format!("{digest}-{engine_key}.cwasm"))
}

/// Compiles `bytes`, or loads the cached artifact from `dir`. A cache that
/// cannot be read or written is skipped with a log line, never fatal.
pub(crate) fn compile(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    dir: Option<&Path>,
) -> Result<Component, String> {
    let Some(dir) = dir else {
        return Component::new(engine, bytes).map_err(|e| format!("{e:#}"));
    };
    let path = artifact(dir, digest, &engine_key(engine));
    if path.exists() {
        // SAFETY: the file is one this function wrote (below) into the
        // runtime's own cache directory, from wasmtime's own `serialize`
        // output for the same engine compatibility hash (part of its name).
        // wasmtime still checks the header and refuses a mismatched engine.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring unusable cached component: {e:#}")
            }
        }
    }
    let component = Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?;
    if let Err(e) = store(&component, dir, &path) {
        tracing::warn!(dir = %dir.display(), "cannot cache the compiled component: {e}");
    }
    Ok(component)
}

/// Writes the artifact atomically (temporary file, then rename).
fn store(component: &Component, dir: &Path, path: &Path) -> Result<(), String> {
    let bytes = component.serialize().map_err(|e| format!("{e:#}"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}
