//! Helpers for the auth plugin's end-to-end tests: configs running `auth`
//! (optionally with more plugins and upstream clusters), requests with
//! headers, and an identity provider serving a JWKS whose fetches it
//! counts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;

use crate::Proxy;
use crate::client::{Answer, HttpsClient, send};
use crate::origin::{Origin, respond};
use crate::proxy::plugin_chain_config;

/// A config whose one route runs `chain` of `tables` in front of `origin`,
/// with `extra` tables (clusters) after it.
pub fn config(origin: &Origin, tables: &str, chain: &[&str], extra: &str) -> String {
    format!(
        "{}\n{extra}",
        plugin_chain_config(origin.addr, tables, chain)
    )
}

/// The `[plugins.auth]` table of component `source`: `settings` are TOML
/// lines for the table itself (`allowed_upstreams`, `secret_files`,
/// `deadline_ms`), `config` the body of `[plugins.auth.config]` (which may
/// open sub-tables `[plugins.auth.config.jwt]` and so on).
pub fn auth_table(source: &str, settings: &str, config: &str) -> String {
    format!("[plugins.auth]\nsource = \"{source}\"\n{settings}\n[plugins.auth.config]\n{config}\n")
}

/// A proxy running `auth` (component `source`) alone in front of
/// `origin`, with `settings` and
/// `config` as for [`auth_table`].
pub fn start(source: &str, origin: &Origin, settings: &str, config_body: &str) -> Proxy {
    let tables = auth_table(source, settings, config_body);
    Proxy::start(&config(origin, &tables, &["auth"], ""))
}

/// The `WWW-Authenticate` of `answer` (the first), or "".
pub fn www(answer: &Answer) -> String {
    answer
        .header("www-authenticate")
        .unwrap_or_default()
        .to_string()
}

/// An `[upstreams.NAME]` table for one endpoint.
pub fn cluster(name: &str, addr: impl std::fmt::Display) -> String {
    format!("[upstreams.{name}]\nendpoints = [{{ address = \"{addr}\" }}]\n")
}

/// GETs `url` with `headers`.
pub async fn get(c: &HttpsClient, url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(c, request.body(Full::new(Bytes::new())).expect("request"))
        .await
        .expect("an answer")
}

/// GETs `url` with `Authorization: Bearer token`.
pub async fn bearer(c: &HttpsClient, url: &str, token: &str) -> Answer {
    get(c, url, &[("authorization", &format!("Bearer {token}"))]).await
}

/// An identity provider serving a JWKS that tests may swap, with a
/// `Cache-Control` and a delay per answer.
pub struct Idp {
    pub origin: Origin,
    jwks: Arc<Mutex<String>>,
}

impl Idp {
    pub async fn start(jwks: String, cache_control: &'static str, delay: Duration) -> Idp {
        let shared = Arc::new(Mutex::new(jwks));
        let served = shared.clone();
        let origin = Origin::serve("idp", move |_| {
            let body = served.lock().expect("jwks").clone();
            async move {
                tokio::time::sleep(delay).await;
                let mut answer = respond(200, body);
                let value = cache_control.parse().expect("header value");
                answer.headers_mut().insert("cache-control", value);
                answer
            }
        })
        .await;
        Idp {
            origin,
            jwks: shared,
        }
    }

    /// Serves `jwks` from now on.
    pub fn rotate(&self, jwks: String) {
        *self.jwks.lock().expect("jwks") = jwks;
    }

    /// JWKS fetches so far.
    pub fn fetches(&self) -> usize {
        self.origin.count()
    }
}
