//! The plugin's configuration: the raw tables as written
//! (`deny_unknown_fields`, so a typo fails at load) and their checked form.
//! Every error names the key it is about.

use crate::body::{Body, FileBody};
use crate::rules::{FileRule, Rule};
use crate::{headers, query};
use serde::Deserialize;

/// The configuration as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    #[serde(default)]
    rules: Vec<FileRule>,
    #[serde(default)]
    query: query::FileEdits,
    #[serde(default)]
    request: headers::FileEdits,
    #[serde(default)]
    response: headers::FileEdits,
    body: Option<FileBody>,
}

/// The checked configuration.
#[derive(Debug)]
pub struct Settings {
    pub rules: Vec<Rule>,
    pub query: query::Edits,
    pub request: headers::Edits,
    pub response: headers::Edits,
    pub body: Option<Body>,
}

impl Settings {
    pub fn build(raw: FileSettings) -> Result<Settings, String> {
        let mut rules = Vec::new();
        for (i, rule) in raw.rules.into_iter().enumerate() {
            rules.push(Rule::build(rule).map_err(|e| format!("rules[{i}]: {e}"))?);
        }
        Ok(Settings {
            rules,
            query: query::Edits::build(raw.query)?,
            request: headers::Edits::build(raw.request, "request")?,
            response: headers::Edits::build(raw.response, "response")?,
            body: raw.body.map(Body::build).transpose()?,
        })
    }

    /// Whether the plugin needs `on_response` (and so keeps its instance
    /// for the whole exchange).
    pub fn touches_responses(&self) -> bool {
        !self.response.is_empty() || self.body.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Result<Settings, String> {
        let raw: FileSettings = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Settings::build(raw)
    }

    #[test]
    fn an_empty_config_does_nothing_and_keeps_no_instance() {
        let s = build("{}").expect("settings");
        assert!(s.rules.is_empty() && s.query.is_empty() && s.request.is_empty());
        assert!(!s.touches_responses());
        let s = build(r#"{ "response": { "remove": ["server"] } }"#).expect("settings");
        assert!(s.touches_responses());
    }

    #[test]
    fn errors_name_the_rule_and_the_key() {
        let e = build(r#"{ "rules": [{ "rewrite": "/" }, { "redirect": "/", "status": 200 }] }"#)
            .expect_err("bad status");
        assert!(e.starts_with("rules[1]: status 200"), "{e}");
        let e = build(r#"{ "strip_prefix": "/api" }"#).expect_err("unknown key");
        assert!(e.contains("unknown field `strip_prefix`"), "{e}");
        let e = build(r#"{ "response": { "set": { "a b": "x" } } }"#).expect_err("bad name");
        assert!(e.starts_with("response: "), "{e}");
    }
}
