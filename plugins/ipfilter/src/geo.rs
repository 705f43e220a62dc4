//! Countries from a MaxMind-format database (GeoLite2-Country, GeoIP2-City
//! or any `.mmdb` whose records have `country.iso_code`). Plugins have no
//! filesystem: the database comes in the config, base64-encoded (the host
//! reads `secret_files` as text), and is decoded once in `configure`.

use maxminddb::Reader;
use serde::Deserialize;
use std::net::IpAddr;

/// The part of a record this plugin reads.
#[derive(Deserialize)]
struct Record {
    country: Option<Country>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

/// A loaded database.
pub struct Countries(Reader<Vec<u8>>);

impl std::fmt::Debug for Countries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Countries({})", self.0.metadata.database_type)
    }
}

/// The value of one base64 digit (standard alphabet).
fn digit(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes standard base64, ignoring whitespace (`base64` wraps lines)
/// and `=` padding.
fn base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let value = digit(c).ok_or_else(|| format!("{:?} is not a base64 character", c as char))?;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

impl Countries {
    /// Decodes and opens the database; the error says which step failed.
    pub fn load(base64_text: &str) -> Result<Countries, String> {
        let bytes = base64(base64_text).map_err(|e| format!("country_db is not base64: {e}"))?;
        let reader = Reader::from_source(bytes)
            .map_err(|e| format!("country_db is not a MaxMind database: {e}"))?;
        Ok(Countries(reader))
    }

    /// The ISO 3166-1 code of `ip`'s country, if the database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let found = self.0.lookup(ip).ok()?;
        let record: Record = found.decode().ok()??;
        record.country?.iso_code
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Standard base64 of `bytes` (tests build databases with it).
    pub fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
            out.push_str(&"=".repeat(3 - chunk.len()));
        }
        out
    }

    /// A database: 192.0.2.0/24 in `XX`, 2001:db8::/32 in `YY`, wrapped at
    /// 76 columns like `base64`'s output.
    pub fn database() -> String {
        let mut writer = mmdb_writer::Writer::new("Test-Country");
        let record = |code: &str| serde_json::json!({ "country": { "iso_code": code } });
        let networks = [("192.0.2.0/24", "XX"), ("2001:db8::/32", "YY")];
        for (net, code) in networks {
            let net: ipnet::IpNet = net.parse().unwrap();
            writer.insert(net, &record(code)).unwrap();
        }
        let text = encode(&writer.to_bytes().unwrap());
        let lines: Vec<&str> = text
            .as_bytes()
            .chunks(76)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        lines.join("\n")
    }

    #[test]
    fn base64_round_trips_with_padding_and_line_breaks() {
        for n in 0..8 {
            let bytes: Vec<u8> = (0..n)
                .map(|i: u8| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            let text = encode(&bytes);
            assert_eq!(base64(&text).unwrap(), bytes, "{text}");
        }
        assert_eq!(base64("aGVs\nbG8=\n").unwrap(), b"hello");
        assert!(base64("a!b").unwrap_err().contains("'!' is not a base64"));
    }

    #[test]
    fn countries_come_from_the_database() {
        let db = Countries::load(&database()).unwrap();
        assert_eq!(
            db.country("192.0.2.55".parse().unwrap()).as_deref(),
            Some("XX")
        );
        assert_eq!(
            db.country("2001:db8:1::1".parse().unwrap()).as_deref(),
            Some("YY")
        );
        assert_eq!(db.country("198.51.100.1".parse().unwrap()), None);
    }

    #[test]
    fn a_broken_database_is_refused() {
        let error = Countries::load(&encode(b"not a database")).unwrap_err();
        assert!(
            error.starts_with("country_db is not a MaxMind database"),
            "{error}"
        );
        assert!(
            Countries::load("%%")
                .unwrap_err()
                .starts_with("country_db is not base64")
        );
    }
}
