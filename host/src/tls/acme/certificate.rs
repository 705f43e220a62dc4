//! The certificates an ACME listener can serve, as rustls keys with the
//! facts the renewal task needs: one issued by the CA (read from PEM), the
//! self-signed stand-in served until the first one arrives, and the
//! TLS-ALPN-01 challenge certificate (RFC 8737) for one domain.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, CustomExtension, DistinguishedName, KeyPair};
use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use x509_parser::extensions::GeneralName;

/// A certificate ready to serve, and what it says about itself.
#[derive(Debug, Clone)]
pub struct Served {
    pub key: Arc<CertifiedKey>,
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    /// The DNS names of its subjectAltName.
    pub names: Vec<String>,
    /// Hex, for logs and tests.
    pub serial: String,
}

impl Served {
    /// Parses a PEM chain (leaf first) and its PEM private key.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Served, String> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(chain_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("invalid PEM certificate: {e}"))?;
        let leaf = chain.first().ok_or("no certificate in the chain")?.clone();
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("invalid PEM private key: {e}"))?;
        let signing_key = ring::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| format!("unusable private key: {e}"))?;
        let certified = CertifiedKey::new(chain, signing_key);
        certified
            .keys_match()
            .map_err(|e| format!("the key does not belong to the certificate: {e}"))?;
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf)
            .map_err(|e| format!("unreadable certificate: {e}"))?;
        let time = |t: x509_parser::time::ASN1Time| {
            UNIX_EPOCH + Duration::from_secs(u64::try_from(t.timestamp()).unwrap_or(0))
        };
        let names = parsed
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|n| match n {
                        GeneralName::DNSName(name) => Some(name.to_ascii_lowercase()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Served {
            key: Arc::new(certified),
            not_before: time(parsed.validity().not_before),
            not_after: time(parsed.validity().not_after),
            names,
            serial: parsed.raw_serial_as_string(),
        })
    }

    /// A self-signed certificate for `domains`, served (and flagged) while
    /// no CA-issued one exists yet, so the listener answers at all.
    pub fn self_signed(domains: &[String]) -> Result<Served, String> {
        let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
        let mut params = CertificateParams::new(domains.to_vec())
            .map_err(|e| format!("cannot make a fallback certificate: {e}"))?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "Ravelin ACME fallback (not trusted)",
        );
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("cannot make a fallback certificate: {e}"))?;
        Served::from_pem(&cert.pem(), &key.serialize_pem())
    }

    /// Whether it is for exactly these names and still valid at `now`.
    pub fn usable_for(&self, domains: &[String], now: SystemTime) -> Result<(), String> {
        let mut wanted: Vec<String> = domains.iter().map(|d| d.to_ascii_lowercase()).collect();
        let mut have = self.names.clone();
        wanted.sort();
        have.sort();
        if wanted != have {
            return Err(format!("it is for {have:?}, the listener wants {wanted:?}"));
        }
        if self.not_after <= now {
            return Err("it has expired".into());
        }
        Ok(())
    }

    /// Its validity period.
    pub fn lifetime(&self) -> Duration {
        self.not_after
            .duration_since(self.not_before)
            .unwrap_or_default()
    }
}

/// The TLS-ALPN-01 answer for `domain`: a self-signed certificate with the
/// critical acmeIdentifier extension holding `digest` (the SHA-256 of the
/// key authorization).
pub fn challenge(domain: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, String> {
    let failed =
        |e: rcgen::Error| format!("cannot make the tls-alpn-01 certificate for {domain}: {e}");
    let key = KeyPair::generate().map_err(failed)?;
    let mut params = CertificateParams::new(vec![domain.to_string()]).map_err(failed)?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key).map_err(failed)?;
    let key = PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| format!("cannot load the tls-alpn-01 key: {e}"))?;
    let signing_key = ring::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("cannot load the tls-alpn-01 key: {e}"))?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing_key,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_covers_its_domains_and_is_valid_now() {
        let domains = vec!["example.com".to_string(), "www.example.com".to_string()];
        let served = Served::self_signed(&domains).unwrap();
        served.usable_for(&domains, SystemTime::now()).unwrap();
        let other = served
            .usable_for(&["example.org".to_string()], SystemTime::now())
            .unwrap_err();
        assert!(other.contains("example.org"), "{other}");
        let later = served.not_after + Duration::from_secs(1);
        assert!(
            served
                .usable_for(&domains, later)
                .unwrap_err()
                .contains("expired")
        );
    }

    #[test]
    fn challenge_certificate_carries_the_acme_identifier() {
        let certified = challenge("example.com", &[7; 32]).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&certified.cert[0]).unwrap();
        let acme_identifier = parsed
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .expect("acmeIdentifier extension");
        assert!(acme_identifier.critical);
        assert!(acme_identifier.value.ends_with(&[7; 32]));
    }
}
