//! Turns the raw [`FileConfig`] into a typed [`Config`], collecting every
//! problem (with its key path) instead of stopping at the first.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use http::{HeaderName, HeaderValue, Method};
use ipnet::IpNet;

use super::file::*;
use super::file_plugin::{FilePlugin, FileSignatures};
use super::*;
use crate::hygiene::AmbiguousPaths;
use crate::registry::{OciRef, PluginSource, Version};

/// Problems found so far, each with the key it concerns.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            key: key.into(),
            line: None,
            message: message.into(),
        });
    }

    /// Keeps `Ok` values; records `Err` messages under `key`.
    fn check<T>(&mut self, key: impl Into<String>, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(key, message)).ok()
    }
}

pub fn validate(mut raw: FileConfig, base_dir: &Path) -> Result<Config, Vec<Problem>> {
    let mut p = Problems::default();
    let default_signatures = raw.server.plugin_signatures.take();
    let server = server(raw.server, base_dir, &mut p);
    let admin = admin(raw.admin, base_dir, &mut p);
    let listeners = listeners(raw.listeners, &raw.limits, &mut p);
    acme_http01_listeners(&listeners, &mut p);
    let upstreams = upstreams(raw.upstreams, &mut p);
    let (plugins, registry) = plugins(
        raw.plugins,
        &upstreams,
        default_signatures.as_ref(),
        base_dir,
        &mut p,
    );
    let routes = routes(raw.routes, &upstreams, &plugins, &mut p);
    let compression = compression(raw.compression, &mut p);
    let kv = kv(raw.kv, &mut p);
    let t = raw.timeouts;
    let timeouts = Timeouts {
        connect: t.connect.0,
        client_header: t.client_header.0,
        client_body: t.client_body.0,
        upstream_response: t.upstream_response.0,
        idle_keepalive: t.idle_keepalive.0,
    };
    let limits = Limits {
        max_request_header_bytes: raw.limits.max_request_header_bytes,
        max_request_body_bytes: raw.limits.max_request_body_bytes,
    };
    if limits.max_request_header_bytes < 1024 {
        p.add(
            "limits.max_request_header_bytes",
            "must be at least 1024 bytes",
        );
    }
    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(Config {
        server,
        admin,
        listeners,
        timeouts,
        limits,
        compression,
        upstreams,
        routes,
        plugins,
        registry,
        kv,
        base_dir: base_dir.to_path_buf(),
    })
}

fn server(raw: FileServer, base_dir: &Path, p: &mut Problems) -> Server {
    let access_log = match raw.access_log.as_str() {
        "text" => AccessLog::Text,
        "json" => AccessLog::Json,
        "off" => AccessLog::Off,
        other => {
            p.add(
                "server.access_log",
                format!("unknown format `{other}`: use \"text\", \"json\" or \"off\""),
            );
            AccessLog::Off
        }
    };
    let trusted_proxies = raw
        .trusted_proxies
        .iter()
        .filter_map(|cidr| p.check("server.trusted_proxies", cidr_or_ip(cidr)))
        .collect();
    let via = match raw.via.as_str() {
        "" => None,
        pseudonym => p.check("server.via", crate::hygiene::Via::new(pseudonym)),
    };
    let scheduler = match raw.scheduler.as_str() {
        "thread-per-core" => Scheduler::ThreadPerCore,
        "work-stealing" => Scheduler::WorkStealing,
        other => {
            p.add(
                "server.scheduler",
                format!(
                    "unknown scheduler `{other}`: use \"thread-per-core\" or \"work-stealing\""
                ),
            );
            Scheduler::ThreadPerCore
        }
    };
    let ambiguous_paths = match raw.ambiguous_paths.as_str() {
        "reject" => AmbiguousPaths::Reject,
        "keep" => AmbiguousPaths::Keep,
        other => {
            p.add(
                "server.ambiguous_paths",
                format!("unknown policy `{other}`: use \"reject\" or \"keep\""),
            );
            AmbiguousPaths::Reject
        }
    };
    if tracing_subscriber::EnvFilter::try_new(&raw.log_level).is_err() {
        p.add(
            "server.log_level",
            format!(
                "`{}` is not a log filter (try \"info\" or \"ravelin=debug\")",
                raw.log_level
            ),
        );
    }
    Server {
        worker_threads: raw.worker_threads,
        scheduler,
        access_log,
        log_level: raw.log_level,
        trusted_proxies,
        graceful_shutdown: raw.graceful_shutdown.0,
        via,
        plugin_cache_dir: match raw.plugin_cache_dir {
            Some(dir) => base_dir.join(dir),
            None => std::env::temp_dir().join("ravelin-plugin-cache"),
        },
        ambiguous_paths,
        underscores_in_headers: raw.underscores_in_headers,
    }
}

