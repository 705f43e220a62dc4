//! Chooses the route for a request: host (exact, then the longest
//! `*.wildcard`, then routes without hosts), then path (exact before prefix,
//! longer prefix first), then method and header constraints (more
//! constraints first); a remaining tie goes to the route written first.

use http::HeaderMap;
use http::Method;

use crate::config::{HostMatch, PathMatch, Route};

/// The routes of one config snapshot, in file order.
pub struct Router {
    routes: Vec<Route>,
}

/// How specific a route's match is; the greatest wins.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    host: usize,
    exact_path: bool,
    path_len: usize,
    constraints: usize,
}

impl Router {
    pub fn new(routes: Vec<Route>) -> Self {
        Self { routes }
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The best route for a request, by index into [`Self::routes`].
    /// `host` is lowercase without port; `path` is normalised.
    pub fn find(
        &self,
        host: &str,
        path: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Option<usize> {
        let mut best: Option<(Rank, usize)> = None;
        for (index, route) in self.routes.iter().enumerate() {
            let Some(rank) = rank(route, host, path, method, headers) else {
                continue;
            };
            if best.as_ref().is_none_or(|(top, _)| rank > *top) {
                best = Some((rank, index));
            }
        }
        best.map(|(_, index)| index)
    }
}

fn rank(
    route: &Route,
    host: &str,
    path: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Option<Rank> {
    let host = host_rank(&route.hosts, host)?;
    let (exact_path, path_len) = match &route.path {
        PathMatch::Exact(exact) => (exact == path).then_some((true, exact.len()))?,
        PathMatch::Prefix(prefix) => {
            prefix_matches(prefix, path).then_some((false, prefix.len()))?
        }
    };
    if !route.methods.is_empty() && !route.methods.contains(method) {
        return None;
    }
    if !route
        .headers
        .iter()
        .all(|(name, value)| headers.get_all(name).iter().any(|v| v == value))
    {
        return None;
    }
    let constraints = usize::from(!route.methods.is_empty()) + route.headers.len();
    Some(Rank {
        host,
        exact_path,
        path_len,
        constraints,
    })
}

/// 0 for a route without hosts; an exact match outranks every wildcard; a
/// longer wildcard suffix outranks a shorter one.
fn host_rank(hosts: &[HostMatch], host: &str) -> Option<usize> {
    if hosts.is_empty() {
        return Some(0);
    }
    hosts
        .iter()
        .filter_map(|m| match m {
            HostMatch::Exact(exact) => (exact == host).then_some(usize::MAX),
            HostMatch::Suffix(suffix) => {
                host.ends_with(suffix.as_str()).then_some(1 + suffix.len())
            }
        })
        .max()
}

/// Prefixes match whole segments: `/api` matches `/api` and `/api/v1`, not
/// `/apix`; a prefix ending in `/` matches anything below it.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn router(routes: &str) -> Router {
        let text = format!(
            "[[listeners]]\nlisten = \"127.0.0.1:1\"\n[upstreams.u]\nendpoints = [{{ address = \"127.0.0.1:2\" }}]\n{routes}"
        );
        let config = Config::parse(&text, "t", std::path::Path::new(".")).unwrap();
        Router::new(config.routes)
    }

    fn name(
        router: &Router,
        host: &str,
        path: &str,
        method: Method,
        headers: &[(&str, &str)],
    ) -> Option<String> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        router
            .find(host, path, &method, &map)
            .map(|i| router.routes()[i].name.to_string())
    }

    const ROUTES: &str = r#"
[[routes]]
name = "any"
upstream = "u"
[[routes]]
name = "wild"
hosts = ["*.example.com"]
upstream = "u"
[[routes]]
name = "deep-wild"
hosts = ["*.api.example.com"]
upstream = "u"
[[routes]]
name = "exact-host"
hosts = ["www.example.com"]
upstream = "u"
[[routes]]
name = "api-prefix"
hosts = ["www.example.com"]
path_prefix = "/api"
upstream = "u"
[[routes]]
name = "api-exact"
hosts = ["www.example.com"]
path = "/api/login"
upstream = "u"
[[routes]]
name = "api-post"
hosts = ["www.example.com"]
path_prefix = "/api"
methods = ["POST"]
upstream = "u"
[[routes]]
name = "canary"
hosts = ["www.example.com"]
path_prefix = "/api"
headers = { x-canary = "1" }
upstream = "u"
"#;

    #[test]
    fn host_precedence_exact_then_longest_wildcard_then_any() {
        let r = router(ROUTES);
        assert_eq!(
            name(&r, "www.example.com", "/", Method::GET, &[]).as_deref(),
            Some("exact-host")
        );
        assert_eq!(
            name(&r, "v1.api.example.com", "/", Method::GET, &[]).as_deref(),
            Some("deep-wild")
        );
        assert_eq!(
            name(&r, "shop.example.com", "/", Method::GET, &[]).as_deref(),
            Some("wild")
        );
        assert_eq!(
            name(&r, "example.com", "/", Method::GET, &[]).as_deref(),
            Some("any")
        );
        assert_eq!(
            name(&r, "other.org", "/x", Method::GET, &[]).as_deref(),
            Some("any")
        );
    }

    #[test]
    fn path_precedence_exact_then_longest_prefix_by_segment() {
        let r = router(ROUTES);
        assert_eq!(
            name(&r, "www.example.com", "/api/login", Method::GET, &[]).as_deref(),
            Some("api-exact")
        );
        assert_eq!(
            name(&r, "www.example.com", "/api/users", Method::GET, &[]).as_deref(),
            Some("api-prefix")
        );
        assert_eq!(
            name(&r, "www.example.com", "/api", Method::GET, &[]).as_deref(),
            Some("api-prefix")
        );
        assert_eq!(
            name(&r, "www.example.com", "/apix", Method::GET, &[]).as_deref(),
            Some("exact-host")
        );
    }

    #[test]
    fn method_and_header_constraints_refine_a_tie() {
        let r = router(ROUTES);
        assert_eq!(
            name(&r, "www.example.com", "/api/x", Method::POST, &[]).as_deref(),
            Some("api-post")
        );
        assert_eq!(
            name(
                &r,
                "www.example.com",
                "/api/x",
                Method::GET,
                &[("x-canary", "1")]
            )
            .as_deref(),
            Some("canary")
        );
        assert_eq!(
            name(
                &r,
                "www.example.com",
                "/api/x",
                Method::GET,
                &[("x-canary", "0")]
            )
            .as_deref(),
            Some("api-prefix")
        );
    }

    #[test]
    fn no_route_when_nothing_matches() {
        let r = router("[[routes]]\nhosts = [\"a.com\"]\nupstream = \"u\"\n");
        assert_eq!(name(&r, "b.com", "/", Method::GET, &[]), None);
    }
}
