//! The CORS policy: the configuration checked at `configure`, and what it
//! answers to a preflight and adds to an actual cross-origin response, as
//! lists of header fields (the plugin only copies them onto the wire).

use crate::origins::Origins;
use serde::Deserialize;

/// The configuration as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    allowed_origins: Vec<String>,
    #[serde(default = "default_methods")]
    allowed_methods: Vec<String>,
    #[serde(default)]
    allowed_headers: Vec<String>,
    #[serde(default)]
    expose_headers: Vec<String>,
    #[serde(default)]
    max_age: Option<u32>,
    #[serde(default)]
    allow_credentials: bool,
}

fn default_methods() -> Vec<String> {
    ["GET", "HEAD", "POST"].map(String::from).to_vec()
}

/// A list from the config: everything (`["*"]`) or these entries.
#[derive(Debug, PartialEq, Eq)]
enum List {
    Any,
    Only(Vec<String>),
}

impl List {
    fn contains(&self, item: &str) -> bool {
        match self {
            List::Any => true,
            List::Only(items) => items.iter().any(|i| i == item),
        }
    }
}

/// The checked policy.
#[derive(Debug)]
pub struct Policy {
    origins: Origins,
    methods: List,
    headers: List,
    expose: List,
    max_age: Option<u32>,
    credentials: bool,
}

