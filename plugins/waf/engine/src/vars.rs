//! The variables of one transaction: request and response collections
//! (filled once per phase) and the writable ones (`TX`, `IP`, …), with
//! macro expansion (`%{tx.anomaly_score}`) over both.

use std::collections::{BTreeMap, HashMap};

/// Collections `setvar` may write. Only `TX` means anything to the CRS
/// here; the others live as long as the transaction (no persistence).
pub const WRITABLE: [&str; 6] = ["TX", "IP", "GLOBAL", "SESSION", "USER", "RESOURCE"];

/// All the variables of a transaction.
#[derive(Default)]
pub struct Vars {
    /// Read-only collections: (key, value) in order; single variables
    /// have one member with an empty key.
    fixed: HashMap<&'static str, Vec<(String, Vec<u8>)>>,
    /// Writable collections, keys lower-cased.
    store: HashMap<String, BTreeMap<String, Vec<u8>>>,
}

impl Vars {
    /// Sets single variable `name`.
    pub fn set(&mut self, name: &'static str, value: impl Into<Vec<u8>>) {
        self.fixed.insert(name, vec![(String::new(), value.into())]);
    }

    /// Adds member `key` to collection `name`.
    pub fn push(&mut self, name: &'static str, key: &str, value: impl Into<Vec<u8>>) {
        self.fixed
            .entry(name)
            .or_default()
            .push((key.to_string(), value.into()));
    }

    /// Empties collection `name`.
    pub fn clear(&mut self, name: &'static str) {
        self.fixed.remove(name);
    }

    /// The number of members of `name`.
    pub fn len(&self, name: &str) -> usize {
        self.fixed.get(name).map_or(0, Vec::len)
    }

    /// The members of collection `name` (upper-case) whose keys `keep`
    /// accepts, cloned (only those: a rule on `TX:x` or `ARGS:q` copies
    /// one value, not the collection).
    pub fn members(&self, name: &str, keep: &dyn Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
        if let Some(store) = self.store.get(name) {
            return store
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
        let fixed = self.fixed.get(name).map_or(&[][..], Vec::as_slice);
        fixed.iter().filter(|(k, _)| keep(k)).cloned().collect()
    }

    /// The value of `name` or `name.key`, as a macro sees it.
    pub fn lookup(&self, name: &str, key: Option<&str>) -> Option<Vec<u8>> {
        if let Some(store) = self.store.get(name) {
            return store.get(&key?.to_ascii_lowercase()).cloned();
        }
        let members = self.fixed.get(name)?;
        match key {
            Some(key) => members
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone()),
            None => members.first().map(|(_, v)| v.clone()),
        }
    }

    /// Writes `collection.key` (a writable collection).
    pub fn write(&mut self, collection: &str, key: &str, value: Vec<u8>) {
        self.store
            .entry(collection.to_string())
            .or_default()
            .insert(key.to_ascii_lowercase(), value);
    }

    /// Deletes `collection.key`.
    pub fn delete(&mut self, collection: &str, key: &str) {
        if let Some(store) = self.store.get_mut(collection) {
            store.remove(&key.to_ascii_lowercase());
        }
    }

    /// Makes sure the writable collections exist (so `&TX:x` counts 0).
    pub fn init_store(&mut self) {
        for name in WRITABLE {
            self.store.entry(name.to_string()).or_default();
        }
    }

    /// Expands `%{collection.key}` and `%{VARIABLE}` macros in `text`;
    /// `rule` answers `%{rule.*}`. Unknown names expand to nothing.
    pub fn expand(&self, text: &str, rule: &dyn Fn(&str) -> Option<String>) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            out.extend_from_slice(&rest.as_bytes()[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.extend_from_slice(&rest.as_bytes()[start..]);
                return out;
            };
            let name = &after[..end];
            let (collection, key) = match name.split_once('.') {
                Some((c, k)) => (c.to_ascii_uppercase(), Some(k)),
                None => (name.to_ascii_uppercase(), None),
            };
            let value = if collection == "RULE" {
                key.and_then(|k| rule(&k.to_ascii_lowercase()))
                    .map(String::into_bytes)
            } else {
                self.lookup(&collection, key)
            };
            out.extend(value.unwrap_or_default());
            rest = &after[end + 1..];
        }
        out.extend_from_slice(rest.as_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_expand_over_both_kinds() {
        let mut v = Vars::default();
        v.init_store();
        v.write("TX", "Score", b"5".to_vec());
        v.push("REQUEST_HEADERS", "Host", "example.com");
        v.set("REMOTE_ADDR", "10.0.0.1");
        let text =
            "%{tx.score}/%{TX.SCORE} %{request_headers.host} %{remote_addr} %{rule.id} %{tx.none}.";
        let out = v.expand(text, &|k| (k == "id").then(|| "7".to_string()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "5/5 example.com 10.0.0.1 7 ."
        );
    }
}
