//! Path rules: rewrites (the path and query sent upstream change) and
//! redirects (the client is answered with a `Location`; the origin never
//! sees the request), each conditioned on the scheme, the method, a path
//! prefix and a path regex whose captures the template may use.
//!
//! Rules are tried in order against the path (without the query, as the
//! client sent it: not decoded). The first rule that matches applies and
//! ends the walk, unless it says `continue = true`, in which case the later
//! rules see the rewritten path (nginx's `rewrite` without a flag; the
//! default is nginx's `last`/`break` within one location). A redirect
//! always ends the walk.

use crate::template::{Facts, Scope, Template};
use regex::Regex;
use serde::Deserialize;

/// A rule as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileRule {
    path: Option<String>,
    path_prefix: Option<String>,
    #[serde(default)]
    methods: Vec<String>,
    scheme: Option<String>,
    rewrite: Option<String>,
    redirect: Option<String>,
    status: Option<u16>,
    #[serde(default = "yes")]
    keep_query: bool,
    #[serde(default, rename = "continue")]
    go_on: bool,
}

fn yes() -> bool {
    true
}

/// The redirect statuses a rule may answer with.
const REDIRECT_STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

/// Which requests a rule applies to.
#[derive(Debug)]
struct When {
    regex: Option<Regex>,
    prefix: Option<String>,
    methods: Vec<String>,
    scheme: Option<String>,
}

#[derive(Debug)]
enum Action {
    Rewrite(Template),
    Redirect { status: u16, target: Template },
}

/// A checked rule.
#[derive(Debug)]
pub struct Rule {
    when: When,
    action: Action,
    keep_query: bool,
    go_on: bool,
}

/// What the rules decided for a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No rule changed the target.
    Unchanged,
    /// Send this path and query upstream instead.
    Rewritten(String),
    /// Answer with this status and `Location`.
    Redirect { status: u16, location: String },
}

impl Rule {
    /// Checks rule `raw`; errors name the key that is wrong.
    pub fn build(raw: FileRule) -> Result<Rule, String> {
        let when = When::build(&raw)?;
        let groups: Vec<Option<String>> = match &when.regex {
            Some(re) => re.capture_names().map(|n| n.map(String::from)).collect(),
            None => Vec::new(),
        };
        let scope = Scope {
            groups: &groups,
            facts: true,
        };
        let action = Action::build(&raw, &scope)?;
        Ok(Rule {
            when,
            action,
            keep_query: raw.keep_query,
            go_on: raw.go_on,
        })
    }
}

impl When {
    fn build(raw: &FileRule) -> Result<When, String> {
        let regex = match &raw.path {
            Some(text) => Some(Regex::new(text).map_err(|e| format!("path: bad regex: {e}"))?),
            None => None,
        };
        if let Some(prefix) = &raw.path_prefix
            && !prefix.starts_with('/')
        {
            return Err(format!("path_prefix {prefix:?} must start with /"));
        }
        let scheme = match raw.scheme.as_deref() {
            None => None,
            Some(s @ ("http" | "https")) => Some(s.to_string()),
            Some(other) => return Err(format!("scheme {other:?} must be \"http\" or \"https\"")),
        };
        Ok(When {
            regex,
            prefix: raw.path_prefix.clone(),
            methods: raw.methods.iter().map(|m| m.to_ascii_uppercase()).collect(),
            scheme,
        })
    }
}

impl Action {
    fn build(raw: &FileRule, scope: &Scope) -> Result<Action, String> {
        match (&raw.rewrite, &raw.redirect) {
            (Some(text), None) => {
                if raw.status.is_some() {
                    return Err("status applies to a redirect, not to a rewrite".into());
                }
                Ok(Action::Rewrite(target("rewrite", text, scope, uri_byte)?))
            }
            (None, Some(text)) => {
                let status = raw.status.unwrap_or(302);
                if !REDIRECT_STATUSES.contains(&status) {
                    return Err(format!(
                        "status {status} is not a redirect: use 301, 302, 303, 307 or 308"
                    ));
                }
                if raw.go_on {
                    return Err(
                        "continue applies to a rewrite; a redirect always ends the rules".into(),
                    );
                }
                let location = |b| uri_byte(b) || b == b'#';
                let target = target("redirect", text, scope, location)?;
                Ok(Action::Redirect { status, target })
            }
            _ => Err("needs exactly one of rewrite or redirect".into()),
        }
    }
}

/// The template `text` of key `key`, whose literal bytes must be `allowed`.
fn target(
    key: &str,
    text: &str,
    scope: &Scope,
    allowed: impl Fn(u8) -> bool,
) -> Result<Template, String> {
    let template = Template::parse(text, scope).map_err(|e| format!("{key}: {e}"))?;
    match template.first_literal_byte_not(allowed) {
        Some(b) => Err(format!(
            "{key}: {:?} may not appear in a URL (percent-encode it)",
            b as char
        )),
        None => Ok(template),
    }
}

