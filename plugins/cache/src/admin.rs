//! The purge endpoint (`purge.path`): `PURGE` or `POST` with `url=/path?q`
//! (exact: every variant of that URL) or `prefix=/path` (every URL under
//! it), and optionally `host=` (default: the request's own). Answered by
//! the plugin, never forwarded; refused with 403 unless the configured
//! token and/or address checks pass.

use crate::fill::failed;
use crate::key;
use crate::kv::Kv;
use crate::purge::{self, PurgeError};
use crate::settings::{Purge, Settings};
use crate::store::Cache;
use ravelin_sdk::{Decision, Reply, Request, log, metrics, now_ms};
use std::net::{IpAddr, SocketAddr};

/// Answers a request to the purge path.
pub fn purge<K: Kv>(cache: &Cache<K>, purge: &Purge, req: &Request) -> Decision {
    let method = req.method();
    if method != "PURGE" && method != "POST" {
        return Reply::text(405, "purge with PURGE or POST\n")
            .header("allow", "PURGE, POST")
            .into();
    }
    let client = req.client_addr().and_then(|a| ip_of(&a));
    if !purge::authorized(purge, req.header_str("authorization").as_deref(), client) {
        metrics::counter_add("purges", &[("result", "refused")], 1);
        log::warn(&format!("cache: purge refused for {client:?}"));
        return Reply::text(403, "forbidden\n").into();
    }
    let query = req.query().unwrap_or_default();
    let host = purge::param(&query, "host").or_else(|| req.authority());
    let settings = cache.settings;
    let (what, done) = match (purge::param(&query, "url"), purge::param(&query, "prefix")) {
        (Some(url), None) if url.starts_with('/') => {
            let key = key::build(&settings.key, host.as_deref(), &url, |n| req.header(n));
            (
                format!("url {}", key.url),
                cache.invalidate(&key.primary).map_err(PurgeError::Kv),
            )
        }
        (None, Some(prefix)) if prefix.starts_with('/') => {
            let prefix = url_prefix(settings, host.as_deref(), &prefix);
            let added = purge::add_prefix(cache.kv, &prefix, now_ms(), settings.max_ttl_ms);
            // An entry that arrived in the purge's own millisecond counts as
            // purged (it may predate the purge); waiting that millisecond
            // out means a fill the client starts after this answer is kept.
            ravelin_sdk::sleep(std::time::Duration::from_millis(2));
            (format!("prefix {prefix}"), added)
        }
        _ => {
            let usage = "give one of url=/path or prefix=/path (percent-encoded)\n";
            return Reply::text(400, usage).into();
        }
    };
    match done {
        Ok(()) => {
            metrics::counter_add("purges", &[("result", "done")], 1);
            log::info(&format!("cache: purged {what}"));
            Reply::text(200, format!("purged {what}\n")).into()
        }
        Err(PurgeError::Full) => Reply::text(503, "too many prefix purges in force\n").into(),
        Err(PurgeError::Contended) => Reply::text(503, "purge list contended, retry\n").into(),
        Err(PurgeError::Kv(e)) => {
            failed("purging", &e);
            Reply::text(503, "cache store unavailable\n").into()
        }
    }
}

/// A prefix in the form entries record their url: with the host when the
/// key has it.
fn url_prefix(settings: &Settings, host: Option<&str>, prefix: &str) -> String {
    match settings.key.host {
        true => format!("{}{prefix}", host.unwrap_or("").to_ascii_lowercase()),
        false => prefix.to_string(),
    }
}

/// The IP of `ip:port` (or `[v6]:port`, or a bare address).
fn ip_of(addr: &str) -> Option<IpAddr> {
    let parsed = addr.parse::<SocketAddr>().map(|a| a.ip());
    parsed.ok().or_else(|| addr.parse().ok())
}
