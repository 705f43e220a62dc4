//! `waf`: refuses requests whose path or query matches the configured rules.
//!
//! ```toml
//! [plugins.waf]
//! source = "plugins/waf.wasm"
//! config = { block_path_prefixes = ["/admin"], block_patterns = ["../", "<script", "union select"] }
//! ```
//!
//! - `block_path_prefixes`: paths equal to one of these, or below it (`/admin`
//!   refuses `/admin` and `/admin/x`, not `/administrator`), are refused.
//! - `block_patterns`: the path and query, percent-decoded and lower-cased, is
//!   refused when it contains one of these (compared lower-cased).
//! - `status` (default 403): the status of the refusal.
use ravelin_sdk::{Config, Decision, Plugin, Reply, Request, log, metrics};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    block_path_prefixes: Vec<String>,
    #[serde(default)]
    block_patterns: Vec<String>,
    #[serde(default = "default_status")]
    status: u16,
}

fn default_status() -> u16 {
    403
}

struct Waf {
    prefixes: Vec<String>,
    patterns: Vec<String>,
    status: u16,
}

/// Decodes `%XX` escapes (and `+` as space); invalid escapes stay as they are.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `path` is `prefix` or below it, at a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'),
        None => false,
    }
}

impl Plugin for Waf {
    // No response hooks: the instance goes back to its pool as soon as
    // `on_request` returns.
    fn configure(config: Config) -> Result<Self, String> {
        let s: Settings = config.parse()?;
        if !(400..=599).contains(&s.status) {
            return Err(format!("status {} is not a 4xx or 5xx code", s.status));
        }
        if s.block_patterns.iter().any(|p| p.is_empty()) {
            return Err("block_patterns: an empty pattern would block everything".into());
        }
        Ok(Waf {
            prefixes: s.block_path_prefixes,
            patterns: s.block_patterns.iter().map(|p| p.to_lowercase()).collect(),
            status: s.status,
        })
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        let path = req.path();
        let target = percent_decode(&req.path_with_query()).to_lowercase();
        let rule = self
            .prefixes
            .iter()
            .find(|p| under(&path, p))
            .or_else(|| self.patterns.iter().find(|p| target.contains(p.as_str())));
        match rule {
            Some(rule) => {
                metrics::counter_add("waf_blocked", &[], 1);
                log::info(&format!(
                    "blocked {} (rule {rule:?})",
                    req.path_with_query()
                ));
                Reply::text(self.status, "forbidden\n").into()
            }
            None => Decision::Continue,
        }
    }
}

ravelin_sdk::export!(Waf);
