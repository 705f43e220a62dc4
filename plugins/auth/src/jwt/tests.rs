//! Tokens signed here with the RustCrypto crates (the RSA keys are fixed
//! test keys made with openssl), verified by [`Verifier`].

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::pkcs8::DecodePrivateKey;
use serde_json::json;
use sha2::{Digest, Sha256, Sha384, Sha512};

const RSA_A: &str = include_str!("../../testdata/rsa-a.pem");
const RSA_A_PUB: &str = include_str!("../../testdata/rsa-a.pub.pem");
const RSA_B: &str = include_str!("../../testdata/rsa-b.pem");
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;

fn sign_with(
    alg: &str,
    kid: Option<&str>,
    claims: &Value,
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> String {
    let mut header = json!({"alg": alg, "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn hs(alg: &str, secret: &[u8], claims: &Value) -> String {
    sign_with(alg, None, claims, |input| match alg {
        "HS256" => mac::<Hmac<Sha256>>(secret, input),
        "HS384" => mac::<Hmac<Sha384>>(secret, input),
        _ => mac::<Hmac<Sha512>>(secret, input),
    })
}

fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(secret).expect("key");
    m.update(input);
    m.finalize().into_bytes().to_vec()
}

fn rs(alg: &str, pem: &str, kid: Option<&str>, claims: &Value) -> String {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("test key");
    sign_with(alg, kid, claims, |input| {
        let mut rng = rand_core::OsRng;
        match alg {
            "RS256" => key.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input)),
            "RS384" => key.sign(rsa::Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(input)),
            "RS512" => key.sign(rsa::Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(input)),
            _ => key.sign_with_rng(&mut rng, rsa::Pss::new::<Sha256>(), &Sha256::digest(input)),
        }
        .expect("signs")
    })
}

fn claims() -> Value {
    json!({"sub": "alice", "exp": NOW + 600})
}

fn verifier(keys: Vec<Key>) -> Verifier {
    Verifier {
        keys,
        algorithms: Alg::ALL.to_vec(),
        rules: Rules {
            require_exp: true,
            ..Rules::default()
        },
    }
}

fn hmac_key() -> Key {
    Key {
        kid: None,
        alg: None,
        material: key::Material::Hmac(SECRET.to_vec()),
    }
}

#[test]
fn hmac_tokens_verify_for_each_hash() {
    let v = verifier(vec![hmac_key()]);
    for alg in ["HS256", "HS384", "HS512"] {
        let claims = v.verify(&hs(alg, SECRET, &claims()), NOW, None);
        assert_eq!(claims.expect(alg)["sub"], "alice");
    }
    let wrong = hs("HS256", b"another secret, also 32 bytes...", &claims());
    assert!(matches!(
        v.verify(&wrong, NOW, None),
        Err(Failure::Invalid(_))
    ));
}

#[test]
fn rsa_tokens_verify_for_pkcs1_and_pss() {
    let v = verifier(keyset::parse_any(RSA_A_PUB).expect("public key"));
    for alg in ["RS256", "RS384", "RS512", "PS256"] {
        let token = rs(alg, RSA_A, None, &claims());
        assert!(v.verify(&token, NOW, None).is_ok(), "{alg}");
    }
    let other = rs("RS256", RSA_B, None, &claims());
    assert!(matches!(
        v.verify(&other, NOW, None),
        Err(Failure::Invalid(_))
    ));
}

#[test]
fn ecdsa_and_eddsa_tokens_verify() {
    use p256::ecdsa::signature::Signer;
    let p256_key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("p256");
    let p384_key = p384::ecdsa::SigningKey::from_slice(&[9u8; 48]).expect("p384");
    let ed_key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let keys = vec![
        key_of(key::Material::P256(*p256_key.verifying_key())),
        key_of(key::Material::P384(*p384_key.verifying_key())),
        key_of(key::Material::Ed25519(ed_key.verifying_key())),
    ];
    let v = verifier(keys);
    let es256 = sign_with("ES256", None, &claims(), |input| {
        let sig: p256::ecdsa::Signature = p256_key.sign(input);
        sig.to_bytes().to_vec()
    });
    let es384 = sign_with("ES384", None, &claims(), |input| {
        let sig: p384::ecdsa::Signature = p384_key.sign(input);
        sig.to_bytes().to_vec()
    });
    let eddsa = sign_with("EdDSA", None, &claims(), |input| {
        ed_key.sign(input).to_bytes().to_vec()
    });
    for token in [es256, es384, eddsa] {
        assert!(v.verify(&token, NOW, None).is_ok(), "{token}");
    }
}

