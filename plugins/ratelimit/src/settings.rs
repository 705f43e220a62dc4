//! The plugin's configuration, checked at `configure`: what a request is
//! counted under (the key), the limits, and what to do when the kv store
//! fails.

use crate::gcra::Bucket;
use crate::window::Window;
use serde::Deserialize;

/// What requests are counted under.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// The client IP the proxy determined.
    #[default]
    Ip,
    /// The client IP truncated to a prefix: `{ ip_prefix = { v4 = 24, v6 = 64 } }`.
    IpPrefix { v4: u8, v6: u8 },
    /// A request header's value: `{ header = "x-api-key" }`.
    Header(String),
    /// An attribute an earlier plugin set: `{ attribute = "user" }`.
    Attribute(String),
    /// The route alone: every client shares the limits.
    Route,
}

/// What to do when the key's source is absent (no header, no attribute).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissingKey {
    /// Count every such request under one shared key.
    #[default]
    Shared,
    /// Count it under the client IP instead.
    Ip,
    /// Do not limit it.
    Skip,
}

/// What to do when the kv store fails (unavailable, too contended).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnKvError {
    /// Let the request through, log and count it.
    #[default]
    Allow,
    /// Answer 503.
    Deny,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
enum Algorithm {
    #[default]
    TokenBucket,
    SlidingWindow,
}

/// A window length: seconds, or a string with a unit (`"1s"`, `"10m"`,
/// `"1h"`, `"1d"`).
#[derive(Deserialize, Debug, Clone)]
#[serde(untagged)]
enum Per {
    Seconds(u64),
    Text(String),
}

/// One limit as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileLimit {
    name: Option<String>,
    #[serde(default)]
    algorithm: Algorithm,
    rate: u64,
    per: Per,
    burst: Option<u64>,
}

/// The configuration as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    #[serde(default)]
    key: KeySource,
    #[serde(default)]
    missing_key: MissingKey,
    #[serde(default = "yes")]
    per_route: bool,
    limits: Vec<FileLimit>,
    #[serde(default)]
    on_kv_error: OnKvError,
    #[serde(default = "yes")]
    headers: bool,
}

fn yes() -> bool {
    true
}

/// How one limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TokenBucket(Bucket),
    SlidingWindow(Window),
}

/// One checked limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// Its name in `RateLimit-Policy` and in kv keys.
    pub name: String,
    /// Requests per window, as advertised (`q`).
    pub quota: u64,
    /// The window, whole seconds (`w`).
    pub window_s: u64,
    pub kind: Kind,
}

/// The checked configuration.
#[derive(Debug)]
pub struct Settings {
    pub key: KeySource,
    pub missing_key: MissingKey,
    pub per_route: bool,
    pub limits: Vec<Limit>,
    pub on_kv_error: OnKvError,
    pub headers: bool,
}

fn seconds(per: &Per) -> Result<u64, String> {
    let text = match per {
        Per::Seconds(s) => return Ok(*s),
        Per::Text(t) => t.trim(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("per {text:?} is not like \"1s\", \"10m\", \"1h\""))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("per {text:?}: the unit must be s, m, h or d")),
    };
    Ok(n * scale)
}

