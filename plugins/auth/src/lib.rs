//! `auth`: lets a request through only with a known bearer token or API key,
//! and answers 401 otherwise.
//!
//! ```toml
//! [plugins.auth]
//! source = "plugins/auth.wasm"
//! config = { bearer_tokens = ["s3cret"], api_keys = ["k1"], api_key_header = "x-api-key" }
//! ```
//!
//! - `bearer_tokens`: accepted `Authorization: Bearer <token>` values.
//! - `api_keys`: accepted values of the `api_key_header` header.
//! - `api_key_header` (default `x-api-key`): where API keys are read.
//! - `realm` (default `ravelin`): the realm in `WWW-Authenticate`.
//! - `forward_credentials` (default false): keep the credential headers on
//!   the request sent upstream (by default they are removed).
use ravelin_sdk::{Config, Decision, Plugin, Reply, Request, metrics};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    bearer_tokens: Vec<String>,
    #[serde(default)]
    api_keys: Vec<String>,
    #[serde(default = "default_header")]
    api_key_header: String,
    #[serde(default = "default_realm")]
    realm: String,
    #[serde(default)]
    forward_credentials: bool,
}

fn default_header() -> String {
    "x-api-key".into()
}

fn default_realm() -> String {
    "ravelin".into()
}

/// Compares without an early exit, so timing does not reveal a prefix.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

struct Auth(Settings);

impl Auth {
    fn authorized(&self, req: &Request) -> bool {
        // Header values are compared as the bytes the client sent.
        let bearer = req
            .header("authorization")
            .and_then(|v| v.strip_prefix(b"Bearer ").map(<[u8]>::to_vec))
            .is_some_and(|t| self.0.bearer_tokens.iter().any(|k| same(k.as_bytes(), &t)));
        let key = req
            .header(&self.0.api_key_header)
            .is_some_and(|t| self.0.api_keys.iter().any(|k| same(k.as_bytes(), &t)));
        bearer || key
    }
}

impl Plugin for Auth {
    // No response hooks: the instance goes back to its pool as soon as
    // `on_request` returns.
    fn configure(config: Config) -> Result<Self, String> {
        let s: Settings = config.parse()?;
        if s.bearer_tokens.is_empty() && s.api_keys.is_empty() {
            return Err("no bearer_tokens and no api_keys: every request would be refused".into());
        }
        Ok(Auth(s))
    }

    fn on_request(&mut self, req: &Request) -> Decision {
        if !self.authorized(req) {
            metrics::counter_add("auth_refused", &[], 1);
            let challenge = format!("Bearer realm=\"{}\"", self.0.realm);
            return Reply::text(401, "unauthorized\n")
                .header("www-authenticate", challenge)
                .into();
        }
        if !self.0.forward_credentials {
            req.remove_header("authorization");
            req.remove_header(&self.0.api_key_header);
        }
        Decision::Continue
    }
}

ravelin_sdk::export!(Auth);
