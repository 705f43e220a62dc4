//! `[listeners.tls.acme]`: certificates obtained and renewed from an ACME
//! CA (Let's Encrypt, pebble) instead of files. The raw table as written,
//! the typed [`Acme`] settings, and the checks that need only the text;
//! files (`directory_ca`, `state_dir`) are read when the snapshot is built.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::units;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAcme {
    pub directory: String,
    #[serde(default)]
    pub contact: Vec<String>,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default = "default_challenge")]
    pub challenge: String,
    pub directory_ca: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    #[serde(default = "default_renew_before")]
    pub renew_before: String,
    #[serde(default = "default_retry_min")]
    pub retry_min: units::Duration,
    #[serde(default = "default_retry_max")]
    pub retry_max: units::Duration,
}

fn default_challenge() -> String {
    "tls-alpn-01".into()
}

fn default_renew_before() -> String {
    // A third of the lifetime: 30 days for a 90-day certificate, two for
    // a 6-day one (a fixed "30d" would renew those without end).
    "0.33".into()
}

fn default_retry_min() -> units::Duration {
    units::Duration::secs(10)
}

fn default_retry_max() -> units::Duration {
    units::Duration::secs(3600)
}

/// A validated `[listeners.tls.acme]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Acme {
    /// The ACME directory URL (`https://…/directory`).
    pub directory: String,
    /// `mailto:` addresses the CA may write to.
    pub contact: Vec<String>,
    /// The names the certificate covers; the first is its subject.
    pub domains: Vec<String>,
    pub challenge: Challenge,
    /// A PEM file of the CA certificate that signs the ACME server's own
    /// HTTPS certificate (a local test CA), added to the system roots.
    pub directory_ca: Option<PathBuf>,
    /// Where the account, certificate and key are kept (relative to the
    /// config file).
    pub state_dir: PathBuf,
    pub renew_before: RenewBefore,
    /// Backoff bounds between failed attempts: doubles from `retry_min`
    /// up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// Answered on the HTTPS listener itself (ALPN `acme-tls/1`).
    TlsAlpn01,
    /// Answered on the plain HTTP listeners (`/.well-known/acme-challenge/`).
    Http01,
}

/// How long before expiry a certificate is renewed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RenewBefore {
    /// A fixed time before `notAfter`.
    Ahead(Duration),
    /// A fraction (0 to 1, exclusive) of the certificate's lifetime.
    Fraction(f64),
}

impl RenewBefore {
    /// How long before `notAfter` a certificate valid for `lifetime` is renewed.
    pub fn ahead_of_expiry(self, lifetime: Duration) -> Duration {
        match self {
            RenewBefore::Ahead(ahead) => ahead,
            RenewBefore::Fraction(f) => lifetime.mul_f64(f),
        }
    }
}

/// Checks a `[listeners.tls.acme]` table; problems go to `add(key, message)`.
pub fn acme(key: &str, raw: FileAcme, add: &mut dyn FnMut(String, String)) -> Option<Acme> {
    let mut ok = true;
    let mut bad = |field: &str, message: String| {
        ok = false;
        add(format!("{key}.{field}"), message);
    };
    if let Err(message) = directory_url(&raw.directory) {
        bad("directory", message);
    }
    for c in &raw.contact {
        if !c.starts_with("mailto:") || !c[7..].contains('@') {
            bad(
                "contact",
                format!("`{c}` is not a contact: write it like \"mailto:admin@example.com\""),
            );
        }
    }
    if raw.domains.is_empty() {
        bad(
            "domains",
            "name at least one domain the certificate is for".into(),
        );
    }
    for d in &raw.domains {
        if let Err(message) = domain(d) {
            bad("domains", message);
        }
    }
    let challenge = match raw.challenge.as_str() {
        "tls-alpn-01" => Some(Challenge::TlsAlpn01),
        "http-01" => Some(Challenge::Http01),
        other => {
            bad(
                "challenge",
                format!("unknown challenge `{other}`: use \"tls-alpn-01\" or \"http-01\""),
            );
            None
        }
    };
    let state_dir = raw.state_dir.filter(|d| !d.as_os_str().is_empty());
    if state_dir.is_none() {
        bad(
            "state_dir",
            "name the directory where the account, certificate and key are kept".into(),
        );
    }
    let renew_before = renew_before(&raw.renew_before).map_err(|m| bad("renew_before", m));
    if raw.retry_min.0.is_zero() || raw.retry_min.0 > raw.retry_max.0 {
        bad(
            "retry_min",
            format!(
                "the backoff must start above zero and at most retry_max ({})",
                raw.retry_max
            ),
        );
    }
    if !ok {
        return None;
    }
    Some(Acme {
        directory: raw.directory,
        contact: raw.contact,
        domains: raw.domains,
        challenge: challenge?,
        directory_ca: raw.directory_ca,
        state_dir: state_dir?,
        renew_before: renew_before.ok()?,
        retry_min: raw.retry_min.0,
        retry_max: raw.retry_max.0,
    })
}

fn directory_url(text: &str) -> Result<(), String> {
    let example = "write it like \"https://acme-v02.api.letsencrypt.org/directory\"";
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("`{text}` is not a URL ({e}): {example}"))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none() {
        return Err(format!(
            "`{text}` is not an https:// URL (ACME needs HTTPS): {example}"
        ));
    }
    Ok(())
}

fn domain(text: &str) -> Result<(), String> {
    let valid = !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if text.starts_with("*.") {
        return Err(format!(
            "`{text}`: wildcard names need the dns-01 challenge, which Ravelin does not answer"
        ));
    }
    if !valid || text.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("`{text}` is not a DNS name"));
    }
    Ok(())
}

