//! Automatic HTTPS: a listener with `[listeners.tls.acme]` serves a
//! certificate from an ACME CA. At start the stored one is loaded (or, with
//! none usable, a flagged self-signed stand-in is served); a background task
//! per listener orders a certificate when needed, renews it ahead of expiry,
//! retries failures with bounded exponential backoff, and swaps each new
//! certificate into the listener's resolver without touching open
//! connections. See docs/acme.md.

mod certificate;
mod challenge;
mod issue;
mod store;

pub use challenge::{ACME_TLS_ALPN, AcmeResolver};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Request, Response, StatusCode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::config::acme::{Acme, Challenge};
use crate::metrics::ListenerLabel;
use crate::snapshot::Snapshot;
use crate::upstream::ProxyBody;
use certificate::Served;
use challenge::HTTP01;
use store::Store;

/// The longest one attempt (account, order, validation, issuance) may
/// take: a CA that stops answering mid-order is retried like one that fails.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(300);

const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// Checks what `ravelin check` can check without a CA: `directory_ca` reads.
pub fn check(
    settings: &Acme,
    resolve: impl Fn(&std::path::Path) -> std::path::PathBuf,
) -> Result<(), String> {
    issue::directory_roots(settings.directory_ca.as_deref().map(resolve).as_deref()).map(drop)
}

/// `/metrics` families of ACME listeners.
#[derive(Clone, Default)]
pub struct AcmeMetrics {
    fallback: Family<ListenerLabel, Gauge>,
    expiry: Family<ListenerLabel, Gauge>,
    renewals: Family<ListenerLabel, Counter>,
    failures: Family<ListenerLabel, Counter>,
}

impl AcmeMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let acme = registry.sub_registry_with_prefix("ravelin_acme");
        acme.register(
            "certificate_fallback",
            "1 while the listener serves a self-signed stand-in (no CA certificate yet)",
            self.fallback.clone(),
        );
        acme.register(
            "certificate_expiry_timestamp_seconds",
            "notAfter of the certificate the listener serves, Unix time",
            self.expiry.clone(),
        );
        acme.register(
            "certificate_renewals",
            "Certificates obtained from the CA",
            self.renewals.clone(),
        );
        acme.register(
            "certificate_renewal_failures",
            "Failed attempts to obtain a certificate",
            self.failures.clone(),
        );
    }
}

/// Installs each ACME listener's first certificate (stored, else the
/// fallback) and starts its renewal task; before the listeners accept.
pub fn start(
    snapshot: &Snapshot,
    metrics: &AcmeMetrics,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let config = &snapshot.config;
    for listener in &config.listeners {
        let Some(settings) = listener.tls.as_ref().and_then(|t| t.acme.clone()) else {
            continue;
        };
        let name = listener.name.clone();
        let store = Store::open(&config.resolve(&settings.state_dir))
            .map_err(|e| format!("listener {name}: {e}"))?;
        let roots = issue::directory_roots(
            settings
                .directory_ca
                .as_ref()
                .map(|p| config.resolve(p))
                .as_deref(),
        )
        .map_err(|e| format!("listener {name}: {e}"))?;
        let Some(resolver) = snapshot.acme.get(&name).cloned() else {
            continue;
        };
        let task = Renewal {
            label: ListenerLabel {
                listener: name.clone(),
            },
            resolver,
            settings,
            store,
            roots,
            metrics: metrics.clone(),
        };
        let current = task.first_certificate()?;
        tokio::spawn(task.run(current, shutdown.clone()));
    }
    Ok(())
}

/// The answer of a plain listener to an HTTP-01 validation request, or
/// `None` for any other request.
/// (Without an http-01 listener in `config`, the path is routed as usual.)
pub fn http01_response<B>(config: &Config, req: &Request<B>) -> Option<Response<ProxyBody>> {
    let http01 = |l: &crate::config::Listener| {
        let acme = l.tls.as_ref().and_then(|t| t.acme.as_ref());
        acme.is_some_and(|a| a.challenge == Challenge::Http01)
    };
    if !config.listeners.iter().any(http01) {
        return None;
    }
    let token = req.uri().path().strip_prefix(CHALLENGE_PREFIX)?;
    let Some(key_authorization) = HTTP01.get(token) else {
        return Some(crate::error::local_response(StatusCode::NOT_FOUND));
    };
    let mut response = Response::new(crate::compress::full(key_authorization));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    Some(response)
}

/// One listener's certificate, from start to shutdown.
struct Renewal {
    label: ListenerLabel,
    resolver: Arc<AcmeResolver>,
    settings: Acme,
    store: Store,
    roots: rustls::RootCertStore,
    metrics: AcmeMetrics,
}

