//! Freshness (RFC 9111 §4.2) of a response as a shared cache sees it: its
//! lifetime (`s-maxage`, `max-age`, `Expires` − `Date`, or the configured
//! default), its age when it arrived (`Age` and `Date`), and the windows in
//! which a stale copy may still be served (RFC 5861).

use crate::date;
use crate::directives::Directives;
use crate::headers::{self, Headers};

/// How long a stored response stays fresh and may be served stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    /// The freshness lifetime, ms.
    pub lifetime_ms: u64,
    /// Its age when it arrived (corrected `Age`, or `now − Date`), ms.
    pub initial_age_ms: u64,
    /// `stale-while-revalidate`, ms.
    pub swr_ms: u64,
    /// `stale-if-error`, ms.
    pub sie_ms: u64,
    /// `must-revalidate` / `proxy-revalidate`: never served stale.
    pub must_revalidate: bool,
    /// `no-cache`: stored, but validated before every use.
    pub no_cache: bool,
}

impl Freshness {
    /// The age at `now_ms` of a response that arrived at `arrived_ms`.
    pub fn age_ms(&self, arrived_ms: u64, now_ms: u64) -> u64 {
        self.initial_age_ms + now_ms.saturating_sub(arrived_ms)
    }

    /// Whether a response of age `age_ms` may be served without validation.
    pub fn fresh(&self, age_ms: u64) -> bool {
        !self.no_cache && age_ms < self.lifetime_ms
    }

    /// Whether it may be served stale while it is being revalidated.
    pub fn within_swr(&self, age_ms: u64) -> bool {
        self.may_serve_stale() && age_ms < self.lifetime_ms.saturating_add(self.swr_ms)
    }

    /// Whether it may be served stale when the origin fails.
    pub fn within_sie(&self, age_ms: u64) -> bool {
        self.may_serve_stale() && age_ms < self.lifetime_ms.saturating_add(self.sie_ms)
    }

    fn may_serve_stale(&self) -> bool {
        !self.must_revalidate && !self.no_cache
    }
}

/// The freshness of a response with `headers` received at `now_ms`;
/// `None` when it states none and no `default_ttl_ms` applies.
pub fn of(headers: &Headers, now_ms: u64, default_ttl_ms: Option<u64>) -> Option<Freshness> {
    let cc = Directives::parse(&headers::values(headers, "cache-control"));
    let date = headers::first(headers, "date").and_then(|d| date::parse(&d));
    let no_cache = cc.has("no-cache");
    let lifetime_ms = explicit_lifetime(&cc, headers, date.unwrap_or(now_ms))
        .or(default_ttl_ms)
        .or(no_cache.then_some(0))?;
    let age_value = headers::first(headers, "age")
        .and_then(|a| a.trim().parse::<u64>().ok())
        .map_or(0, |s| s.saturating_mul(1000));
    let apparent = date.map_or(0, |d| now_ms.saturating_sub(d));
    Some(Freshness {
        lifetime_ms,
        initial_age_ms: age_value.max(apparent),
        swr_ms: cc.seconds("stale-while-revalidate").unwrap_or(0) * 1000,
        sie_ms: cc.seconds("stale-if-error").unwrap_or(0) * 1000,
        must_revalidate: cc.has("must-revalidate") || cc.has("proxy-revalidate"),
        no_cache,
    })
}

/// `s-maxage` (a shared cache's own), else `max-age`, else `Expires` −
/// `Date` (an `Expires` that is not a date means already expired).
fn explicit_lifetime(cc: &Directives, headers: &Headers, date_ms: u64) -> Option<u64> {
    if let Some(seconds) = cc.seconds("s-maxage").or_else(|| cc.seconds("max-age")) {
        return Some(seconds * 1000);
    }
    let expires = headers::first(headers, "expires")?;
    Some(date::parse(&expires).map_or(0, |e| e.saturating_sub(date_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::tests::h;

    const NOW: u64 = 784_111_777_000; // Sun, 06 Nov 1994 08:49:37 GMT

    #[test]
    fn s_maxage_wins_over_max_age_and_expires() {
        let f = of(
            &h(&[
                ("cache-control", "max-age=10, s-maxage=100"),
                ("expires", "Sun, 06 Nov 1994 09:49:37 GMT"),
            ]),
            NOW,
            None,
        );
        assert_eq!(f.map(|f| f.lifetime_ms), Some(100_000));
    }

    #[test]
    fn expires_counts_from_the_date_header() {
        let headers = h(&[
            ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
        ]);
        let f = of(&headers, NOW + 2000, None).expect("fresh");
        assert_eq!(f.lifetime_ms, 60_000);
        assert_eq!(f.initial_age_ms, 2000, "apparent age from Date");
        let invalid = of(&h(&[("expires", "0")]), NOW, None).expect("stated");
        assert_eq!(
            invalid.lifetime_ms, 0,
            "an invalid Expires is already expired"
        );
    }

    #[test]
    fn the_origin_age_is_counted_in() {
        let f = of(
            &h(&[("cache-control", "max-age=60"), ("age", "50")]),
            NOW,
            None,
        )
        .expect("fresh");
        assert_eq!(f.initial_age_ms, 50_000);
        assert!(f.fresh(f.age_ms(NOW, NOW + 9_000)));
        assert!(!f.fresh(f.age_ms(NOW, NOW + 10_000)));
    }

    #[test]
    fn no_freshness_without_a_default_and_the_default_otherwise() {
        let plain = h(&[("etag", "\"x\"")]);
        assert_eq!(of(&plain, NOW, None), None);
        assert_eq!(
            of(&plain, NOW, Some(5000)).map(|f| f.lifetime_ms),
            Some(5000)
        );
    }

    #[test]
    fn no_cache_alone_is_stored_with_no_lifetime_and_never_fresh() {
        let f = of(&h(&[("cache-control", "no-cache")]), NOW, None).expect("stored");
        assert_eq!(f.lifetime_ms, 0);
        assert!(!f.fresh(0));
        let long = of(&h(&[("cache-control", "no-cache, max-age=600")]), NOW, None);
        assert!(
            !long.expect("stored").fresh(0),
            "no-cache: always revalidate"
        );
    }

    #[test]
    fn stale_windows_and_must_revalidate() {
        let cc = "max-age=10, stale-while-revalidate=20, stale-if-error=100";
        let f = of(&h(&[("cache-control", cc)]), NOW, None).expect("fresh");
        assert!(f.within_swr(29_999) && !f.within_swr(30_000));
        assert!(f.within_sie(109_999) && !f.within_sie(110_000));
        for strict in ["must-revalidate", "proxy-revalidate"] {
            let cc = format!("{cc}, {strict}");
            let f = of(&h(&[("cache-control", &cc)]), NOW, None).expect("fresh");
            assert!(!f.within_swr(11_000) && !f.within_sie(11_000), "{strict}");
        }
    }
}
