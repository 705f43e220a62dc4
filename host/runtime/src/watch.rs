//! Watching plugin source files: when one changes, its plugin reloads
//! (compiled and configured off the request path, swapped in if sound).

use crate::PluginError;
use crate::runtime::{Inner, Runtime};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long to let a writer finish before reading a changed file.
const SETTLE: Duration = Duration::from_millis(100);

/// The notify watcher and the directories it watches.
pub(crate) struct SourceWatcher {
    watcher: notify::RecommendedWatcher,
    dirs: HashSet<PathBuf>,
}

/// `path` with its directory made absolute and canonical (the file itself
/// may be replaced, so only its directory is resolved).
fn canonical(path: &Path) -> Option<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(dir.canonicalize().ok()?.join(path.file_name()?))
}

fn on_event(
    inner: &Weak<Inner>,
    tokio: &tokio::runtime::Handle,
    event: notify::Result<notify::Event>,
) {
    let Ok(event) = event else { return };
    if !matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_)) {
        return;
    }
    let Some(inner) = inner.upgrade() else { return };
    let changed: HashSet<PathBuf> = event.paths.iter().filter_map(|p| canonical(p)).collect();
    let plugins = inner.plugins.read().unwrap_or_else(|p| p.into_inner());
    for handle in plugins.values() {
        if canonical(&handle.spec().source).is_some_and(|s| changed.contains(&s)) {
            let handle = handle.clone();
            tokio.spawn(async move {
                tokio::time::sleep(SETTLE).await;
                if let Ok(crate::ReloadOutcome::Swapped(digest)) = handle.reload().await {
                    tracing::info!(plugin = handle.name(), %digest, "plugin reloaded after its source changed");
                }
            });
        }
    }
}

impl Runtime {
    /// Starts watching every plugin's source file (and those loaded later):
    /// a changed file reloads its plugin. Must be called inside a tokio
    /// runtime, which runs the reloads.
    pub fn watch(&self) -> Result<(), PluginError> {
        let fail = |reason: String| PluginError::Spec {
            plugin: "(watcher)".into(),
            reason,
        };
        let tokio = tokio::runtime::Handle::try_current().map_err(|e| fail(e.to_string()))?;
        let weak = Arc::downgrade(&self.inner);
        let watcher = notify::recommended_watcher(move |event| on_event(&weak, &tokio, event))
            .map_err(|e| fail(format!("cannot watch plugin sources: {e}")))?;
        *self.inner.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(SourceWatcher {
            watcher,
            dirs: HashSet::new(),
        });
        self.rewatch();
        Ok(())
    }

    /// Adds the directories of newly loaded plugins to the watch.
    pub(crate) fn rewatch(&self) {
        let mut guard = self.inner.watcher.lock().unwrap_or_else(|p| p.into_inner());
        let Some(watch) = guard.as_mut() else { return };
        let plugins = self.inner.plugins.read().unwrap_or_else(|p| p.into_inner());
        for handle in plugins.values() {
            let Some(dir) =
                canonical(&handle.spec().source).and_then(|p| p.parent().map(Path::to_path_buf))
            else {
                continue;
            };
            if !watch.dirs.contains(&dir) {
                match watch.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        watch.dirs.insert(dir);
                    }
                    Err(e) => {
                        tracing::warn!(dir = %dir.display(), "cannot watch plugin directory: {e}")
                    }
                }
            }
        }
    }
}
