//! Answers to the CA's challenges while an order is pending: the
//! certificate resolver of an ACME listener (the served certificate, or the
//! TLS-ALPN-01 challenge certificate when a client offers `acme-tls/1`) and
//! the HTTP-01 key authorizations the plain listeners serve.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The ALPN protocol of TLS-ALPN-01 validation (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The certificates of one ACME listener. Swapping the served one changes
/// only later handshakes: open connections keep their session.
#[derive(Debug, Default)]
pub struct AcmeResolver {
    served: ArcSwapOption<CertifiedKey>,
    /// TLS-ALPN-01 certificates by domain, while an order is pending.
    challenges: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl AcmeResolver {
    pub fn serve(&self, key: Arc<CertifiedKey>) {
        self.served.store(Some(key));
    }

    pub fn add_challenge(&self, domain: &str, key: Arc<CertifiedKey>) {
        self.lock().insert(domain.to_ascii_lowercase(), key);
    }

    pub fn clear_challenges(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CertifiedKey>>> {
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl ResolvesServerCert for AcmeResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let validating = hello
            .alpn()
            .is_some_and(|mut offered| offered.any(|p| p == ACME_TLS_ALPN));
        if validating {
            // Only the challenge certificate answers acme-tls/1, and only
            // for a name with a pending challenge.
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.lock().get(&name).cloned();
        }
        self.served.load_full()
    }
}

/// HTTP-01 key authorizations by token, for every listener's pending order.
#[derive(Debug, Default)]
pub struct Http01Tokens {
    tokens: Mutex<HashMap<String, String>>,
}

impl Http01Tokens {
    pub fn add(&self, token: &str, key_authorization: &str) {
        self.lock()
            .insert(token.to_string(), key_authorization.to_string());
    }

    pub fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    pub fn get(&self, token: &str) -> Option<String> {
        self.lock().get(token).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tokens the plain listeners answer (one set per process: the CA
/// picks the token, so listeners cannot collide).
pub static HTTP01: LazyLock<Http01Tokens> = LazyLock::new(Http01Tokens::default);
