//! Password hashes as htpasswd and PHC strings hold them: bcrypt
//! (`$2a$`/`$2b$`/`$2y$`, cost 4 to 31) and argon2 (`$argon2id$v=19$...`,
//! also argon2i and argon2d). Parsed at load, so a malformed hash is a
//! config error rather than a user who can never log in.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use base64::Engine;
use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD};
use subtle::ConstantTimeEq;

const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(&BCRYPT, NO_PAD);

/// One user's stored hash.
#[derive(Clone, Debug)]
pub enum Hash {
    Bcrypt {
        cost: u32,
        salt: [u8; 16],
        digest: [u8; 23],
    },
    Argon2(String),
}

impl Hash {
    /// Reads a bcrypt or argon2 hash.
    pub fn parse(text: &str) -> Result<Hash, String> {
        if text.starts_with("$argon2") {
            check_argon2(text)?;
            return Ok(Hash::Argon2(text.to_string()));
        }
        parse_bcrypt(text)
    }

    /// Whether `password` matches. Costs the hash's full work factor.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Hash::Bcrypt { cost, salt, digest } => {
                // bcrypt hashes the password with a NUL, at most 72 bytes.
                let mut input = password.to_vec();
                input.push(0);
                input.truncate(72);
                let out = bcrypt::bcrypt(*cost, *salt, &input);
                out[..23].ct_eq(digest).into()
            }
            Hash::Argon2(text) => PasswordHash::new(text).is_ok_and(|hash| {
                argon2::Argon2::default()
                    .verify_password(password, &hash)
                    .is_ok()
            }),
        }
    }
}

/// The most memory an argon2 hash may ask for, KiB: it is spent inside the
/// plugin's instance, whose `memory_limit_mb` defaults to 64.
pub const MAX_ARGON2_KIB: u32 = 48 * 1024;

fn check_argon2(text: &str) -> Result<(), String> {
    let hash = PasswordHash::new(text).map_err(|e| format!("argon2 hash unreadable: {e}"))?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("argon2 hash lacks its salt or digest".into());
    }
    let params = argon2::Params::try_from(&hash).map_err(|e| format!("argon2 parameters: {e}"))?;
    if params.m_cost() > MAX_ARGON2_KIB {
        return Err(format!(
            "argon2 memory cost m={} KiB is over the {MAX_ARGON2_KIB} KiB a plugin instance can spare",
            params.m_cost()
        ));
    }
    Ok(())
}

fn parse_bcrypt(text: &str) -> Result<Hash, String> {
    let unknown = || "neither bcrypt ($2b$...) nor argon2 ($argon2id$...)".to_string();
    let mut parts = text.split('$');
    let (Some(""), Some(version), Some(cost), Some(rest), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(unknown());
    };
    if !matches!(version, "2a" | "2b" | "2y") {
        return Err(unknown());
    }
    let cost: u32 = cost
        .parse()
        .ok()
        .filter(|c| (4..=31).contains(c))
        .ok_or("bcrypt cost must be 4 to 31")?;
    if rest.len() != 53 || !rest.is_ascii() {
        return Err("bcrypt hash must have 53 characters after the cost".into());
    }
    let decode = |part: &str| {
        BCRYPT_B64
            .decode(part)
            .map_err(|e| format!("bcrypt hash: {e}"))
    };
    let salt = decode(&rest[..22])?
        .try_into()
        .map_err(|_| "bcrypt salt is not 16 bytes")?;
    let digest = decode(&rest[22..])?
        .try_into()
        .map_err(|_| "bcrypt digest is not 23 bytes")?;
    Ok(Hash::Bcrypt { cost, salt, digest })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors made by other bcrypt implementations (Python's, Node's).
    const PYTHON: &str = "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie";
    const NODE: &str = "$2a$04$n4Uy0eSnMfvnESYL.bLwuuj0U/ETSsoTpRT9GVk5bektyVVa5xnIi";

    #[test]
    fn bcrypt_verifies_the_right_password_only() {
        for vector in [PYTHON, NODE] {
            let hash = Hash::parse(vector).expect("parses");
            assert!(hash.verify(b"correctbatteryhorsestapler"), "{vector}");
            assert!(!hash.verify(b"correctbatteryhorsestaple"), "{vector}");
            assert!(!hash.verify(b""), "{vector}");
        }
    }

    #[test]
    fn argon2_verifies_the_right_password_only() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
        let params = argon2::Params::new(64, 1, 1, None).expect("params");
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let text = argon
            .hash_password(b"s3cret", &salt)
            .expect("hash")
            .to_string();
        let hash = Hash::parse(&text).expect("parses");
        assert!(hash.verify(b"s3cret"));
        assert!(!hash.verify(b"s3cre"));
    }

    #[test]
    fn malformed_hashes_are_refused() {
        assert!(Hash::parse("plaintext").is_err());
        assert!(
            Hash::parse("$1$abc$def").is_err(),
            "MD5-crypt is not accepted"
        );
        assert!(
            Hash::parse("$2b$03$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie").is_err()
        );
        assert!(Hash::parse("$2b$04$short").is_err());
        assert!(Hash::parse("$argon2id$v=19$broken").is_err());
    }
}
