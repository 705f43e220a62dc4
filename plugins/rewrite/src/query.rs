//! Query parameter edits on the request sent upstream: `remove`, then
//! `rename`, then `set` (one value in place of every earlier one, where the
//! first was; appended when absent), then `add` (appended). Names are
//! compared percent-decoded (`+` as a space); every parameter the edits do
//! not touch keeps its place and its exact encoding. New names and values
//! are percent-encoded (everything but `A-Z a-z 0-9 - . _ ~`).

use serde::Deserialize;
use std::collections::BTreeMap;

/// The edits as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileEdits {
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    add: BTreeMap<String, String>,
}

/// Checked edits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Edits {
    remove: Vec<String>,
    rename: Vec<(String, String)>,
    set: Vec<(String, String)>,
    add: Vec<(String, String)>,
}

impl Edits {
    pub fn build(raw: FileEdits) -> Result<Edits, String> {
        let names = raw
            .remove
            .iter()
            .chain(raw.rename.keys())
            .chain(raw.rename.values());
        if let Some(empty) = names
            .chain(raw.set.keys())
            .chain(raw.add.keys())
            .find(|n| n.is_empty())
        {
            return Err(format!(
                "query: a parameter name may not be empty ({empty:?})"
            ));
        }
        Ok(Edits {
            remove: raw.remove,
            rename: raw.rename.into_iter().collect(),
            set: raw.set.into_iter().collect(),
            add: raw.add.into_iter().collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.set.is_empty()
            && self.add.is_empty()
    }

    /// The edited query (without `?`); `None` when no parameter is left.
    pub fn apply(&self, query: &str) -> Option<String> {
        let mut params: Vec<String> = match query.is_empty() {
            true => Vec::new(),
            false => query.split('&').map(String::from).collect(),
        };
        params.retain(|p| !self.remove.iter().any(|r| name_of(p) == *r));
        for (from, to) in &self.rename {
            for p in params.iter_mut().filter(|p| name_of(p) == *from) {
                *p = match p.split_once('=') {
                    Some((_, value)) => format!("{}={value}", encode(to)),
                    None => encode(to),
                };
            }
        }
        for (name, value) in &self.set {
            let field = format!("{}={}", encode(name), encode(value));
            match params.iter().position(|p| name_of(p) == *name) {
                Some(first) => {
                    params[first] = field;
                    let mut i = 0;
                    params.retain(|p| {
                        i += 1;
                        i - 1 == first || name_of(p) != *name
                    });
                }
                None => params.push(field),
            }
        }
        for (name, value) in &self.add {
            params.push(format!("{}={}", encode(name), encode(value)));
        }
        (!params.is_empty()).then(|| params.join("&"))
    }
}

/// A parameter's name, decoded.
fn name_of(param: &str) -> String {
    decode(param.split_once('=').map_or(param, |(name, _)| name))
}

/// Percent-decodes `text` (and `+` as a space); a malformed escape stays as
/// written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| hex_pair(bytes.get(i + 1..i + 3)?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte two hex digits spell.
fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

/// Percent-encodes every byte but the unreserved ones (RFC 3986 §2.3).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edits(json: &str) -> Edits {
        let raw: FileEdits = serde_json::from_str(json).expect("json");
        Edits::build(raw).expect("edits")
    }

    #[test]
    fn untouched_parameters_keep_their_order_and_encoding() {
        let e = edits(r#"{ "remove": ["utm_source"] }"#);
        let query = "b=%2F%2f&utm_source=x&a=1+2&flag&utm%5Fsource=y&=z";
        assert_eq!(e.apply(query).as_deref(), Some("b=%2F%2f&a=1+2&flag&=z"));
    }

    #[test]
    fn rename_keeps_the_place_and_the_value() {
        let e = edits(r#"{ "rename": { "q": "query", "old name": "new/name" } }"#);
        let out = e.apply("a=1&q=x%20y&old+name=2&q");
        assert_eq!(out.as_deref(), Some("a=1&query=x%20y&new%2Fname=2&query"));
    }

    #[test]
    fn set_replaces_in_place_or_appends_and_add_appends() {
        let e = edits(r#"{ "set": { "page": "1" }, "add": { "tag": "a b&c" } }"#);
        assert_eq!(
            e.apply("x=0&page=5&y=2&page=6").as_deref(),
            Some("x=0&page=1&y=2&tag=a%20b%26c")
        );
        assert_eq!(e.apply("").as_deref(), Some("page=1&tag=a%20b%26c"));
    }

    #[test]
    fn removing_everything_drops_the_query() {
        let e = edits(r#"{ "remove": ["a", "b"] }"#);
        assert_eq!(e.apply("a=1&b=2"), None);
        assert_eq!(e.apply(""), None);
    }

    #[test]
    fn the_order_is_remove_rename_set_add() {
        let e = edits(
            r#"{ "remove": ["new"], "rename": { "old": "new" }, "set": { "new": "s" }, "add": { "new": "a" } }"#,
        );
        assert_eq!(
            e.apply("new=gone&old=1&k=v").as_deref(),
            Some("new=s&k=v&new=a")
        );
    }

    #[test]
    fn decoding_leaves_malformed_escapes_alone() {
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz%41+"), "%zzA ");
        assert_eq!(encode("é ~"), "%C3%A9%20~");
    }

    #[test]
    fn empty_names_are_refused() {
        let raw: FileEdits = serde_json::from_str(r#"{ "add": { "": "x" } }"#).expect("json");
        let err = Edits::build(raw).expect_err("empty name");
        assert!(err.contains("may not be empty"), "{err}");
    }
}
