//! `rewrite`: edits headers on the request and the response, and swaps a path
//! prefix.
//!
//! ```toml
//! [plugins.rewrite]
//! source = "plugins/rewrite.wasm"
//! config = { strip_prefix = "/api", add_prefix = "/v1", request = { set = { x-from = "ravelin" } }, response = { remove = ["server"] } }
//! ```
//!
//! - `strip_prefix` / `add_prefix`: a path starting with `strip_prefix` has it
//!   replaced by `add_prefix` (either may be empty; the query is kept).
//! - `request` / `response`: `set` (name → value, replacing), `add` (name →
//!   value, appending), `remove` (names), applied in that order.
//!
//! The plugin asks for the response hook only when `response` has edits:
//! without them its instance goes back to its pool as soon as the request
//! hook returns.
use ravelin_sdk::{Config, Decision, Hooks, Plugin, Request, Response};
use std::collections::BTreeMap;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Edits {
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    add: BTreeMap<String, String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    strip_prefix: String,
    #[serde(default)]
    add_prefix: String,
    #[serde(default)]
    request: Edits,
    #[serde(default)]
    response: Edits,
}

impl Edits {
    fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

struct Rewrite(Settings);

/// Applies `edits` through the three header operations of either side.
fn apply(
    edits: &Edits,
    set: impl Fn(&str, &str) -> Result<(), String>,
    add: impl Fn(&str, &str) -> Result<(), String>,
    remove: impl Fn(&str),
) {
    for (n, v) in &edits.set {
        let _ = set(n, v);
    }
    for (n, v) in &edits.add {
        let _ = add(n, v);
    }
    for n in &edits.remove {
        remove(n);
    }
}

impl Plugin for Rewrite {
    fn configure(config: Config) -> Result<Self, String> {
        let s: Settings = config.parse()?;
        if !s.add_prefix.is_empty() && !s.add_prefix.starts_with('/') {
            return Err(format!("add_prefix {:?} must start with /", s.add_prefix));
        }
        Ok(Rewrite(s))
    }

    fn hooks(&self) -> Hooks {
        if self.0.response.is_empty() {
            Hooks::empty()
        } else {
            Hooks::ON_RESPONSE
        }
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let s = &self.0;
        if !s.strip_prefix.is_empty() || !s.add_prefix.is_empty() {
            let pq = req.path_with_query();
            if let Some(rest) = pq.strip_prefix(s.strip_prefix.as_str()) {
                let mut target = format!("{}{}", s.add_prefix, rest);
                if !target.starts_with('/') {
                    target.insert(0, '/');
                }
                let _ = req.set_path_with_query(&target);
            }
        }
        apply(
            &s.request,
            |n, v| req.set_header(n, v),
            |n, v| req.add_header(n, v),
            |n| req.remove_header(n),
        );
        Decision::Continue
    }

    fn on_response(&mut self, _req: &Request, resp: &Response) -> Decision {
        let s = &self.0;
        apply(
            &s.response,
            |n, v| resp.set_header(n, v),
            |n, v| resp.add_header(n, v),
            |n| resp.remove_header(n),
        );
        Decision::Continue
    }
}

ravelin_sdk::export!(Rewrite);