/// Walks `rules` for the request described by `facts`.
pub fn apply(rules: &[Rule], facts: &Facts) -> Outcome {
    let mut facts = facts.clone();
    let mut changed = false;
    for rule in rules {
        let Some(expanded) = rule.expand(&facts) else {
            continue;
        };
        let (path, query) = split(&expanded);
        match &rule.action {
            Action::Redirect { status, .. } => {
                let location = match (rule.keep_query, facts.query.is_empty()) {
                    (true, false) => join(&expanded, &facts.query),
                    _ => expanded,
                };
                return Outcome::Redirect {
                    status: *status,
                    location,
                };
            }
            Action::Rewrite(_) => {
                let query = match (query, rule.keep_query) {
                    (Some(new), true) if !facts.query.is_empty() => {
                        format!("{new}&{}", facts.query)
                    }
                    (Some(new), _) => new.to_string(),
                    (None, true) => facts.query.clone(),
                    (None, false) => String::new(),
                };
                facts.path = match path.starts_with('/') {
                    true => path.to_string(),
                    false => format!("/{path}"),
                };
                facts.query = query;
                changed = true;
                if !rule.go_on {
                    break;
                }
            }
        }
    }
    match changed {
        false => Outcome::Unchanged,
        true if facts.query.is_empty() => Outcome::Rewritten(facts.path),
        true => Outcome::Rewritten(format!("{}?{}", facts.path, facts.query)),
    }
}

impl Rule {
    /// The rule's template expanded for this request, or `None` when the
    /// rule does not apply to it.
    fn expand(&self, facts: &Facts) -> Option<String> {
        let when = &self.when;
        if when.scheme.as_ref().is_some_and(|s| *s != facts.scheme)
            || (!when.methods.is_empty() && !when.methods.contains(&facts.method))
            || when
                .prefix
                .as_ref()
                .is_some_and(|p| !facts.path.starts_with(p.as_str()))
        {
            return None;
        }
        let captures = match &when.regex {
            Some(re) => Some(re.captures(&facts.path)?),
            None => None,
        };
        let template = match &self.action {
            Action::Rewrite(t) => t,
            Action::Redirect { target, .. } => target,
        };
        let mut out = Vec::new();
        let group = |i| captures.as_ref()?.get(i).map(|m| m.as_str().as_bytes());
        template.expand(group, Some(facts), &mut out);
        // Every piece is UTF-8 (the template, the path, the facts).
        Some(String::from_utf8_lossy(&out).into_owned())
    }
}

/// Whether `b` may appear in a request target as is (RFC 3986; no `#`).
fn uri_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+,;=%".contains(&b)
}

