//! A stored response: what it was stored for (its url and `Vary`
//! selection), when it arrived, its freshness, and its status, headers and
//! body byte for byte, in the binary form of [`crate::wire`].

use crate::freshness::Freshness;
use crate::headers::Headers;
use crate::vary::Selection;
use crate::wire::{Reader, Writer};

/// The first bytes of every entry record: the format and its version.
const MAGIC: &[u8; 4] = b"RCE1";

/// A stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key's url part (what prefix purges match).
    pub url: String,
    /// When the response arrived (or was last revalidated), ms since the epoch.
    pub arrived_ms: u64,
    pub freshness: Freshness,
    /// The request header values `Vary` named when it was stored.
    pub selection: Selection,
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Entry {
    /// Its age at `now_ms`.
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        self.freshness.age_ms(self.arrived_ms, now_ms)
    }

    /// The first value of header `name` (lower-case) as text.
    pub fn header(&self, name: &str) -> Option<String> {
        crate::headers::first(&self.headers, name)
    }

    /// Whether it can be validated (it has an `ETag` or a `Last-Modified`).
    pub fn has_validators(&self) -> bool {
        self.header("etag").is_some() || self.header("last-modified").is_some()
    }

    /// The record stored in kv.
    pub fn encode(&self) -> Vec<u8> {
        let f = &self.freshness;
        let mut w = Writer(MAGIC.to_vec());
        w.bytes(self.url.as_bytes()).u64(self.arrived_ms);
        w.u64(f.lifetime_ms)
            .u64(f.initial_age_ms)
            .u64(f.swr_ms)
            .u64(f.sie_ms);
        w.u8(u8::from(f.must_revalidate) | (u8::from(f.no_cache) << 1));
        w.u16(self.selection.len() as u16);
        for (name, value) in &self.selection {
            w.bytes(name.as_bytes()).u8(u8::from(value.is_some()));
            w.bytes(value.as_deref().unwrap_or_default());
        }
        w.u16(self.status).u16(self.headers.len() as u16);
        for (name, value) in &self.headers {
            w.bytes(name.as_bytes()).bytes(value);
        }
        w.bytes(&self.body);
        w.0
    }

    /// The entry a record holds, or `None` when it is not one.
    pub fn decode(record: &[u8]) -> Option<Entry> {
        let mut r = Reader(record.strip_prefix(MAGIC)?);
        let url = r.string()?;
        let arrived_ms = r.u64()?;
        let (lifetime_ms, initial_age_ms, swr_ms, sie_ms) =
            (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let flags = r.u8()?;
        let mut selection = Vec::new();
        for _ in 0..r.u16()? {
            let name = r.string()?;
            let present = r.u8()? == 1;
            let value = r.bytes()?;
            selection.push((name, present.then_some(value)));
        }
        let status = r.u16()?;
        let mut headers = Vec::new();
        for _ in 0..r.u16()? {
            headers.push((r.string()?, r.bytes()?));
        }
        let body = r.bytes()?;
        let freshness = Freshness {
            lifetime_ms,
            initial_age_ms,
            swr_ms,
            sie_ms,
            must_revalidate: flags & 1 != 0,
            no_cache: flags & 2 != 0,
        };
        let entry = Entry {
            url,
            arrived_ms,
            freshness,
            selection,
            status,
            headers,
            body,
        };
        r.done().then_some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Entry {
        Entry {
            url: "example.com/a?b=1".into(),
            arrived_ms: 1_700_000_000_123,
            freshness: Freshness {
                lifetime_ms: 60_000,
                initial_age_ms: 3000,
                swr_ms: 5000,
                sie_ms: 0,
                must_revalidate: false,
                no_cache: true,
            },
            selection: vec![
                ("accept".into(), Some(b"a, \xffb".to_vec())),
                ("x-e".into(), None),
            ],
            status: 203,
            headers: vec![
                ("etag".into(), b"\"v1\"".to_vec()),
                ("x-bin".into(), vec![0x80, 0xfe, b' ']),
                ("x-bin".into(), b"second".to_vec()),
            ],
            body: (0..=255u8).cycle().take(10_000).collect(),
        }
    }

    #[test]
    fn an_entry_round_trips_byte_for_byte() {
        let entry = sample();
        assert_eq!(Entry::decode(&entry.encode()), Some(entry));
    }

    #[test]
    fn a_damaged_or_foreign_record_is_not_an_entry() {
        let record = sample().encode();
        assert_eq!(Entry::decode(&record[..record.len() - 1]), None);
        let mut longer = record.clone();
        longer.push(0);
        assert_eq!(Entry::decode(&longer), None);
        assert_eq!(Entry::decode(b"RCE0whatever"), None);
    }

    #[test]
    fn validators_are_recognised() {
        let mut entry = sample();
        assert!(entry.has_validators());
        entry.headers.retain(|(n, _)| n != "etag");
        assert!(!entry.has_validators());
    }
}
