//! Test certificates, made with rcgen for each test: a CA, server
//! certificates for given names, and client certificates for mTLS (with
//! every kind of subjectAltName).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    pub ca_pem: String,
}

/// A certificate and key written as PEM files.
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    pub fn new() -> Self {
        Self::named("Ravelin test CA")
    }

    /// A CA whose subject is `CN=<name>`. CAs of one name are told apart by
    /// their keys alone: a certificate from another CA of the same name
    /// fails on its signature, not as from an unknown issuer.
    pub fn named(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            ca_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate for `names` (DNS names or IPs), signed by the CA.
    pub fn issue(&self, names: &[&str], dir: &Path, stem: &str) -> Identity {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, stem);
        self.sign(params, dir, stem)
    }

    /// A client certificate (extended key usage `clientAuth`) with subject
    /// `CN=<common_name>` and the subjectAltNames `sans`, signed by the CA.
    pub fn issue_client(
        &self,
        common_name: &str,
        sans: Vec<SanType>,
        dir: &Path,
        stem: &str,
    ) -> Identity {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params, dir, stem)
    }

    /// Signs `params` with a new key; writes `<stem>.pem` and `<stem>.key`.
    fn sign(&self, params: CertificateParams, dir: &Path, stem: &str) -> Identity {
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        let identity = Identity {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        std::fs::write(&identity.cert, &identity.cert_pem).expect("write cert");
        std::fs::write(&identity.key, &identity.key_pem).expect("write key");
        identity
    }

    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, &self.ca_pem).expect("write CA");
        path
    }

    /// Roots that trust only this CA.
    pub fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.ca_pem.as_bytes()) {
            roots.add(cert.expect("CA PEM")).expect("CA root");
        }
        roots
    }
}

impl Identity {
    /// The certificate chain and key, for a rustls client or server.
    pub fn rustls(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).expect("key PEM");
        (chain, key)
    }

    /// The leaf certificate's DER.
    pub fn der(&self) -> Vec<u8> {
        self.rustls().0.remove(0).to_vec()
    }
}