impl FileLimit {
    fn check(self, index: usize) -> Result<Limit, String> {
        let name = self.name.unwrap_or_else(|| format!("limit{index}"));
        let at = format!("ratelimit: limits[{index}] ({name})");
        let window_s = seconds(&self.per).map_err(|e| format!("{at}: {e}"))?;
        if window_s == 0 || window_s > 366 * 86_400 {
            return Err(format!("{at}: per must be 1 second to a year"));
        }
        if self.rate == 0 || self.rate > window_s * 1_000_000_000 {
            return Err(format!(
                "{at}: rate {} must be 1 to one a nanosecond",
                self.rate
            ));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            || name.is_empty()
        {
            return Err(format!(
                "{at}: name may only have letters, digits, -, _ and ."
            ));
        }
        let kind = match (self.algorithm, self.burst) {
            (Algorithm::SlidingWindow, Some(_)) => {
                return Err(format!("{at}: burst is for token_bucket only"));
            }
            (Algorithm::SlidingWindow, None) => Kind::SlidingWindow(Window {
                quota: self.rate,
                length_ms: window_s * 1000,
            }),
            (Algorithm::TokenBucket, burst) => {
                let burst = burst.unwrap_or(self.rate);
                if burst == 0 {
                    return Err(format!("{at}: burst must be at least 1"));
                }
                let interval_ns = window_s * 1_000_000_000 / self.rate;
                Kind::TokenBucket(Bucket { interval_ns, burst })
            }
        };
        Ok(Limit {
            name,
            quota: self.rate,
            window_s,
            kind,
        })
    }
}

impl FileSettings {
    /// Checks everything serde cannot; errors name the limit.
    pub fn validate(self) -> Result<Settings, String> {
        if self.limits.is_empty() {
            return Err("ratelimit: limits is empty".into());
        }
        if let KeySource::IpPrefix { v4, v6 } = self.key
            && (v4 > 32 || v6 > 128)
        {
            return Err(format!(
                "ratelimit: ip_prefix v4 = {v4}, v6 = {v6}: at most 32 and 128"
            ));
        }
        let mut limits = Vec::new();
        for (index, limit) in self.limits.into_iter().enumerate() {
            let limit = limit.check(index)?;
            if limits.iter().any(|l: &Limit| l.name == limit.name) {
                return Err(format!("ratelimit: two limits are named {:?}", limit.name));
            }
            limits.push(limit);
        }
        Ok(Settings {
            key: self.key,
            missing_key: self.missing_key,
            per_route: self.per_route,
            limits,
            on_kv_error: self.on_kv_error,
            headers: self.headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: &str) -> Result<Settings, String> {
        serde_json::from_str::<FileSettings>(json)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn several_limits_with_their_shapes() {
        let s = settings(
            r#"{"key": {"header": "x-api-key"}, "limits": [
                {"name": "fast", "rate": 10, "per": "1s", "burst": 20},
                {"name": "hourly", "algorithm": "sliding_window", "rate": 1000, "per": "1h"},
                {"rate": 5, "per": 60}]}"#,
        )
        .unwrap();
        assert_eq!(s.key, KeySource::Header("x-api-key".into()));
        assert_eq!(s.missing_key, MissingKey::Shared);
        assert_eq!(s.on_kv_error, OnKvError::Allow);
        assert!(s.per_route && s.headers);
        let bucket = Bucket {
            interval_ns: 100_000_000,
            burst: 20,
        };
        assert_eq!(s.limits[0].kind, Kind::TokenBucket(bucket));
        let window = Window {
            quota: 1000,
            length_ms: 3_600_000,
        };
        assert_eq!(s.limits[1].kind, Kind::SlidingWindow(window));
        assert_eq!((s.limits[1].quota, s.limits[1].window_s), (1000, 3600));
        assert_eq!(s.limits[2].name, "limit2");
        let burst = Kind::TokenBucket(Bucket {
            interval_ns: 12_000_000_000,
            burst: 5,
        });
        assert_eq!(s.limits[2].kind, burst, "burst defaults to the rate");
    }

    #[test]
    fn key_sources_parse_from_their_toml_shapes() {
        let key = |json: &str| {
            settings(&format!(
                r#"{{"key": {json}, "limits": [{{"rate": 1, "per": 1}}]}}"#
            ))
        };
        assert_eq!(key(r#""route""#).unwrap().key, KeySource::Route);
        assert_eq!(
            key(r#"{"attribute": "user"}"#).unwrap().key,
            KeySource::Attribute("user".into())
        );
        assert_eq!(
            key(r#"{"ip_prefix": {"v4": 24, "v6": 64}}"#).unwrap().key,
            KeySource::IpPrefix { v4: 24, v6: 64 }
        );
        assert!(
            key(r#"{"ip_prefix": {"v4": 33, "v6": 64}}"#)
                .unwrap_err()
                .contains("at most 32")
        );
        assert!(key(r#""cookie""#).is_err());
    }

    #[test]
    fn bad_limits_are_refused_naming_them() {
        let cases = [
            (r#"{"limits": []}"#, "limits is empty"),
            (
                r#"{"limits": [{"rate": 0, "per": "1s"}]}"#,
                "limits[0] (limit0): rate 0",
            ),
            (
                r#"{"limits": [{"rate": 1, "per": "1w"}]}"#,
                "the unit must be",
            ),
            (
                r#"{"limits": [{"rate": 1, "per": "0s"}]}"#,
                "per must be 1 second",
            ),
            (r#"{"limits": [{"rate": 1, "per": "fast"}]}"#, "is not like"),
            (
                r#"{"limits": [{"name": "a", "rate": 1, "per": 1}, {"name": "a", "rate": 1, "per": 2}]}"#,
                "two limits are named \"a\"",
            ),
            (
                r#"{"limits": [{"algorithm": "sliding_window", "rate": 1, "per": 1, "burst": 2}]}"#,
                "burst is for token_bucket",
            ),
            (
                r#"{"limits": [{"rate": 1, "per": 1, "burst": 0}]}"#,
                "burst must be at least 1",
            ),
            (
                r#"{"limits": [{"name": "a b", "rate": 1, "per": 1}]}"#,
                "name may only",
            ),
            (
                r#"{"limits": [{"rate": 1, "per": 1}], "on_kv_error": "ignore"}"#,
                "ignore",
            ),
        ];
        for (json, expected) in cases {
            let error = settings(json).unwrap_err();
            assert!(error.contains(expected), "{json}: {error}");
        }
    }
}
