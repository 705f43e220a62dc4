//! A demo identity provider, so the edge example can show JWT checks with
//! nothing else installed: `GET /.well-known/jwks.json` publishes an Ed25519
//! public key and `GET /token?sub=NAME[&ttl=SECONDS][&scope=S]` mints an
//! EdDSA token signed with it (issuer `https://idp.demo`, audience
//! `ravelin-demo`).
//!
//! The key is derived from a fixed seed, so every demo origin process
//! publishes the same key and a token minted by one verifies against the
//! JWKS served by another. It is a demo key: anyone who reads this file
//! can mint tokens for it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair};

/// The `iss` of the demo tokens.
pub const ISSUER: &str = "https://idp.demo";
/// The `aud` of the demo tokens.
pub const AUDIENCE: &str = "ravelin-demo";
/// The key id in the JWKS and in the tokens' header.
const KEY_ID: &str = "demo-ed25519-1";
/// Public by design: this is a demo.
const SEED: [u8; 32] = *b"ravelin demo idp: not a secret!!";
/// The longest lifetime a demo token may ask for.
const MAX_TTL_SECS: u64 = 86_400;

fn key_pair() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&SEED).expect("a 32-byte seed is a valid Ed25519 seed")
}

/// The JWKS document, cacheable for five minutes.
pub fn jwks() -> String {
    let public = URL_SAFE_NO_PAD.encode(key_pair().public_key().as_ref());
    serde_json::json!({
        "keys": [{ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": KEY_ID, "x": public }]
    })
    .to_string()
}

/// A token for the query's `sub` (required), valid `ttl` seconds (default
/// 600, at most a day), with an optional `scope`; or why not.
pub fn token(query: &str) -> Result<String, String> {
    let mut sub = None;
    let mut ttl = 600;
    let mut scope = None;
    for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        match name {
            "sub" if !value.is_empty() => sub = Some(value),
            "ttl" => {
                ttl = value
                    .parse()
                    .map_err(|_| format!("ttl={value} is not a number of seconds"))?
            }
            "scope" => scope = Some(value),
            _ => {}
        }
    }
    let sub = sub.ok_or("name a subject: /token?sub=alice")?;
    if ttl > MAX_TTL_SECS {
        return Err(format!("ttl={ttl} is over {MAX_TTL_SECS} seconds"));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut claims = serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub,
        "email": format!("{sub}@example.com"),
        "iat": now, "nbf": now, "exp": now + ttl,
    });
    if let Some(scope) = scope {
        claims["scope"] = scope.into();
    }
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": KEY_ID });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key_pair().sign(signing_input.as_bytes());
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_against_the_published_key() {
        let token = token("sub=alice&ttl=60").expect("a token");
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let jwks: serde_json::Value = serde_json::from_str(&jwks()).expect("json");
        let x = jwks["keys"][0]["x"].as_str().expect("x");
        let public = URL_SAFE_NO_PAD.decode(x).expect("base64url");
        let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public);
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        key.verify(signing_input.as_bytes(), &signature)
            .expect("the signature verifies");
        let claims = signing_input.split('.').nth(1).expect("claims");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], AUDIENCE);
    }

    #[test]
    fn a_token_needs_a_subject_and_a_sane_lifetime() {
        assert!(token("ttl=60").is_err());
        assert!(token("sub=a&ttl=999999").is_err());
        assert!(token("sub=a&ttl=soon").is_err());
    }
}
