//! `ravelin plugin push|pull|inspect|ls|sign`: the registry port for people.
//! Each prints what it did on standard output and transfer progress on
//! standard error.

use std::cmp::Ordering;
use std::path::Path;

use super::client::{Manifest, Options, Registry};
use super::progress::Progress;
use super::reference::{OciRef, Version};
use super::signature;

/// Pushes the component `file` to `reference` (a tag); prints the digest
/// to pin.
pub async fn push(file: &Path, reference: &str, options: &Options) -> Result<(), String> {
    let reference = OciRef::parse(reference)?;
    if matches!(reference.version, Version::Digest(_)) {
        return Err(format!(
            "{reference}: push to a tag; the registry gives the digest"
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let title = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("plugin.wasm");
    let size = bytes.len() as u64;
    let progress = Progress::new(format!("pushing {}", file.display()));
    let registry = Registry::connect(&reference, options)?;
    let manifest = registry.push(&reference, bytes, title, &progress).await?;
    progress.finish(size);
    crate::say!("pushed {reference}\ndigest: {}", manifest.digest);
    crate::say!(
        "pin it: source = \"oci://{}\"",
        reference.at(Version::Digest(manifest.digest.clone()))
    );
    Ok(())
}

/// Pulls `reference` into `output` (default: `<repository name>.wasm`).
pub async fn pull(reference: &str, output: Option<&Path>, options: &Options) -> Result<(), String> {
    let reference = OciRef::parse(reference)?;
    let (registry, manifest) = open(&reference, options).await?;
    let progress = Progress::new(format!("pulling {}", manifest.layer().digest));
    let bytes = registry
        .layer(&reference, &manifest, Some(&progress))
        .await?;
    progress.finish(bytes.len() as u64);
    let default = format!(
        "{}.wasm",
        reference.repository.rsplit('/').next().unwrap_or("plugin")
    );
    let output = output.unwrap_or(Path::new(&default));
    std::fs::write(output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
    crate::say!(
        "pulled {reference} ({}) to {}",
        manifest.digest,
        output.display()
    );
    Ok(())
}

/// Prints what a plugin artifact declares: digest, size, WIT world,
/// imports and exports, annotations.
pub async fn inspect(reference: &str, options: &Options) -> Result<(), String> {
    let reference = OciRef::parse(reference)?;
    let (registry, manifest) = open(&reference, options).await?;
    let config = registry.config(&reference, &manifest).await?;
    let layer = manifest.layer();
    crate::say!("reference: {reference}");
    crate::say!("digest:    {}", manifest.digest);
    crate::say!(
        "layer:     {} ({} bytes, {})",
        layer.digest,
        layer.size,
        layer.media_type
    );
    let component = &config["component"];
    crate::say!(
        "world:     {}",
        component["target"].as_str().unwrap_or("(not recorded)")
    );
    for (label, key) in [("imports", "imports"), ("exports", "exports")] {
        crate::say!("{label}:");
        for item in component[key].as_array().into_iter().flatten() {
            crate::say!("  {}", item.as_str().unwrap_or_default());
        }
    }
    crate::say!("annotations:");
    for (key, value) in manifest.manifest.annotations.iter().flatten() {
        crate::say!("  {key} = {value}");
    }
    let signers = match registry.signatures(&reference, &manifest.digest).await {
        Ok(Some((_, artifact))) => signature::signers(&artifact),
        Ok(None) => Vec::new(),
        Err(e) => return Err(e.to_string()),
    };
    match signers.is_empty() {
        true => crate::say!("signatures: none"),
        false => crate::say!(
            "signatures: {} (claimed key fingerprints, not verified)",
            signers.join(", ")
        ),
    }
    Ok(())
}

/// Signs the manifest `reference` names with the ed25519 key in `key`.
pub async fn sign(reference: &str, key: &Path, options: &Options) -> Result<(), String> {
    let reference = OciRef::parse(reference)?;
    let pair = signature::read_private_key(key)?;
    let (registry, manifest) = open(&reference, options).await?;
    registry
        .push_signature(&reference, &manifest.digest, &pair)
        .await?;
    crate::say!(
        "signed {reference} ({}); stored as {}/{}:{}",
        manifest.digest,
        reference.registry,
        reference.repository,
        signature::tag(&manifest.digest)
    );
    Ok(())
}

/// Prints the versions in `repository`, semver-sorted, signature and
/// attestation tags (`sha256-<hex>.sig`) left out.
pub async fn ls(repository: &str, options: &Options) -> Result<(), String> {
    let (registry, repository) = OciRef::parse_repository(repository)?;
    let reference = OciRef {
        registry,
        repository,
        version: Version::Tag("latest".into()),
    };
    let client = Registry::connect(&reference, options)?;
    for tag in versions(client.tags(&reference).await?) {
        crate::say!("{tag}");
    }
    Ok(())
}

/// `tags` without cosign-style `sha256-…` tags, semver versions first in
/// ascending order, then the rest by name.
pub fn versions(tags: Vec<String>) -> Vec<String> {
    let mut tags: Vec<String> = tags
        .into_iter()
        .filter(|t| !t.starts_with("sha256-"))
        .collect();
    tags.sort_by(|a, b| match (semver(a), semver(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    });
    tags
}

/// `[v]MAJOR.MINOR.PATCH[-pre]` as a sortable key (a pre-release sorts
/// before its release).
/// Connects to `reference`'s registry and fetches its manifest.
async fn open(reference: &OciRef, options: &Options) -> Result<(Registry, Manifest), String> {
    let registry = Registry::connect(reference, options)?;
    let manifest = registry
        .manifest(reference)
        .await
        .map_err(|e| e.to_string())?;
    Ok((registry, manifest))
}

fn semver(tag: &str) -> Option<(u64, u64, u64, bool, String)> {
    let text = tag.strip_prefix('v').unwrap_or(tag);
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    Some((
        major,
        minor,
        patch,
        pre.is_none(),
        pre.unwrap_or_default().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_semver_and_hide_signature_tags() {
        let tags = [
            "latest",
            "v1.10.0",
            "v1.2.0",
            "sha256-abc.sig",
            "1.2.0-rc.1",
            "dev",
            "v0.9.1",
        ];
        let sorted = versions(tags.iter().map(|t| t.to_string()).collect());
        assert_eq!(
            sorted,
            ["v0.9.1", "1.2.0-rc.1", "v1.2.0", "v1.10.0", "dev", "latest"]
        );
    }
}
