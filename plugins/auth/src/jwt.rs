//! JWT bearer tokens (RFC 7519) signed with HMAC, RSA (PKCS#1 v1.5 and
//! PSS), ECDSA P-256/P-384 or Ed25519: parse, pick the keys that may verify
//! the token's algorithm, check the signature, then the claims.

pub mod alg;
pub mod claims;
pub mod key;
pub mod keyset;
pub mod token;

use alg::Alg;
use claims::{Refusal, Rules};
use key::Key;
use serde_json::{Map, Value};

/// At most this many keys are tried for one token (several keys without a
/// `kid`), bounding the CPU a forged token can cost.
const MAX_TRIES: usize = 8;

/// Keys fetched at request time (a JWKS).
pub trait RemoteKeys {
    /// The keys that may carry `kid` (all of them when the token has none);
    /// an `Err` when no key set could be had (the text is for the log).
    fn find(&mut self, kid: Option<&str>) -> Result<Vec<Key>, String>;
}

/// How a token verifies.
#[derive(Debug, Default)]
pub struct Verifier {
    /// Keys from the config.
    pub keys: Vec<Key>,
    /// Algorithms accepted at all.
    pub algorithms: Vec<Alg>,
    pub rules: Rules,
}

/// Why a token was refused. The texts are for the log, not the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Unreadable, unknown algorithm, no key, bad signature: 401.
    Invalid(String),
    /// Good signature, refused claims.
    Claims(Refusal),
    /// The key set could not be fetched: 503.
    KeysUnavailable(String),
}

impl Verifier {
    /// The claims of `text` if it verifies at `now_s`.
    pub fn verify(
        &self,
        text: &str,
        now_s: u64,
        remote: Option<&mut dyn RemoteKeys>,
    ) -> Result<Map<String, Value>, Failure> {
        let token = token::parse(text).map_err(Failure::Invalid)?;
        if !self.algorithms.contains(&token.alg) {
            return Err(Failure::Invalid(format!(
                "algorithm {} not allowed",
                token.alg.name()
            )));
        }
        let kid = token.kid.as_deref();
        let own = usable(&self.keys, &token.alg, kid);
        let mut candidates = own.len();
        let mut good = own.iter().take(MAX_TRIES).any(|k| verifies(k, &token));
        if !good && let Some(remote) = remote {
            let fetched = match remote.find(kid) {
                Ok(keys) => keys,
                Err(why) if candidates == 0 => return Err(Failure::KeysUnavailable(why)),
                Err(_) => Vec::new(),
            };
            let more = usable(&fetched, &token.alg, kid);
            candidates += more.len();
            good = more.iter().take(MAX_TRIES).any(|k| verifies(k, &token));
        }
        if !good {
            return Err(Failure::Invalid(match candidates {
                0 => format!("no {} key for kid {kid:?}", token.alg.name()),
                _ => "signature does not verify".into(),
            }));
        }
        claims::check(&token.claims, now_s, &self.rules).map_err(Failure::Claims)?;
        Ok(token.claims)
    }
}

fn usable<'a>(keys: &'a [Key], alg: &Alg, kid: Option<&str>) -> Vec<&'a Key> {
    let named = |key: &Key| kid.is_none() || key.kid.is_none() || key.kid.as_deref() == kid;
    keys.iter()
        .filter(|k| k.accepts(*alg) && named(k))
        .collect()
}

fn verifies(key: &Key, token: &token::Token) -> bool {
    key.verify(token.alg, &token.signing_input, &token.signature)
}

#[cfg(test)]
mod tests;