/// The shortest admin token accepted: long enough that guessing it over the
/// network is hopeless.
const MIN_TOKEN_LEN: usize = 16;

fn admin(raw: FileAdmin, base_dir: &Path, p: &mut Problems) -> Option<Admin> {
    let addr = p.check("admin.listen", socket_addr(raw.listen.as_deref()?))?;
    let token = match (raw.token, raw.token_file) {
        (Some(_), Some(_)) => {
            p.add("admin.token", "set `token` or `token_file`, not both");
            None
        }
        (Some(token), None) => p.check("admin.token", admin_token(&token)),
        (None, Some(file)) => {
            let path = base_dir.join(&file);
            let token = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
                .and_then(|text| admin_token(text.trim()));
            p.check("admin.token_file", token)
        }
        (None, None) => {
            if !addr.ip().is_loopback() {
                p.add(
                    "admin.token",
                    format!(
                        "the admin listener binds {addr}, which is not a loopback address: set `admin.token` (or `admin.token_file`) so every admin request needs `Authorization: Bearer <token>`, or listen on 127.0.0.1"
                    ),
                );
            }
            None
        }
    };
    Some(Admin { addr, token })
}

/// A bearer token as RFC 6750 §2.1 spells one (`b64token`), at least
/// [`MIN_TOKEN_LEN`] characters.
fn admin_token(text: &str) -> Result<AdminToken, String> {
    let b64token = text.trim_end_matches('=');
    if !b64token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        return Err("a token may hold only letters, digits and `-._~+/` (then `=` padding)".into());
    }
    if b64token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "a token needs at least {MIN_TOKEN_LEN} characters (try `openssl rand -hex 32`)"
        ));
    }
    Ok(AdminToken(text.to_string()))
}

fn listeners(raw: Vec<FileListener>, limits: &FileLimits, p: &mut Problems) -> Vec<Listener> {
    if raw.is_empty() {
        p.add("listeners", "at least one [[listeners]] entry is needed");
    }
    let mut seen = HashSet::new();
    let mut listeners = Vec::new();
    for (i, l) in raw.into_iter().enumerate() {
        let key = format!("listeners[{i}]");
        let name = l.name.unwrap_or_else(|| format!("listener{i}"));
        if !seen.insert(name.clone()) {
            p.add(
                format!("{key}.name"),
                format!("the name `{name}` is used twice"),
            );
        }
        let Some(addr) = p.check(format!("{key}.listen"), socket_addr(&l.listen)) else {
            continue;
        };
        let http3 = l.http3.and_then(|raw| {
            let checked = super::http3::validate(&format!("{key}.http3"), raw, l.tls.is_some());
            checked
                .map_err(|found| found.into_iter().for_each(|(k, m)| p.add(k, m)))
                .ok()
        });
        let tls = l.tls.map(|tls| listener_tls(&format!("{key}.tls"), tls, p));
        listeners.push(Listener {
            name,
            addr,
            tls,
            max_connections: l.max_connections.unwrap_or(limits.max_connections),
            max_connections_per_ip: l
                .max_connections_per_ip
                .unwrap_or(limits.max_connections_per_ip),
            http3,
        });
    }
    listeners
}