/// Header fields to put on a response.
pub type Fields = Vec<(&'static str, String)>;

/// What `Vary` lists on a preflight answer.
const PREFLIGHT_VARY: &str =
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Parses a list of tokens (`["*"]` for any); `lower` lower-cases them
/// (header names), `key` names the list in errors.
fn list(entries: Vec<String>, key: &str, lower: bool) -> Result<List, String> {
    if entries.iter().any(|e| e == "*") {
        return if entries.len() == 1 {
            Ok(List::Any)
        } else {
            Err(format!("cors: {key} mixes \"*\" with other entries"))
        };
    }
    let mut items = Vec::new();
    for entry in entries {
        if !is_token(&entry) {
            return Err(format!("cors: {key} entry {entry:?} is not a valid name"));
        }
        items.push(if lower {
            entry.to_ascii_lowercase()
        } else {
            entry
        });
    }
    Ok(List::Only(items))
}

impl Settings {
    /// Checks the settings, refusing what browsers would refuse.
    pub fn validate(self) -> Result<Policy, String> {
        let origins = Origins::parse(&self.allowed_origins)?;
        let policy = Policy {
            methods: list(self.allowed_methods, "allowed_methods", false)?,
            headers: list(self.allowed_headers, "allowed_headers", true)?,
            expose: list(self.expose_headers, "expose_headers", true)?,
            max_age: self.max_age,
            credentials: self.allow_credentials,
            origins,
        };
        if policy.credentials && policy.origins == Origins::Any {
            return Err("cors: allow_credentials = true cannot be combined with \
                        allowed_origins = [\"*\"]: browsers refuse credentialed responses \
                        from any origin; list the origins instead"
                .into());
        }
        if policy.credentials && policy.expose == List::Any {
            return Err("cors: allow_credentials = true cannot be combined with \
                        expose_headers = [\"*\"]: browsers read `*` literally on \
                        credentialed requests; list the headers instead"
                .into());
        }
        Ok(policy)
    }
}

impl Policy {
    /// The `Access-Control-Allow-Origin` value for an allowed `origin`, and
    /// whether the answer depends on the origin (then `Vary: Origin`).
    fn allow_origin(&self, origin: &str) -> (String, bool) {
        if self.origins == Origins::Any && !self.credentials {
            ("*".into(), false)
        } else {
            (origin.into(), true)
        }
    }

    /// The fields of the 204 answering a preflight from `origin` for
    /// `method` with `request_headers` (`Access-Control-Request-Headers`).
    /// A refused preflight gets only `Vary`: without
    /// `Access-Control-Allow-Origin` the browser fails the request.
    pub fn preflight(&self, origin: &str, method: &str, request_headers: &str) -> Fields {
        let requested: Vec<String> = request_headers
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        let mut fields = vec![("vary", PREFLIGHT_VARY.to_string())];
        let allowed = self.origins.allows(origin)
            && self.methods.contains(method)
            && requested.iter().all(|h| self.headers.contains(h));
        if !allowed {
            return fields;
        }
        fields.push(("access-control-allow-origin", self.allow_origin(origin).0));
        if self.credentials {
            fields.push(("access-control-allow-credentials", "true".into()));
        }
        let methods = match &self.methods {
            List::Any => method.to_string(),
            List::Only(methods) => methods.join(", "),
        };
        fields.push(("access-control-allow-methods", methods));
        let headers = match &self.headers {
            List::Any => requested.join(", "),
            List::Only(headers) => headers.join(", "),
        };
        if !headers.is_empty() {
            fields.push(("access-control-allow-headers", headers));
        }
        if let Some(age) = self.max_age {
            fields.push(("access-control-max-age", age.to_string()));
        }
        fields
    }

    /// The fields for the response to an actual request from `origin`
    /// (none for an origin not allowed), and whether to add `Vary: Origin`.
    pub fn actual(&self, origin: &str) -> (Fields, bool) {
        if !self.origins.allows(origin) {
            return (Vec::new(), self.origins != Origins::Any);
        }
        let (value, vary) = self.allow_origin(origin);
        let mut fields = vec![("access-control-allow-origin", value)];
        if self.credentials {
            fields.push(("access-control-allow-credentials", "true".into()));
        }
        match &self.expose {
            List::Any => fields.push(("access-control-expose-headers", "*".into())),
            List::Only(h) if !h.is_empty() => {
                fields.push(("access-control-expose-headers", h.join(", ")))
            }
            List::Only(_) => {}
        }
        (fields, vary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<Policy, String> {
        serde_json::from_str::<Settings>(json)
            .map_err(|e| e.to_string())?
            .validate()
    }

    fn get<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
        fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    const FULL: &str = r#"{"allowed_origins": ["https://*.example.com"],
        "allowed_methods": ["GET", "PUT"], "allowed_headers": ["X-Token", "content-type"],
        "expose_headers": ["x-total"], "max_age": 600, "allow_credentials": true}"#;

    #[test]
    fn an_allowed_preflight_gets_every_field() {
        let p = policy(FULL).unwrap();
        let f = p.preflight("https://a.example.com", "PUT", "x-token, Content-Type");
        assert_eq!(
            get(&f, "access-control-allow-origin"),
            Some("https://a.example.com")
        );
        assert_eq!(get(&f, "access-control-allow-credentials"), Some("true"));
        assert_eq!(get(&f, "access-control-allow-methods"), Some("GET, PUT"));
        assert_eq!(
            get(&f, "access-control-allow-headers"),
            Some("x-token, content-type")
        );
        assert_eq!(get(&f, "access-control-max-age"), Some("600"));
        assert_eq!(get(&f, "vary"), Some(PREFLIGHT_VARY));
    }

    #[test]
    fn a_preflight_for_another_origin_method_or_header_gets_only_vary() {
        let p = policy(FULL).unwrap();
        for (origin, method, headers) in [
            ("https://evil.test", "PUT", ""),
            ("https://a.example.com", "DELETE", ""),
            ("https://a.example.com", "put", ""),
            ("https://a.example.com", "GET", "x-token, x-other"),
        ] {
            let f = p.preflight(origin, method, headers);
            assert_eq!(
                f,
                vec![("vary", PREFLIGHT_VARY.to_string())],
                "{origin} {method} {headers}"
            );
        }
    }

    #[test]
    fn any_origin_without_credentials_is_a_star_and_wildcards_reflect() {
        let p = policy(
            r#"{"allowed_origins": ["*"], "allowed_methods": ["*"], "allowed_headers": ["*"]}"#,
        )
        .unwrap();
        let f = p.preflight("https://x.test", "PATCH", "X-A,x-b");
        assert_eq!(get(&f, "access-control-allow-origin"), Some("*"));
        assert_eq!(get(&f, "access-control-allow-methods"), Some("PATCH"));
        assert_eq!(get(&f, "access-control-allow-headers"), Some("x-a, x-b"));
        assert_eq!(get(&f, "access-control-allow-credentials"), None);
        assert_eq!(get(&f, "access-control-max-age"), None);
        let (fields, vary) = p.actual("https://x.test");
        assert_eq!(
            fields,
            vec![("access-control-allow-origin", "*".to_string())]
        );
        assert!(!vary, "a star does not depend on the origin");
    }

    #[test]
    fn an_actual_request_gets_the_origin_credentials_and_exposed_headers() {
        let p = policy(FULL).unwrap();
        let (fields, vary) = p.actual("https://a.example.com");
        assert!(vary);
        assert_eq!(
            get(&fields, "access-control-allow-origin"),
            Some("https://a.example.com")
        );
        assert_eq!(
            get(&fields, "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            get(&fields, "access-control-expose-headers"),
            Some("x-total")
        );
        let (none, vary) = p.actual("https://evil.test");
        assert!(
            none.is_empty() && vary,
            "no CORS fields, but the answer varied"
        );
    }

    #[test]
    fn credentials_with_a_star_are_refused_with_a_reason() {
        let origins =
            policy(r#"{"allowed_origins": ["*"], "allow_credentials": true}"#).unwrap_err();
        assert!(
            origins.contains("allow_credentials = true cannot be combined with allowed_origins"),
            "{origins}"
        );
        let expose = policy(
            r#"{"allowed_origins": ["https://a.test"], "expose_headers": ["*"], "allow_credentials": true}"#,
        )
        .unwrap_err();
        assert!(expose.contains("expose_headers = [\"*\"]"), "{expose}");
    }

    #[test]
    fn bad_lists_are_refused_with_the_key() {
        let method =
            policy(r#"{"allowed_origins": ["*"], "allowed_methods": ["GE T"]}"#).unwrap_err();
        assert!(
            method.contains("allowed_methods entry \"GE T\""),
            "{method}"
        );
        let mixed =
            policy(r#"{"allowed_origins": ["*"], "allowed_headers": ["*", "x"]}"#).unwrap_err();
        assert!(mixed.contains("allowed_headers mixes"), "{mixed}");
        let missing = policy("{}").unwrap_err();
        assert!(missing.contains("allowed_origins"), "{missing}");
    }
}
