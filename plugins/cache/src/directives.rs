//! `Cache-Control` directives (RFC 9111 §5.2), request or response: a
//! comma-separated list of `name` or `name=value` (token or quoted string),
//! names case-insensitive. Unparseable parts are skipped, as RFC 9111 asks.

/// The directives of every `Cache-Control` field of a message, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Directives(Vec<(String, Option<String>)>);

impl Directives {
    /// Parses the values of every `Cache-Control` field of a message.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Directives {
        let mut out = Vec::new();
        for value in values {
            for part in split_outside_quotes(value.as_ref()) {
                let (name, arg) = match part.split_once('=') {
                    Some((n, v)) => (n, Some(unquote(v.trim()))),
                    None => (part, None),
                };
                let name = name.trim().to_ascii_lowercase();
                if !name.is_empty() {
                    out.push((name, arg));
                }
            }
        }
        Directives(out)
    }

    /// Whether directive `name` is present (with or without a value).
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// The delta-seconds value of directive `name`: `None` when absent,
    /// `Some(0)` when present with a value that is not a number (RFC 9111
    /// §1.2.2: an invalid freshness is treated as stale), saturating at
    /// 2^31 seconds.
    pub fn seconds(&self, name: &str) -> Option<u64> {
        let (_, value) = self.0.iter().find(|(n, _)| n == name)?;
        let digits = value.as_deref().unwrap_or("");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some(0);
        }
        Some(digits.parse::<u64>().unwrap_or(u64::MAX).min(1 << 31))
    }
}

/// The comma-separated parts of `value`, ignoring commas inside quotes.
fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_read_as_seconds() {
        let d = Directives::parse(&["Public, MAX-AGE=60", "s-maxage=\"120\""]);
        assert!(d.has("public"));
        assert_eq!(d.seconds("max-age"), Some(60));
        assert_eq!(d.seconds("s-maxage"), Some(120));
        assert_eq!(d.seconds("stale-if-error"), None);
    }

    #[test]
    fn an_invalid_number_counts_as_zero_and_a_huge_one_saturates() {
        let d =
            Directives::parse(&["max-age=abc, s-maxage=-1, stale-if-error=99999999999999999999"]);
        assert_eq!(d.seconds("max-age"), Some(0));
        assert_eq!(d.seconds("s-maxage"), Some(0));
        assert_eq!(d.seconds("stale-if-error"), Some(1 << 31));
    }

    #[test]
    fn commas_inside_quotes_do_not_split() {
        let d = Directives::parse(&[r#"no-cache="set-cookie, x-a", private, max-age=5"#]);
        assert!(d.has("no-cache"));
        assert!(d.has("private"));
        assert_eq!(d.seconds("max-age"), Some(5));
        assert!(!d.has("x-a\""));
    }

    #[test]
    fn empty_parts_and_whitespace_are_ignored() {
        let d = Directives::parse(&[" , no-store ,, "]);
        assert_eq!(d, Directives(vec![("no-store".into(), None)]));
    }
}
