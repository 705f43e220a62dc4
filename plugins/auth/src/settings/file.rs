//! The configuration as written: serde structs that refuse unknown keys,
//! with the defaults of every key. [`super::validate`] checks them.

use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    #[serde(default = "default_realm")]
    pub realm: String,
    #[serde(default)]
    pub forward_credentials: bool,
    #[serde(default)]
    pub bearer_tokens: Vec<String>,
    /// Filled by `secret_files`: PEM key(s), a JWK or a JWKS.
    pub jwt_key: Option<String>,
    /// Filled by `secret_files`: an HMAC secret.
    pub jwt_hmac_secret: Option<String>,
    /// Filled by `secret_files`: htpasswd lines.
    pub htpasswd: Option<String>,
    pub jwt: Option<FileJwt>,
    pub api_keys: Option<FileApiKeys>,
    pub basic: Option<FileBasic>,
    pub forward_auth: Option<FileForward>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FileJwt {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub hmac_secrets: Vec<String>,
    pub algorithms: Option<Vec<String>>,
    pub jwks: Option<FileJwks>,
    pub issuer: Option<OneOrMany>,
    pub audience: Option<OneOrMany>,
    #[serde(default = "default_leeway")]
    pub leeway_s: u64,
    #[serde(default)]
    pub required_claims: Vec<String>,
    #[serde(default = "yes")]
    pub require_exp: bool,
    #[serde(default)]
    pub claims_to_headers: BTreeMap<String, String>,
    #[serde(default)]
    pub claims_to_attributes: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJwks {
    pub cluster: String,
    pub path: String,
    #[serde(default = "default_jwks_timeout")]
    pub timeout_ms: u64,
    #[serde(default = "default_cache_s")]
    pub cache_s: u64,
    #[serde(default = "default_min_cache_s")]
    pub min_cache_s: u64,
    #[serde(default = "default_max_cache_s")]
    pub max_cache_s: u64,
    #[serde(default = "default_unknown_kid_s")]
    pub unknown_kid_refetch_s: u64,
    #[serde(default = "default_failure_backoff")]
    pub failure_backoff_ms: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileApiKeys {
    #[serde(default = "default_api_header")]
    pub header: String,
    pub query: Option<String>,
    pub keys: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBasic {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default = "default_basic_cache")]
    pub cache_ttl_s: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileForward {
    pub cluster: String,
    pub path: String,
    #[serde(default = "default_forward_timeout")]
    pub timeout_ms: u64,
    #[serde(default = "default_request_headers")]
    pub request_headers: Vec<String>,
    #[serde(default)]
    pub copy_headers: Vec<String>,
    #[serde(default = "default_relay_headers")]
    pub relay_headers: Vec<String>,
    #[serde(default = "default_unavailable")]
    pub unavailable_status: u16,
}

pub fn default_realm() -> String {
    "ravelin".into()
}
pub fn default_leeway() -> u64 {
    60
}
pub fn yes() -> bool {
    true
}
pub fn default_jwks_timeout() -> u64 {
    2000
}
pub fn default_cache_s() -> u64 {
    300
}
pub fn default_min_cache_s() -> u64 {
    60
}
pub fn default_max_cache_s() -> u64 {
    86_400
}
pub fn default_unknown_kid_s() -> u64 {
    60
}
pub fn default_failure_backoff() -> u64 {
    5000
}
pub fn default_api_header() -> String {
    "x-api-key".into()
}
pub fn default_basic_cache() -> u64 {
    300
}
pub fn default_forward_timeout() -> u64 {
    1000
}
pub fn default_request_headers() -> Vec<String> {
    vec!["authorization".into(), "cookie".into()]
}
pub fn default_relay_headers() -> Vec<String> {
    ["www-authenticate", "location", "set-cookie", "content-type"]
        .map(String::from)
        .to_vec()
}
pub fn default_unavailable() -> u16 {
    503
}