fn listener_tls(key: &str, mut raw: FileServerTls, p: &mut Problems) -> ListenerTls {
    let has_acme = raw.acme.is_some();
    let acme = listener_acme(key, &mut raw, p);
    if raw.certificates.is_empty() && !has_acme {
        p.add(
            format!("{key}.certificates"),
            "a TLS listener needs at least one certificate (or an [acme] table)",
        );
    }
    let certificates = raw
        .certificates
        .into_iter()
        .map(|c| Certificate {
            cert: c.cert,
            key: c.key,
            server_names: c.server_names,
        })
        .collect();
    let client_auth = raw.client_auth.and_then(|auth| {
        let key = format!("{key}.client_auth");
        if auth.ca.as_os_str().is_empty() {
            p.add(
                format!("{key}.ca"),
                "name the PEM bundle of the CAs that issue client certificates",
            );
        }
        let mode = match auth.mode.as_str() {
            "required" => ClientAuthMode::Required,
            "optional" => ClientAuthMode::Optional,
            other => {
                p.add(
                    format!("{key}.mode"),
                    format!("unknown mode `{other}`: use \"required\" or \"optional\""),
                );
                return None;
            }
        };
        Some(ClientAuth { ca: auth.ca, mode })
    });
    ListenerTls {
        certificates,
        client_auth,
        acme,
    }
}

/// `tls.acme`, which stands in for `tls.certificates`.
fn listener_acme(key: &str, raw: &mut FileServerTls, p: &mut Problems) -> Option<acme::Acme> {
    let table = raw.acme.take()?;
    if !raw.certificates.is_empty() {
        p.add(
            format!("{key}.acme"),
            "a listener takes its certificates either from files or from ACME: remove `certificates` or `acme`",
        );
    }
    acme::acme(&format!("{key}.acme"), table, &mut |k, m| p.add(k, m))
}

/// HTTP-01 is answered on plain listeners: at least one must exist.
fn acme_http01_listeners(listeners: &[Listener], p: &mut Problems) {
    let plain = listeners.iter().any(|l| l.tls.is_none());
    for (i, l) in listeners.iter().enumerate() {
        let http01 = l
            .tls
            .as_ref()
            .and_then(|t| t.acme.as_ref())
            .map(|a| a.challenge)
            == Some(acme::Challenge::Http01);
        if http01 && !plain {
            p.add(
                format!("listeners[{i}].tls.acme.challenge"),
                "http-01 is answered on a plain HTTP listener (the CA connects to port 80 of each domain): add one, or use \"tls-alpn-01\"",
            );
        }
    }
}

fn compression(raw: FileCompression, p: &mut Problems) -> Compression {
    let algorithms = raw
        .algorithms
        .iter()
        .filter_map(|a| {
            let encoding = match a.as_str() {
                "zstd" => Ok(Encoding::Zstd),
                "br" => Ok(Encoding::Brotli),
                "gzip" => Ok(Encoding::Gzip),
                other => Err(format!(
                    "unknown algorithm `{other}`: use \"zstd\", \"br\" or \"gzip\""
                )),
            };
            p.check("compression.algorithms", encoding)
        })
        .collect();
    let level = match raw.level.as_str() {
        "fast" => async_compression::Level::Fastest,
        "default" => async_compression::Level::Default,
        "best" => async_compression::Level::Best,
        other => {
            p.add(
                "compression.level",
                format!("unknown level `{other}`: use \"fast\", \"default\" or \"best\""),
            );
            async_compression::Level::Fastest
        }
    };
    Compression {
        enabled: raw.enabled,
        algorithms,
        min_size_bytes: raw.min_size_bytes,
        content_types: raw
            .content_types
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect(),
        level,
    }
}

