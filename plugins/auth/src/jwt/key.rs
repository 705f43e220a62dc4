//! One verification key and the signature check. A key's family decides
//! which algorithms it may verify, and a key that names its `alg` verifies
//! that one alone: the token's header never picks how a key is used.

use super::alg::{Alg, Family};
use hmac::{Hmac, Mac};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// RSA keys shorter than this are refused (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// HMAC secrets shorter than this are refused (RFC 7518 §3.2 asks for at
/// least the hash size; 32 bytes is HS256's).
pub const MIN_HMAC_BYTES: usize = 32;

/// What the key is.
#[derive(Clone, Debug)]
pub enum Material {
    Hmac(Vec<u8>),
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A key with its optional `kid` and `alg` (from a JWK or the config).
#[derive(Clone, Debug)]
pub struct Key {
    pub kid: Option<String>,
    pub alg: Option<Alg>,
    pub material: Material,
}

impl Material {
    fn family(&self) -> Family {
        match self {
            Material::Hmac(_) => Family::Hmac,
            Material::Rsa(_) => Family::Rsa,
            Material::P256(_) => Family::P256,
            Material::P384(_) => Family::P384,
            Material::Ed25519(_) => Family::Ed25519,
        }
    }

    /// Refuses keys too weak to trust.
    pub fn check_strength(&self) -> Result<(), String> {
        match self {
            Material::Rsa(key) if key.size() * 8 < MIN_RSA_BITS => Err(format!(
                "RSA key of {} bits is under the minimum of {MIN_RSA_BITS}",
                key.size() * 8
            )),
            Material::Hmac(secret) if secret.len() < MIN_HMAC_BYTES => Err(format!(
                "HMAC secret of {} bytes is under the minimum of {MIN_HMAC_BYTES}",
                secret.len()
            )),
            _ => Ok(()),
        }
    }
}

impl Key {
    /// Whether this key may verify tokens signed with `alg`.
    pub fn accepts(&self, alg: Alg) -> bool {
        self.material.family() == alg.family() && self.alg.is_none_or(|own| own == alg)
    }

    /// Whether `signature` over `input` is good for this key under `alg`;
    /// false when the key does not accept `alg`.
    pub fn verify(&self, alg: Alg, input: &[u8], signature: &[u8]) -> bool {
        if !self.accepts(alg) {
            return false;
        }
        match &self.material {
            Material::Hmac(secret) => verify_hmac(alg, secret, input, signature),
            Material::Rsa(key) => verify_rsa(alg, key, input, signature),
            Material::P256(key) => {
                use p256::ecdsa::signature::Verifier;
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(input, &sig).is_ok())
            }
            Material::P384(key) => {
                use p384::ecdsa::signature::Verifier;
                p384::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(input, &sig).is_ok())
            }
            Material::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(input, &sig).is_ok()),
        }
    }
}

fn verify_hmac(alg: Alg, secret: &[u8], input: &[u8], signature: &[u8]) -> bool {
    fn check<M: Mac + hmac::digest::KeyInit>(secret: &[u8], input: &[u8], sig: &[u8]) -> bool {
        let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
            return false;
        };
        mac.update(input);
        mac.verify_slice(sig).is_ok()
    }
    match alg {
        Alg::HS256 => check::<Hmac<Sha256>>(secret, input, signature),
        Alg::HS384 => check::<Hmac<Sha384>>(secret, input, signature),
        Alg::HS512 => check::<Hmac<Sha512>>(secret, input, signature),
        _ => false,
    }
}

fn verify_rsa(alg: Alg, key: &RsaPublicKey, input: &[u8], signature: &[u8]) -> bool {
    let outcome = match alg {
        Alg::RS256 => key.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(input),
            signature,
        ),
        Alg::RS384 => key.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(input),
            signature,
        ),
        Alg::RS512 => key.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(input),
            signature,
        ),
        Alg::PS256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(input), signature),
        Alg::PS384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(input), signature),
        Alg::PS512 => key.verify(Pss::new::<Sha512>(), &Sha512::digest(input), signature),
        _ => return false,
    };
    outcome.is_ok()
}
