//! JSON Web Tokens minted for the auth tests with ring: HMAC, RSA (PKCS#1
//! v1.5 and PSS, from the fixed test keys in `plugins/auth/testdata`),
//! ECDSA P-256/P-384 and Ed25519 (keys generated per test), with their
//! public keys as JWKs and PEM.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

/// The fixed RSA test keys (2048 bits), private PKCS#8 and public SPKI.
pub const RSA_A: &str = include_str!("../../plugins/auth/testdata/rsa-a.pem");
pub const RSA_A_PUB: &str = include_str!("../../plugins/auth/testdata/rsa-a.pub.pem");
pub const RSA_B: &str = include_str!("../../plugins/auth/testdata/rsa-b.pem");

/// A key that signs tokens.
pub enum Signer {
    Hmac(&'static str, Vec<u8>),
    Rsa(&'static str, RsaKeyPair),
    Ec(&'static str, EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("PEM body")
}

impl Signer {
    /// HS256/384/512 with `secret`.
    pub fn hmac(alg: &'static str, secret: &[u8]) -> Signer {
        Signer::Hmac(alg, secret.to_vec())
    }

    /// RS256/384/512 or PS256 with a PKCS#8 PEM private key.
    pub fn rsa(alg: &'static str, pem: &str) -> Signer {
        Signer::Rsa(alg, RsaKeyPair::from_pkcs8(&pem_der(pem)).expect("RSA key"))
    }

    /// ES256 or ES384 with a fresh key.
    pub fn ec(alg: &'static str) -> Signer {
        let curve = match alg {
            "ES256" => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            _ => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(curve, &rng).expect("EC key");
        Signer::Ec(
            alg,
            EcdsaKeyPair::from_pkcs8(curve, pkcs8.as_ref(), &rng).expect("EC key"),
        )
    }

    /// EdDSA with a fresh Ed25519 key.
    pub fn ed25519() -> Signer {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("Ed25519 key");
        Signer::Ed(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("Ed25519 key"))
    }

    pub fn alg(&self) -> &'static str {
        match self {
            Signer::Hmac(alg, _) | Signer::Rsa(alg, _) | Signer::Ec(alg, _) => alg,
            Signer::Ed(_) => "EdDSA",
        }
    }

    /// A token with `claims`, `kid` in its header when given.
    pub fn token(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": self.alg(), "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Signer::Hmac(alg, secret) => {
                let algorithm = match *alg {
                    "HS256" => ring::hmac::HMAC_SHA256,
                    "HS384" => ring::hmac::HMAC_SHA384,
                    _ => ring::hmac::HMAC_SHA512,
                };
                let key = ring::hmac::Key::new(algorithm, secret);
                ring::hmac::sign(&key, input).as_ref().to_vec()
            }
            Signer::Rsa(alg, key) => {
                let padding: &dyn signature::RsaEncoding = match *alg {
                    "RS256" => &signature::RSA_PKCS1_SHA256,
                    "RS384" => &signature::RSA_PKCS1_SHA384,
                    "RS512" => &signature::RSA_PKCS1_SHA512,
                    _ => &signature::RSA_PSS_SHA256,
                };
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(padding, &rng, input, &mut out).expect("RSA signs");
                out
            }
            Signer::Ec(_, key) => key.sign(&rng, input).expect("signs").as_ref().to_vec(),
            Signer::Ed(key) => key.sign(input).as_ref().to_vec(),
        }
    }

    /// The public key as a JWK with `kid`.
    pub fn jwk(&self, kid: &str) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match self {
            Signer::Hmac(_, secret) => json!({"kty": "oct", "kid": kid, "k": b64(secret)}),
            Signer::Rsa(_, key) => {
                let parts = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(key.public());
                json!({"kty": "RSA", "kid": kid, "n": b64(&parts.n), "e": b64(&parts.e)})
            }
            Signer::Ec(alg, key) => {
                let point = key.public_key().as_ref();
                let half = (point.len() - 1) / 2;
                let crv = if *alg == "ES256" { "P-256" } else { "P-384" };
                json!({"kty": "EC", "crv": crv, "kid": kid,
                    "x": b64(&point[1..1 + half]), "y": b64(&point[1 + half..])})
            }
            Signer::Ed(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(key.public_key().as_ref())})
            }
        }
    }
}

/// A JWKS of `keys` as text.
pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// `sha256:<hex>` of `secret`, as the auth plugin's config holds secrets.
pub fn sha256(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
