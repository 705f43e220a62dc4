//! How long a fetched key set is used: the response's `Cache-Control:
//! max-age`, clamped to the configured bounds, with a refresh point at three
//! quarters of it so one request refetches while the set is still good.

/// The bounds on a key set's lifetime, seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Used when the response gives no `max-age`.
    pub default_s: u64,
    pub min_s: u64,
    pub max_s: u64,
}

/// When a set fetched at `now_ms` is refreshed and when it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub refresh_at_ms: u64,
    pub expires_at_ms: u64,
}

/// The `max-age` of a `Cache-Control` value (`no-store` and `no-cache`
/// count as 0: the minimum applies).
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut found = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(value) = lower.strip_prefix("max-age=") {
            found = value.trim_matches('"').parse().ok();
        }
    }
    found
}

/// The schedule of a set fetched at `now_ms` with `cache_control`.
pub fn schedule(now_ms: u64, cache_control: Option<&str>, bounds: Bounds) -> Schedule {
    let life_s = cache_control
        .and_then(max_age)
        .unwrap_or(bounds.default_s)
        .clamp(bounds.min_s, bounds.max_s);
    let life_ms = life_s.saturating_mul(1000);
    Schedule {
        refresh_at_ms: now_ms + life_ms / 4 * 3,
        expires_at_ms: now_ms + life_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        default_s: 300,
        min_s: 60,
        max_s: 3600,
    };

    #[test]
    fn reads_max_age_among_other_directives() {
        assert_eq!(max_age("public, max-age=600, must-revalidate"), Some(600));
        assert_eq!(max_age("Max-Age=\"90\""), Some(90));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }

    #[test]
    fn clamps_to_the_bounds_and_refreshes_at_three_quarters() {
        let at = |cc| schedule(1_000, cc, BOUNDS);
        assert_eq!(at(Some("max-age=600")).expires_at_ms, 601_000);
        assert_eq!(at(Some("max-age=600")).refresh_at_ms, 451_000);
        assert_eq!(at(None).expires_at_ms, 301_000, "default");
        assert_eq!(at(Some("max-age=5")).expires_at_ms, 61_000, "minimum");
        assert_eq!(at(Some("no-cache")).expires_at_ms, 61_000, "minimum");
        assert_eq!(
            at(Some("max-age=99999")).expires_at_ms,
            3_601_000,
            "maximum"
        );
    }
}
