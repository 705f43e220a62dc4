//! The response fields of draft-ietf-httpapi-ratelimit-headers-09
//! (structured-field lists): `RateLimit-Policy` names each limit with its
//! quota `q` per window `w` seconds, `RateLimit` its remaining quota `r`
//! and the seconds `t` until it is whole again; and `Retry-After` on a
//! refusal.

use crate::settings::Limit;
use crate::verdict::Verdict;

/// Header fields to put on a response.
pub type Fields = Vec<(&'static str, String)>;

/// `"name";q=Q;w=W, …` for every limit. Names are tokens (checked at
/// `configure`), so they need no escaping inside the quotes.
fn policy(limits: &[Limit]) -> String {
    let items = limits
        .iter()
        .map(|l| format!("\"{}\";q={};w={}", l.name, l.quota, l.window_s));
    items.collect::<Vec<_>>().join(", ")
}

/// `"name";r=R;t=T, …` for the limits decided.
fn state(limits: &[Limit], verdicts: &[Verdict]) -> String {
    let items = limits
        .iter()
        .zip(verdicts)
        .map(|(l, v)| format!("\"{}\";r={};t={}", l.name, v.remaining, v.reset_s));
    items.collect::<Vec<_>>().join(", ")
}

/// The fields for a response: the policy and state, and `Retry-After` when
/// the last verdict refused.
pub fn fields(limits: &[Limit], verdicts: &[Verdict]) -> Fields {
    let mut fields = vec![
        ("ratelimit-policy", policy(limits)),
        ("ratelimit", state(limits, verdicts)),
    ];
    if let Some(refusal) = verdicts.last().filter(|v| !v.allowed) {
        fields.push(("retry-after", refusal.retry_after_s.to_string()));
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FileSettings;

    #[test]
    fn fields_follow_the_draft() {
        let json = r#"{"limits": [{"name": "fast", "rate": 10, "per": "1s", "burst": 20},
            {"name": "hourly", "algorithm": "sliding_window", "rate": 1000, "per": "1h"}]}"#;
        let limits = serde_json::from_str::<FileSettings>(json)
            .unwrap()
            .validate()
            .unwrap()
            .limits;
        let ok = Verdict {
            allowed: true,
            remaining: 19,
            reset_s: 1,
            retry_after_s: 0,
        };
        let refused = Verdict {
            allowed: false,
            remaining: 0,
            reset_s: 3000,
            retry_after_s: 7,
        };
        let passed = fields(&limits, &[ok, ok]);
        assert_eq!(
            passed,
            vec![
                (
                    "ratelimit-policy",
                    r#""fast";q=10;w=1, "hourly";q=1000;w=3600"#.to_string()
                ),
                (
                    "ratelimit",
                    r#""fast";r=19;t=1, "hourly";r=19;t=1"#.to_string()
                ),
            ]
        );
        let denied = fields(&limits, &[ok, refused]);
        assert_eq!(denied[1].1, r#""fast";r=19;t=1, "hourly";r=0;t=3000"#);
        assert_eq!(denied[2], ("retry-after", "7".to_string()));
    }
}
