//! Watching what a snapshot was built from: the config file and the source
//! file of every plugin the running snapshot names. A change to any of them
//! asks for one reload, so a new plugin version goes through the same build
//! and the same all-or-nothing swap as a config change.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::Reloader;
use crate::snapshot::Snapshot;

/// How long to let a burst of writes settle into one reload.
const SETTLE: Duration = Duration::from_millis(100);

/// The notify watcher and the directories it watches.
pub struct SourceWatch {
    config: PathBuf,
    watcher: Mutex<notify::RecommendedWatcher>,
    dirs: Mutex<HashSet<PathBuf>>,
}

/// `path` with its directory made absolute and canonical (the file itself
/// may be replaced by rename, so only its directory is resolved).
fn canonical(path: &Path) -> Option<PathBuf> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(dir.canonicalize().ok()?.join(path.file_name()?))
}

/// The files a snapshot depends on, canonical: the config file and the
/// snapshot's plugin sources (resolved against the config's directory when
/// the config was validated).
fn inputs(config: &Path, snapshot: &Snapshot) -> HashSet<PathBuf> {
    std::iter::once(config)
        .chain(snapshot.plugins.sources())
        .filter_map(canonical)
        .collect()
}

impl SourceWatch {
    /// Starts the watcher and the task that reloads on its events.
    pub fn start(reloader: Arc<Reloader>) -> Result<Self, String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let weak = Arc::downgrade(&reloader);
        let config_path = reloader.path.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if !matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_)) {
                return;
            }
            let Some(reloader) = weak.upgrade() else {
                return;
            };
            let inputs = inputs(&reloader.path, &reloader.proxy.snapshot.load());
            if event
                .paths
                .iter()
                .filter_map(|p| canonical(p))
                .any(|p| inputs.contains(&p))
            {
                let _ = tx.send(());
            }
        })
        .map_err(|e| format!("cannot watch the config and plugin files: {e}"))?;
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                while rx.try_recv().is_ok() {}
                let _ = reloader.reload().await;
            }
        });
        Ok(SourceWatch {
            config: config_path,
            watcher: Mutex::new(watcher),
            dirs: Mutex::default(),
        })
    }

    /// Watches the directories of `snapshot`'s inputs not watched yet
    /// (directories, not files: editors and deploy tools replace files by
    /// rename).
    pub fn follow(&self, snapshot: &Snapshot) {
        let mut dirs = self.dirs.lock().unwrap_or_else(|p| p.into_inner());
        let mut watcher = self.watcher.lock().unwrap_or_else(|p| p.into_inner());
        let wanted = inputs(&self.config, snapshot);
        for dir in wanted.iter().filter_map(|p| p.parent()) {
            if dirs.contains(dir) {
                continue;
            }
            match watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    dirs.insert(dir.to_path_buf());
                }
                Err(e) => tracing::warn!(dir = %dir.display(), "cannot watch for changes: {e}"),
            }
        }
    }
}
