//! Configuration: the TOML file is parsed into raw `File*` structs
//! (`file.rs`), then validated into the typed [`Config`] below
//! (`validate.rs`), collecting every problem at once, each with its key path
//! and line. Everything here is a pure function of the text, so it tests
//! without files.

pub mod acme;
mod file;
mod file_plugin;
mod http3;
pub mod locate;
mod units;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use ipnet::IpNet;

pub use http3::Http3;

pub use file::FileConfig;
pub use locate::Step;

/// A validated configuration: every name resolves, every address parses.
#[derive(Debug)]
pub struct Config {
    pub server: Server,
    pub admin: Option<Admin>,
    pub listeners: Vec<Listener>,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub compression: Compression,
    pub upstreams: BTreeMap<String, Upstream>,
    pub routes: Vec<Route>,
    /// Plugins by name, in name order.
    pub plugins: Vec<ravelin_runtime::PluginSpec>,
    /// The plugins whose `source` is an `oci://` reference, by name: their
    /// spec's `source` is replaced by the cached file when a snapshot is
    /// built.
    pub registry: BTreeMap<String, crate::registry::PluginSource>,
    /// The backend behind plugins' kv imports.
    pub kv: Kv,
    /// The directory relative paths (certificates, plugins) are resolved against.
    pub base_dir: PathBuf,
}

#[derive(Debug)]
pub struct Server {
    /// Worker threads; 0 is one per core.
    pub worker_threads: usize,
    pub scheduler: Scheduler,
    pub access_log: AccessLog,
    pub log_level: String,
    pub trusted_proxies: Vec<IpNet>,
    pub graceful_shutdown: Duration,
    pub via: Option<crate::hygiene::Via>,
    /// Where compiled plugins are cached.
    pub plugin_cache_dir: PathBuf,
    /// Whether paths an origin could read differently are refused.
    pub ambiguous_paths: crate::hygiene::AmbiguousPaths,
    /// Whether request header fields with `_` in their name are forwarded
    /// (by default they are dropped).
    pub underscores_in_headers: bool,
}

impl Server {
    /// The number of worker threads, `0` resolved to the number of cores.
    pub fn workers(&self) -> usize {
        match self.worker_threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        }
    }
}

/// How connections are spread over the worker threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduler {
    /// Each worker a thread with its own runtime, listeners and upstream
    /// pools (see `workers`).
    ThreadPerCore,
    /// One multi-thread tokio runtime whose workers steal each other's tasks.
    WorkStealing,
}

/// The admin listener: where it binds and the bearer token its requests
/// need (required unless it binds a loopback address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub addr: SocketAddr,
    pub token: Option<AdminToken>,
}

/// A bearer token for the admin listener; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(pub String);

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLog {
    Text,
    Json,
    Off,
}

#[derive(Debug)]
pub struct Listener {
    pub name: String,
    pub addr: SocketAddr,
    pub tls: Option<ListenerTls>,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// HTTP/3 on the same port number over UDP (TLS listeners only).
    pub http3: Option<Http3>,
}

/// A TLS listener: its certificates, and whether it asks clients for one.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// At least one unless `acme` is set; the first is the default.
    pub certificates: Vec<Certificate>,
    /// `None`: clients are not asked for a certificate.
    pub client_auth: Option<ClientAuth>,
    /// Certificates from an ACME CA (then `certificates` is empty).
    pub acme: Option<acme::Acme>,
}

/// Client certificates on a listener (mutual TLS): the CA bundle that
/// issues them, and whether one is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// A PEM bundle of the CA certificates client certificates must chain to.
    pub ca: PathBuf,
    pub mode: ClientAuthMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// The handshake fails without a valid client certificate.
    Required,
    /// A client may send none; one it sends must be valid.
    Optional,
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub server_names: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub client_header: Duration,
    pub client_body: Duration,
    pub upstream_response: Duration,
    pub idle_keepalive: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_request_header_bytes: usize,
    pub max_request_body_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct Compression {
    pub enabled: bool,
    /// In the server's order of preference, used to break q-value ties.
    pub algorithms: Vec<Encoding>,
    pub min_size_bytes: u64,
    pub content_types: Vec<String>,
    pub level: async_compression::Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Zstd,
    Brotli,
    Gzip,
}

