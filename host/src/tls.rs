//! TLS: the server side (several certificates chosen by SNI, TLS 1.2 and 1.3
//! only, ALPN `h2` and `http/1.1`, client certificates when the listener asks
//! for them) and the client side used to re-encrypt to upstreams (CA bundle
//! or system roots, optional client certificate). `acme` obtains and renews
//! a listener's certificate from an ACME CA instead of files.

pub mod acme;
mod client_auth;
mod client_cert;

pub use client_auth::client_verifier;
pub use client_cert::client_cert;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::ResolvesServerCertUsingSni;
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::CertifiedKey;

use crate::config::Certificate;

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: cannot read certificates: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: invalid PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate found", path.display()));
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("{}: cannot read a private key: {e}", path.display()))
}

/// The certificates of one TLS listener, chosen by SNI. The first
/// certificate is the default for clients that send no (or an unknown) SNI
/// name; the others answer the names they list (or, when they list none,
/// the names in the certificate itself).
pub fn cert_resolver(
    certificates: &[Certificate],
    resolve: impl Fn(&Path) -> std::path::PathBuf,
) -> Result<Arc<dyn rustls::server::ResolvesServerCert>, String> {
    let provider = ring::default_provider();
    let mut sni = ResolvesServerCertUsingSni::new();
    let mut default = None;
    for (i, c) in certificates.iter().enumerate() {
        let chain = load_certs(&resolve(&c.cert))?;
        let key = load_key(&resolve(&c.key))?;
        let signing_key = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("{}: unusable private key: {e}", c.key.display()))?;
        let certified = Arc::new(CertifiedKey::new(chain, signing_key));
        certified.keys_match().map_err(|e| {
            format!(
                "{} and {} do not belong together: {e}",
                c.cert.display(),
                c.key.display()
            )
        })?;
        let names = if c.server_names.is_empty() {
            names_in(&certified)
        } else {
            c.server_names.clone()
        };
        for name in names {
            sni.add(&name, (*certified).clone())
                .map_err(|e| format!("{}: cannot serve `{name}`: {e}", c.cert.display()))?;
        }
        if i == 0 {
            default = Some(certified);
        }
    }
    Ok(Arc::new(DefaultingResolver { sni, default }))
}

/// The server configuration of one TLS listener: its certificates (see
/// [`cert_resolver`]) and how it verifies clients (see [`client_verifier`]).
pub fn server_config(
    certificates: Arc<dyn rustls::server::ResolvesServerCert>,
    clients: Arc<dyn ClientCertVerifier>,
) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(VERSIONS)
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_client_cert_verifier(clients)
        .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The server's cipher-suite order (strongest first) wins over the client's.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// SNI names from the certificate's subjectAltName DNS entries.
fn names_in(certified: &CertifiedKey) -> Vec<String> {
    let Some(end_entity) = certified.end_entity_cert().ok() else {
        return Vec::new();
    };
    let Ok(cert) = webpki::EndEntityCert::try_from(end_entity) else {
        return Vec::new();
    };
    cert.valid_dns_names()
        .map(str::to_string)
        .filter(|n| !n.contains('*'))
        .collect()
}

#[derive(Debug)]
struct DefaultingResolver {
    sni: ResolvesServerCertUsingSni,
    default: Option<Arc<CertifiedKey>>,
}

impl rustls::server::ResolvesServerCert for DefaultingResolver {
    fn resolve(&self, hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let named = hello.server_name().is_some();
        named
            .then(|| self.sni.resolve(hello))
            .flatten()
            .or_else(|| self.default.clone())
    }
}

pub fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    roots
}

pub fn client_config_with_roots(
    roots: rustls::RootCertStore,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<rustls::ClientConfig, String> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_protocol_versions(VERSIONS)
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots);
    let config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("unusable client certificate: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}
