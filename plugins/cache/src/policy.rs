//! What a shared cache may store and serve (RFC 9111 §3, §4): the
//! request's own directives, and the rules that keep a response out of the
//! cache (status, `no-store`, `private`, `Authorization`, `Set-Cookie`,
//! `Vary: *`, no freshness to go by).

use crate::directives::Directives;
use crate::freshness::{self, Freshness};
use crate::headers::{self, Headers};
use crate::settings::Settings;
use crate::vary;

/// What the request's `Cache-Control` (or `Pragma: no-cache`) asks of us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestRules {
    /// `no-store`: neither served from nor stored in the cache.
    pub no_store: bool,
    /// `no-cache`, or `max-age=N` with a stored age past N: validate first.
    pub no_cache: bool,
    /// `max-age=N`, ms.
    pub max_age_ms: Option<u64>,
    /// `Authorization` is present.
    pub authorization: bool,
    /// `only-if-cached`: answer from the cache or with 504, never upstream.
    pub only_if_cached: bool,
}

impl RequestRules {
    /// The rules of a request with these `Cache-Control` and `Pragma`
    /// values, with or without `Authorization`.
    pub fn new(cache_control: &[String], pragma: &[String], authorization: bool) -> Self {
        let cc = Directives::parse(cache_control);
        let pragma_no_cache = cache_control.is_empty()
            && pragma
                .iter()
                .any(|p| p.to_ascii_lowercase().contains("no-cache"));
        RequestRules {
            no_store: cc.has("no-store"),
            no_cache: cc.has("no-cache") || pragma_no_cache,
            max_age_ms: cc.seconds("max-age").map(|s| s * 1000),
            authorization,
            only_if_cached: cc.has("only-if-cached"),
        }
    }

    /// Whether an entry of `age_ms` with `freshness` may be served as is.
    pub fn serves_fresh(&self, freshness: &Freshness, age_ms: u64) -> bool {
        let within_max_age = self.max_age_ms.is_none_or(|max| age_ms <= max);
        !self.no_cache && within_max_age && freshness.fresh(age_ms)
    }

    /// Whether the request tolerates a stale answer at all.
    pub fn allows_stale(&self) -> bool {
        !self.no_cache && self.max_age_ms.is_none()
    }
}

/// Why a response was not stored (the label of the `not_stored` metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStored {
    Status,
    NoStore,
    Private,
    Authorization,
    SetCookie,
    VaryStar,
    NoFreshness,
}

impl NotStored {
    pub fn label(self) -> &'static str {
        match self {
            NotStored::Status => "status",
            NotStored::NoStore => "no_store",
            NotStored::Private => "private",
            NotStored::Authorization => "authorization",
            NotStored::SetCookie => "set_cookie",
            NotStored::VaryStar => "vary_star",
            NotStored::NoFreshness => "no_freshness",
        }
    }
}

