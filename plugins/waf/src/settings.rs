//! The plugin's configuration: which rule files (handed over by the host
//! through `secret_files`), CRS settings, exclusions, mode and limits;
//! and the rule set it compiles to.

use std::collections::BTreeMap;

use seclang::crs::{self, Settings as Crs};
use seclang::{Limits, MapFiles, RuleSet};
use serde_json::Value;

#[derive(serde::Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub block_path_prefixes: Vec<String>,
    #[serde(default)]
    pub block_patterns: Vec<String>,
    #[serde(default = "default_status")]
    pub status: u16,
    /// Config keys (filled by `secret_files`) holding rule files, in load
    /// order: a file's text, or a directory's `{ name: text }`.
    #[serde(default)]
    pub rule_sets: Vec<String>,
    /// SecLang written in the config itself, loaded after `rule_sets`.
    #[serde(default)]
    pub rules: Option<String>,
    #[serde(default = "one")]
    pub paranoia_level: u8,
    #[serde(default = "five")]
    pub inbound_threshold: u32,
    #[serde(default = "four")]
    pub outbound_threshold: u32,
    #[serde(default)]
    pub exclude_ids: Vec<String>,
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "body_limit")]
    pub request_body_limit_kb: u64,
    #[serde(default)]
    pub inspect_responses: bool,
    #[serde(default = "body_limit")]
    pub response_body_limit_kb: u64,
    #[serde(default = "max_args")]
    pub max_args: usize,
    #[serde(default = "max_json_depth")]
    pub max_json_depth: usize,
    #[serde(default = "max_cookie_bytes")]
    pub max_cookie_bytes: usize,
    /// Everything else: the `secret_files` keys `rule_sets` names.
    #[serde(flatten)]
    pub files: BTreeMap<String, Value>,
}

#[derive(serde::Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Block,
    Detect,
}

fn default_status() -> u16 {
    403
}
fn one() -> u8 {
    1
}
fn five() -> u32 {
    5
}
fn four() -> u32 {
    4
}
fn body_limit() -> u64 {
    1024
}
fn max_args() -> usize {
    1000
}
fn max_json_depth() -> usize {
    64
}
fn max_cookie_bytes() -> usize {
    8192
}

impl Settings {
    pub fn limits(&self) -> Limits {
        Limits {
            max_args: self.max_args,
            max_json_depth: self.max_json_depth,
            max_cookie_bytes: self.max_cookie_bytes,
        }
    }

    /// Checks the settings; the rule set they describe, if any.
    pub fn rule_set(&self) -> Result<Option<RuleSet>, String> {
        if !(400..=599).contains(&self.status) {
            return Err(format!("status {} is not a 4xx or 5xx code", self.status));
        }
        if !(1..=4).contains(&self.paranoia_level) {
            return Err(format!("paranoia_level {} is not 1-4", self.paranoia_level));
        }
        if let Some(key) = self.files.keys().find(|k| !self.rule_sets.contains(k)) {
            return Err(format!("unknown key {key:?} (not named in rule_sets)"));
        }
        if self.rule_sets.is_empty() && self.rules.is_none() {
            return Ok(None);
        }
        let (files, order) = self.files()?;
        let mut set = RuleSet::load(&files, &[]).map_err(|e| e.to_string())?;
        let crs = Crs {
            paranoia_level: self.paranoia_level,
            inbound_threshold: self.inbound_threshold,
            outbound_threshold: self.outbound_threshold,
        };
        let load = |set: &mut RuleSet, name: &str, text: &str| {
            set.add_text(&files, name, text).map_err(|e| e.to_string())
        };
        load(&mut set, "(settings)", &crs::setup(&crs))?;
        for name in &order {
            load(&mut set, name, &files.0[name])?;
        }
        if let Some(rules) = &self.rules {
            load(&mut set, "(config rules)", rules)?;
        }
        self.exclude(&mut set)?;
        Ok(Some(set))
    }

    /// Every file the rule sets hold, and the rule files to load in order
    /// (a directory's `*.conf` in name order).
    fn files(&self) -> Result<(MapFiles, Vec<String>), String> {
        let mut files = MapFiles::default();
        let mut order = Vec::new();
        for key in &self.rule_sets {
            match self.files.get(key) {
                Some(Value::String(text)) => {
                    files.0.insert(key.clone(), text.clone());
                    order.push(key.clone());
                }
                Some(Value::Object(dir)) => {
                    for (name, text) in dir {
                        let text = text
                            .as_str()
                            .ok_or_else(|| format!("{key}.{name} is not text"))?;
                        files.0.insert(name.clone(), text.to_string());
                        if name.ends_with(".conf") {
                            order.push(name.clone());
                        }
                    }
                }
                Some(_) => {
                    return Err(format!(
                        "rule set {key:?} is neither a file nor a directory"
                    ));
                }
                None => {
                    return Err(format!(
                        "rule set {key:?} is not in the config: add it to the plugin's secret_files"
                    ));
                }
            }
        }
        Ok((files, order))
    }

    fn exclude(&self, set: &mut RuleSet) -> Result<(), String> {
        let mut ranges = Vec::new();
        for id in &self.exclude_ids {
            ranges.push(seclang::rules::id_range(id).map_err(|e| format!("exclude_ids: {e}"))?);
        }
        set.remove(|r| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&r.id)));
        let tags = &self.exclude_tags;
        set.remove(|r| r.head().tags.iter().any(|t| tags.contains(t)));
        Ok(())
    }
}
