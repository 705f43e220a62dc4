//! Reading keys: PEM public keys (SPKI for RSA, P-256, P-384 and Ed25519;
//! PKCS#1 for RSA), a JWK, or a JWKS (RFC 7517). Inline keys are read
//! strictly (a key that cannot be used is a config error); a fetched JWKS
//! skips the keys it cannot use (encryption keys, other curves) so one odd
//! key at the identity provider does not lock everyone out.

use super::alg::Alg;
use super::key::{Key, Material};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The keys in `text`: one or more PEM blocks, a JWK or a JWKS.
pub fn parse_any(text: &str) -> Result<Vec<Key>, String> {
    let trimmed = text.trim();
    if trimmed.starts_with("-----BEGIN") {
        return parse_pem(trimmed);
    }
    let json: Value =
        serde_json::from_str(trimmed).map_err(|e| format!("neither PEM nor JSON: {e}"))?;
    if json.get("keys").is_some() {
        let (keys, skipped) = parse_jwks(&json)?;
        if let Some(why) = skipped.first() {
            return Err(why.clone());
        }
        return Ok(keys);
    }
    Ok(vec![parse_jwk(&json)?])
}

/// The usable keys of a JWKS document and why the others were skipped.
pub fn parse_jwks(json: &Value) -> Result<(Vec<Key>, Vec<String>), String> {
    let Some(Value::Array(entries)) = json.get("keys") else {
        return Err("a JWKS needs a \"keys\" array".into());
    };
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if entry.get("use").and_then(Value::as_str) == Some("enc") {
            continue;
        }
        match parse_jwk(entry) {
            Ok(key) => keys.push(key),
            Err(why) => skipped.push(format!("key {i}: {why}")),
        }
    }
    Ok((keys, skipped))
}

/// One JWK.
pub fn parse_jwk(jwk: &Value) -> Result<Key, String> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(name).ok_or_else(|| format!("JWK lacks \"{name}\""))?;
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|e| format!("JWK \"{name}\" is not base64url: {e}"))
    };
    let material = match (field("kty"), field("crv")) {
        (Some("RSA"), _) => {
            let n = rsa::BigUint::from_bytes_be(&bytes("n")?);
            let e = rsa::BigUint::from_bytes_be(&bytes("e")?);
            Material::Rsa(rsa::RsaPublicKey::new(n, e).map_err(|e| format!("RSA JWK: {e}"))?)
        }
        (Some("EC"), Some("P-256")) => Material::P256(
            p256::ecdsa::VerifyingKey::from_sec1_bytes(&point(&bytes("x")?, &bytes("y")?))
                .map_err(|_| "EC JWK: not a P-256 point".to_string())?,
        ),
        (Some("EC"), Some("P-384")) => Material::P384(
            p384::ecdsa::VerifyingKey::from_sec1_bytes(&point(&bytes("x")?, &bytes("y")?))
                .map_err(|_| "EC JWK: not a P-384 point".to_string())?,
        ),
        (Some("OKP"), Some("Ed25519")) => {
            let x: [u8; 32] = bytes("x")?
                .try_into()
                .map_err(|_| "Ed25519 JWK: \"x\" is not 32 bytes".to_string())?;
            Material::Ed25519(
                ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| "Ed25519 JWK: not a curve point".to_string())?,
            )
        }
        (Some("oct"), _) => Material::Hmac(bytes("k")?),
        (kty, crv) => {
            return Err(format!(
                "unsupported key type {} (curve {})",
                kty.unwrap_or("(none)"),
                crv.unwrap_or("(none)")
            ));
        }
    };
    material.check_strength()?;
    let alg = match field("alg") {
        Some(name) => Some(Alg::parse(name).ok_or_else(|| format!("JWK alg {name:?} unknown"))?),
        None => None,
    };
    let key = Key {
        kid: field("kid").map(str::to_string),
        alg,
        material,
    };
    if let Some(alg) = key.alg.filter(|alg| !key.accepts(*alg)) {
        return Err(format!("JWK alg {} does not fit its key type", alg.name()));
    }
    Ok(key)
}

fn point(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    sec1
}

/// Every PEM block of `text` as a key.
fn parse_pem(text: &str) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let label_end = rest[start + 11..]
            .find("-----")
            .ok_or("PEM: unterminated BEGIN line")?;
        let label = &rest[start + 11..start + 11 + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = rest
            .find(&end_marker)
            .ok_or_else(|| format!("PEM: no END for {label}"))?;
        let block = &rest[start..end + end_marker.len()];
        keys.push(pem_key(label, block)?);
        rest = &rest[end + end_marker.len()..];
    }
    Ok(keys)
}

fn pem_key(label: &str, block: &str) -> Result<Key, String> {
    use ed25519_dalek::pkcs8::DecodePublicKey as _;
    use rsa::pkcs1::DecodeRsaPublicKey as _;
    let material = match label {
        "PUBLIC KEY" => {
            if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(block) {
                Material::Rsa(key)
            } else if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(block) {
                Material::P256(key)
            } else if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_pem(block) {
                Material::P384(key)
            } else if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(block) {
                Material::Ed25519(key)
            } else {
                return Err("PEM public key is not RSA, P-256, P-384 or Ed25519".into());
            }
        }
        "RSA PUBLIC KEY" => Material::Rsa(
            rsa::RsaPublicKey::from_pkcs1_pem(block).map_err(|e| format!("PEM RSA key: {e}"))?,
        ),
        "CERTIFICATE" => {
            return Err("PEM certificates are not read: give the public key (`openssl x509 -pubkey -noout`)".into());
        }
        other if other.contains("PRIVATE") => {
            return Err(format!(
                "PEM {other}: give the public key, never the private one"
            ));
        }
        other => return Err(format!("PEM block {other:?} is not a public key")),
    };
    material.check_strength()?;
    Ok(Key {
        kid: None,
        alg: None,
        material,
    })
}
