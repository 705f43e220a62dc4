//! Finds the line of a key in the configuration text, so a problem found
//! after parsing (an unknown upstream, a bad address) still points at the
//! line that caused it.

use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// The 1-based line where the value at `path` starts, or the line of the
/// deepest part of the path that exists.
pub fn line_of(text: &str, path: &[Step]) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut offset = None;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table = Some(root.get_ref());
    for step in path {
        let next = match (step, table, value) {
            (Step::Key(key), Some(table), _) => table.get(key.as_str()),
            (Step::Index(index), None, Some(DeValue::Array(array))) => array.get(*index),
            _ => None,
        };
        let Some(next) = next else { break };
        offset = Some(next.span().start);
        value = Some(next.get_ref());
        table = match next.get_ref() {
            DeValue::Table(inner) => Some(inner),
            _ => None,
        };
    }
    offset.map(|at| line_at(text, at))
}

/// The 1-based line holding byte `offset`.
pub fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    #[test]
    fn finds_nested_keys_and_array_entries() {
        let text = "[server]\nvia = \"x\"\n\n[[routes]]\nupstream = \"a\"\n\n[[routes]]\nupstream = \"b\"\n";
        assert_eq!(line_of(text, &[key("server"), key("via")]), Some(2));
        assert_eq!(
            line_of(text, &[key("routes"), Step::Index(1), key("upstream")]),
            Some(8)
        );
    }

    #[test]
    fn falls_back_to_the_deepest_existing_key() {
        let text = "[upstreams.api]\nendpoints = []\n";
        assert_eq!(
            line_of(text, &[key("upstreams"), key("api"), key("missing")]),
            Some(1)
        );
    }
}
