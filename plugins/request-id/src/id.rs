//! Request ids: making new ones (UUIDv7 or 128 random bits) from bytes the
//! host's generator gave, and deciding whether an incoming one is
//! acceptable. Pure functions: the plugin passes in the clock and the
//! random bytes.

use serde::Deserialize;

/// How new ids are made.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Generate {
    /// RFC 9562 UUID version 7: 48 bits of Unix milliseconds, then 74
    /// random bits; sorts by time.
    #[default]
    Uuidv7,
    /// 128 random bits as 32 lower-case hex digits.
    Random,
}

/// What an incoming id must look like to be kept.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Letters, digits and `-`, `_`, `.`, `:`, `/`, `+`, `=`.
    #[default]
    Token,
    /// A UUID in its 36-character hyphenated form (any version).
    Uuid,
    /// Hex digits only.
    Hex,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xf)] as char);
    }
    out
}

/// A new id: `random` must hold at least 16 bytes (UUIDv7 uses 10 of them).
pub fn generate(kind: Generate, now_ms: u64, random: &[u8]) -> String {
    match kind {
        Generate::Random => hex(&random[..16]),
        Generate::Uuidv7 => uuid_text(&uuidv7(now_ms, random)),
    }
}

/// The 16 bytes of a UUIDv7 (RFC 9562 §5.7): `unix_ts_ms` (48 bits),
/// version 7, 12 random bits, variant `10`, 62 random bits.
fn uuidv7(now_ms: u64, random: &[u8]) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&now_ms.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&random[..10]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    bytes
}

/// `8-4-4-4-12` lower-case hex.
fn uuid_text(bytes: &[u8; 16]) -> String {
    let h = hex(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Whether `value` is an id of `format` no longer than `max_length` bytes
/// (and not empty).
pub fn acceptable(value: &[u8], format: Format, max_length: usize) -> bool {
    if value.is_empty() || value.len() > max_length {
        return false;
    }
    match format {
        Format::Token => value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(b)),
        Format::Hex => value.iter().all(u8::is_ascii_hexdigit),
        Format::Uuid => is_uuid(value),
    }
}

fn is_uuid(value: &[u8]) -> bool {
    value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: [u8; 16] = [0xff; 16];

    #[test]
    fn uuidv7_carries_the_time_version_and_variant() {
        let id = generate(Generate::Uuidv7, 0x0123_4567_89ab, &RANDOM);
        assert_eq!(id, "01234567-89ab-7fff-bfff-ffffffffffff");
        let zeros = generate(Generate::Uuidv7, 0, &[0; 16]);
        assert_eq!(zeros, "00000000-0000-7000-8000-000000000000");
        assert!(acceptable(id.as_bytes(), Format::Uuid, 36));
    }

    #[test]
    fn uuidv7_ids_sort_by_time() {
        let earlier = generate(Generate::Uuidv7, 1_700_000_000_000, &RANDOM);
        let later = generate(Generate::Uuidv7, 1_700_000_000_001, &[0; 16]);
        assert!(earlier < later, "{earlier} !< {later}");
    }

    #[test]
    fn random_ids_are_32_hex_digits_of_the_bytes() {
        let bytes: Vec<u8> = (0..16).collect();
        let id = generate(Generate::Random, 5, &bytes);
        assert_eq!(id, "000102030405060708090a0b0c0d0e0f");
        assert!(acceptable(id.as_bytes(), Format::Hex, 32));
    }

    #[test]
    fn incoming_ids_are_checked_for_length_and_format() {
        assert!(acceptable(b"abc-123_x.y:z", Format::Token, 64));
        assert!(!acceptable(b"", Format::Token, 64), "empty");
        assert!(!acceptable(b"a b", Format::Token, 64), "space");
        assert!(!acceptable(b"a\"b", Format::Token, 64), "quote");
        assert!(!acceptable("é".as_bytes(), Format::Token, 64), "not ASCII");
        assert!(!acceptable(&[b'a'; 65], Format::Token, 64), "too long");
        assert!(acceptable(&[b'a'; 64], Format::Token, 64));
        assert!(acceptable(b"DEADbeef", Format::Hex, 64));
        assert!(!acceptable(b"xyz", Format::Hex, 64));
        let uuid = b"0189a7f2-3b4c-7d5e-8f60-123456789abc";
        assert!(acceptable(uuid, Format::Uuid, 64));
        assert!(!acceptable(&uuid[1..], Format::Uuid, 64), "short");
        assert!(!acceptable(
            b"0189a7f2x3b4c-7d5e-8f60-123456789abc",
            Format::Uuid,
            64
        ));
        assert!(!acceptable(uuid, Format::Uuid, 35), "over max_length");
    }
}