/// The largest `kv.capacity_mb`: 64 GiB.
const MAX_KV_CAPACITY_MB: u64 = 64 << 10;
/// The largest `kv.timeout_ms`: one minute.
const MAX_KV_TIMEOUT_MS: u64 = 60_000;
/// The largest `kv.max_value_kb`: Redis's own limit, 512 MiB.
const MAX_KV_VALUE_KB: u64 = 512 << 10;
/// The longest `kv.key_prefix`.
const MAX_KV_PREFIX_LEN: usize = 64;

fn kv(raw: FileKv, p: &mut Problems) -> Kv {
    let redis_only = [
        ("url", raw.url.is_some()),
        ("timeout_ms", raw.timeout_ms.is_some()),
        ("max_value_kb", raw.max_value_kb.is_some()),
        ("key_prefix", raw.key_prefix.is_some()),
    ];
    let memory_only = [("capacity_mb", raw.capacity_mb.is_some())];
    let (owner, foreign) = match raw.backend.as_str() {
        "memory" => ("redis", &redis_only[..]),
        "redis" => ("memory", &memory_only[..]),
        other => {
            p.add(
                "kv.backend",
                format!("unknown backend `{other}`: use \"memory\" or \"redis\""),
            );
            ("", &[][..])
        }
    };
    for (key, _) in foreign.iter().filter(|(_, set)| *set) {
        let message = format!(
            "applies only to backend = \"{owner}\", and this one is \"{}\"",
            raw.backend
        );
        p.add(format!("kv.{key}"), message);
    }
    match raw.backend.as_str() {
        // A refused `url` leaves the memory store in its place; the problem
        // is reported, so this configuration is never used.
        "redis" => redis_kv(raw, p).map_or(Kv::Memory { capacity_bytes: 0 }, Kv::Redis),
        _ => memory_kv(raw.capacity_mb, p),
    }
}

fn memory_kv(capacity_mb: Option<u64>, p: &mut Problems) -> Kv {
    let capacity_mb = capacity_mb.unwrap_or(kv_defaults::CAPACITY_MB);
    if !(1..=MAX_KV_CAPACITY_MB).contains(&capacity_mb) {
        p.add(
            "kv.capacity_mb",
            format!("{capacity_mb} MiB is outside 1..={MAX_KV_CAPACITY_MB}"),
        );
    }
    Kv::Memory {
        capacity_bytes: (capacity_mb.min(MAX_KV_CAPACITY_MB) << 20) as usize,
    }
}

fn redis_kv(raw: FileKv, p: &mut Problems) -> Option<RedisSettings> {
    let url = match raw.url {
        Some(url) => p.check("kv.url", RedisUrl::parse(&url)),
        None => {
            p.add(
                "kv.url",
                "backend = \"redis\" needs `url`, like \"redis://127.0.0.1:6379\"",
            );
            None
        }
    };
    let timeout_ms = raw.timeout_ms.unwrap_or(kv_defaults::TIMEOUT_MS);
    if !(1..=MAX_KV_TIMEOUT_MS).contains(&timeout_ms) {
        p.add(
            "kv.timeout_ms",
            format!("{timeout_ms} ms is outside 1..={MAX_KV_TIMEOUT_MS}"),
        );
    }
    let max_value_kb = raw.max_value_kb.unwrap_or(kv_defaults::MAX_VALUE_KB);
    if !(1..=MAX_KV_VALUE_KB).contains(&max_value_kb) {
        p.add(
            "kv.max_value_kb",
            format!(
                "{max_value_kb} KiB is outside 1..={MAX_KV_VALUE_KB} (Redis's limit is 512 MiB)"
            ),
        );
    }
    let key_prefix = raw
        .key_prefix
        .unwrap_or_else(|| kv_defaults::KEY_PREFIX.to_string());
    let prefix_ok = (1..=MAX_KV_PREFIX_LEN).contains(&key_prefix.len())
        && key_prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !prefix_ok {
        p.add(
            "kv.key_prefix",
            format!("`{key_prefix}` is not a key prefix: use 1 to {MAX_KV_PREFIX_LEN} letters, digits, `-`, `_` or `.`"),
        );
    }
    Some(RedisSettings {
        url: url?,
        timeout: Duration::from_millis(timeout_ms),
        max_value_bytes: (max_value_kb.min(MAX_KV_VALUE_KB) << 10) as usize,
        key_prefix,
    })
}