impl Encoding {
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Zstd => "zstd",
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
    pub balancer: BalancerKind,
    pub protocol: UpstreamProtocol,
    pub tls: Option<UpstreamTls>,
    pub health_check: Option<HealthCheck>,
    pub passive: Passive,
    pub pool: Pool,
    pub retries: Retries,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`, as written.
    pub address: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerKind {
    RoundRobin,
    Weighted,
    LeastConnections,
    IpHash,
    RandomTwoChoices,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamProtocol {
    Http1,
    Http2,
}

#[derive(Debug, Clone)]
pub struct UpstreamTls {
    pub ca: Option<PathBuf>,
    pub server_name: Option<String>,
    pub client_identity: Option<(PathBuf, PathBuf)>,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// Empty means any 2xx or 3xx.
    pub expected_statuses: Vec<u16>,
}

#[derive(Debug, Clone, Copy)]
pub struct Passive {
    /// 0 disables passive ejection.
    pub consecutive_failures: u32,
    pub cooldown: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Pool {
    pub max_idle_per_endpoint: usize,
    pub idle_timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Retries {
    pub attempts: u32,
    pub buffer_bytes: usize,
}

/// `[kv]`: the backend behind plugins' kv imports, chosen at start-up (a
/// reload that changes it is refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kv {
    /// The runtime's memory store: per process, at most this many bytes.
    Memory { capacity_bytes: usize },
    /// Redis, shared by every proxy pointed at it.
    Redis(RedisSettings),
}

/// `[kv]` with `backend = "redis"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisSettings {
    pub url: RedisUrl,
    /// The longest one kv call may take, waiting for a connection included.
    pub timeout: Duration,
    /// Larger values are refused as too large.
    pub max_value_bytes: usize,
    /// Keys are stored as `{key_prefix}:{namespace}:{key}`.
    pub key_prefix: String,
}

/// A `redis://` URL. It may hold a password, so only its address is ever
/// printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    url: String,
    addr: String,
}

impl RedisUrl {
    /// Checks that `text` is a `redis://` URL the client accepts.
    pub fn parse(text: &str) -> Result<Self, String> {
        let example =
            "write it like \"redis://127.0.0.1:6379\" or \"redis://:password@host:6379/0\"";
        if !text.starts_with("redis://") {
            return Err(format!("the URL must start with `redis://`: {example}"));
        }
        let client =
            redis::Client::open(text).map_err(|e| format!("not a Redis URL ({e}): {example}"))?;
        Ok(RedisUrl {
            url: text.to_string(),
            addr: client.get_connection_info().addr().to_string(),
        })
    }

    /// The URL as written.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `host:port`, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.addr)
    }
}

#[derive(Debug)]
pub struct Route {
    /// Shared, so per-request metric labels need no copy.
    pub name: std::sync::Arc<str>,
    pub hosts: Vec<HostMatch>,
    pub path: PathMatch,
    pub methods: Vec<Method>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub upstream: String,
    pub strip_prefix: bool,
    /// Plugin names, in the order their request hooks run.
    pub plugins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    Exact(String),
    /// `*.example.com`, stored as `.example.com`.
    Suffix(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Why a configuration was refused: every problem found, in file order.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub file: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match (p.line, p.key.is_empty()) {
                (Some(line), false) => {
                    write!(f, "{}:{line}: `{}`: {}", self.file, p.key, p.message)?
                }
                (Some(line), true) => write!(f, "{}:{line}: {}", self.file, p.message)?,
                (None, false) => write!(f, "{}: `{}`: {}", self.file, p.key, p.message)?,
                (None, true) => write!(f, "{}: {}", self.file, p.message)?,
            }
        }
        Ok(())
    }
}

impl ConfigError {
    /// Fills in the line of each problem from the configuration text.
    pub fn with_lines(mut self, text: &str) -> Self {
        for problem in &mut self.problems {
            if problem.line.is_none() {
                problem.line = locate::line_of(text, &key_path(&problem.key));
            }
        }
        self.problems.sort_by_key(|p| p.line);
        self
    }

    fn unreadable(file: &Path, error: std::io::Error) -> Self {
        let message = format!("cannot read the file: {error}");
        ConfigError {
            file: file.display().to_string(),
            problems: vec![Problem {
                key: String::new(),
                line: None,
                message,
            }],
        }
    }
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<(Config, String), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::unreadable(path, e))?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok((
            Config::parse(&text, &path.display().to_string(), &base_dir)?,
            text,
        ))
    }

    /// Parses and validates configuration text; `file` names it in errors.
    pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let error = |problems| ConfigError {
            file: file.to_string(),
            problems,
        };
        let raw: FileConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|span| locate::line_at(text, span.start));
            error(vec![Problem {
                key: String::new(),
                line,
                message: e.message().trim().to_string(),
            }])
        })?;
        validate::validate(raw, base_dir).map_err(|problems| error(problems).with_lines(text))
    }

    /// Resolves a path from the file against the file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.base_dir.join(path)
    }
}

/// Splits `routes[2].upstream` into steps.
fn key_path(key: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse().ok()),
            None => (part, None),
        };
        steps.push(Step::Key(name.to_string()));
        steps.extend(index.map(Step::Index));
    }
    steps
}

#[cfg(test)]
mod tests;
