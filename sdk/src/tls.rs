//! The client's TLS session as a hook sees it: [`TlsInfo`] and, under
//! mutual TLS, the [`ClientCert`] the listener verified, with helpers that
//! pick its subjectAltNames by kind.

use crate::bindings::ravelin::plugin::types as wit;

pub use wit::{ClientCert, TlsInfo};

impl ClientCert {
    /// The subjectAltNames of one kind — `"dns"`, `"ip"`, `"uri"` or
    /// `"email"` — without their prefix, in certificate order.
    pub fn sans_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.sans
            .iter()
            .filter_map(move |san| san.strip_prefix(kind)?.strip_prefix(':'))
    }
    /// The DNS names (`dns:`), such as `alice.example`.
    pub fn dns_names(&self) -> Vec<&str> {
        self.sans_of("dns").collect()
    }
    /// The IP addresses (`ip:`).
    pub fn ip_addrs(&self) -> Vec<std::net::IpAddr> {
        self.sans_of("ip")
            .filter_map(|ip| ip.parse().ok())
            .collect()
    }
    /// The URIs (`uri:`), such as a SPIFFE id `spiffe://example/alice`.
    pub fn uris(&self) -> Vec<&str> {
        self.sans_of("uri").collect()
    }
    /// The email addresses (`email:`).
    pub fn emails(&self) -> Vec<&str> {
        self.sans_of("email").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_picked_by_kind_without_their_prefix() {
        let cert = ClientCert {
            der: Vec::new(),
            subject: "CN=alice".into(),
            sans: [
                "dns:alice.example",
                "ip:192.0.2.7",
                "ip:2001:db8::1",
                "uri:spiffe://example/alice",
                "email:alice@example.com",
                "dns:b.example",
            ]
            .map(String::from)
            .to_vec(),
        };
        assert_eq!(cert.dns_names(), ["alice.example", "b.example"]);
        let ips: Vec<String> = cert.ip_addrs().iter().map(|ip| ip.to_string()).collect();
        assert_eq!(ips, ["192.0.2.7", "2001:db8::1"]);
        assert_eq!(cert.uris(), ["spiffe://example/alice"]);
        assert_eq!(cert.emails(), ["alice@example.com"]);
        assert_eq!(cert.sans_of("dn").count(), 0, "a kind is matched whole");
    }
}
