//! Loads SecLang text into a [`RuleSet`]: directives in order, chains
//! joined, defaults merged, markers placed, removals and target updates
//! applied; what cannot run here is skipped and reported.

use std::collections::HashMap;

use crate::Error;
use crate::actions::{self, Actions, Disruptive};
use crate::operators::{OpError, Operator};
use crate::parse::{self, Directive};
use crate::variables::{self, Target};

/// Where rule files, included files and `@pmFromFile` data come from.
pub trait Files {
    /// The text of the file called `name` (a path: matched by file name).
    fn read(&self, name: &str) -> Option<String>;
    /// The names matching `pattern` (`*` wildcards in the file name), sorted.
    fn list(&self, pattern: &str) -> Vec<String>;
}

/// One test of a rule: targets, transformations, operator.
pub struct Link {
    pub targets: Vec<Target>,
    pub operator: Operator,
    pub actions: Actions,
}

/// A rule and the links chained to it.
pub struct Rule {
    pub id: u64,
    pub phase: u8,
    pub links: Vec<Link>,
    pub file: String,
    pub line: usize,
}

impl Rule {
    /// The first link's actions: what the rule is (id, msg, tags, disruption).
    pub fn head(&self) -> &Actions {
        &self.links[0].actions
    }
}

/// A rule or a `SecMarker`, in file order.
pub enum Entry {
    Rule(Rule),
    Marker(String),
}

/// A rule that was not loaded, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub id: Option<u64>,
    pub at: String,
    pub reason: String,
}

/// What loading found: counts and warnings for the operator.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub rules: usize,
    pub skipped: Vec<Skipped>,
    pub ignored_directives: Vec<String>,
    pub removed: usize,
    pub signature: Option<String>,
}

/// Compiled rules, ready for transactions.
#[derive(Default)]
pub struct RuleSet {
    pub entries: Vec<Entry>,
    pub report: Report,
    /// `SecRuleEngine`: `On` (default), `Off` or `DetectionOnly`.
    pub engine: String,
    defaults: HashMap<u8, Actions>,
    chain: Chain,
}

/// Where the previous rule left its chain.
#[derive(Default, Clone, Copy, PartialEq)]
enum Chain {
    #[default]
    Closed,
    /// The next rule is a link of the last rule loaded.
    Open,
    /// The next rule is a link of a skipped rule: skipped too.
    Dropped,
}

/// Directives a proxy plugin accepts and ignores: the host decides body
/// access and limits, and there are no log files, temp dirs or persistence.
const IGNORED: [&str; 30] = [
    "SecRequestBodyAccess",
    "SecResponseBodyAccess",
    "SecRequestBodyLimit",
    "SecRequestBodyNoFilesLimit",
    "SecRequestBodyInMemoryLimit",
    "SecRequestBodyLimitAction",
    "SecRequestBodyJsonDepthLimit",
    "SecResponseBodyMimeType",
    "SecResponseBodyLimit",
    "SecResponseBodyLimitAction",
    "SecPcreMatchLimit",
    "SecPcreMatchLimitRecursion",
    "SecTmpDir",
    "SecDataDir",
    "SecAuditEngine",
    "SecAuditLog",
    "SecAuditLogParts",
    "SecAuditLogType",
    "SecAuditLogStorageDir",
    "SecAuditLogRelevantStatus",
    "SecArgumentSeparator",
    "SecCookieFormat",
    "SecUnicodeMapFile",
    "SecStatusEngine",
    "SecCollectionTimeout",
    "SecDebugLog",
    "SecDebugLogLevel",
    "SecUploadDir",
    "SecUploadKeepFiles",
    "SecTmpSaveUploadedFiles",
];

impl RuleSet {
    /// Loads `names` in order from `files`.
    pub fn load(files: &dyn Files, names: &[String]) -> Result<RuleSet, Error> {
        let mut set = RuleSet {
            engine: "On".into(),
            ..RuleSet::default()
        };
        for name in names {
            set.load_file(files, name, 0)?;
        }
        Ok(set)
    }