/// `target` split at its first `?`.
fn split(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// `target` with `query` appended (after `&` when it has a query already).
fn join(target: &str, query: &str) -> String {
    match target.contains('?') {
        true => format!("{target}&{query}"),
        false => format!("{target}?{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Result<Vec<Rule>, String> {
        let raw: Vec<FileRule> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        raw.into_iter().map(Rule::build).collect()
    }

    fn facts(method: &str, path_with_query: &str) -> Facts {
        let (path, query) = split(path_with_query);
        Facts {
            scheme: "http".into(),
            host: "example.com".into(),
            path: path.into(),
            query: query.unwrap_or("").into(),
            method: method.into(),
        }
    }

    fn run(json: &str, target: &str) -> Outcome {
        apply(&rules(json).expect("rules"), &facts("GET", target))
    }

    #[test]
    fn a_rewrite_substitutes_captures_and_keeps_the_query() {
        let r = r#"[{ "path": "^/old/(?<rest>.*)$", "rewrite": "/new/${rest}" }]"#;
        assert_eq!(
            run(r, "/old/a/b?x=1"),
            Outcome::Rewritten("/new/a/b?x=1".into())
        );
        assert_eq!(run(r, "/other?x=1"), Outcome::Unchanged);
    }

    #[test]
    fn a_rewrite_with_its_own_query_puts_it_first_or_alone() {
        let keep = r#"[{ "path": "^/s/(\\w+)$", "rewrite": "/search?q=$1" }]"#;
        assert_eq!(
            run(keep, "/s/cats?page=2"),
            Outcome::Rewritten("/search?q=cats&page=2".into())
        );
        let drop = r#"[{ "path": "^/s/(\\w+)$", "rewrite": "/search?q=$1", "keep_query": false }]"#;
        assert_eq!(
            run(drop, "/s/cats?page=2"),
            Outcome::Rewritten("/search?q=cats".into())
        );
        let none = r#"[{ "path_prefix": "/x", "rewrite": "/y", "keep_query": false }]"#;
        assert_eq!(run(none, "/x?a=1"), Outcome::Rewritten("/y".into()));
    }

    #[test]
    fn the_first_matching_rule_wins_unless_it_continues() {
        let first = r#"[{ "path": "^/a(.*)", "rewrite": "/b$1" }, { "path": "^/b(.*)", "rewrite": "/c$1" }]"#;
        assert_eq!(run(first, "/a1"), Outcome::Rewritten("/b1".into()));
        let chained = r#"[{ "path": "^/a(.*)", "rewrite": "/b$1", "continue": true }, { "path": "^/b(.*)", "rewrite": "/c$1" }]"#;
        assert_eq!(run(chained, "/a1"), Outcome::Rewritten("/c1".into()));
    }

    #[test]
    fn a_rewrite_result_always_starts_with_a_slash() {
        let r = r#"[{ "path": "^/p/(.*)$", "rewrite": "$1" }]"#;
        assert_eq!(run(r, "/p/x"), Outcome::Rewritten("/x".into()));
    }

    #[test]
    fn a_redirect_appends_the_query_unless_told_not_to() {
        let https =
            r#"[{ "scheme": "http", "redirect": "https://{hostname}{path}", "status": 308 }]"#;
        let to = |location: &str| Outcome::Redirect {
            status: 308,
            location: location.into(),
        };
        assert_eq!(run(https, "/a?b=1"), to("https://example.com/a?b=1"));
        let mut f = facts("GET", "/a");
        f.scheme = "https".into();
        assert_eq!(apply(&rules(https).expect("rules"), &f), Outcome::Unchanged);
        let merged = r#"[{ "path": "^/(\\w+)$", "redirect": "/n?from=$1", "status": 308 }]"#;
        assert_eq!(run(merged, "/a?b=1"), to("/n?from=a&b=1"));
        let dropped =
            r#"[{ "path": "^/(\\w+)$", "redirect": "/n", "status": 308, "keep_query": false }]"#;
        assert_eq!(run(dropped, "/a?b=1"), to("/n"));
    }

    #[test]
    fn a_redirect_sees_an_earlier_rewrite() {
        let r = r#"[{ "path_prefix": "/a", "rewrite": "/b", "continue": true }, { "redirect": "{path}x" }]"#;
        let want = Outcome::Redirect {
            status: 302,
            location: "/bx".into(),
        };
        assert_eq!(run(r, "/a"), want);
    }

    #[test]
    fn methods_and_prefixes_condition_a_rule() {
        let r = r#"[{ "methods": ["post"], "path_prefix": "/api/", "rewrite": "/v2{path}" }]"#;
        let rules = rules(r).expect("rules");
        assert_eq!(
            apply(&rules, &facts("POST", "/api/x")),
            Outcome::Rewritten("/v2/api/x".into())
        );
        assert_eq!(apply(&rules, &facts("GET", "/api/x")), Outcome::Unchanged);
        assert_eq!(apply(&rules, &facts("POST", "/apix")), Outcome::Unchanged);
    }

    #[test]
    fn bad_rules_are_refused_naming_the_key() {
        let err = |json: &str| rules(json).expect_err(json);
        assert!(err(r#"[{ "path": "(", "rewrite": "/" }]"#).starts_with("path: bad regex"));
        assert!(
            err(r#"[{ "redirect": "/", "status": 200 }]"#).contains("status 200 is not a redirect")
        );
        assert!(
            err(r#"[{ "rewrite": "/", "status": 301 }]"#).contains("status applies to a redirect")
        );
        assert!(err(r#"[{ "path": "^/" }]"#).contains("exactly one of rewrite or redirect"));
        assert!(err(r#"[{ "rewrite": "/", "redirect": "/" }]"#).contains("exactly one"));
        assert!(err(r#"[{ "path": "^/(a)$", "rewrite": "/$2" }]"#).starts_with("rewrite: $2"));
        assert!(err(r#"[{ "path_prefix": "a", "rewrite": "/" }]"#).contains("must start with /"));
        assert!(err(r#"[{ "scheme": "ftp", "rewrite": "/" }]"#).contains("scheme \"ftp\""));
        assert!(
            err(r#"[{ "redirect": "/", "continue": true }]"#)
                .contains("continue applies to a rewrite")
        );
        assert!(err(r#"[{ "rewrite": "/", "flag": "last" }]"#).contains("unknown field `flag`"));
        assert!(err(r#"[{ "rewrite": "/a b" }]"#).contains("' ' may not appear in a URL"));
        assert!(err(r#"[{ "rewrite": "/a#b" }]"#).contains("'#' may not appear"));
        assert!(err(r#"[{ "redirect": "/a\r\nx: y" }]"#).contains("'\\r' may not appear"));
        assert!(rules(r#"[{ "redirect": "https://a.example/#top" }]"#).is_ok());
    }
}
