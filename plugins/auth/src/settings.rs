//! The configuration: raw serde structs (`File*`, unknown keys refused)
//! validated into the typed [`Settings`], every error naming its key.

use crate::apikey::ApiKeys;
use crate::basic;
use crate::challenge::Challenges;
use crate::digest::Sha256Digest;
use crate::forward::ForwardAuth;
use crate::jwks::{Source, lifetime::Bounds};
use crate::jwt::Verifier;
use crate::jwt::alg::Alg;
use crate::jwt::claims::Rules;
use crate::jwt::key::{Key, Material};
use crate::jwt::keyset;
use crate::mapping::ClaimMap;
use crate::passwd::Hash;
use std::collections::HashMap;
use std::time::Duration;

mod file;
#[cfg(test)]
mod tests;

pub use file::FileSettings;
use file::*;

/// The validated configuration.
pub struct Settings {
    pub forward_credentials: bool,
    pub challenges: Challenges,
    /// Static bearer tokens, by their index in the config.
    pub bearer_tokens: Vec<(usize, Sha256Digest)>,
    /// The JWT verifier and its JWKS source, when JWTs are accepted.
    pub jwt: Option<(Verifier, Option<Source>)>,
    pub claims: ClaimMap,
    pub api_keys: Option<ApiKeys>,
    pub basic: Option<(HashMap<String, Hash>, Duration)>,
    pub forward: Option<ForwardAuth>,
}

impl Settings {
    /// Headers a client must never set itself: the ones this plugin fills.
    pub fn owned_headers(&self) -> impl Iterator<Item = &str> {
        let claims = self.claims.headers.iter().map(|(_, h)| h.as_str());
        let copied = self
            .forward
            .iter()
            .flat_map(|f| f.copy_headers.iter().map(String::as_str));
        claims.chain(copied)
    }
}

/// Validates `file`, collecting every error.
pub fn validate(file: FileSettings) -> Result<Settings, String> {
    let mut errors = Vec::new();
    let mut note = |key: &str, result: Result<(), String>| {
        if let Err(e) = result {
            errors.push(format!("{key}: {e}"));
        }
    };
    let mut bearer_tokens = Vec::new();
    for (i, token) in file.bearer_tokens.iter().enumerate() {
        note(
            &format!("bearer_tokens[{i}]"),
            Sha256Digest::parse(token).map(|d| bearer_tokens.push((i, d))),
        );
    }
    let (jwt, claims) = jwt(&file, &mut note);
    let api_keys = file.api_keys.map(|f| api_keys(f, &mut note));
    let basic = basic_users(&file.htpasswd, file.basic.as_ref(), &mut note);
    let forward = file.forward_auth.map(|f| forward(f, &mut note));
    if bearer_tokens.is_empty()
        && jwt.is_none()
        && api_keys.is_none()
        && basic.is_none()
        && forward.is_none()
    {
        note("config", Err("no method enabled (bearer_tokens, jwt, api_keys, basic, forward_auth): every request would be refused".into()));
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let challenges = Challenges {
        realm: file.realm,
        bearer: !bearer_tokens.is_empty() || jwt.is_some(),
        basic: basic.is_some(),
        api_key_header: api_keys.as_ref().map(|k: &ApiKeys| k.header.clone()),
    };
    Ok(Settings {
        forward_credentials: file.forward_credentials,
        challenges,
        bearer_tokens,
        jwt,
        claims,
        api_keys,
        basic,
        forward,
    })
}

type Note<'a> = dyn FnMut(&str, Result<(), String>) + 'a;

fn jwt(file: &FileSettings, note: &mut Note) -> (Option<(Verifier, Option<Source>)>, ClaimMap) {
    let has_top = file.jwt_key.is_some() || file.jwt_hmac_secret.is_some();
    if file.jwt.is_none() && !has_top {
        return (None, ClaimMap::default());
    }
    let empty = FileJwt {
        require_exp: true,
        leeway_s: default_leeway(),
        ..FileJwt::default()
    };
    let f = file.jwt.as_ref().unwrap_or(&empty);
    let mut keys: Vec<Key> = Vec::new();
    let texts = f
        .keys
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("jwt.keys[{i}]"), t));
    for (key, text) in texts.chain(file.jwt_key.iter().map(|t| ("jwt_key".to_string(), t))) {
        note(
            &key,
            keyset::parse_any(text).map(|found| keys.extend(found)),
        );
    }
    let secrets = f
        .hmac_secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("jwt.hmac_secrets[{i}]"), s));
    for (key, secret) in secrets.chain(
        file.jwt_hmac_secret
            .iter()
            .map(|s| ("jwt_hmac_secret".to_string(), s)),
    ) {
        let material = Material::Hmac(secret.as_bytes().to_vec());
        note(
            &key,
            material.check_strength().map(|()| {
                keys.push(Key {
                    kid: None,
                    alg: None,
                    material,
                })
            }),
        );
    }
    let mut algorithms = Alg::ALL.to_vec();
    if let Some(names) = &f.algorithms {
        algorithms.clear();
        for name in names {
            match Alg::parse(name) {
                Some(alg) => algorithms.push(alg),
                None => note(
                    "jwt.algorithms",
                    Err(format!("{name:?} is not one of {}", all_names())),
                ),
            }
        }
    }
    let source = f.jwks.as_ref().map(|j| jwks(j, note));
    if keys.is_empty() && source.is_none() {
        note(
            "jwt",
            Err(
                "no key: give jwt.keys, jwt.hmac_secrets, jwt.jwks, jwt_key or jwt_hmac_secret"
                    .into(),
            ),
        );
    }
    let list = |v: &Option<OneOrMany>| match v {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s.clone()],
        Some(OneOrMany::Many(v)) => v.clone(),
    };
    let rules = Rules {
        leeway_s: f.leeway_s,
        issuers: list(&f.issuer),
        audiences: list(&f.audience),
        required: f.required_claims.clone(),
        require_exp: f.require_exp,
    };
    let mut claims = ClaimMap::default();
    for (claim, header) in &f.claims_to_headers {
        note(
            &format!("jwt.claims_to_headers.{claim}"),
            header_name(header),
        );
        claims
            .headers
            .push((claim.clone(), header.to_ascii_lowercase()));
    }
    for (claim, attribute) in &f.claims_to_attributes {
        claims.attributes.push((claim.clone(), attribute.clone()));
    }
    (
        Some((
            Verifier {
                keys,
                algorithms,
                rules,
            },
            source,
        )),
        claims,
    )
}

