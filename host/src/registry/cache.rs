//! The local content-addressed store of pulled plugins, under
//! `<server.plugin_cache_dir>/oci`: `blobs/<hex>.wasm` (component layers),
//! `manifests/<hex>.json` (manifests, by their own digest) and
//! `tags/<registry>/<repository>/<tag>` (the manifest digest a tag last
//! resolved to), `signatures/<hex>.json` (a manifest's verified signature
//! artifact, so signatures are checked offline too). Everything read back is checked against its digest, so a
//! corrupted file is a miss, never a wrong plugin.

use std::path::{Path, PathBuf};

use super::client::Manifest;
use super::reference::{OciRef, Version};
use super::sha256_digest;

pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache beside the compiled-plugin cache in `plugin_cache_dir`.
    pub fn new(plugin_cache_dir: &Path) -> Self {
        Cache {
            root: plugin_cache_dir.join("oci"),
        }
    }

    /// Where the layer with `digest` is (or would be) stored.
    pub fn layer_path(&self, digest: &str) -> PathBuf {
        self.root
            .join("blobs")
            .join(format!("{}.wasm", hex(digest)))
    }

    /// The stored layer with `digest`, if present and intact.
    pub fn layer(&self, digest: &str) -> Option<PathBuf> {
        let path = self.layer_path(digest);
        let bytes = std::fs::read(&path).ok()?;
        (sha256_digest(&bytes) == digest).then_some(path)
    }

    /// The stored manifest with `digest`, if present and intact.
    pub fn manifest(&self, reference: &OciRef, digest: &str) -> Option<Manifest> {
        let path = self
            .root
            .join("manifests")
            .join(format!("{}.json", hex(digest)));
        let raw = std::fs::read(path).ok()?;
        if sha256_digest(&raw) != digest {
            return None;
        }
        Manifest::parse(raw, reference).ok()
    }

    /// The signature artifact of manifest `digest` as last verified.
    pub fn signatures(&self, digest: &str) -> Option<Vec<u8>> {
        std::fs::read(
            self.root
                .join("signatures")
                .join(format!("{}.json", hex(digest))),
        )
        .ok()
    }

    /// Keeps a verified signature artifact of manifest `digest`.
    pub fn store_signatures(&self, digest: &str, raw: &[u8]) -> Result<(), String> {
        write_atomic(
            &self
                .root
                .join("signatures")
                .join(format!("{}.json", hex(digest))),
            raw,
        )
    }

    /// The manifest digest `reference`'s tag resolved to last.
    pub fn last_resolved(&self, reference: &OciRef) -> Option<String> {
        let text = std::fs::read_to_string(self.tag_path(reference)?).ok()?;
        super::reference::parse_digest(text.trim()).ok()
    }

    /// Stores a verified manifest and its layer, and records what a tag
    /// resolved to; returns the layer's path.
    pub fn store(
        &self,
        reference: &OciRef,
        manifest: &Manifest,
        layer: Option<&[u8]>,
    ) -> Result<PathBuf, String> {
        let path = self.layer_path(&manifest.layer().digest);
        if let Some(layer) = layer {
            write_atomic(&path, layer)?;
        }
        let manifest_path = self
            .root
            .join("manifests")
            .join(format!("{}.json", hex(&manifest.digest)));
        write_atomic(&manifest_path, &manifest.raw)?;
        if let Some(tag_path) = self.tag_path(reference) {
            write_atomic(&tag_path, manifest.digest.as_bytes())?;
        }
        Ok(path)
    }

    fn tag_path(&self, reference: &OciRef) -> Option<PathBuf> {
        let Version::Tag(tag) = &reference.version else {
            return None;
        };
        let registry = reference.registry.replace(':', "_");
        Some(
            self.root
                .join("tags")
                .join(registry)
                .join(&reference.repository)
                .join(tag),
        )
    }
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into
/// place, so a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| format!("cannot write the plugin cache {}: {e}", path.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id()
    ));
    std::fs::write(&temporary, bytes).map_err(fail)?;
    std::fs::rename(&temporary, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layer: &[u8]) -> (OciRef, Manifest) {
        let reference = OciRef::parse("127.0.0.1:5000/waf:v1").unwrap();
        let raw = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": sha256_digest(b"{}"), "size": 2},
            "layers": [{"mediaType": "application/wasm", "digest": sha256_digest(layer), "size": layer.len()}],
        });
        let manifest = Manifest::parse(serde_json::to_vec(&raw).unwrap(), &reference).unwrap();
        (reference, manifest)
    }

    #[test]
    fn stores_and_reads_back_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let (reference, manifest) = manifest(b"\0asm component");
        let path = cache
            .store(&reference, &manifest, Some(b"\0asm component"))
            .unwrap();
        assert_eq!(cache.layer(&manifest.layer().digest), Some(path));
        assert_eq!(
            cache.last_resolved(&reference),
            Some(manifest.digest.clone())
        );
        let read = cache.manifest(&reference, &manifest.digest).unwrap();
        assert_eq!(read.raw, manifest.raw);
    }

    #[test]
    fn a_corrupted_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let (reference, manifest) = manifest(b"\0asm component");
        let path = cache
            .store(&reference, &manifest, Some(b"\0asm component"))
            .unwrap();
        std::fs::write(&path, b"\0asm c0mponent").unwrap();
        assert_eq!(cache.layer(&manifest.layer().digest), None);
        let pinned = reference.at(Version::Digest(manifest.digest.clone()));
        assert_eq!(cache.last_resolved(&pinned), None);
    }
}