impl Renewal {
    /// Serves the stored certificate if it is usable, else the fallback;
    /// returns the CA-issued one (`None`: order one now).
    fn first_certificate(&self) -> Result<Option<Served>, String> {
        let listener = &self.label.listener;
        let stored = match self.store.certificate() {
            Ok(Some((chain, key))) => Served::from_pem(&chain, &key).and_then(|s| {
                s.usable_for(&self.settings.domains, SystemTime::now())
                    .map(|()| s)
            }),
            Ok(None) => Err("none is stored".into()),
            Err(e) => Err(e),
        };
        match stored {
            Ok(served) => {
                tracing::info!(listener = %listener, serial = %served.serial, "ACME: serving the stored certificate");
                self.install(&served, false);
                Ok(Some(served))
            }
            Err(why) => {
                let fallback = Served::self_signed(&self.settings.domains)
                    .map_err(|e| format!("listener {listener}: {e}"))?;
                tracing::warn!(listener = %listener, "ACME: no usable certificate ({why}): serving a self-signed fallback until the CA issues one");
                self.install(&fallback, true);
                Ok(None)
            }
        }
    }

    fn install(&self, served: &Served, fallback: bool) {
        self.resolver.serve(served.key.clone());
        // The fallback counts as expired: an expiry alert fires on it.
        let expiry = match fallback {
            true => Duration::ZERO,
            false => served
                .not_after
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        };
        self.metrics
            .fallback
            .get_or_create(&self.label)
            .set(i64::from(fallback));
        self.metrics
            .expiry
            .get_or_create(&self.label)
            .set(i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX));
    }

    /// Sleeps until the certificate is due, obtains a new one (retrying
    /// with backoff), and again, until shutdown.
    async fn run(self, mut current: Option<Served>, shutdown: CancellationToken) {
        let listener = self.label.listener.clone();
        let mut account = None;
        loop {
            let wait = current
                .as_ref()
                .map_or(Duration::ZERO, |c| self.until_due(c));
            if wait > Duration::ZERO {
                tracing::info!(listener = %listener, "ACME: next renewal in {}s", wait.as_secs());
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            let mut backoff = self.settings.retry_min;
            loop {
                let attempt = tokio::time::timeout(ATTEMPT_LIMIT, self.obtain(&mut account));
                let outcome = attempt.await.unwrap_or_else(|_| {
                    Err(format!("no answer within {}s", ATTEMPT_LIMIT.as_secs()))
                });
                match outcome {
                    Ok(served) => {
                        tracing::info!(listener = %listener, serial = %served.serial, "ACME: new certificate installed, valid for {}s", served.lifetime().as_secs());
                        self.install(&served, false);
                        self.metrics.renewals.get_or_create(&self.label).inc();
                        current = Some(served);
                        break;
                    }
                    Err(e) => {
                        self.metrics.failures.get_or_create(&self.label).inc();
                        tracing::error!(listener = %listener, "ACME: cannot obtain a certificate from {}: {e}; retrying in {}s", self.settings.directory, backoff.as_secs_f32());
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(self.settings.retry_max);
            }
        }
    }

    /// How long until `served` is due for renewal; at least `retry_min`, so
    /// a `renew_before` longer than the lifetime renews at that pace.
    fn until_due(&self, served: &Served) -> Duration {
        let ahead = self
            .settings
            .renew_before
            .ahead_of_expiry(served.lifetime());
        if ahead >= served.lifetime() {
            tracing::warn!(
                listener = %self.label.listener,
                "ACME: renew_before ({}s) is not shorter than the certificate's lifetime ({}s): renewing every retry_min",
                ahead.as_secs(),
                served.lifetime().as_secs()
            );
        }
        let due = served.not_after.checked_sub(ahead).unwrap_or(UNIX_EPOCH);
        due.duration_since(SystemTime::now())
            .unwrap_or_default()
            .max(self.settings.retry_min)
    }

    /// One attempt: the account (kept once made), an order, the store.
    async fn obtain(&self, account: &mut Option<instant_acme::Account>) -> Result<Served, String> {
        let acme_account = match account {
            Some(a) => a.clone(),
            None => {
                let a = issue::account(&self.settings, &self.store, self.roots.clone()).await?;
                account.insert(a).clone()
            }
        };
        let (chain, key) = issue::issue(&acme_account, &self.settings, &self.resolver).await?;
        let served = Served::from_pem(&chain, &key)?;
        self.store.save_certificate(&chain, &key)?;
        Ok(served)
    }
}
