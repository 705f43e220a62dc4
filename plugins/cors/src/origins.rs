//! Allowed origins: `*`, exact serialized origins (`https://app.example.com`,
//! `null`) and patterns with one `*` standing for the leftmost host labels
//! (`https://*.example.com`), parsed from the config and matched against
//! the `Origin` header.

/// Which origins the policy allows.
#[derive(Debug, PartialEq, Eq)]
pub enum Origins {
    /// Any origin (`allowed_origins = ["*"]`).
    Any,
    /// Only these.
    Listed(Vec<Pattern>),
}

/// One allowed origin.
#[derive(Debug, PartialEq, Eq)]
pub enum Pattern {
    /// The whole origin, lower case.
    Exact(String),
    /// `prefix` (scheme and `://`), then one or more host labels, then
    /// `suffix` (`.example.com`, perhaps with a port).
    Subdomains { prefix: String, suffix: String },
}

impl Origins {
    /// Parses `allowed_origins`; the error names the entry.
    pub fn parse(entries: &[String]) -> Result<Origins, String> {
        if entries.is_empty() {
            return Err("cors: allowed_origins is empty: list the origins (or \"*\")".into());
        }
        if entries.iter().any(|e| e == "*") {
            if entries.len() > 1 {
                return Err("cors: allowed_origins mixes \"*\" with other entries".into());
            }
            return Ok(Origins::Any);
        }
        let patterns = entries.iter().map(|e| Pattern::parse(e));
        Ok(Origins::Listed(patterns.collect::<Result<_, _>>()?))
    }

    /// Whether `origin` (an `Origin` header value) is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        match self {
            Origins::Any => true,
            Origins::Listed(patterns) => {
                let origin = origin.to_ascii_lowercase();
                patterns.iter().any(|p| p.matches(&origin))
            }
        }
    }
}

/// Whether `host` (with an optional `:port`) is plausible in an origin.
fn host_chars(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

impl Pattern {
    fn parse(entry: &str) -> Result<Pattern, String> {
        let lower = entry.to_ascii_lowercase();
        if lower == "null" {
            return Ok(Pattern::Exact(lower));
        }
        let bad = |why: &str| Err(format!("cors: allowed_origins entry {entry:?} {why}"));
        let Some((scheme, host)) = lower.split_once("://") else {
            return bad("is not an origin like https://app.example.com");
        };
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return bad("has no valid scheme");
        }
        match host.strip_prefix("*.") {
            Some(rest) if host_chars(rest) && !rest.contains('*') => Ok(Pattern::Subdomains {
                prefix: format!("{scheme}://"),
                suffix: format!(".{rest}"),
            }),
            _ if host.contains('*') => bad("may only have `*.` at the start of the host"),
            _ if host_chars(host) => Ok(Pattern::Exact(lower)),
            _ => bad("has a path or characters an origin cannot have"),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            Pattern::Exact(exact) => origin == exact,
            Pattern::Subdomains { prefix, suffix } => origin
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
                .is_some_and(|labels| {
                    !labels.is_empty()
                        && !labels.starts_with('.')
                        && labels
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(entries: &[&str]) -> Result<Origins, String> {
        let owned: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        Origins::parse(&owned)
    }

    #[test]
    fn exact_origins_match_whole_and_ignore_case() {
        let o = origins(&["https://App.example.com", "http://localhost:8080"]).unwrap();
        assert!(o.allows("https://app.example.com"));
        assert!(o.allows("HTTPS://APP.EXAMPLE.COM"));
        assert!(o.allows("http://localhost:8080"));
        assert!(!o.allows("http://app.example.com"), "other scheme");
        assert!(!o.allows("https://app.example.com:8443"), "other port");
        assert!(!o.allows("https://app.example.com.evil.test"), "suffix");
        assert!(!o.allows("http://localhost"), "no port");
        assert!(!o.allows("null"));
    }

    #[test]
    fn a_subdomain_pattern_needs_at_least_one_label() {
        let o = origins(&["https://*.example.com"]).unwrap();
        assert!(o.allows("https://a.example.com"));
        assert!(o.allows("https://a.b.example.com"));
        assert!(!o.allows("https://example.com"), "no label");
        assert!(!o.allows("https://.example.com"), "empty label");
        assert!(!o.allows("https://evilexample.com"), "not a subdomain");
        assert!(!o.allows("http://a.example.com"), "other scheme");
        assert!(!o.allows("https://a.example.com:444"), "other port");
        assert!(!o.allows("https://a/b.example.com"), "not a host");
        assert!(!o.allows("https://x@a.example.com"), "userinfo");
    }

    #[test]
    fn any_and_null_are_explicit() {
        assert_eq!(origins(&["*"]).unwrap(), Origins::Any);
        assert!(origins(&["*"]).unwrap().allows("https://anything.test"));
        assert!(origins(&["null"]).unwrap().allows("null"));
    }

    #[test]
    fn bad_entries_are_refused_with_their_text() {
        let cases = [
            (vec![], "allowed_origins is empty"),
            (vec!["*", "https://a.test"], "mixes \"*\""),
            (vec!["example.com"], "\"example.com\" is not an origin"),
            (vec!["https://a.test/"], "\"https://a.test/\" has a path"),
            (vec!["https://a*.test"], "may only have `*.` at the start"),
            (vec!["https://*.*.test"], "may only have `*.` at the start"),
            (vec!["://a.test"], "has no valid scheme"),
        ];
        for (entries, expected) in cases {
            let error = origins(&entries).unwrap_err();
            assert!(error.contains(expected), "{entries:?}: {error}");
        }
    }
}
