//! Hot reload: on a change to the config file or to a plugin's source
//! (`watch`) or to an `oci://` tag (`refresh`), or on request (SIGHUP, the admin API), parse → validate →
//! build a new snapshot (plugin versions included) → swap it in atomically.
//! Requests in flight finish on the snapshot they loaded; an invalid file or
//! a refused plugin leaves the running snapshot in place and logs why.

mod refresh;
mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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
    /// The file watch, once started: it follows each new snapshot's sources.
    watch: OnceLock<watch::SourceWatch>,
}

impl Reloader {
    pub fn new(path: PathBuf, proxy: Arc<Proxy>) -> Arc<Self> {
        Arc::new(Self {
            path,
            proxy,
            busy: tokio::sync::Mutex::new(()),
            watch: OnceLock::new(),
        })
    }

    /// Loads the file again and swaps it in if it is valid.
    pub async fn reload(&self) -> Result<(), ConfigError> {
        let _one_at_a_time = self.busy.lock().await;
        let previous = self.proxy.snapshot.load_full();
        let result = load(&self.path, Some(&previous), &self.proxy.runtime).await;
        let outcome = match result {
            Ok(snapshot) => {
                warn_about_restart_only_changes(&previous, &snapshot);
                let snapshot = Arc::new(snapshot);
                self.proxy.snapshot.store(snapshot.clone());
                snapshot.plugins.announce(Some(&previous.plugins));
                if let Some(watch) = self.watch.get() {
                    watch.follow(&snapshot);
                }
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

    /// Reloads whenever the config file or a plugin source of the running
    /// snapshot changes.
    pub fn watch(self: &Arc<Self>) -> Result<(), String> {
        let watch = watch::SourceWatch::start(self.clone())?;
        watch.follow(&self.proxy.snapshot.load());
        let _ = self.watch.set(watch);
        Ok(())
    }

    /// Reloads when an `oci://` tag with `refresh` names a new version.
    pub fn refresh_tags(self: &Arc<Self>) {
        refresh::spawn(self);
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
