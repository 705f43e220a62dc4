//! CIDR blocks (IPv4 and IPv6) and client addresses: parsing what the
//! config and the host give, and testing membership. An IPv4-mapped IPv6
//! address (`::ffff:192.0.2.1`) counts as the IPv4 address it carries.

use std::net::{IpAddr, SocketAddr};

/// A network: an address with its host bits zero and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// `ip` with an IPv4-mapped IPv6 address turned into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client IP from the host's `ip:port` (or a bare IP), canonical.
pub fn client_ip(addr: &str) -> Option<IpAddr> {
    let ip = addr
        .parse::<SocketAddr>()
        .map(|s| s.ip())
        .or_else(|_| addr.parse::<IpAddr>())
        .ok()?;
    Some(canonical(ip))
}

/// The address as a number and its width in bits.
fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

/// The mask keeping the top `prefix` of `width` bits.
fn mask(prefix: u8, width: u8) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    match prefix {
        0 => 0,
        p => all & !((1u128 << (width - p)) - 1),
    }
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address; refuses
    /// host bits past the prefix (`10.0.0.1/8` is a mistake more often than
    /// not), saying what was probably meant.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let ip = canonical(
            addr.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("{text:?} is not an IP address or CIDR"))?,
        );
        let mapped_v4 = matches!(ip, IpAddr::V4(_)) && addr.contains(':');
        let (value, width) = bits(ip);
        let prefix = match prefix {
            None => width,
            Some(p) => {
                let p: u8 = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("{text:?}: bad prefix length"))?;
                // `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
                let p = if mapped_v4 {
                    p.checked_sub(96).unwrap_or(u8::MAX)
                } else {
                    p
                };
                if p > width {
                    return Err(format!("{text:?}: prefix longer than the address"));
                }
                p
            }
        };
        if value & !mask(prefix, width) != 0 {
            let network = Cidr::truncate(ip, prefix);
            return Err(format!(
                "{text:?} has host bits set; did you mean {network}/{prefix}?"
            ));
        }
        Ok(Cidr {
            network: ip,
            prefix,
        })
    }

    /// `ip` with every bit past `prefix` cleared.
    pub fn truncate(ip: IpAddr, prefix: u8) -> IpAddr {
        let (value, width) = bits(ip);
        let kept = value & mask(prefix.min(width), width);
        match ip {
            IpAddr::V4(_) => IpAddr::V4((kept as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(kept.into()),
        }
    }

    /// Whether `ip` (canonical) is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (value, width) = bits(ip);
        let (network, network_width) = bits(self.network);
        width == network_width && value & mask(self.prefix, width) == network
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        client_ip(s).unwrap()
    }

    #[test]
    fn v4_and_v6_blocks_contain_what_they_should() {
        let v4 = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(v4.contains(ip("192.0.2.0")) && v4.contains(ip("192.0.2.255")));
        assert!(!v4.contains(ip("192.0.3.0")));
        assert!(!v4.contains(ip("2001:db8::1")), "other family");
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("255.255.255.255")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("::1")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
    }

    #[test]
    fn mapped_v6_addresses_count_as_v4() {
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(block.contains(ip("[::ffff:10.1.2.3]:443")));
        assert_eq!(Cidr::parse("::ffff:10.0.0.0/104").unwrap(), block);
    }

    #[test]
    fn client_addresses_come_with_or_without_a_port() {
        assert_eq!(ip("127.0.0.1:8080"), ip("127.0.0.1"));
        assert_eq!(ip("[::1]:0"), ip("::1"));
        assert_eq!(client_ip("nonsense"), None);
    }

    #[test]
    fn bad_blocks_are_refused_with_a_hint() {
        let host_bits = Cidr::parse("10.0.0.1/8").unwrap_err();
        assert!(
            host_bits.contains("did you mean 10.0.0.0/8?"),
            "{host_bits}"
        );
        assert!(
            Cidr::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("prefix longer")
        );
        assert!(
            Cidr::parse("10.0.0.0/x")
                .unwrap_err()
                .contains("bad prefix")
        );
        assert!(
            Cidr::parse("example.com")
                .unwrap_err()
                .contains("not an IP")
        );
        let v6 = Cidr::parse("2001:db8::1/32").unwrap_err();
        assert!(v6.contains("did you mean 2001:db8::/32?"), "{v6}");
    }

    #[test]
    fn truncation_keeps_the_prefix() {
        assert_eq!(Cidr::truncate(ip("192.0.2.77"), 24), ip("192.0.2.0"));
        assert_eq!(
            Cidr::truncate(ip("2001:db8:1:2:3::9"), 48),
            ip("2001:db8:1::")
        );
        assert_eq!(Cidr::truncate(ip("1.2.3.4"), 0), ip("0.0.0.0"));
        assert_eq!(Cidr::truncate(ip("1.2.3.4"), 40), ip("1.2.3.4"));
    }
}
