//! Secrets kept as SHA-256 digests (`sha256:<64 hex>`) and matched in
//! constant time: API keys and static bearer tokens never sit in the config
//! in clear, and a comparison's timing says nothing about how close a guess
//! came.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A SHA-256 digest from the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Parses `sha256:<64 hex digits>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let hex = text.strip_prefix("sha256:").ok_or_else(|| {
            "must be \"sha256:<64 hex digits>\" (the SHA-256 of the secret: `printf %s SECRET | sha256sum`), not the secret itself".to_string()
        })?;
        let bytes = decode_hex(hex).ok_or("\"sha256:\" must be followed by 64 hex digits")?;
        Ok(Sha256Digest(bytes))
    }

    /// The digest of `secret`.
    pub fn of(secret: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(secret).into())
    }

    /// Compares in constant time.
    pub fn matches(&self, other: &Sha256Digest) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let digits = hex.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        out[i] = (high * 16 + low) as u8;
    }
    Some(out)
}

/// The lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Which of `named` digests `secret` has, checking every one of them so the
/// time taken does not depend on which (or whether one) matched.
pub fn find<'a, T>(named: &'a [(T, Sha256Digest)], secret: &[u8]) -> Option<&'a T> {
    let presented = Sha256Digest::of(secret);
    let mut found = None;
    for (name, digest) in named {
        if digest.matches(&presented) {
            found = Some(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn parses_and_matches_a_known_digest() {
        let digest = Sha256Digest::parse(ABC).expect("valid");
        assert!(digest.matches(&Sha256Digest::of(b"abc")));
        assert!(!digest.matches(&Sha256Digest::of(b"abd")));
        assert_eq!(format!("sha256:{}", hex(&Sha256Digest::of(b"abc").0)), ABC);
    }

    #[test]
    fn refuses_plain_secrets_and_bad_hex() {
        assert!(
            Sha256Digest::parse("demo-token")
                .unwrap_err()
                .contains("sha256sum")
        );
        assert!(Sha256Digest::parse("sha256:abc").is_err());
        assert!(Sha256Digest::parse(&ABC.replace('b', "g")).is_err());
    }

    #[test]
    fn find_returns_the_matching_name() {
        let keys = vec![
            ("a", Sha256Digest::of(b"one")),
            ("b", Sha256Digest::of(b"two")),
        ];
        assert_eq!(find(&keys, b"two"), Some(&"b"));
        assert_eq!(find(&keys, b"three"), None);
    }
}