    /// Adds SecLang `text` (named `name` in errors) after what is loaded.
    pub fn add_text(&mut self, files: &dyn Files, name: &str, text: &str) -> Result<(), Error> {
        for d in parse::directives(name, text)? {
            self.directive(files, &d)?;
        }
        Ok(())
    }

    fn load_file(&mut self, files: &dyn Files, name: &str, depth: usize) -> Result<(), Error> {
        let text = files
            .read(name)
            .ok_or_else(|| Error::at(name, 0, "file not found".into()))?;
        for d in parse::directives(name, &text)? {
            if d.name.eq_ignore_ascii_case("Include") {
                let at = |m: String| Error::at(&d.file, d.line, m);
                if depth > 8 {
                    return Err(at("Include nested more than 8 deep".into()));
                }
                let pattern = d
                    .args
                    .first()
                    .ok_or_else(|| at("Include needs a file".into()))?;
                let found = files.list(pattern);
                if found.is_empty() {
                    return Err(at(format!("Include {pattern:?}: no such file")));
                }
                for file in found {
                    self.load_file(files, &file, depth + 1)?;
                }
            } else {
                self.directive(files, &d)?;
            }
        }
        Ok(())
    }

    fn directive(&mut self, files: &dyn Files, d: &Directive) -> Result<(), Error> {
        let at = |m: String| Error::at(&d.file, d.line, m);
        let arg = |i: usize| {
            d.args
                .get(i)
                .map(String::as_str)
                .ok_or_else(|| at(format!("{} needs {} argument(s)", d.name, i + 1)))
        };
        match d.name.as_str() {
            "SecRule" => self.rule(files, d, Some((arg(0)?, arg(1)?)), d.args.get(2)),
            "SecAction" => self.rule(files, d, None, d.args.first()),
            "SecMarker" => {
                self.entries.push(Entry::Marker(arg(0)?.to_string()));
                Ok(())
            }
            "SecDefaultAction" => {
                let a = actions::parse(arg(0)?).map_err(at)?;
                let phase = a
                    .phase
                    .ok_or_else(|| at("SecDefaultAction needs a phase".into()))?;
                self.defaults.insert(phase, a);
                Ok(())
            }
            "SecRuleRemoveById" => {
                let mut ranges = Vec::new();
                for a in &d.args {
                    ranges.push(id_range(a).map_err(at)?);
                }
                self.remove(|r| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&r.id)));
                Ok(())
            }
            "SecRuleRemoveByTag" => {
                let tag = arg(0)?.to_string();
                self.remove(|r| r.head().tags.iter().any(|t| t.contains(&tag)));
                Ok(())
            }
            "SecRuleUpdateTargetById" => {
                let (lo, hi) = id_range(arg(0)?).map_err(at)?;
                let targets = variables::parse(arg(1)?).map_err(at)?;
                self.update_targets(lo, hi, &targets);
                Ok(())
            }
            "SecComponentSignature" => {
                self.report.signature = Some(arg(0)?.to_string());
                Ok(())
            }
            "SecRuleEngine" => {
                let mode = arg(0)?;
                if !["On", "Off", "DetectionOnly"].contains(&mode) {
                    return Err(at(format!(
                        "SecRuleEngine {mode:?} is not On, Off or DetectionOnly"
                    )));
                }
                self.engine = mode.to_string();
                Ok(())
            }
            name if IGNORED.contains(&name) => {
                self.report
                    .ignored_directives
                    .push(format!("{}:{}: {name}", d.file, d.line));
                Ok(())
            }
            name => Err(at(format!("unsupported directive {name}"))),
        }
    }

    fn rule(
        &mut self,
        files: &dyn Files,
        d: &Directive,
        test: Option<(&str, &str)>,
        actions: Option<&String>,
    ) -> Result<(), Error> {
        let at = |m: String| Error::at(&d.file, d.line, m);
        let mut a = actions::parse(actions.map_or("", String::as_str)).map_err(at)?;
        let previous = self.chain;
        let next = |loaded: bool| match (a.chain, loaded) {
            (false, _) => Chain::Closed,
            (true, true) => Chain::Open,
            (true, false) => Chain::Dropped,
        };
        if previous == Chain::Dropped {
            self.chain = next(false);
            return Ok(());
        }
        let chained = previous == Chain::Open;
        let (targets, op) = test.unwrap_or(("REQUEST_URI", "@unconditionalMatch"));
        let targets = variables::parse(targets).map_err(at)?;
        let data = |name: &str| files.read(name);
        let operator = match Operator::compile(op, &data) {
            Ok(op) => Some(op),
            Err(OpError::Bad(e)) => return Err(at(e)),
            Err(OpError::Skip(reason)) => {
                let id = if chained { self.last_rule_id() } else { a.id };
                let at = format!("{}:{}", d.file, d.line);
                self.report.skipped.push(Skipped { id, at, reason });
                None
            }
        };
        self.chain = next(operator.is_some());
        if chained {
            let Some(Entry::Rule(rule)) = self.entries.last_mut() else {
                return Ok(());
            };
            match operator {
                Some(operator) => rule.links.push(Link {
                    targets,
                    operator,
                    actions: a,
                }),
                // A chain missing a link can never match as written: drop it.
                None => {
                    self.entries.pop();
                    self.report.rules -= 1;
                }
            }
            return Ok(());
        }
        let id = a.id.ok_or_else(|| at("rule has no id".into()))?;
        let phase = a.phase.unwrap_or(2);
        let default = self.defaults.get(&phase);
        if let Some(default) = default
            && !a.transforms_reset
        {
            let mut t = default.transforms.clone();
            t.append(&mut a.transforms);
            a.transforms = t;
        }
        // `block` and no disruptive action mean the phase's default one
        // (ModSecurity's default default is `pass`).
        if matches!(a.disruptive, None | Some(Disruptive::Block)) {
            let inherited = default.and_then(|d| d.disruptive);
            a.disruptive = Some(match inherited {
                Some(Disruptive::Block) | None => Disruptive::Pass,
                Some(d) => d,
            });
        }
        let Some(operator) = operator else {
            return Ok(());
        };
        self.report.rules += 1;
        self.entries.push(Entry::Rule(Rule {
            id,
            phase,
            links: vec![Link {
                targets,
                operator,
                actions: a,
            }],
            file: d.file.clone(),
            line: d.line,
        }));
        Ok(())
    }

    fn last_rule_id(&self) -> Option<u64> {
        self.entries.iter().rev().find_map(|e| match e {
            Entry::Rule(r) => Some(r.id),
            Entry::Marker(_) => None,
        })
    }

    /// Removes loaded rules for which `doomed` holds.
    pub fn remove(&mut self, doomed: impl Fn(&Rule) -> bool) {
        let before = self.entries.len();
        self.entries
            .retain(|e| !matches!(e, Entry::Rule(r) if doomed(r)));
        let removed = before - self.entries.len();
        self.report.rules -= removed;
        self.report.removed += removed;
    }

    /// Adds `targets` (usually `!` exclusions) to rules `lo..=hi`.
    pub fn update_targets(&mut self, lo: u64, hi: u64, targets: &[Target]) {
        for e in &mut self.entries {
            if let Entry::Rule(r) = e
                && (lo..=hi).contains(&r.id)
            {
                r.links[0].targets.extend(targets.iter().cloned());
            }
        }
    }
}

/// `942100` or `942100-942999`.
pub fn id_range(text: &str) -> Result<(u64, u64), String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{text:?} is not a rule id or id range"))
    };
    match text.split_once('-') {
        Some((lo, hi)) => Ok((parse(lo)?, parse(hi)?)),
        None => parse(text).map(|id| (id, id)),
    }
}