fn renew_before(text: &str) -> Result<RenewBefore, String> {
    let text = text.trim();
    if let Ok(f) = text.parse::<f64>() {
        return match f > 0.0 && f < 1.0 {
            true => Ok(RenewBefore::Fraction(f)),
            false => Err(format!(
                "`{text}`: a fraction of the lifetime is between 0 and 1, like \"0.33\""
            )),
        };
    }
    if let Some(days) = text.strip_suffix('d') {
        let days: u64 = days
            .trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a number of days, like \"30d\""))?;
        return Ok(RenewBefore::Ahead(Duration::from_secs(days * 86_400)));
    }
    let ahead: units::Duration = text
        .parse()
        .map_err(|e| format!("{e}; or days (\"30d\"), or a fraction of the lifetime (\"0.33\")"))?;
    Ok(RenewBefore::Ahead(ahead.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(toml_text: &str) -> Result<Acme, Vec<String>> {
        let raw: FileAcme = toml::from_str(toml_text).unwrap();
        let mut problems = Vec::new();
        let mut add = |k: String, m: String| problems.push(format!("{k}: {m}"));
        acme("acme", raw, &mut add).ok_or(problems)
    }

    #[test]
    fn accepts_a_full_table_with_defaults() {
        let acme = check(
            r#"directory = "https://127.0.0.1:14000/dir"
               contact = ["mailto:ops@example.com"]
               domains = ["example.com", "www.example.com"]
               state_dir = "acme""#,
        )
        .unwrap();
        assert_eq!(acme.challenge, Challenge::TlsAlpn01);
        assert_eq!(acme.renew_before, RenewBefore::Fraction(0.33));
        assert_eq!(acme.retry_min, Duration::from_secs(10));
    }

    #[test]
    fn names_each_bad_field() {
        let problems = check(
            r#"directory = "http://example.com/dir"
               contact = ["ops@example.com"]
               domains = []
               challenge = "dns-01"
               renew_before = "1.5"
               retry_min = "2h""#,
        )
        .unwrap_err()
        .join("\n");
        for field in [
            "acme.directory: `http://example.com/dir` is not an https://",
            "acme.contact: `ops@example.com` is not a contact",
            "acme.domains: name at least one domain",
            "acme.challenge: unknown challenge `dns-01`",
            "acme.state_dir: name the directory",
            "acme.renew_before: `1.5`: a fraction",
            "acme.retry_min: the backoff must start",
        ] {
            assert!(
                problems.contains(field),
                "{field} missing from:\n{problems}"
            );
        }
    }

    #[test]
    fn renew_before_takes_days_units_and_fractions() {
        assert_eq!(renew_before("0.5").unwrap(), RenewBefore::Fraction(0.5));
        assert_eq!(
            renew_before("90s").unwrap(),
            RenewBefore::Ahead(Duration::from_secs(90))
        );
        assert!(renew_before("soon").unwrap_err().contains("30d"));
        assert!(domain("*.example.com").unwrap_err().contains("dns-01"));
        assert!(domain("exa mple.com").is_err());
    }

    fn parse(listeners: &str) -> Result<crate::config::Config, String> {
        let text = format!(
            "{listeners}\n[upstreams.app]\nendpoints = [{{ address = \"127.0.0.1:9000\" }}]\n\n[[routes]]\nupstream = \"app\"\n"
        );
        crate::config::Config::parse(&text, "test.toml", std::path::Path::new("."))
            .map_err(|e| e.to_string())
    }

    const ACME_LISTENER: &str = r#"
[[listeners]]
listen = "127.0.0.1:8443"
[listeners.tls.acme]
directory = "https://127.0.0.1:14000/dir"
domains = ["example.com"]
state_dir = "acme"
"#;

    #[test]
    fn a_listener_takes_acme_instead_of_certificates() {
        let config = parse(&format!("{ACME_LISTENER}challenge = \"tls-alpn-01\"\n")).unwrap();
        let tls = config.listeners[0].tls.as_ref().unwrap();
        assert!(tls.certificates.is_empty());
        assert_eq!(tls.acme.as_ref().unwrap().domains, ["example.com"]);
    }

    #[test]
    fn acme_beside_certificates_is_refused() {
        let text = format!(
            "{ACME_LISTENER}[[listeners.tls.certificates]]\ncert = \"a.pem\"\nkey = \"a.key\"\n"
        );
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains("`listeners[0].tls.acme`: a listener takes its certificates either from files or from ACME"),
            "{error}"
        );
    }

    #[test]
    fn http_01_needs_a_plain_listener() {
        let error = parse(&format!("{ACME_LISTENER}challenge = \"http-01\"\n")).unwrap_err();
        assert!(
            error.contains(
                "`listeners[0].tls.acme.challenge`: http-01 is answered on a plain HTTP listener"
            ),
            "{error}"
        );
        let plain = "[[listeners]]\nlisten = \"127.0.0.1:8080\"\n";
        parse(&format!("{plain}{ACME_LISTENER}challenge = \"http-01\"\n")).unwrap();
    }

    #[test]
    fn a_bad_domain_is_reported_with_its_line() {
        let text = ACME_LISTENER.replace("example.com", "exa mple.com");
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains(
                "test.toml:6: `listeners[0].tls.acme.domains`: `exa mple.com` is not a DNS name"
            ),
            "{error}"
        );
    }
}
