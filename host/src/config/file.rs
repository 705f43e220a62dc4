//! The configuration file as written: raw serde structs, one per TOML table,
//! with `deny_unknown_fields` so a typo fails at load. Defaults live here;
//! cross-field checks live in `validate.rs`. Every key is documented in
//! `docs/configuration.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::units::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub server: FileServer,
    #[serde(default)]
    pub admin: FileAdmin,
    #[serde(default)]
    pub listeners: Vec<FileListener>,
    #[serde(default)]
    pub timeouts: FileTimeouts,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub compression: FileCompression,
    #[serde(default)]
    pub upstreams: BTreeMap<String, FileUpstream>,
    #[serde(default)]
    pub routes: Vec<FileRoute>,
    #[serde(default)]
    pub plugins: BTreeMap<String, super::file_plugin::FilePlugin>,
    #[serde(default)]
    pub kv: FileKv,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileServer {
    pub worker_threads: usize,
    pub scheduler: String,
    pub access_log: String,
    pub log_level: String,
    pub trusted_proxies: Vec<String>,
    pub graceful_shutdown: Duration,
    pub via: String,
    pub plugin_cache_dir: Option<PathBuf>,
    /// The signature policy of every `oci://` plugin without its own.
    pub plugin_signatures: Option<super::file_plugin::FileSignatures>,
    pub ambiguous_paths: String,
    pub underscores_in_headers: bool,
}

impl Default for FileServer {
    fn default() -> Self {
        Self {
            worker_threads: 0,
            scheduler: "thread-per-core".into(),
            access_log: "text".into(),
            log_level: "info".into(),
            trusted_proxies: Vec::new(),
            graceful_shutdown: Duration::secs(30),
            via: "ravelin".into(),
            plugin_cache_dir: None,
            plugin_signatures: None,
            ambiguous_paths: "reject".into(),
            underscores_in_headers: false,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileAdmin {
    pub listen: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

impl Default for FileAdmin {
    fn default() -> Self {
        Self {
            listen: Some("127.0.0.1:9901".into()),
            token: None,
            token_file: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileListener {
    pub name: Option<String>,
    pub listen: String,
    pub tls: Option<FileServerTls>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub http3: Option<super::http3::FileHttp3>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServerTls {
    #[serde(default)]
    pub certificates: Vec<FileCertificate>,
    pub client_auth: Option<FileClientAuth>,
    /// Certificates from an ACME CA instead of files.
    pub acme: Option<super::acme::FileAcme>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileClientAuth {
    pub ca: PathBuf,
    #[serde(default = "default_client_auth_mode")]
    pub mode: String,
}

fn default_client_auth_mode() -> String {
    "required".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCertificate {
    pub cert: PathBuf,
    pub key: PathBuf,
    #[serde(default)]
    pub server_names: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileTimeouts {
    pub connect: Duration,
    pub client_header: Duration,
    pub client_body: Duration,
    pub upstream_response: Duration,
    pub idle_keepalive: Duration,
}

impl Default for FileTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::secs(5),
            client_header: Duration::secs(10),
            client_body: Duration::secs(30),
            upstream_response: Duration::secs(60),
            idle_keepalive: Duration::secs(75),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileLimits {
    pub max_request_header_bytes: usize,
    pub max_request_body_bytes: u64,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_request_header_bytes: 64 * 1024,
            max_request_body_bytes: 10 * 1024 * 1024,
            max_connections: 10_000,
            max_connections_per_ip: 1_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileCompression {
    pub enabled: bool,
    pub algorithms: Vec<String>,
    pub min_size_bytes: u64,
    pub content_types: Vec<String>,
    pub level: String,
}

impl Default for FileCompression {
    fn default() -> Self {
        Self {
            enabled: true,
            algorithms: vec!["zstd".into(), "br".into(), "gzip".into()],
            min_size_bytes: 1024,
            content_types: [
                "text/*",
                "application/json",
                "application/javascript",
                "application/xml",
                "image/svg+xml",
            ]
            .map(String::from)
            .to_vec(),
            level: "fast".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUpstream {
    pub endpoints: Vec<FileEndpoint>,
    #[serde(default = "default_balancer")]
    pub balancer: String,
    #[serde(default = "default_protocol")]
    pub protocol: String,
    pub tls: Option<FileUpstreamTls>,
    pub health_check: Option<FileHealthCheck>,
    #[serde(default)]
    pub passive: FilePassive,
    #[serde(default)]
    pub pool: FilePool,
    #[serde(default)]
    pub retries: FileRetries,
}

fn default_balancer() -> String {
    "round_robin".into()
}

fn default_protocol() -> String {
    "http1".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEndpoint {
    pub address: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_weight() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUpstreamTls {
    pub ca: Option<PathBuf>,
    pub server_name: Option<String>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileHealthCheck {
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub expected_statuses: Vec<u16>,
}

impl Default for FileHealthCheck {
    fn default() -> Self {
        Self {
            path: "/".into(),
            interval: Duration::secs(5),
            timeout: Duration::secs(2),
            healthy_threshold: 2,
            unhealthy_threshold: 3,
            expected_statuses: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilePassive {
    pub consecutive_failures: u32,
    pub cooldown: Duration,
}

impl Default for FilePassive {
    fn default() -> Self {
        Self {
            consecutive_failures: 5,
            cooldown: Duration::secs(30),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilePool {
    pub max_idle_per_endpoint: usize,
    pub idle_timeout: Duration,
}

impl Default for FilePool {
    fn default() -> Self {
        Self {
            max_idle_per_endpoint: 64,
            idle_timeout: Duration::secs(90),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileRetries {
    pub attempts: u32,
    pub buffer_bytes: usize,
}

impl Default for FileRetries {
    fn default() -> Self {
        Self {
            attempts: 2,
            buffer_bytes: 64 * 1024,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRoute {
    pub name: Option<String>,
    #[serde(default)]
    pub hosts: Vec<String>,
    pub path: Option<String>,
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub upstream: String,
    #[serde(default)]
    pub strip_prefix: bool,
    #[serde(default)]
    pub plugins: Vec<String>,
}

/// `[kv]`. The keys after `backend` belong to one backend each, so they are
/// optional here: `validate.rs` refuses those of the other backend and fills
/// in the [`kv_defaults`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileKv {
    pub backend: String,
    /// Memory only.
    pub capacity_mb: Option<u64>,
    /// Redis only, required there.
    pub url: Option<String>,
    /// Redis only.
    pub timeout_ms: Option<u64>,
    /// Redis only.
    pub max_value_kb: Option<u64>,
    /// Redis only.
    pub key_prefix: Option<String>,
}

impl Default for FileKv {
    fn default() -> Self {
        Self {
            backend: "memory".into(),
            capacity_mb: None,
            url: None,
            timeout_ms: None,
            max_value_kb: None,
            key_prefix: None,
        }
    }
}

/// Defaults of the backend-specific `[kv]` keys.
pub mod kv_defaults {
    pub const CAPACITY_MB: u64 = 64;
    pub const TIMEOUT_MS: u64 = 50;
    pub const MAX_VALUE_KB: u64 = 1024;
    pub const KEY_PREFIX: &str = "ravelin";
}