/// The freshness to store a response with, or why it must not be stored.
pub fn storable(
    settings: &Settings,
    request: &RequestRules,
    status: u16,
    response: &Headers,
    now_ms: u64,
) -> Result<Freshness, NotStored> {
    let cc = Directives::parse(&headers::values(response, "cache-control"));
    if !settings.statuses.contains(&status) {
        return Err(NotStored::Status);
    }
    if request.no_store || cc.has("no-store") {
        return Err(NotStored::NoStore);
    }
    if cc.has("private") {
        return Err(NotStored::Private);
    }
    // RFC 9111 §3.5: only what the origin declared shareable.
    let shareable = ["public", "s-maxage", "must-revalidate"];
    if request.authorization && !shareable.iter().any(|d| cc.has(d)) {
        return Err(NotStored::Authorization);
    }
    if !settings.cache_set_cookie && response.iter().any(|(n, _)| n == "set-cookie") {
        return Err(NotStored::SetCookie);
    }
    if vary::names(response).is_none() {
        return Err(NotStored::VaryStar);
    }
    let freshness =
        freshness::of(response, now_ms, settings.default_ttl_ms).ok_or(NotStored::NoFreshness)?;
    let validators = ["etag", "last-modified"];
    let validatable = validators
        .iter()
        .any(|v| headers::first(response, v).is_some());
    if freshness.lifetime_ms <= freshness.initial_age_ms && !validatable {
        // Stale on arrival and impossible to revalidate: useless.
        return Err(NotStored::NoFreshness);
    }
    Ok(freshness)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::FileSettings;

    fn settings(json: &str) -> Settings {
        let file: FileSettings = serde_json::from_str(json).expect("json");
        file.validate().expect("valid")
    }

    fn h(pairs: &[(&str, &str)]) -> Headers {
        let pairs = pairs.iter();
        pairs
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn check(status: u16, pairs: &[(&str, &str)], request: RequestRules) -> Result<u64, NotStored> {
        storable(&settings("{}"), &request, status, &h(pairs), 0).map(|f| f.lifetime_ms)
    }

    const PLAIN: RequestRules = RequestRules {
        no_store: false,
        no_cache: false,
        max_age_ms: None,
        authorization: false,
        only_if_cached: false,
    };

    #[test]
    fn explicit_freshness_on_a_cacheable_status_is_stored() {
        for status in [200, 301, 404] {
            assert_eq!(
                check(status, &[("cache-control", "max-age=5")], PLAIN),
                Ok(5000)
            );
        }
        assert_eq!(
            check(500, &[("cache-control", "max-age=5")], PLAIN),
            Err(NotStored::Status)
        );
        assert_eq!(check(200, &[], PLAIN), Err(NotStored::NoFreshness));
    }

    #[test]
    fn no_store_private_set_cookie_and_vary_star_are_refused() {
        let cc = |v| ("cache-control", v);
        assert_eq!(
            check(200, &[cc("max-age=5, no-store")], PLAIN),
            Err(NotStored::NoStore)
        );
        let no_store = RequestRules {
            no_store: true,
            ..PLAIN
        };
        assert_eq!(
            check(200, &[cc("max-age=5")], no_store),
            Err(NotStored::NoStore)
        );
        assert_eq!(
            check(200, &[cc("private, max-age=5")], PLAIN),
            Err(NotStored::Private)
        );
        let cookie = [cc("max-age=5"), ("set-cookie", "a=b")];
        assert_eq!(check(200, &cookie, PLAIN), Err(NotStored::SetCookie));
        let allowed = settings(r#"{"cache_set_cookie": true}"#);
        assert!(storable(&allowed, &PLAIN, 200, &h(&cookie), 0).is_ok());
        assert_eq!(
            check(200, &[cc("max-age=5"), ("vary", "*")], PLAIN),
            Err(NotStored::VaryStar)
        );
    }

    #[test]
    fn authorization_needs_a_shareable_response() {
        let auth = RequestRules {
            authorization: true,
            ..PLAIN
        };
        let cc = |v| [("cache-control", v)];
        assert_eq!(
            check(200, &cc("max-age=5"), auth),
            Err(NotStored::Authorization)
        );
        for ok in [
            "public, max-age=5",
            "s-maxage=5",
            "max-age=5, must-revalidate",
        ] {
            assert!(check(200, &cc(ok), auth).is_ok(), "{ok}");
        }
    }

    #[test]
    fn stale_on_arrival_is_kept_only_when_it_can_be_revalidated() {
        let old = [("cache-control", "max-age=5"), ("age", "10")];
        assert_eq!(check(200, &old, PLAIN), Err(NotStored::NoFreshness));
        let validatable = [("cache-control", "no-cache"), ("etag", "\"a\"")];
        assert_eq!(check(200, &validatable, PLAIN), Ok(0));
    }

    #[test]
    fn request_directives() {
        let f = Freshness {
            lifetime_ms: 10_000,
            ..Default::default()
        };
        let cc = |v: &str| RequestRules::new(&[v.to_string()], &[], false);
        assert!(cc("").serves_fresh(&f, 5000));
        assert!(!cc("no-cache").serves_fresh(&f, 5000));
        assert!(!cc("max-age=0").serves_fresh(&f, 5000));
        assert!(cc("max-age=6").serves_fresh(&f, 5000));
        assert!(cc("no-store").no_store);
        assert!(cc("only-if-cached").only_if_cached);
        let pragma = RequestRules::new(&[], &["no-cache".into()], false);
        assert!(pragma.no_cache && !pragma.allows_stale());
    }
}