fn upstreams(raw: BTreeMap<String, FileUpstream>, p: &mut Problems) -> BTreeMap<String, Upstream> {
    let mut upstreams = BTreeMap::new();
    for (name, u) in raw {
        let key = format!("upstreams.{name}");
        if !is_name(&name) {
            p.add(
                &key,
                "upstream names may hold only letters, digits, `-` and `_`",
            );
        }
        if let Some(upstream) = upstream(&key, name.clone(), u, p) {
            upstreams.insert(name, upstream);
        }
    }
    upstreams
}

fn upstream(key: &str, name: String, u: FileUpstream, p: &mut Problems) -> Option<Upstream> {
    if u.endpoints.is_empty() {
        p.add(
            format!("{key}.endpoints"),
            "an upstream needs at least one endpoint",
        );
    }
    let endpoints = u
        .endpoints
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let address = p.check(
                format!("{key}.endpoints[{i}].address"),
                host_port(&e.address),
            )?;
            if e.weight == 0 {
                p.add(
                    format!("{key}.endpoints[{i}].weight"),
                    "weight must be at least 1",
                );
            }
            Some(Endpoint {
                address,
                weight: e.weight,
            })
        })
        .collect();
    let balancer = match u.balancer.as_str() {
        "round_robin" => BalancerKind::RoundRobin,
        "weighted" => BalancerKind::Weighted,
        "least_connections" => BalancerKind::LeastConnections,
        "ip_hash" => BalancerKind::IpHash,
        "random_two_choices" => BalancerKind::RandomTwoChoices,
        other => {
            p.add(
                format!("{key}.balancer"),
                format!("unknown balancer `{other}`: use round_robin, weighted, least_connections, ip_hash or random_two_choices"),
            );
            return None;
        }
    };
    let protocol = match u.protocol.as_str() {
        "http1" => UpstreamProtocol::Http1,
        "http2" => UpstreamProtocol::Http2,
        other => {
            p.add(
                format!("{key}.protocol"),
                format!("unknown protocol `{other}`: use \"http1\" or \"http2\""),
            );
            return None;
        }
    };
    let tls = u.tls.map(|t| {
        let client_identity = match (t.client_cert, t.client_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                p.add(
                    format!("{key}.tls"),
                    "client_cert and client_key go together: set both or neither",
                );
                None
            }
        };
        UpstreamTls {
            ca: t.ca,
            server_name: t.server_name,
            client_identity,
        }
    });
    let health_check = u
        .health_check
        .map(|h| health_check(&format!("{key}.health_check"), h, p));
    Some(Upstream {
        name,
        endpoints,
        balancer,
        protocol,
        tls,
        health_check,
        passive: Passive {
            consecutive_failures: u.passive.consecutive_failures,
            cooldown: u.passive.cooldown.0,
        },
        pool: Pool {
            max_idle_per_endpoint: u.pool.max_idle_per_endpoint,
            idle_timeout: u.pool.idle_timeout.0,
        },
        retries: Retries {
            attempts: u.retries.attempts,
            buffer_bytes: u.retries.buffer_bytes,
        },
    })
}

fn health_check(key: &str, h: FileHealthCheck, p: &mut Problems) -> HealthCheck {
    if !h.path.starts_with('/') {
        p.add(
            format!("{key}.path"),
            "the health-check path must start with `/`",
        );
    }
    if h.healthy_threshold == 0 || h.unhealthy_threshold == 0 {
        p.add(
            key,
            "healthy_threshold and unhealthy_threshold must be at least 1",
        );
    }
    if h.interval.0.is_zero() || h.timeout.0.is_zero() {
        p.add(key, "interval and timeout must be longer than zero");
    }
    for status in &h.expected_statuses {
        if !(100..=599).contains(status) {
            p.add(
                format!("{key}.expected_statuses"),
                format!("{status} is not an HTTP status"),
            );
        }
    }
    HealthCheck {
        path: h.path,
        interval: h.interval.0,
        timeout: h.timeout.0,
        healthy_threshold: h.healthy_threshold,
        unhealthy_threshold: h.unhealthy_threshold,
        expected_statuses: h.expected_statuses,
    }
}

