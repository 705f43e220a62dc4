//! Re-checking `oci://` tags: every plugin with `refresh` has its tag asked
//! for again on that interval, and a tag that now names another manifest
//! asks for one reload, so the new version goes through the same build,
//! validation and all-or-nothing swap as a changed file. A registry that
//! cannot be reached changes nothing; a new digest whose reload was refused
//! is not retried until the tag moves again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Reloader;
use crate::registry::client::{Options, Registry};

/// How long to wait before looking again when no plugin has `refresh`.
const IDLE: Duration = Duration::from_secs(1);

/// Starts the task; it ends when the reloader is dropped.
pub fn spawn(reloader: &Arc<Reloader>) {
    let weak = Arc::downgrade(reloader);
    tokio::spawn(async move {
        let mut checked: HashMap<String, Instant> = HashMap::new();
        let mut refused: HashMap<String, String> = HashMap::new();
        loop {
            let Some(reloader) = weak.upgrade() else {
                return;
            };
            let wait = match check(&reloader, &mut checked, &mut refused).await {
                Some(wait) => wait,
                None => IDLE,
            };
            drop(reloader);
            tokio::time::sleep(wait).await;
        }
    });
}

/// Checks the tags that are due; returns how long until the next is due
/// (`None`: no plugin refreshes).
async fn check(
    reloader: &Arc<Reloader>,
    checked: &mut HashMap<String, Instant>,
    refused: &mut HashMap<String, String>,
) -> Option<Duration> {
    let snapshot = reloader.proxy.snapshot.load_full();
    let mut next: Option<Duration> = None;
    let mut moved = Vec::new();
    for (name, source) in &snapshot.config.registry {
        let (Some(every), Some(running)) = (source.refresh, snapshot.registry.get(name)) else {
            continue;
        };
        let now = Instant::now();
        let due = checked.get(name).is_none_or(|at| now >= *at + every);
        next = Some(next.map_or(every, |n| n.min(every)));
        if !due {
            continue;
        }
        checked.insert(name.clone(), now);
        let options = Options {
            insecure: source.insecure,
            ..Options::default()
        };
        let manifest = match Registry::connect(&source.reference, &options) {
            Ok(registry) => registry
                .manifest(&source.reference)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        match manifest {
            Ok(m) if m.digest != running.digest && refused.get(name) != Some(&m.digest) => {
                tracing::info!(plugin = %name, from = %running.digest, to = %m.digest, "tag {} moved: reloading", source.reference);
                moved.push((name.clone(), m.digest));
            }
            Ok(_) => {}
            Err(why) => tracing::warn!(plugin = %name, "refresh: the running version stays: {why}"),
        }
    }
    if !moved.is_empty() && reloader.reload().await.is_err() {
        refused.extend(moved);
    }
    next
}
