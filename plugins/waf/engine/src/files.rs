//! [`Files`] over an in-memory map: how the plugin (which cannot open
//! files) hands the engine the rule and data files the host read for it.

use std::collections::BTreeMap;

use crate::rules::Files;

/// Files by name; a lookup by path matches on the file name.
#[derive(Debug, Default, Clone)]
pub struct MapFiles(pub BTreeMap<String, String>);

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || !name[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

impl Files for MapFiles {
    fn read(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .or_else(|| self.0.get(file_name(name)))
            .cloned()
    }

    fn list(&self, pattern: &str) -> Vec<String> {
        let pattern = file_name(pattern);
        self.0
            .keys()
            .filter(|k| glob(pattern, file_name(k)))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_by_file_name_and_globs() {
        let mut m = MapFiles::default();
        for n in ["REQUEST-901-INIT.conf", "REQUEST-942-SQLI.conf", "x.data"] {
            m.0.insert(n.into(), n.into());
        }
        assert_eq!(
            m.read("/usr/share/crs/rules/x.data").as_deref(),
            Some("x.data")
        );
        assert_eq!(m.list("rules/REQUEST-*.conf").len(), 2);
        assert_eq!(m.list("rules/*-942-*.conf"), vec!["REQUEST-942-SQLI.conf"]);
        assert!(m.list("nope.conf").is_empty());
    }
}
