//! Plugin signatures: an ed25519 signature over the manifest digest, kept
//! in the registry as an OCI artifact under the cosign-style tag
//! `sha256-<hex>.sig` of the same repository (distribution 2.8 has no
//! referrers API). Each layer of that artifact is one signature: the layer
//! is the signed payload, its annotations carry the signature (base64) and
//! the signing key's fingerprint. Keys are PEM files as `openssl genpkey
//! -algorithm ed25519` writes them (PKCS#8 private, SPKI public). The
//! format is Ravelin's own: `cosign verify` does not read it.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// The media type of the signature artifact's config and layers.
pub const ARTIFACT_TYPE: &str = "application/vnd.ravelin.plugin.signature.v1+json";
/// The layer annotation holding the base64 signature.
const SIGNATURE: &str = "dev.ravelin.signature";
/// The layer annotation holding the signing key's fingerprint.
pub const KEY: &str = "dev.ravelin.signature.key";
/// DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A public key signatures are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// `sha256:` of the raw key, first 16 hex digits: how keys are named.
    pub fingerprint: String,
    key: [u8; 32],
}

/// The tag the signatures of manifest `digest` live under.
pub fn tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// What is signed: the manifest digest, under a fixed context string.
pub fn payload(digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "ravelin plugin signature v1",
        "manifest-digest": digest,
    }))
    .unwrap_or_default()
}

fn fingerprint(key: &[u8]) -> String {
    super::sha256_digest(key)[..23].to_string()
}

/// Reads an ed25519 public key PEM (`-----BEGIN PUBLIC KEY-----`).
pub fn read_public_key(path: &Path) -> Result<TrustedKey, String> {
    let der = read_pem(path, "PUBLIC KEY")?;
    let key = der
        .strip_prefix(&SPKI_PREFIX[..])
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .ok_or_else(|| format!("{}: not an ed25519 public key", path.display()))?;
    Ok(TrustedKey {
        fingerprint: fingerprint(&key),
        key,
    })
}

/// Reads an ed25519 private key PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8).
pub fn read_private_key(path: &Path) -> Result<Ed25519KeyPair, String> {
    let der = read_pem(path, "PRIVATE KEY")?;
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|_| format!("{}: not an ed25519 private key (PKCS#8)", path.display()))
}

fn read_pem(path: &Path, label: &str) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body.split_whitespace().collect::<String>())
        .ok_or_else(|| format!("{}: no {begin} block", path.display()))?;
    STANDARD
        .decode(body)
        .map_err(|e| format!("{}: the PEM body is not base64: {e}", path.display()))
}

/// The layer holding `key`'s signature of manifest `digest`.
pub fn sign(key: &Ed25519KeyPair, digest: &str) -> ImageLayer {
    let payload = payload(digest);
    let signature = key.sign(&payload);
    let annotations = BTreeMap::from([
        (SIGNATURE.to_string(), STANDARD.encode(signature.as_ref())),
        (KEY.to_string(), fingerprint(key.public_key().as_ref())),
    ]);
    ImageLayer::new(payload, ARTIFACT_TYPE.to_string(), Some(annotations))
}

/// The signature artifact's manifest for `layers`.
pub fn manifest(layers: &[ImageLayer]) -> (OciImageManifest, Config) {
    let config = Config::new(b"{}".to_vec(), ARTIFACT_TYPE.to_string(), None);
    let mut manifest = OciImageManifest::build(layers, &config, None);
    manifest.media_type = Some(oci_client::manifest::OCI_IMAGE_MEDIA_TYPE.to_string());
    (manifest, config)
}

/// The fingerprints of the keys that signed, as the layers claim them.
pub fn signers(signatures: &OciImageManifest) -> Vec<String> {
    let claimed = signatures
        .layers
        .iter()
        .filter_map(|l| l.annotations.as_ref()?.get(KEY));
    claimed.cloned().collect()
}

/// Checks that one of `keys` signed manifest `digest` in the signature
/// artifact `signatures`; the error says what is wrong.
pub fn verify(
    signatures: &OciImageManifest,
    digest: &str,
    keys: &[TrustedKey],
) -> Result<String, String> {
    let payload = payload(digest);
    for layer in &signatures.layers {
        let Some(encoded) = layer.annotations.as_ref().and_then(|a| a.get(SIGNATURE)) else {
            continue;
        };
        let Ok(signature) = STANDARD.decode(encoded) else {
            continue;
        };
        for key in keys {
            if UnparsedPublicKey::new(&ED25519, key.key)
                .verify(&payload, &signature)
                .is_ok()
            {
                return Ok(key.fingerprint.clone());
            }
        }
    }
    let trusted: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
    Err(format!(
        "no signature by a trusted key (trusted: {}; signed by: {})",
        trusted.join(", "),
        match signers(signatures) {
            s if s.is_empty() => "nobody".to_string(),
            s => s.join(", "),
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn key_pair() -> (Ed25519KeyPair, TrustedKey) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let key: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
        let trusted = TrustedKey {
            fingerprint: fingerprint(&key),
            key,
        };
        (pair, trusted)
    }

    #[test]
    fn a_signature_verifies_only_for_its_digest_and_key() {
        let (pair, trusted) = key_pair();
        let (_, stranger) = key_pair();
        let (signed, _) = manifest(&[sign(&pair, DIGEST)]);
        assert_eq!(
            verify(&signed, DIGEST, &[stranger.clone(), trusted.clone()]),
            Ok(trusted.fingerprint.clone())
        );
        let other = DIGEST.replace("0123", "3210");
        assert!(verify(&signed, &other, std::slice::from_ref(&trusted)).is_err());
        let error = verify(&signed, DIGEST, &[stranger]).unwrap_err();
        assert!(error.contains(&trusted.fingerprint), "{error}");
        assert_eq!(tag(DIGEST), format!("sha256-{}.sig", &DIGEST[7..]));
    }

    #[test]
    fn keys_are_read_from_pem() {
        let dir = tempfile::tempdir().unwrap();
        let (pair, trusted) = key_pair();
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(pair.public_key().as_ref());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        );
        std::fs::write(dir.path().join("pub.pem"), pem).unwrap();
        assert_eq!(
            read_public_key(&dir.path().join("pub.pem")).unwrap(),
            trusted
        );
        std::fs::write(dir.path().join("bad.pem"), "nothing").unwrap();
        assert!(
            read_public_key(&dir.path().join("bad.pem"))
                .unwrap_err()
                .contains("no -----BEGIN PUBLIC KEY")
        );
    }
}
