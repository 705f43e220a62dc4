//! The allow and deny lists, checked at `configure`, and the verdict for a
//! client address: deny wins (a denied block, then a denied country); then,
//! when there is an allow list, only its addresses pass.

use crate::cidr::Cidr;
use crate::geo::Countries;
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
    /// A MaxMind database, base64 (normally through `secret_files`).
    #[serde(default)]
    country_db: Option<String>,
    #[serde(default)]
    deny_countries: Vec<String>,
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
    /// The database and the ISO codes it denies.
    countries: Option<(Countries, Vec<String>)>,
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

/// The database and the upper-cased codes, when both are given.
fn countries(
    db: Option<String>,
    codes: Vec<String>,
) -> Result<Option<(Countries, Vec<String>)>, String> {
    let db = match (db, codes.is_empty()) {
        (None, true) => return Ok(None),
        (Some(db), false) => db,
        (None, false) => return Err("ipfilter: deny_countries needs country_db".into()),
        (Some(_), true) => {
            return Err("ipfilter: country_db is given but deny_countries is empty".into());
        }
    };
    let mut upper = Vec::new();
    for code in codes {
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!(
                "ipfilter: deny_countries: {code:?} is not an ISO 3166-1 alpha-2 code"
            ));
        }
        upper.push(code.to_ascii_uppercase());
    }
    let loaded = Countries::load(&db).map_err(|e| format!("ipfilter: {e}"))?;
    Ok(Some((loaded, upper)))
}

impl Settings {
    /// Parses every block; an error names the list and the entry.
    pub fn validate(self) -> Result<Rules, String> {
        if self.allow.is_empty() && self.deny.is_empty() && self.deny_countries.is_empty() {
            return Err("ipfilter: neither allow, deny nor deny_countries lists anything".into());
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
            countries: countries(self.country_db, self.deny_countries)?,
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
        if let Some((db, denied)) = &self.countries
            && db.country(ip).is_some_and(|code| denied.contains(&code))
        {
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
    fn denied_countries_are_refused_before_the_allow_list() {
        let json = serde_json::json!({
            "allow": ["192.0.2.0/25", "198.51.100.0/24"],
            "deny_countries": ["xx"],
            "country_db": crate::geo::tests::database(),
        });
        let r = rules(&json.to_string()).unwrap();
        assert!(!admits(&r, "192.0.2.1:1"), "allowed block, denied country");
        assert!(admits(&r, "198.51.100.1:1"), "no country in the database");
        assert!(!admits(&r, "10.0.0.1:1"), "not allowed");
    }

    #[test]
    fn country_settings_are_checked() {
        let db = crate::geo::tests::database();
        let no_db = rules(r#"{"deny_countries": ["XX"]}"#).unwrap_err();
        assert!(no_db.contains("deny_countries needs country_db"), "{no_db}");
        let no_codes = serde_json::json!({"deny": ["::1"], "country_db": db});
        assert!(
            rules(&no_codes.to_string())
                .unwrap_err()
                .contains("deny_countries is empty")
        );
        let bad_code = serde_json::json!({"deny_countries": ["XYZ"], "country_db": db});
        assert!(
            rules(&bad_code.to_string())
                .unwrap_err()
                .contains("\"XYZ\" is not an ISO 3166-1")
        );
        let broken = r#"{"deny_countries": ["XX"], "country_db": "AAAA"}"#;
        assert!(
            rules(broken)
                .unwrap_err()
                .contains("ipfilter: country_db is not a MaxMind database")
        );
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
        assert!(
            rules("{}")
                .unwrap_err()
                .contains("neither allow, deny nor deny_countries")
        );
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
