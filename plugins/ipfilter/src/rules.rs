//! The allow and deny lists, checked at `configure`, and the verdict for a
//! client address: deny wins; then, when there is an allow list, only its
//! addresses pass.

use crate::cidr::Cidr;
use serde::Deserialize;
use std::net::IpAddr;

/// The configuration as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default = "default_body")]
    body: String,
}

fn default_status() -> u16 {
    403
}

fn default_body() -> String {
    "forbidden\n".into()
}

/// The checked lists and the refusal.
#[derive(Debug)]
pub struct Rules {
    allow: Vec<Cidr>,
    deny: Vec<Cidr>,
    /// The status and body a refused request gets.
    pub status: u16,
    pub body: String,
}

fn parse_list(entries: &[String], key: &str) -> Result<Vec<Cidr>, String> {
    let parsed = entries.iter().map(|e| Cidr::parse(e));
    parsed
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ipfilter: {key}: {e}"))
}

impl Settings {
    /// Parses every block; an error names the list and the entry.
    pub fn validate(self) -> Result<Rules, String> {
        if self.allow.is_empty() && self.deny.is_empty() {
            return Err("ipfilter: neither allow nor deny lists a block".into());
        }
        if !(400..=599).contains(&self.status) {
            return Err(format!(
                "ipfilter: status {} is not 400 to 599",
                self.status
            ));
        }
        Ok(Rules {
            allow: parse_list(&self.allow, "allow")?,
            deny: parse_list(&self.deny, "deny")?,
            status: self.status,
            body: self.body,
        })
    }
}

impl Rules {
    /// Whether a request from `ip` (canonical; `None` when the host gave no
    /// usable address) may pass: not in `deny`, and in `allow` if `allow`
    /// lists anything.
    pub fn admits(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else {
            return self.allow.is_empty();
        };
        if self.deny.iter().any(|c| c.contains(ip)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cidr::client_ip;

    fn rules(json: &str) -> Result<Rules, String> {
        serde_json::from_str::<Settings>(json)
            .map_err(|e| e.to_string())?
            .validate()
    }

    fn admits(r: &Rules, addr: &str) -> bool {
        r.admits(client_ip(addr))
    }

    #[test]
    fn deny_wins_over_allow() {
        let r = rules(r#"{"allow": ["10.0.0.0/8", "2001:db8::/32"], "deny": ["10.6.6.0/24", "2001:db8:bad::/48"]}"#)
            .unwrap();
        assert!(admits(&r, "10.1.2.3:1"));
        assert!(!admits(&r, "10.6.6.6:1"), "denied inside the allowed block");
        assert!(!admits(&r, "192.0.2.1:1"), "not allowed");
        assert!(admits(&r, "[2001:db8:1::1]:1"));
        assert!(!admits(&r, "[2001:db8:bad::1]:1"));
        assert!(admits(&r, "[::ffff:10.1.2.3]:1"), "mapped v4");
        assert!(!r.admits(None), "no address with an allow list");
    }

    #[test]
    fn a_deny_list_alone_admits_everyone_else() {
        let r = rules(r#"{"deny": ["127.0.0.1"]}"#).unwrap();
        assert!(!admits(&r, "127.0.0.1:5"));
        assert!(admits(&r, "127.0.0.2:5"));
        assert!(r.admits(None));
        assert_eq!((r.status, r.body.as_str()), (403, "forbidden\n"));
    }

    #[test]
    fn bad_config_is_refused_naming_list_and_entry() {
        let bad = rules(r#"{"deny": ["10.0.0.0/8", "10.0.0.1/8"]}"#).unwrap_err();
        assert!(
            bad.starts_with("ipfilter: deny: \"10.0.0.1/8\" has host bits"),
            "{bad}"
        );
        let allow = rules(r#"{"allow": ["nope"]}"#).unwrap_err();
        assert!(allow.contains("allow: \"nope\""), "{allow}");
        assert!(rules("{}").unwrap_err().contains("neither allow nor deny"));
        assert!(
            rules(r#"{"deny": ["::1"], "status": 200}"#)
                .unwrap_err()
                .contains("status 200")
        );
        assert!(
            rules(r#"{"denny": []}"#)
                .unwrap_err()
                .contains("unknown field")
        );
    }
}
