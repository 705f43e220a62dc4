//! Loading Debian's CRS from disk for the native tests.

use std::collections::BTreeMap;

use seclang::crs::{self, Settings};
use seclang::{MapFiles, RuleSet};

pub const RULES: &str = "/usr/share/modsecurity-crs/rules";

/// The rule and data files of Debian's CRS, by file name.
pub fn files() -> MapFiles {
    let mut map = BTreeMap::new();
    let dir = std::fs::read_dir(RULES)
        .unwrap_or_else(|e| panic!("{RULES}: {e} (scripts/setup installs modsecurity-crs)"));
    for entry in dir {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        map.insert(name, std::fs::read_to_string(&path).unwrap());
    }
    MapFiles(map)
}

/// The CRS with `settings`, every `*.conf` in file-name order.
pub fn crs(settings: &Settings) -> RuleSet {
    let files = files();
    let mut rules = RuleSet::load(&files, &[]).unwrap();
    rules.add_text(&files, "setup", &crs::setup(settings)).unwrap();
    let names: Vec<String> = files.0.keys().filter(|k| k.ends_with(".conf")).cloned().collect();
    for name in names {
        let text = files.0[&name].clone();
        rules.add_text(&files, &name, &text).unwrap_or_else(|e| panic!("{e}"));
    }
    rules
}
