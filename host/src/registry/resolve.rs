//! Turning plugins' `oci://` sources into local files before the runtime
//! loads them. A digest pin already in the cache is used as is (it cannot
//! change); anything else asks the registry, verifies what it gets and
//! stores it. When the registry cannot be reached, a digest pin loads from
//! the cache and a tag falls back to the digest it last resolved to, with a
//! warning; a registry that answers with something wrong is never bypassed.
//! A source that requires signatures is refused unless a trusted key signed
//! the manifest that resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::PluginSource;
use super::cache::Cache;
use super::client::{FetchError, Options, Registry};
use super::reference::Version;
use super::signature::{self, TrustedKey};

/// What a plugin's reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The manifest digest that runs.
    pub digest: String,
    /// The cached component file.
    pub path: PathBuf,
    /// Why the registry was not asked or could not answer, when the cache
    /// stood in for it.
    pub offline: Option<String>,
}

/// Resolves every source in `sources` (by plugin name); the errors are
/// `(plugin, message)`.
pub async fn resolve_plugins(
    sources: &BTreeMap<String, PluginSource>,
    cache_dir: &Path,
) -> Result<BTreeMap<String, Resolved>, Vec<(String, String)>> {
    let cache = Cache::new(cache_dir);
    let mut resolved = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, source) in sources {
        match resolve(source, &cache).await {
            Ok(found) => {
                if let Some(why) = &found.offline {
                    tracing::warn!(plugin = %name, digest = %found.digest, "{why}");
                }
                resolved.insert(name.clone(), found);
            }
            Err(message) => problems.push((name.clone(), message)),
        }
    }
    match problems.is_empty() {
        true => Ok(resolved),
        false => Err(problems),
    }
}

/// Resolves one source to a verified file in `cache`, and checks its
/// signature when the source requires one.
pub async fn resolve(source: &PluginSource, cache: &Cache) -> Result<Resolved, String> {
    let resolved = resolve_unsigned(source, cache).await?;
    if let Some(keys) = &source.signatures {
        let signer = check_signed(source, keys, cache, &resolved.digest).await?;
        tracing::debug!(reference = %source.reference, %signer, "signature verified");
    }
    Ok(resolved)
}

/// Checks that one of `keys` signed manifest `digest`: against the cached
/// signature artifact first (so a signed pin loads offline), then the
/// registry's. Returns the signer's fingerprint.
async fn check_signed(
    source: &PluginSource,
    keys: &[TrustedKey],
    cache: &Cache,
    digest: &str,
) -> Result<String, String> {
    let reference = &source.reference;
    let cached = cache
        .signatures(digest)
        .and_then(|raw| serde_json::from_slice(&raw).ok());
    if let Some(signer) = cached.and_then(|m| signature::verify(&m, digest, keys).ok()) {
        return Ok(signer);
    }
    let refused =
        |why: String| format!("{reference} ({digest}): refused, signatures are required: {why}");
    let options = Options {
        insecure: source.insecure,
        ..Options::default()
    };
    let registry = Registry::connect(reference, &options)?;
    match registry.signatures(reference, digest).await {
        Ok(Some((raw, manifest))) => {
            let signer = signature::verify(&manifest, digest, keys).map_err(refused)?;
            cache.store_signatures(digest, &raw)?;
            Ok(signer)
        }
        Ok(None) => Err(refused(format!(
            "it is not signed (no tag `{}` in the registry)",
            signature::tag(digest)
        ))),
        Err(e) => Err(refused(format!(
            "its signature cannot be checked and none verified is cached: {e}"
        ))),
    }
}

/// Resolves one source to a verified file in `cache`.
async fn resolve_unsigned(source: &PluginSource, cache: &Cache) -> Result<Resolved, String> {
    let reference = &source.reference;
    if let Version::Digest(pinned) = &reference.version
        && let Some(path) = cached(cache, source, pinned)
    {
        return Ok(Resolved {
            digest: pinned.clone(),
            path,
            offline: None,
        });
    }
    let options = Options {
        insecure: source.insecure,
        ..Options::default()
    };
    let registry = Registry::connect(reference, &options)?;
    let manifest = match registry.manifest(reference).await {
        Ok(manifest) => manifest,
        Err(FetchError::Refused(why)) => return Err(why),
        Err(FetchError::Unreachable(why)) => return fallback(cache, source, why),
    };
    let layer = match cache.layer(&manifest.layer().digest) {
        Some(_) => None,
        None => Some(registry.layer(reference, &manifest, None).await?),
    };
    let path = cache.store(reference, &manifest, layer.as_deref())?;
    Ok(Resolved {
        digest: manifest.digest,
        path,
        offline: None,
    })
}

/// The cached layer of the manifest with `digest`, both verified.
fn cached(cache: &Cache, source: &PluginSource, digest: &str) -> Option<PathBuf> {
    let manifest = cache.manifest(&source.reference, digest)?;
    cache.layer(&manifest.layer().digest)
}

/// The cache standing in for an unreachable registry.
fn fallback(cache: &Cache, source: &PluginSource, why: String) -> Result<Resolved, String> {
    let reference = &source.reference;
    let digest = match &reference.version {
        Version::Digest(pinned) => pinned.clone(),
        Version::Tag(tag) => cache.last_resolved(reference).ok_or_else(|| {
            format!("{why}; tag `{tag}` was never resolved on this machine, so no cached copy can stand in")
        })?,
    };
    let path = cached(cache, source, &digest).ok_or_else(|| {
        format!("{why}; {digest} is not in the plugin cache (or is damaged there)")
    })?;
    let offline = match &reference.version {
        Version::Tag(tag) => format!(
            "registry unreachable, tag `{tag}` of {reference} runs the digest it last resolved to ({why})"
        ),
        Version::Digest(_) => {
            format!("registry unreachable, {reference} loads from the cache ({why})")
        }
    };
    Ok(Resolved {
        digest,
        path,
        offline: Some(offline),
    })
}
