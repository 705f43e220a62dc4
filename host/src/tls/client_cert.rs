//! What plugins learn of a client's verified certificate: its DER, its
//! subject as text and its subjectAltNames, read once per connection.

use std::net::IpAddr;

use ravelin_runtime::{ClientCert, San};
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The facts of `leaf`, a certificate the listener's verifier accepted. The
/// verifier has parsed it already, so a failure here is unexpected: the
/// DER still reaches plugins, with an empty subject and no names.
pub fn client_cert(leaf: &CertificateDer<'_>) -> ClientCert {
    let (subject, sans) = match X509Certificate::from_der(leaf) {
        Ok((_, cert)) => (cert.subject().to_string(), sans(&cert)),
        Err(e) => {
            tracing::warn!("a verified client certificate could not be read: {e}");
            (String::new(), Vec::new())
        }
    };
    ClientCert {
        der: leaf.to_vec(),
        subject,
        sans,
    }
}

/// The DNS, IP, URI and email subjectAltNames, in certificate order (other
/// kinds are left out).
fn sans(cert: &X509Certificate<'_>) -> Vec<San> {
    let Ok(Some(extension)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    let names = extension.value.general_names.iter();
    names.filter_map(san).collect()
}

fn san(name: &GeneralName<'_>) -> Option<San> {
    match name {
        GeneralName::DNSName(dns) => Some(San::Dns(dns.to_string())),
        GeneralName::URI(uri) => Some(San::Uri(uri.to_string())),
        GeneralName::RFC822Name(email) => Some(San::Email(email.to_string())),
        GeneralName::IPAddress(bytes) => ip(bytes).map(San::Ip),
        _ => None,
    }
}

/// An IPv4 or IPv6 address from its 4 or 16 bytes.
fn ip(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    fn leaf(sans: Vec<SanType>) -> CertificateDer<'static> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "alice");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Example");
        params.subject_alt_names = sans;
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn subject_and_every_kind_of_name_are_read_in_order() {
        let der = leaf(vec![
            SanType::DnsName("alice.example".try_into().unwrap()),
            SanType::IpAddress("192.0.2.7".parse().unwrap()),
            SanType::IpAddress("2001:db8::1".parse().unwrap()),
            SanType::URI("spiffe://example/alice".try_into().unwrap()),
            SanType::Rfc822Name("alice@example.com".try_into().unwrap()),
        ]);
        let cert = client_cert(&der);
        assert_eq!(cert.der, der.to_vec());
        assert_eq!(cert.subject, "CN=alice, O=Example");
        let sans: Vec<String> = cert.sans.iter().map(San::to_string).collect();
        assert_eq!(
            sans,
            [
                "dns:alice.example",
                "ip:192.0.2.7",
                "ip:2001:db8::1",
                "uri:spiffe://example/alice",
                "email:alice@example.com",
            ]
        );
    }

    #[test]
    fn a_certificate_without_names_has_none() {
        let cert = client_cert(&leaf(Vec::new()));
        assert_eq!(cert.subject, "CN=alice, O=Example");
        assert!(cert.sans.is_empty());
    }

    #[test]
    fn bytes_that_are_no_certificate_keep_their_der_and_nothing_else() {
        let cert = client_cert(&CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00]));
        assert_eq!(cert.der, [0x30, 0x03, 0x02, 0x01, 0x00]);
        assert!(cert.subject.is_empty() && cert.sans.is_empty());
    }
}
