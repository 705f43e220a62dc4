//! Header edits for one side (request or response): `remove`, then `set`
//! (replacing every earlier value), then `add` (appending). Values are sent
//! byte for byte as written; names and values are checked at load.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One value, or several (sent as several fields, in order).
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    fn into_vec(self) -> Vec<String> {
        match self {
            Values::One(v) => vec![v],
            Values::Many(v) => v,
        }
    }
}

/// The edits as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileEdits {
    #[serde(default)]
    set: BTreeMap<String, Values>,
    #[serde(default)]
    add: BTreeMap<String, Values>,
    #[serde(default)]
    remove: Vec<String>,
}

/// Checked edits.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Edits {
    remove: Vec<String>,
    /// (name, values): every earlier value of the name is replaced by these.
    set: Vec<(String, Vec<String>)>,
    /// (name, value) fields appended in order.
    add: Vec<(String, String)>,
}

/// The operations of one side the edits need, as the SDK offers them.
pub trait Fields {
    fn add(&self, name: &str, value: &str) -> Result<(), String>;
    fn remove(&self, name: &str);
}

impl Edits {
    /// Checks `raw`; `side` (`request` / `response`) names it in errors.
    pub fn build(raw: FileEdits, side: &str) -> Result<Edits, String> {
        for name in raw
            .remove
            .iter()
            .chain(raw.set.keys())
            .chain(raw.add.keys())
        {
            check_name(name).map_err(|e| format!("{side}: {e}"))?;
        }
        let mut edits = Edits {
            remove: raw.remove,
            ..Edits::default()
        };
        for (name, values) in raw.set {
            let values = values.into_vec();
            check_values(&name, &values).map_err(|e| format!("{side}.set: {e}"))?;
            edits.set.push((name, values));
        }
        for (name, values) in raw.add {
            let values = values.into_vec();
            check_values(&name, &values).map_err(|e| format!("{side}.add: {e}"))?;
            edits
                .add
                .extend(values.into_iter().map(|v| (name.clone(), v)));
        }
        Ok(edits)
    }

    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.set.is_empty() && self.add.is_empty()
    }

    /// Applies the edits; the first failure (which the load-time checks
    /// make unexpected) is returned.
    pub fn apply(&self, fields: &impl Fields) -> Result<(), String> {
        for name in &self.remove {
            fields.remove(name);
        }
        for (name, values) in &self.set {
            fields.remove(name);
            for value in values {
                fields.add(name, value)?;
            }
        }
        for (name, value) in &self.add {
            fields.add(name, value)?;
        }
        Ok(())
    }
}

/// A field name is an HTTP token (RFC 9110 §5.6.2).
fn check_name(name: &str) -> Result<(), String> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(format!("{name:?} is not a valid header name"));
    }
    Ok(())
}

/// A field value has no line breaks or NUL, and no space at either end.
fn check_values(name: &str, values: &[String]) -> Result<(), String> {
    for value in values {
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(format!("{name}: a header value may not hold CR, LF or NUL"));
        }
        if value.trim_matches([' ', '\t']) != value {
            return Err(format!(
                "{name}: a header value may not start or end with a space"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// An in-memory header list.
    #[derive(Default)]
    struct List(RefCell<Vec<(String, String)>>);

    impl Fields for List {
        fn add(&self, name: &str, value: &str) -> Result<(), String> {
            self.0
                .borrow_mut()
                .push((name.to_string(), value.to_string()));
            Ok(())
        }
        fn remove(&self, name: &str) {
            self.0
                .borrow_mut()
                .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
    }

    fn edits(json: &str) -> Result<Edits, String> {
        let raw: FileEdits = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Edits::build(raw, "request")
    }

    #[test]
    fn remove_then_set_then_add() {
        let e = edits(r#"{ "remove": ["server", "x-a"], "set": { "x-a": ["1", "2"], "x-b": "{\"j\": 1}" }, "add": { "x-a": "3" } }"#)
            .expect("edits");
        let list = List::default();
        for (n, v) in [("Server", "s"), ("X-A", "0"), ("x-c", "keep")] {
            list.add(n, v).expect("add");
        }
        e.apply(&list).expect("apply");
        let got = list.0.into_inner();
        let want = [
            ("x-c", "keep"),
            ("x-a", "1"),
            ("x-a", "2"),
            ("x-b", "{\"j\": 1}"),
            ("x-a", "3"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_names_and_values_are_refused() {
        let e = edits(r#"{ "set": { "bad name": "x" } }"#).expect_err("name");
        assert_eq!(e, "request: \"bad name\" is not a valid header name");
        let e = edits(r#"{ "add": { "x": "a\r\nb: c" } }"#).expect_err("crlf");
        assert!(
            e.starts_with("request.add: x: a header value may not hold CR"),
            "{e}"
        );
        let e = edits(r#"{ "set": { "x": " padded" } }"#).expect_err("space");
        assert!(e.contains("may not start or end with a space"), "{e}");
        let e = edits(r#"{ "remove": [""] }"#).expect_err("empty");
        assert!(e.contains("not a valid header name"), "{e}");
        assert!(
            edits(r#"{ "replace": {} }"#)
                .expect_err("key")
                .contains("unknown field `replace`")
        );
    }
}
