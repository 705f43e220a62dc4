//! The cache in kv. Records, by kv key:
//!
//! - `i:<primary>`: the variant index of a URL: the header names its
//!   `Vary` lists and the kv keys of its stored variants (at most
//!   `max_variants`, newest first), updated by compare-and-set;
//! - `e:<hash>`: one stored response ([`Entry`]), expiring when it can no
//!   longer be served or revalidated (capped at `max_ttl`);
//! - `f:<primary>` / `r:<entry>`: the fill and revalidation locks (taken by
//!   compare-and-set on an absent key, expiring after `fill_lock_ms`);
//! - `b:<n>`: bytes stored during the n-th eighth of `max_ttl`, each kept
//!   until every entry stored then has expired: their sum bounds what is
//!   stored (from above: an entry replaced or evicted early still counts);
//! - `p`: the prefix purge list ([`crate::purge`]).

use crate::entry::Entry;
use crate::kv::Kv;
use crate::purge;
use crate::settings::Settings;
use crate::vary;
use crate::wire::{Reader, Writer};

/// Compare-and-set attempts on the variant index before a store gives up.
const ATTEMPTS: usize = 8;
/// How many slices `max_ttl` is cut into for the byte count.
const SLICES: u64 = 8;

/// A URL's variants: the `Vary` names and the stored variants' kv keys.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Index {
    pub names: Vec<String>,
    pub variants: Vec<String>,
}

impl Index {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u16(self.names.len() as u16);
        self.names.iter().for_each(|n| _ = w.bytes(n.as_bytes()));
        w.u16(self.variants.len() as u16);
        self.variants.iter().for_each(|v| _ = w.bytes(v.as_bytes()));
        w.0
    }

    fn decode(record: &[u8]) -> Option<Index> {
        let mut r = Reader(record);
        let names = (0..r.u16()?).map(|_| r.string()).collect::<Option<_>>()?;
        let variants = (0..r.u16()?).map(|_| r.string()).collect::<Option<_>>()?;
        r.done().then_some(Index { names, variants })
    }
}

/// Why an entry was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum NotSaved {
    /// `max_total_bytes` would be passed.
    Full,
    Kv(String),
}

/// The cache on a kv store, with the plugin's settings.
pub struct Cache<'a, K: Kv> {
    pub kv: &'a K,
    pub settings: &'a Settings,
}

fn index_key(primary: &str) -> String {
    format!("i:{primary}")
}

/// The fill lock of a URL.
pub fn fill_lock(primary: &str) -> String {
    format!("f:{primary}")
}

/// The revalidation lock of a stored variant.
pub fn revalidation_lock(entry_key: &str) -> String {
    format!("r:{entry_key}")
}

