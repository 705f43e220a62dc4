//! Which responses get their body substituted: a content type listed in
//! `content_types`, a body that can exist (not HEAD, 1xx, 204, 304) and is
//! whole (not a 206 range), and no `Content-Encoding` but `identity` (the
//! plugin cannot read compressed bytes; by default it asks the origin for
//! none, and the proxy compresses for the client after the plugins).

use crate::substitute::Pattern;
use serde::Deserialize;

/// One substitution as written: `find` (a literal) or `regex`, and `replace`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileSubstitution {
    find: Option<String>,
    regex: Option<String>,
    replace: String,
}

/// The `body` table as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    substitutions: Vec<FileSubstitution>,
    #[serde(default = "html")]
    content_types: Vec<String>,
    #[serde(default = "default_max_match")]
    max_match_bytes: usize,
    #[serde(default = "yes")]
    strip_accept_encoding: bool,
}

fn html() -> Vec<String> {
    vec!["text/html".into()]
}

fn default_max_match() -> usize {
    256
}

fn yes() -> bool {
    true
}

/// The largest `max_match_bytes`: what one stage may hold back.
const MAX_WINDOW: usize = 64 * 1024;

/// The checked `body` table.
#[derive(Debug)]
pub struct Body {
    pub patterns: Vec<Pattern>,
    content_types: Vec<String>,
    pub strip_accept_encoding: bool,
}

/// The facts of a response that decide whether its body is substituted.
pub struct Head<'a> {
    pub method: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
}

impl Body {
    pub fn build(raw: FileBody) -> Result<Body, String> {
        if !(1..=MAX_WINDOW).contains(&raw.max_match_bytes) {
            return Err(format!(
                "body.max_match_bytes {} must be between 1 and {MAX_WINDOW}",
                raw.max_match_bytes
            ));
        }
        if raw.substitutions.is_empty() {
            return Err("body.substitutions is empty".into());
        }
        let mut patterns = Vec::new();
        for (i, s) in raw.substitutions.into_iter().enumerate() {
            let pattern = match (&s.find, &s.regex) {
                (Some(find), None) => Pattern::literal(find, &s.replace),
                (None, Some(regex)) => Pattern::regex(regex, &s.replace, raw.max_match_bytes),
                _ => Err("needs exactly one of find or regex".into()),
            };
            patterns.push(pattern.map_err(|e| format!("body.substitutions[{i}]: {e}"))?);
        }
        let mut content_types = Vec::new();
        for t in raw.content_types {
            if t.split_once('/')
                .is_none_or(|(a, b)| a.is_empty() || b.is_empty())
            {
                return Err(format!(
                    "body.content_types: {t:?} is not a media type (type/subtype or type/*)"
                ));
            }
            content_types.push(t.to_ascii_lowercase());
        }
        Ok(Body {
            patterns,
            content_types,
            strip_accept_encoding: raw.strip_accept_encoding,
        })
    }

    /// Whether the response with `head` gets its body substituted.
    pub fn applies(&self, head: &Head) -> bool {
        let bodiless = head.method.eq_ignore_ascii_case("HEAD")
            || head.status < 200
            || matches!(head.status, 204 | 206 | 304);
        let encoded = head
            .content_encoding
            .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity"));
        !bodiless && !encoded && head.content_type.is_some_and(|t| self.wants(t))
    }

    /// Whether media type `content_type` (parameters ignored) is listed.
    fn wants(&self, content_type: &str) -> bool {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let Some((kind, _)) = media.split_once('/') else {
            return false;
        };
        self.content_types
            .iter()
            .any(|t| match t.strip_suffix("/*") {
                Some(any) => any == kind || any == "*",
                None => *t == media,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> Result<Body, String> {
        let raw: FileBody = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Body::build(raw)
    }

    fn head<'a>(status: u16, content_type: Option<&'a str>, encoding: Option<&'a str>) -> Head<'a> {
        Head {
            method: "GET",
            status,
            content_type,
            content_encoding: encoding,
        }
    }

    #[test]
    fn listed_types_plain_and_whole_bodies_are_substituted() {
        let b = body(r#"{ "substitutions": [{ "find": "a", "replace": "b" }] }"#).expect("body");
        assert!(b.applies(&head(200, Some("text/html; charset=utf-8"), None)));
        assert!(b.applies(&head(404, Some("TEXT/HTML"), Some("identity"))));
        assert!(!b.applies(&head(200, Some("application/json"), None)));
        assert!(!b.applies(&head(200, None, None)));
        assert!(!b.applies(&head(200, Some("text/html"), Some("gzip"))));
        assert!(!b.applies(&head(206, Some("text/html"), None)));
        assert!(!b.applies(&head(304, Some("text/html"), None)));
        let mut h = head(200, Some("text/html"), None);
        h.method = "HEAD";
        assert!(!b.applies(&h));
    }

    #[test]
    fn wildcard_types_match_a_family() {
        let json = r#"{ "substitutions": [{ "find": "a", "replace": "b" }], "content_types": ["text/*", "application/json"] }"#;
        let b = body(json).expect("body");
        assert!(b.applies(&head(200, Some("text/css"), None)));
        assert!(b.applies(&head(200, Some("application/json"), None)));
        assert!(!b.applies(&head(200, Some("application/javascript"), None)));
    }

    #[test]
    fn bad_tables_are_refused_naming_the_key() {
        let err = |json: &str| body(json).expect_err(json);
        assert!(err(r#"{ "substitutions": [] }"#).contains("body.substitutions is empty"));
        let e = err(r#"{ "substitutions": [{ "regex": "(", "replace": "" }] }"#);
        assert!(
            e.starts_with("body.substitutions[0]: regex: bad regex"),
            "{e}"
        );
        let e = err(r#"{ "substitutions": [{ "regex": "a*", "replace": "" }] }"#);
        assert!(e.contains("can match the empty string"), "{e}");
        let e = err(r#"{ "substitutions": [{ "find": "", "replace": "x" }] }"#);
        assert!(e.contains("find may not be empty"), "{e}");
        let e = err(r#"{ "substitutions": [{ "find": "a", "regex": "a", "replace": "x" }] }"#);
        assert!(e.contains("exactly one of find or regex"), "{e}");
        let e = err(r#"{ "substitutions": [{ "regex": "(a)", "replace": "$2" }] }"#);
        assert!(e.starts_with("body.substitutions[0]: replace: $2"), "{e}");
        let e =
            err(r#"{ "substitutions": [{ "find": "a", "replace": "b" }], "max_match_bytes": 0 }"#);
        assert!(e.contains("max_match_bytes 0 must be between"), "{e}");
        let e = err(
            r#"{ "substitutions": [{ "find": "a", "replace": "b" }], "content_types": ["html"] }"#,
        );
        assert!(e.contains("\"html\" is not a media type"), "{e}");
    }
}
