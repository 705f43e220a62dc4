//! Hot reload: on a change to the config file (notify) or on request (SIGHUP,
//! the admin API), parse → validate → build a new snapshot → swap it in
//! atomically. Requests in flight finish on the snapshot they loaded; an
//! invalid file leaves the running config in place and logs why, by line.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::Watcher;
use tokio::sync::mpsc;

use ravelin_runtime::Runtime;

use crate::config::{Config, ConfigError};
use crate::metrics::OutcomeLabel;
use crate::pipeline::Proxy;
use crate::snapshot::Snapshot;

/// Reads and builds a snapshot from the file at `path`.
pub async fn load(
    path: &Path,
    previous: Option<&Snapshot>,
    runtime: &Runtime,
) -> Result<Snapshot, ConfigError> {
    let (config, text) = Config::load(path)?;
    let file = path.display().to_string();
    Snapshot::build(config, previous, &file, runtime)
        .await
        .map_err(|e| e.with_lines(&text))
}

pub struct Reloader {
    path: PathBuf,
    proxy: Arc<Proxy>,
    /// One reload at a time.
    busy: tokio::sync::Mutex<()>,
}

impl Reloader {
    pub fn new(path: PathBuf, proxy: Arc<Proxy>) -> Arc<Self> {
        Arc::new(Self {
            path,
            proxy,
            busy: tokio::sync::Mutex::new(()),
        })
    }

    /// Loads the file again and swaps it in if it is valid.
    pub async fn reload(&self) -> Result<(), ConfigError> {
        let _one_at_a_time = self.busy.lock().await;
        let previous = self.proxy.snapshot.load_full();
        let result = load(&self.path, Some(&previous), &self.proxy.plugins).await;
        let outcome = match result {
            Ok(snapshot) => {
                warn_about_restart_only_changes(&previous, &snapshot);
                self.proxy.snapshot.store(Arc::new(snapshot));
                tracing::info!(file = %self.path.display(), "configuration reloaded");
                Ok(())
            }
            Err(error) => {
                tracing::error!("configuration not reloaded, the running one stays:\n{error}");
                Err(error)
            }
        };
        let label = if outcome.is_ok() {
            "success"
        } else {
            "failure"
        };
        self.proxy
            .metrics
            .reloads
            .get_or_create(&OutcomeLabel {
                outcome: label.into(),
            })
            .inc();
        outcome
    }

    /// Reloads whenever the file changes, until the watcher fails.
    pub fn watch(self: &Arc<Self>) -> Result<(), String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let file_name = self.path.file_name().map(|n| n.to_os_string());
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                let ours = event
                    .paths
                    .iter()
                    .any(|p| p.file_name().map(|n| n.to_os_string()) == file_name);
                if ours && (event.kind.is_modify() || event.kind.is_create()) {
                    let _ = tx.send(());
                }
            })
            .map_err(|e| format!("cannot watch {}: {e}", self.path.display()))?;
        // Watch the directory: editors and config managers replace files by rename.
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        watcher
            .watch(dir, notify::RecursiveMode::NonRecursive)
            .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
        let this = self.clone();
        tokio::spawn(async move {
            let _watcher = watcher;
            while rx.recv().await.is_some() {
                // Let a burst of writes settle into one reload.
                tokio::time::sleep(Duration::from_millis(100)).await;
                while rx.try_recv().is_ok() {}
                let _ = this.reload().await;
            }
        });
        Ok(())
    }

    /// Reloads on SIGHUP.
    pub fn on_sighup(self: &Arc<Self>) -> Result<(), String> {
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| format!("cannot listen for SIGHUP: {e}"))?;
        let this = self.clone();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let _ = this.reload().await;
            }
        });
        Ok(())
    }
}

fn warn_about_restart_only_changes(old: &Snapshot, new: &Snapshot) {
    let addresses = |s: &Snapshot| {
        s.config
            .listeners
            .iter()
            .map(|l| (l.name.clone(), l.addr))
            .collect::<Vec<_>>()
    };
    if addresses(old) != addresses(new) || old.config.admin != new.config.admin {
        tracing::warn!(
            "listener addresses or the admin token changed: they take effect at the next restart"
        );
    }
}