impl<K: Kv> Cache<'_, K> {
    /// The stored variant for a request whose header fields
    /// `header_all(name)` gives: its kv key and the entry, or `None`.
    pub fn lookup(
        &self,
        primary: &str,
        header_all: impl Fn(&str) -> Vec<Vec<u8>>,
    ) -> Result<Option<(String, Entry)>, String> {
        let Some((record, _)) = self.kv.get(&index_key(primary))? else {
            return Ok(None);
        };
        let Some(index) = Index::decode(&record) else {
            return Ok(None);
        };
        let selection = vary::select(&index.names, header_all);
        let entry_key = vary::entry_key(primary, &selection);
        let Some((record, _)) = self.kv.get(&entry_key)? else {
            return Ok(None);
        };
        let Some(entry) = Entry::decode(&record).filter(|e| e.selection == selection) else {
            return Ok(None);
        };
        if purge::list(self.kv)?.covers(&entry.url, entry.arrived_ms) {
            self.kv.delete(&entry_key)?;
            return Ok(None);
        }
        Ok(Some((entry_key, entry)))
    }

    /// Stores `entry` (selected by `names`, from its response's `Vary`) as
    /// a variant of `primary`, within `max_total_bytes`; its kv key.
    pub fn save(
        &self,
        primary: &str,
        names: &[String],
        entry: &Entry,
        now_ms: u64,
    ) -> Result<String, NotSaved> {
        let record = entry.encode();
        let size = record.len() as u64;
        if self.stored_bytes(now_ms).map_err(NotSaved::Kv)? + size > self.settings.max_total_bytes {
            return Err(NotSaved::Full);
        }
        let entry_key = vary::entry_key(primary, &entry.selection);
        self.kv
            .set(&entry_key, &record, self.ttl_ms(entry))
            .map_err(NotSaved::Kv)?;
        self.count_bytes(size, now_ms).map_err(NotSaved::Kv)?;
        self.index(primary, names, &entry_key)
            .map_err(NotSaved::Kv)?;
        Ok(entry_key)
    }

    /// Replaces a stored variant in place (after a revalidation).
    pub fn replace(&self, entry_key: &str, entry: &Entry, now_ms: u64) -> Result<(), String> {
        let record = entry.encode();
        self.kv.set(entry_key, &record, self.ttl_ms(entry))?;
        self.count_bytes(record.len() as u64, now_ms)
    }

    /// Forgets every variant of `primary` (an unsafe method, an exact purge).
    pub fn invalidate(&self, primary: &str) -> Result<(), String> {
        self.kv.delete(&index_key(primary))
    }

    /// Takes lock `name` for `fill_lock_ms`; whether this request got it.
    pub fn try_lock(&self, name: &str) -> Result<bool, String> {
        self.kv
            .compare_and_set(name, None, b"1", self.settings.fill_lock_ms)
    }

    /// Whether lock `name` is held.
    pub fn locked(&self, name: &str) -> Result<bool, String> {
        Ok(self.kv.get(name)?.is_some())
    }

    /// Releases lock `name`.
    pub fn unlock(&self, name: &str) -> Result<(), String> {
        self.kv.delete(name)
    }

    /// How long an entry is kept: while fresh, then while it may be served
    /// stale, or (with validators) `keep_stale` for revalidation; at least
    /// a second, at most `max_ttl`.
    fn ttl_ms(&self, entry: &Entry) -> u64 {
        let f = &entry.freshness;
        let fresh_left = f.lifetime_ms.saturating_sub(f.initial_age_ms);
        let keep = match entry.has_validators() {
            true => self.settings.keep_stale_ms,
            false => 0,
        };
        let stale = f.swr_ms.max(f.sie_ms).max(keep);
        fresh_left
            .saturating_add(stale)
            .clamp(1000, self.settings.max_ttl_ms)
    }

    fn slice_ms(&self) -> u64 {
        (self.settings.max_ttl_ms / SLICES).max(1000)
    }

    /// The bytes stored in the slices whose entries may still live.
    fn stored_bytes(&self, now_ms: u64) -> Result<u64, String> {
        let current = now_ms / self.slice_ms();
        let mut total = 0u64;
        for slice in current.saturating_sub(SLICES + 1)..=current {
            if let Some((value, _)) = self.kv.get(&format!("b:{slice}"))? {
                let n = String::from_utf8_lossy(&value).parse::<u64>().unwrap_or(0);
                total = total.saturating_add(n);
            }
        }
        Ok(total)
    }

    fn count_bytes(&self, size: u64, now_ms: u64) -> Result<(), String> {
        let slice = now_ms / self.slice_ms();
        let ttl = self.slice_ms() + self.settings.max_ttl_ms;
        let delta = i64::try_from(size).unwrap_or(i64::MAX);
        self.kv
            .increment(&format!("b:{slice}"), delta, ttl)
            .map(|_| ())
    }

    /// Adds `entry_key` to the variant index of `primary`; a change of the
    /// `Vary` names drops the variants stored under the old ones.
    fn index(&self, primary: &str, names: &[String], entry_key: &str) -> Result<(), String> {
        let key = index_key(primary);
        for _ in 0..ATTEMPTS {
            let current = self.kv.get(&key)?;
            let version = current.as_ref().map(|(_, v)| *v);
            let mut index = current
                .and_then(|(r, _)| Index::decode(&r))
                .unwrap_or_default();
            let mut dropped = Vec::new();
            if index.names != names {
                dropped = std::mem::take(&mut index.variants);
                index.names = names.to_vec();
            }
            index.variants.retain(|v| v != entry_key);
            index.variants.insert(0, entry_key.to_string());
            dropped.extend(
                index
                    .variants
                    .drain(self.settings.max_variants.min(index.variants.len())..),
            );
            dropped.retain(|v| v != entry_key);
            let ttl = self.settings.max_ttl_ms;
            if self
                .kv
                .compare_and_set(&key, version, &index.encode(), ttl)?
            {
                dropped.iter().try_for_each(|v| self.kv.delete(v))?;
                return Ok(());
            }
        }
        Err("the variant index stayed contended".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshness::Freshness;
    use crate::kv::memory::Memory;
    use crate::settings::FileSettings;

    fn settings(json: &str) -> Settings {
        let file: FileSettings = serde_json::from_str(json).expect("json");
        file.validate().expect("valid")
    }

    fn entry(url: &str, selection: vary::Selection, body: &[u8]) -> Entry {
        Entry {
            url: url.into(),
            arrived_ms: 1000,
            freshness: Freshness {
                lifetime_ms: 60_000,
                ..Default::default()
            },
            selection,
            status: 200,
            headers: vec![],
            body: body.to_vec(),
        }
    }

    fn lang(value: &'static str) -> impl Fn(&str) -> Vec<Vec<u8>> {
        move |name| match name {
            "accept-language" => vec![value.as_bytes().to_vec()],
            _ => vec![],
        }
    }

    #[test]
    fn two_variants_of_a_url_are_both_found() {
        let (kv, s) = (Memory::default(), settings("{}"));
        let cache = Cache {
            kv: &kv,
            settings: &s,
        };
        let names = vec!["accept-language".to_string()];
        for l in ["en", "fr"] {
            let e = entry("h/a", vary::select(&names, lang(l)), l.as_bytes());
            cache.save("p", &names, &e, 1000).expect("saved");
        }
        for l in ["en", "fr"] {
            let (_, found) = cache.lookup("p", lang(l)).expect("kv").expect("found");
            assert_eq!(found.body, l.as_bytes());
        }
        assert_eq!(cache.lookup("p", lang("de")).expect("kv"), None);
    }

    #[test]
    fn old_variants_go_past_max_variants_and_when_vary_changes() {
        let (kv, s) = (Memory::default(), settings(r#"{"max_variants": 1}"#));
        let cache = Cache {
            kv: &kv,
            settings: &s,
        };
        let names = vec!["accept-language".to_string()];
        let en = entry("h/a", vary::select(&names, lang("en")), b"en");
        let en_key = cache.save("p", &names, &en, 1000).expect("saved");
        let fr = entry("h/a", vary::select(&names, lang("fr")), b"fr");
        cache.save("p", &names, &fr, 1000).expect("saved");
        assert!(kv.get(&en_key).expect("kv").is_none(), "en was dropped");
        cache
            .save("p", &[], &entry("h/a", vec![], b"plain"), 1000)
            .expect("saved");
        let (_, found) = cache.lookup("p", lang("fr")).expect("kv").expect("found");
        assert_eq!(found.body, b"plain");
    }

    #[test]
    fn the_total_is_enforced_and_purges_hide_older_entries() {
        let (kv, s) = (
            Memory::default(),
            settings(r#"{"max_entry_bytes": 100, "max_total_bytes": 250}"#),
        );
        let cache = Cache {
            kv: &kv,
            settings: &s,
        };
        cache
            .save("a", &[], &entry("h/x/a", vec![], &[0; 60]), 1000)
            .expect("first fits");
        cache
            .save("b", &[], &entry("h/x/b", vec![], &[0; 60]), 1000)
            .expect("second fits");
        let third = cache.save("c", &[], &entry("h/y/c", vec![], &[0; 60]), 1000);
        assert_eq!(third, Err(NotSaved::Full));
        purge::add_prefix(&kv, "h/x/", 1000, s.max_ttl_ms).expect("purged");
        assert_eq!(cache.lookup("a", |_| vec![]).expect("kv"), None);
        cache.invalidate("b").expect("kv");
        assert_eq!(cache.lookup("b", |_| vec![]).expect("kv"), None);
    }

    #[test]
    fn locks_are_exclusive_until_released() {
        let (kv, s) = (Memory::default(), settings("{}"));
        let cache = Cache {
            kv: &kv,
            settings: &s,
        };
        assert_eq!(cache.try_lock("f:p"), Ok(true));
        assert_eq!(cache.try_lock("f:p"), Ok(false));
        assert_eq!(cache.locked("f:p"), Ok(true));
        cache.unlock("f:p").expect("kv");
        assert_eq!(cache.try_lock("f:p"), Ok(true));
    }

    #[test]
    fn the_index_round_trips() {
        let index = Index {
            names: vec!["a".into()],
            variants: vec!["e:1".into(), "e:2".into()],
        };
        assert_eq!(Index::decode(&index.encode()), Some(index));
    }
}