fn key_of(material: key::Material) -> Key {
    Key {
        kid: None,
        alg: None,
        material,
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_bytes_is_refused() {
    let v = verifier(keyset::parse_any(RSA_A_PUB).expect("public key"));
    let forged = hs("HS256", RSA_A_PUB.as_bytes(), &claims());
    let refused = v.verify(&forged, NOW, None);
    assert!(
        matches!(refused, Err(Failure::Invalid(ref why)) if why.contains("no HS256 key")),
        "{refused:?}"
    );
}

#[test]
fn alg_none_and_tampered_tokens_are_refused() {
    let v = verifier(vec![hmac_key()]);
    let good = hs("HS256", SECRET, &claims());
    let (input, _) = good.rsplit_once('.').expect("three parts");
    let (_, payload_and_sig) = good.split_once('.').expect("parts");
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let none = format!("{none_header}.{payload_and_sig}");
    assert!(matches!(
        v.verify(&none, NOW, None),
        Err(Failure::Invalid(_))
    ));
    let admin = URL_SAFE_NO_PAD.encode(json!({"sub": "admin", "exp": NOW + 600}).to_string());
    let head = input.split('.').next().expect("header");
    let tampered = format!("{head}.{admin}.{}", good.rsplit('.').next().expect("sig"));
    assert!(matches!(
        v.verify(&tampered, NOW, None),
        Err(Failure::Invalid(_))
    ));
}

#[test]
fn algorithms_restrict_what_keys_may_verify() {
    let mut v = verifier(vec![hmac_key()]);
    v.algorithms = vec![Alg::HS512];
    assert!(
        v.verify(&hs("HS256", SECRET, &claims()), NOW, None)
            .is_err()
    );
    assert!(v.verify(&hs("HS512", SECRET, &claims()), NOW, None).is_ok());
    let mut pinned = hmac_key();
    pinned.alg = Some(Alg::HS384);
    let v = verifier(vec![pinned]);
    assert!(
        v.verify(&hs("HS256", SECRET, &claims()), NOW, None)
            .is_err(),
        "key pinned to HS384"
    );
}

struct Fixed(Result<Vec<Key>, String>, usize);

impl RemoteKeys for Fixed {
    fn find(&mut self, _kid: Option<&str>) -> Result<Vec<Key>, String> {
        self.1 += 1;
        self.0.clone()
    }
}

#[test]
fn remote_keys_are_asked_only_when_local_ones_fail_and_kid_selects() {
    let mut rsa_a = keyset::parse_any(RSA_A_PUB).expect("key");
    rsa_a[0].kid = Some("a".into());
    let mut remote = Fixed(Ok(rsa_a), 0);
    let v = verifier(vec![hmac_key()]);
    let token = rs("RS256", RSA_A, Some("a"), &claims());
    assert!(v.verify(&token, NOW, Some(&mut remote)).is_ok());
    assert_eq!(remote.1, 1);
    let local = hs("HS256", SECRET, &claims());
    assert!(v.verify(&local, NOW, Some(&mut remote)).is_ok());
    assert_eq!(
        remote.1, 1,
        "a token the local keys verify asks nothing remote"
    );
    let wrong_kid = rs("RS256", RSA_A, Some("b"), &claims());
    assert!(
        v.verify(&wrong_kid, NOW, Some(&mut remote)).is_err(),
        "kid b is not key a"
    );
    let mut down = Fixed(Err("origin down".into()), 0);
    let refused = v.verify(&token, NOW, Some(&mut down));
    assert_eq!(refused, Err(Failure::KeysUnavailable("origin down".into())));
}

#[test]
fn claims_are_checked_after_the_signature() {
    let v = verifier(vec![hmac_key()]);
    let expired = hs("HS256", SECRET, &json!({"exp": NOW - 10}));
    assert!(matches!(
        v.verify(&expired, NOW, None),
        Err(Failure::Claims(claims::Refusal::Expired(_)))
    ));
}

#[test]
fn keys_are_read_from_pem_jwk_and_jwks() {
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "e1", "alg": "EdDSA",
        "x": URL_SAFE_NO_PAD.encode(ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]).verifying_key().as_bytes())});
    let one = keyset::parse_any(&jwk.to_string()).expect("jwk");
    assert_eq!(one[0].kid.as_deref(), Some("e1"));
    assert_eq!(one[0].alg, Some(Alg::EdDSA));
    let set = json!({"keys": [jwk, {"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET)}]});
    assert_eq!(keyset::parse_any(&set.to_string()).expect("jwks").len(), 2);
    let two_pems = format!(
        "{RSA_A_PUB}\n{}",
        include_str!("../../testdata/rsa-b.pub.pem")
    );
    assert_eq!(keyset::parse_any(&two_pems).expect("pems").len(), 2);
}

#[test]
fn unusable_keys_are_refused_with_a_reason() {
    let err = |text: &str| keyset::parse_any(text).expect_err(text);
    assert!(err(RSA_A).contains("never the private"));
    assert!(
        err("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----")
            .contains("x509 -pubkey")
    );
    assert!(err(r#"{"kty":"oct","k":"c2hvcnQ"}"#).contains("under the minimum"));
    assert!(err(r#"{"kty":"EC","crv":"P-521","x":"","y":""}"#).contains("unsupported"));
    let mismatched = json!({"kty": "oct", "alg": "RS256", "k": URL_SAFE_NO_PAD.encode(SECRET)});
    assert!(err(&mismatched.to_string()).contains("does not fit"));
    assert!(err("not a key").contains("neither PEM nor JSON"));
    let (keys, skipped) =
        keyset::parse_jwks(&json!({"keys": [{"kty": "EC", "crv": "P-521"}]})).expect("jwks");
    assert!(
        keys.is_empty() && skipped.len() == 1,
        "a fetched set skips what it cannot use"
    );
}
