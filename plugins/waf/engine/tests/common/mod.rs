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
    rules
        .add_text(&files, "setup", &crs::setup(settings))
        .unwrap();
    let names: Vec<String> = files
        .0
        .keys()
        .filter(|k| k.ends_with(".conf"))
        .cloned()
        .collect();
    for name in names {
        let text = files.0[&name].clone();
        rules
            .add_text(&files, &name, &text)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    rules
}

/// One labelled request of `plugins/waf/testdata/corpus.txt`.
#[allow(dead_code)] // each test binary uses part of this module
pub struct Case {
    pub attack: bool,
    pub category: String,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// The corpus, with browser headers added where a case sets none.
#[allow(dead_code)]
pub fn corpus() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/corpus.txt");
    let text = std::fs::read_to_string(path).unwrap();
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("attack ") || line.starts_with("benign ") {
            blocks.push(vec![line]);
        } else if let Some(block) = blocks.last_mut() {
            block.push(line);
        }
    }
    blocks
        .into_iter()
        .map(|mut block| {
            while block.last().is_some_and(|l| l.is_empty()) {
                block.pop();
            }
            let mut lines = block.into_iter();
            let first: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
            let [label, category, method, target] = first[..] else {
                panic!("bad case line {first:?}")
            };
            let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
            let mut body = Vec::new();
            let mut in_body = false;
            for line in lines {
                if in_body {
                    body.push(line);
                } else if line == "--" {
                    in_body = true;
                } else {
                    let (n, v) = line
                        .split_once(": ")
                        .unwrap_or_else(|| panic!("bad header {line:?}"));
                    headers.push((n.to_string(), v.as_bytes().to_vec()));
                }
            }
            for (name, value) in [
                ("Host", "example.com"),
                (
                    "User-Agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                ),
                (
                    "Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                ),
                ("Accept-Language", "en-US,en;q=0.5"),
            ] {
                if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                    headers.push((name.to_string(), value.as_bytes().to_vec()));
                }
            }
            let body = body.join("\r\n").into_bytes();
            if !body.is_empty() {
                headers.push(("Content-Length".into(), body.len().to_string().into_bytes()));
            }
            Case {
                attack: label == "attack",
                category: category.to_string(),
                method: method.to_string(),
                target: target.to_string(),
                headers,
                body,
            }
        })
        .collect()
}
