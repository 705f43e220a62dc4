//! What a request is counted under: the key built from the configured
//! source (client IP, its network, a header, an attribute, the route), and
//! the route when limits are per route.

use crate::settings::{KeySource, MissingKey, Settings};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The facts of a request a key is made from (the SDK's request, or a
/// stand-in in tests).
pub trait Facts {
    fn client_addr(&self) -> Option<String>;
    fn header(&self, name: &str) -> Option<Vec<u8>>;
    fn attribute(&self, name: &str) -> Option<String>;
    fn route(&self) -> String;
}

/// The longest value kept in a key, bytes: a longer header counts under its
/// first 256 bytes.
const MAX_VALUE: usize = 256;

/// The client IP, an IPv4-mapped IPv6 address as IPv4.
fn client_ip(facts: &impl Facts) -> Option<IpAddr> {
    let addr = facts.client_addr()?;
    let ip = addr
        .parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| addr.parse::<IpAddr>())
        .ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// `ip` with the bits past its family's prefix cleared, as `net/prefix`.
fn network(ip: IpAddr, v4: u8, v6: u8) -> String {
    match ip {
        IpAddr::V4(a) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(v4)).unwrap_or(0);
            format!("{}/{v4}", Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(v6)).unwrap_or(0);
            format!("{}/{v6}", Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

/// `value` as text, cut to [`MAX_VALUE`] bytes.
fn bounded(value: &[u8]) -> String {
    String::from_utf8_lossy(&value[..value.len().min(MAX_VALUE)]).into_owned()
}

/// The key part from the configured source; `None` when it is absent.
fn source_part(source: &KeySource, facts: &impl Facts) -> Option<String> {
    match source {
        KeySource::Ip => client_ip(facts).map(|ip| format!("ip:{ip}")),
        KeySource::IpPrefix { v4, v6 } => {
            client_ip(facts).map(|ip| format!("net:{}", network(ip, *v4, *v6)))
        }
        KeySource::Header(name) => facts.header(name).map(|v| format!("h:{}", bounded(&v))),
        KeySource::Attribute(name) => facts
            .attribute(name)
            .map(|v| format!("a:{}", bounded(v.as_bytes()))),
        KeySource::Route => Some("route".into()),
    }
}

/// The key for this request, or `None` when it is not to be limited.
pub fn key(settings: &Settings, facts: &impl Facts) -> Option<String> {
    let part = match source_part(&settings.key, facts) {
        Some(part) => part,
        None => match settings.missing_key {
            MissingKey::Shared => "missing".into(),
            MissingKey::Ip => {
                source_part(&KeySource::Ip, facts).unwrap_or_else(|| "missing".into())
            }
            MissingKey::Skip => return None,
        },
    };
    let scope = if settings.per_route {
        facts.route()
    } else {
        "*".into()
    };
    Some(format!("{scope}|{part}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FileSettings;

    #[derive(Default)]
    struct Fake {
        addr: Option<&'static str>,
        header: Option<&'static [u8]>,
        attribute: Option<&'static str>,
    }

    impl Facts for Fake {
        fn client_addr(&self) -> Option<String> {
            self.addr.map(String::from)
        }
        fn header(&self, _name: &str) -> Option<Vec<u8>> {
            self.header.map(<[u8]>::to_vec)
        }
        fn attribute(&self, _name: &str) -> Option<String> {
            self.attribute.map(String::from)
        }
        fn route(&self) -> String {
            "api".into()
        }
    }

    fn settings(extra: &str) -> Settings {
        let json = format!(r#"{{"limits": [{{"rate": 1, "per": 1}}] {extra}}}"#);
        serde_json::from_str::<FileSettings>(&json)
            .unwrap()
            .validate()
            .unwrap()
    }

    #[test]
    fn ip_keys_are_per_route_and_canonical() {
        let s = settings("");
        let v4 = Fake {
            addr: Some("192.0.2.7:5555"),
            ..Fake::default()
        };
        assert_eq!(key(&s, &v4).as_deref(), Some("api|ip:192.0.2.7"));
        let mapped = Fake {
            addr: Some("[::ffff:192.0.2.7]:1"),
            ..Fake::default()
        };
        assert_eq!(key(&s, &mapped).as_deref(), Some("api|ip:192.0.2.7"));
        let global = settings(r#", "per_route": false"#);
        assert_eq!(key(&global, &v4).as_deref(), Some("*|ip:192.0.2.7"));
    }

    #[test]
    fn prefixes_group_a_network() {
        let s = settings(r#", "key": {"ip_prefix": {"v4": 24, "v6": 48}}"#);
        let a = Fake {
            addr: Some("192.0.2.7:1"),
            ..Fake::default()
        };
        let b = Fake {
            addr: Some("192.0.2.200:2"),
            ..Fake::default()
        };
        assert_eq!(key(&s, &a), key(&s, &b));
        assert_eq!(key(&s, &a).as_deref(), Some("api|net:192.0.2.0/24"));
        let v6 = Fake {
            addr: Some("[2001:db8:1:2::9]:1"),
            ..Fake::default()
        };
        assert_eq!(key(&s, &v6).as_deref(), Some("api|net:2001:db8:1::/48"));
        let zero = settings(r#", "key": {"ip_prefix": {"v4": 0, "v6": 0}}"#);
        assert_eq!(key(&zero, &a).as_deref(), Some("api|net:0.0.0.0/0"));
    }

    #[test]
    fn headers_and_attributes_key_with_a_fallback_when_absent() {
        let by_header = settings(r#", "key": {"header": "x-api-key"}"#);
        let with = Fake {
            header: Some(b"k1"),
            addr: Some("127.0.0.1:1"),
            ..Fake::default()
        };
        assert_eq!(key(&by_header, &with).as_deref(), Some("api|h:k1"));
        let without = Fake {
            addr: Some("127.0.0.1:1"),
            ..Fake::default()
        };
        assert_eq!(key(&by_header, &without).as_deref(), Some("api|missing"));
        let fallback = settings(r#", "key": {"attribute": "user"}, "missing_key": "ip""#);
        assert_eq!(
            key(&fallback, &without).as_deref(),
            Some("api|ip:127.0.0.1")
        );
        let user = Fake {
            attribute: Some("alice"),
            ..Fake::default()
        };
        assert_eq!(key(&fallback, &user).as_deref(), Some("api|a:alice"));
        let skip = settings(r#", "key": {"attribute": "user"}, "missing_key": "skip""#);
        assert_eq!(key(&skip, &without), None);
    }

    #[test]
    fn long_values_are_cut() {
        static LONG: [u8; 1000] = [b'x'; 1000];
        let s = settings(r#", "key": {"header": "x"}"#);
        let long = Fake {
            header: Some(&LONG),
            ..Fake::default()
        };
        assert_eq!(key(&s, &long).map(|k| k.len()), Some("api|h:".len() + 256));
        let route = settings(r#", "key": "route""#);
        assert_eq!(key(&route, &Fake::default()).as_deref(), Some("api|route"));
    }
}
