//! Client certificates on a listener (mutual TLS): the verifier built from
//! the listener's `client_auth`, trusting only the CAs of its PEM bundle.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::crypto::ring;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::load_certs;
use crate::config::{ClientAuth, ClientAuthMode};

/// How a listener verifies clients: not at all without `auth`; else a
/// certificate chained to one of the CAs in `auth.ca` (read now), required
/// or optional as `auth.mode` says. A certificate a client sends is always
/// verified: a bad one fails the handshake in either mode.
pub fn client_verifier(
    auth: Option<&ClientAuth>,
    resolve: impl Fn(&Path) -> PathBuf,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let Some(auth) = auth else {
        return Ok(WebPkiClientVerifier::no_client_auth());
    };
    let path = resolve(&auth.ca);
    let mut roots = RootCertStore::empty();
    for (i, cert) in load_certs(&path)?.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            format!(
                "{}: certificate #{} cannot be a trusted CA: {e}",
                path.display(),
                i + 1
            )
        })?;
    }
    let provider = Arc::new(ring::default_provider());
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match auth.mode {
        ClientAuthMode::Required => builder,
        ClientAuthMode::Optional => builder.allow_unauthenticated(),
    };
    builder
        .build()
        .map_err(|e| format!("{}: unusable CA bundle: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(ca: &Path) -> ClientAuth {
        ClientAuth {
            ca: ca.to_path_buf(),
            mode: ClientAuthMode::Required,
        }
    }

    fn error(ca: &Path) -> String {
        match client_verifier(Some(&auth(ca)), Path::to_path_buf) {
            Ok(_) => panic!("{} was accepted", ca.display()),
            Err(e) => e,
        }
    }

    #[test]
    fn a_missing_ca_bundle_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("clients-ca.pem");
        let message = error(&ca);
        assert!(
            message.starts_with(&format!("{}: ", ca.display())),
            "{message}"
        );
        assert!(message.contains("cannot read certificates"), "{message}");
    }

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("empty.pem");
        std::fs::write(&ca, "not a certificate\n").unwrap();
        assert_eq!(
            error(&ca),
            format!("{}: no certificate found", ca.display())
        );
    }

    #[test]
    fn a_ca_bundle_asks_clients_for_a_certificate_as_the_mode_says() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        std::fs::write(&ca, params.self_signed(&key).unwrap().pem()).unwrap();
        let required = client_verifier(Some(&auth(&ca)), Path::to_path_buf).unwrap();
        assert!(required.offer_client_auth() && required.client_auth_mandatory());
        let optional = ClientAuth {
            mode: ClientAuthMode::Optional,
            ..auth(&ca)
        };
        let optional = client_verifier(Some(&optional), Path::to_path_buf).unwrap();
        assert!(optional.offer_client_auth() && !optional.client_auth_mandatory());
        let none = client_verifier(None, Path::to_path_buf).unwrap();
        assert!(!none.offer_client_auth());
    }
}