fn all_names() -> String {
    Alg::ALL.map(Alg::name).join(", ")
}

fn jwks(f: &FileJwks, note: &mut Note) -> Source {
    note("jwt.jwks.path", starts_with_slash(&f.path));
    note("jwt.jwks.timeout_ms", in_range(f.timeout_ms, 1, 4000));
    let ordered = f.min_cache_s <= f.max_cache_s && f.min_cache_s > 0;
    note(
        "jwt.jwks.min_cache_s",
        ordered
            .then_some(())
            .ok_or("must be at least 1 and at most max_cache_s".into()),
    );
    let timeout = Duration::from_millis(f.timeout_ms);
    Source {
        cluster: f.cluster.clone(),
        path: f.path.clone(),
        timeout,
        bounds: Bounds {
            default_s: f.cache_s,
            min_s: f.min_cache_s,
            max_s: f.max_cache_s,
        },
        unknown_kid_every: Duration::from_secs(f.unknown_kid_refetch_s.max(1)),
        failure_backoff: Duration::from_millis(f.failure_backoff_ms.max(1)),
        // The hook may sleep 5 s in all: leave room for the fetch itself.
        wait: (timeout + Duration::from_millis(500)).min(Duration::from_millis(4500)),
    }
}

fn api_keys(f: FileApiKeys, note: &mut Note) -> ApiKeys {
    note("api_keys.header", header_name(&f.header));
    note(
        "api_keys.keys",
        (!f.keys.is_empty()).then_some(()).ok_or("no key".into()),
    );
    let mut keys = Vec::new();
    for (name, digest) in f.keys {
        note(
            &format!("api_keys.keys.{name}"),
            Sha256Digest::parse(&digest).map(|d| keys.push((name, d))),
        );
    }
    ApiKeys {
        header: f.header.to_ascii_lowercase(),
        query: f.query,
        keys,
    }
}

fn basic_users(
    htpasswd: &Option<String>,
    f: Option<&FileBasic>,
    note: &mut Note,
) -> Option<(HashMap<String, Hash>, Duration)> {
    if htpasswd.is_none() && f.is_none() {
        return None;
    }
    let mut users = HashMap::new();
    if let Some(text) = htpasswd {
        note("htpasswd", basic::parse_users(text, &mut users));
    }
    if let Some(f) = f {
        note(
            "basic.users",
            basic::parse_users(&f.users.join("\n"), &mut users),
        );
    }
    note(
        "basic",
        (!users.is_empty())
            .then_some(())
            .ok_or("no user (basic.users or htpasswd)".into()),
    );
    let ttl = Duration::from_secs(f.map_or(default_basic_cache(), |f| f.cache_ttl_s));
    Some((users, ttl))
}

fn forward(f: FileForward, note: &mut Note) -> ForwardAuth {
    note("forward_auth.path", starts_with_slash(&f.path));
    note("forward_auth.timeout_ms", in_range(f.timeout_ms, 1, 60_000));
    note(
        "forward_auth.unavailable_status",
        in_range(f.unavailable_status.into(), 400, 599),
    );
    let lower = |names: Vec<String>| names.into_iter().map(|n| n.to_ascii_lowercase()).collect();
    ForwardAuth {
        cluster: f.cluster,
        path: f.path,
        timeout: Duration::from_millis(f.timeout_ms),
        request_headers: lower(f.request_headers),
        copy_headers: lower(f.copy_headers),
        relay_headers: lower(f.relay_headers),
        unavailable_status: f.unavailable_status,
    }
}

fn header_name(name: &str) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    match !name.is_empty() && name.chars().all(token) {
        true => Ok(()),
        false => Err(format!("{name:?} is not a header name")),
    }
}

fn starts_with_slash(path: &str) -> Result<(), String> {
    match path.starts_with('/') {
        true => Ok(()),
        false => Err(format!("{path:?} must start with /")),
    }
}

fn in_range(value: u64, min: u64, max: u64) -> Result<(), String> {
    match (min..=max).contains(&value) {
        true => Ok(()),
        false => Err(format!("{value} is not within {min} to {max}")),
    }
}
