//! The plugin's configuration, checked at `configure`: the header name, how
//! ids are made, and whether (and which) incoming ids are kept.

use crate::id::{Format, Generate, acceptable};
use serde::Deserialize;

/// The configuration as written (every key optional).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The header carrying the id to the origin and back to the client.
    #[serde(default = "default_header")]
    pub header: String,
    /// How new ids are made.
    #[serde(default)]
    pub generate: Generate,
    /// Keep an id the client sent in `header` (when it passes the checks)
    /// instead of making a new one.
    #[serde(default)]
    pub trust_incoming: bool,
    /// What a kept incoming id must look like.
    #[serde(default)]
    pub incoming_format: Format,
    /// The longest incoming id kept, in bytes.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Also set the header on the response to the client.
    #[serde(default = "yes")]
    pub response_header: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            header: default_header(),
            generate: Generate::default(),
            trust_incoming: false,
            incoming_format: Format::default(),
            max_length: default_max_length(),
            response_header: true,
        }
    }
}

fn default_header() -> String {
    "x-request-id".into()
}

fn default_max_length() -> usize {
    128
}

fn yes() -> bool {
    true
}

/// The most `max_length` may be: longer ids only bloat every log line.
const MAX_LENGTH_CAP: usize = 1024;

impl Settings {
    /// Checks what serde cannot; the header name is lower-cased.
    pub fn validate(mut self) -> Result<Self, String> {
        self.header = self.header.to_ascii_lowercase();
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if self.header.is_empty() || !self.header.bytes().all(token) {
            return Err(format!(
                "request-id: header {:?} is not a valid header name",
                self.header
            ));
        }
        if self.max_length == 0 || self.max_length > MAX_LENGTH_CAP {
            return Err(format!(
                "request-id: max_length {} must be 1 to {MAX_LENGTH_CAP}",
                self.max_length
            ));
        }
        Ok(self)
    }

    /// The incoming id to keep, if trusted and acceptable.
    pub fn kept(&self, incoming: Option<Vec<u8>>) -> Option<String> {
        let value = incoming.filter(|_| self.trust_incoming)?;
        if !acceptable(&value, self.incoming_format, self.max_length) {
            return None;
        }
        String::from_utf8(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Settings, String> {
        serde_json::from_str::<Settings>(json)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn defaults_make_uuidv7_ids_and_trust_nothing() {
        let s = parse("{}").unwrap();
        assert_eq!(s.header, "x-request-id");
        assert_eq!(s.generate, Generate::Uuidv7);
        assert!(!s.trust_incoming && s.response_header);
        assert_eq!(s.kept(Some(b"abc".to_vec())), None, "not trusted");
    }

    #[test]
    fn trusted_incoming_ids_are_kept_only_when_they_pass_the_checks() {
        let s = parse(r#"{"trust_incoming": true, "max_length": 8}"#).unwrap();
        assert_eq!(s.kept(Some(b"abc-1".to_vec())), Some("abc-1".into()));
        assert_eq!(s.kept(Some(b"abcdefghi".to_vec())), None, "too long");
        assert_eq!(s.kept(Some(b"a b".to_vec())), None, "bad byte");
        assert_eq!(s.kept(None), None);
        let uuid = parse(r#"{"trust_incoming": true, "incoming_format": "uuid"}"#).unwrap();
        assert_eq!(uuid.kept(Some(b"abc".to_vec())), None);
    }

    #[test]
    fn bad_settings_are_refused_with_the_key() {
        let header = parse(r#"{"header": "x id"}"#).unwrap_err();
        assert!(header.contains("header \"x id\""), "{header}");
        let length = parse(r#"{"max_length": 0}"#).unwrap_err();
        assert!(length.contains("max_length 0"), "{length}");
        let unknown = parse(r#"{"trust": true}"#).unwrap_err();
        assert!(unknown.contains("unknown field `trust`"), "{unknown}");
        let kind = parse(r#"{"generate": "uuidv4"}"#).unwrap_err();
        assert!(kind.contains("uuidv4"), "{kind}");
        assert_eq!(parse(r#"{"header": "X-Trace"}"#).unwrap().header, "x-trace");
    }
}