fn plugins(
    raw: BTreeMap<String, FilePlugin>,
    upstreams: &BTreeMap<String, Upstream>,
    default_signatures: Option<&FileSignatures>,
    base_dir: &Path,
    p: &mut Problems,
) -> (
    Vec<ravelin_runtime::PluginSpec>,
    BTreeMap<String, PluginSource>,
) {
    let mut specs = Vec::new();
    let mut sources = BTreeMap::new();
    for (name, file) in raw {
        let key = format!("plugins.{name}");
        if !is_name(&name) {
            p.add(
                &key,
                "plugin names may hold only letters, digits, `-` and `_`",
            );
        }
        for (i, upstream) in file.spec.allowed_upstreams.iter().enumerate() {
            if !upstreams.contains_key(upstream) {
                let message = format!("no upstream is named `{upstream}`");
                p.add(format!("{key}.allowed_upstreams[{i}]"), message);
            }
        }
        let source = registry_source(&key, &file, default_signatures, base_dir, p);
        if let Some(mut spec) = p.check(&key, file.spec.into_spec(&name, base_dir)) {
            if let Some(source) = source {
                // Replaced by the cached file when the snapshot is built.
                spec.source = format!("oci://{}", source.reference).into();
                sources.insert(name, source);
            }
            specs.push(spec);
        }
    }
    (specs, sources)
}

/// The registry reference of a plugin whose `source` is `oci://…`, with
/// its `refresh` and `insecure` settings (which need one).
fn registry_source(
    key: &str,
    file: &FilePlugin,
    default_signatures: Option<&FileSignatures>,
    base_dir: &Path,
    p: &mut Problems,
) -> Option<PluginSource> {
    let text = file.spec.source.to_string_lossy();
    if !text.starts_with("oci://") {
        if file.refresh.is_some() || file.insecure.is_some() || file.signatures.is_some() {
            let message = "refresh, insecure and signatures apply only to an oci:// source";
            p.add(format!("{key}.source"), message);
        }
        return None;
    }
    let reference = p.check(format!("{key}.source"), OciRef::parse_source(&text))?;
    let refresh = file.refresh.map(|d| d.0);
    match (&reference.version, refresh) {
        (Version::Digest(_), Some(_)) => {
            let message = "a digest pin never changes: refresh applies to a tag";
            p.add(format!("{key}.refresh"), message);
        }
        (_, Some(every)) if every < std::time::Duration::from_secs(1) => {
            p.add(format!("{key}.refresh"), "must be at least 1s");
        }
        _ => {}
    }
    Some(PluginSource {
        reference,
        refresh,
        insecure: file.insecure.unwrap_or(false),
        signatures: match &file.signatures {
            Some(own) => trusted_keys(&format!("{key}.signatures"), own, base_dir, p),
            None => default_signatures
                .and_then(|policy| trusted_keys("server.plugin_signatures", policy, base_dir, p)),
        },
    })
}

/// The keys of a signature policy (`key` names it in problems), read now;
/// none when the policy does not require signatures.
fn trusted_keys(
    key: &str,
    signatures: &FileSignatures,
    base_dir: &Path,
    p: &mut Problems,
) -> Option<Vec<crate::registry::signature::TrustedKey>> {
    if !signatures.required {
        return None;
    }
    if signatures.keys.is_empty() {
        let message = "required signatures need at least one public key in keys";
        p.add(format!("{key}.keys"), message);
    }
    let keys = signatures.keys.iter().enumerate().filter_map(|(i, path)| {
        let read = crate::registry::signature::read_public_key(&base_dir.join(path));
        p.check(format!("{key}.keys[{i}]"), read)
    });
    Some(keys.collect())
}

