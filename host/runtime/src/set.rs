//! `PluginSet`: the ready plugin versions one config snapshot names, by
//! plugin name. Immutable: the host builds a new set with
//! [`crate::Runtime::prepare`] and swaps it in together with the rest of its
//! snapshot, or drops it — nothing else decides which version runs.

use crate::chain::Chain;
use crate::version::PluginVersion;
use crate::{PluginError, PluginSpec, PluginStats};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The plugin versions of one config snapshot. Cheap to clone.
#[derive(Clone, Default)]
pub struct PluginSet {
    versions: Arc<BTreeMap<String, Arc<PluginVersion>>>,
}

/// How a set differs from the one it replaces, by plugin name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetChanges {
    /// Plugins the previous set did not have.
    pub added: Vec<String>,
    /// Plugins with a new version (another source digest or spec).
    pub updated: Vec<String>,
    /// Plugins whose version is the previous set's own.
    pub unchanged: Vec<String>,
    /// Plugins the new set no longer has.
    pub removed: Vec<String>,
}

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digests: BTreeMap<_, _> = self
            .versions
            .iter()
            .map(|(name, v)| (name, &v.digest))
            .collect();
        f.debug_struct("PluginSet")
            .field("versions", &digests)
            .finish()
    }
}

impl PluginSet {
    pub(crate) fn new(versions: BTreeMap<String, Arc<PluginVersion>>) -> Self {
        PluginSet {
            versions: Arc::new(versions),
        }
    }

    pub(crate) fn version(&self, name: &str) -> Option<&Arc<PluginVersion>> {
        self.versions.get(name)
    }

    /// A chain of the named plugins, in route order, pinned to this set's
    /// versions. Fails on a name the set does not have.
    pub fn chain<S: AsRef<str>>(&self, names: &[S]) -> Result<Chain, PluginError> {
        let versions = names
            .iter()
            .map(|n| {
                let n = n.as_ref();
                self.versions
                    .get(n)
                    .cloned()
                    .ok_or_else(|| PluginError::Spec {
                        plugin: n.to_string(),
                        reason: "no plugin of that name is declared".into(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Chain::new(versions))
    }

    /// The names in the set, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.versions.keys().map(String::as_str)
    }

    /// The spec of plugin `name`.
    pub fn spec(&self, name: &str) -> Option<&PluginSpec> {
        self.versions.get(name).map(|v| &v.spec)
    }

    /// The digest (hex SHA-256 of the component) of plugin `name`.
    pub fn digest(&self, name: &str) -> Option<&str> {
        self.versions.get(name).map(|v| v.digest.as_str())
    }

    /// Every file the set was built from: sources and secret files (what a
    /// watcher should watch).
    pub fn sources(&self) -> impl Iterator<Item = &Path> {
        self.versions.values().flat_map(|v| {
            let secrets = v.spec.secret_files.iter().map(|(_, p)| p.as_path());
            std::iter::once(v.spec.source.as_path()).chain(secrets)
        })
    }

    /// How this set differs from `previous`.
    pub fn changes(&self, previous: Option<&PluginSet>) -> SetChanges {
        let mut changes = SetChanges::default();
        for (name, version) in self.versions.iter() {
            let list = match previous.and_then(|p| p.version(name)) {
                None => &mut changes.added,
                Some(old) if Arc::ptr_eq(old, version) => &mut changes.unchanged,
                Some(_) => &mut changes.updated,
            };
            list.push(name.clone());
        }
        if let Some(previous) = previous {
            changes.removed = previous
                .names()
                .filter(|n| !self.versions.contains_key(*n))
                .map(str::to_string)
                .collect();
        }
        changes
    }

    /// Tells the logs and metrics that this set has replaced `previous`:
    /// each updated plugin counts a swap. Call it once the set serves.
    pub fn announce(&self, previous: Option<&PluginSet>) {
        let Some(previous) = previous else { return };
        for name in self.changes(Some(previous)).updated {
            if let (Some(new), Some(old)) = (self.version(&name), previous.version(&name)) {
                new.meter.swapped(&new.digest, &old.digest);
            }
        }
    }

    /// Every plugin's stats, sorted by name.
    pub fn stats(&self) -> Vec<PluginStats> {
        self.versions
            .values()
            .map(|version| {
                let (calls, errors, mean_latency, swaps) = version.meter.counters.read();
                PluginStats {
                    name: version.spec.name.clone(),
                    source: version.spec.source.clone(),
                    digest: version.digest.clone(),
                    loaded_at: version.loaded_at,
                    calls,
                    errors,
                    mean_latency,
                    swaps,
                }
            })
            .collect()
    }
}