fn routes(
    raw: Vec<FileRoute>,
    upstreams: &BTreeMap<String, Upstream>,
    plugins: &[ravelin_runtime::PluginSpec],
    p: &mut Problems,
) -> Vec<Route> {
    let mut routes = Vec::new();
    for (i, r) in raw.into_iter().enumerate() {
        let key = format!("routes[{i}]");
        if !upstreams.contains_key(&r.upstream) {
            p.add(
                format!("{key}.upstream"),
                format!("no upstream is named `{}`", r.upstream),
            );
        }
        for name in &r.plugins {
            if !plugins.iter().any(|spec| spec.name == *name) {
                p.add(
                    format!("{key}.plugins"),
                    format!("no plugin is named `{name}`"),
                );
            }
        }
        let path = match (r.path, r.path_prefix) {
            (Some(_), Some(_)) => {
                p.add(&key, "set `path` or `path_prefix`, not both");
                continue;
            }
            (Some(exact), None) => PathMatch::Exact(exact),
            (None, Some(prefix)) => PathMatch::Prefix(prefix),
            (None, None) => PathMatch::Prefix("/".into()),
        };
        if let PathMatch::Exact(path) | PathMatch::Prefix(path) = &path
            && !path.starts_with('/')
        {
            p.add(&key, format!("the path `{path}` must start with `/`"));
        }
        let hosts = r
            .hosts
            .iter()
            .filter_map(|h| p.check(format!("{key}.hosts"), host_match(h)))
            .collect();
        let methods = r
            .methods
            .iter()
            .filter_map(|m| {
                p.check(
                    format!("{key}.methods"),
                    Method::from_str(m).map_err(|_| format!("`{m}` is not a method")),
                )
            })
            .collect();
        let headers = r
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let name = HeaderName::from_str(name)
                    .map_err(|_| format!("`{name}` is not a header name"));
                let name = p.check(format!("{key}.headers"), name)?;
                Some((
                    name,
                    p.check(format!("{key}.headers"), header_value(value))?,
                ))
            })
            .collect();
        routes.push(Route {
            name: r.name.unwrap_or_else(|| format!("route{i}")).into(),
            hosts,
            path,
            methods,
            headers,
            upstream: r.upstream,
            strip_prefix: r.strip_prefix,
            plugins: r.plugins,
        });
    }
    routes
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!(
            "`{text}` is not an address: write IP:PORT, like \"127.0.0.1:8080\" or \"[::]:443\""
        )
    })
}

fn host_port(text: &str) -> Result<String, String> {
    let authority: http::uri::Authority = text.parse().map_err(|_| {
        format!("`{text}` is not an endpoint: write HOST:PORT, like \"10.0.0.5:8080\"")
    })?;
    if authority.port_u16().is_none() || authority.as_str().contains('@') {
        return Err(format!(
            "`{text}` is not an endpoint: write HOST:PORT, like \"10.0.0.5:8080\""
        ));
    }
    Ok(authority.as_str().to_string())
}

fn cidr_or_ip(text: &str) -> Result<IpNet, String> {
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not a CIDR or IP address"))
}

fn header_value(text: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(text).map_err(|_| format!("`{text}` cannot be a header value"))
}

fn host_match(text: &str) -> Result<HostMatch, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(suffix) = lower.strip_prefix("*.") {
        if suffix.is_empty() || suffix.contains('*') {
            return Err(format!(
                "`{text}` is not a wildcard host: write `*.example.com`"
            ));
        }
        return Ok(HostMatch::Suffix(format!(".{suffix}")));
    }
    if lower.is_empty() || lower.contains('*') || lower.contains('/') {
        return Err(format!(
            "`{text}` is not a host: write `example.com` or `*.example.com`"
        ));
    }
    Ok(HostMatch::Exact(lower))
}
