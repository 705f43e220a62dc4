//! One transaction through the rules: phases in order, rules of a phase
//! in file order, chains and `skipAfter`, targets and their exclusions,
//! transformations (cached per transaction) and operators. What a match
//! then does is in `effects.rs`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::actions::{Actions, AllowScope};
use crate::operators::Captures;
use crate::request::{self, Exceeded, Limits, RequestHead};
use crate::rules::{Entry, Link, Rule, RuleSet};
use crate::variables::Target;
use crate::vars::Vars;

/// A matched value: its variable name, the value, what the operator captured.
type Hit = (String, Vec<u8>, Option<Captures>);

/// Values longer than this are transformed anew for every rule.
const MAX_CACHED_VALUE: usize = 64 * 1024;
/// What the transformation cache of one transaction may hold, in bytes.
const MAX_CACHE_BYTES: usize = 8 << 20;

/// A rule that matched (and is not `nolog`): the audit record.
#[derive(Debug, Clone)]
pub struct Match {
    pub id: u64,
    pub phase: u8,
    pub msg: String,
    /// `logdata`, or the matched variable and value; at most 200 bytes.
    pub data: String,
}

/// Why the transaction stopped: a disruptive rule or a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Interruption {
    pub status: u16,
    pub rule: Option<u64>,
    pub reason: String,
}

/// Rules removed or narrowed for this transaction by `ctl`.
#[derive(Default)]
pub(crate) struct Removals {
    pub ids: Vec<(u64, u64)>,
    pub tags: Vec<String>,
    pub targets_by_id: Vec<((u64, u64), Target)>,
    pub targets_by_tag: Vec<(String, Target)>,
}

/// The state of one request/response exchange.
pub struct Transaction {
    pub(crate) vars: Vars,
    head: RequestHead,
    limits: Limits,
    pub(crate) removals: Removals,
    pub(crate) engine: String,
    pub(crate) body_processor: Option<String>,
    pub(crate) force_body_var: bool,
    pub(crate) allowed: Option<AllowScope>,
    matched_vars: Vec<(String, Vec<u8>)>,
    /// Transformed values by hash of (transformation names, value).
    transform_cache: HashMap<u64, Vec<u8>>,
    transform_cache_bytes: usize,
    pub matches: Vec<Match>,
    pub interruption: Option<Interruption>,
}

impl Transaction {
    pub fn new(rules: &RuleSet, head: RequestHead, limits: Limits) -> Self {
        let mut vars = Vars::default();
        vars.init_store();
        Transaction {
            vars,
            head,
            limits,
            removals: Removals::default(),
            engine: rules.engine.clone(),
            body_processor: None,
            force_body_var: false,
            allowed: None,
            matched_vars: Vec::new(),
            transform_cache: HashMap::new(),
            transform_cache_bytes: 0,
            matches: Vec::new(),
            interruption: None,
        }
    }

    /// Phase 1: the request head.
    pub fn request_headers(&mut self, rules: &RuleSet) -> Option<&Interruption> {
        let filled = request::head(&mut self.vars, &self.head, &self.limits);
        self.run(rules, 1, filled)
    }

    /// Phase 2: the request body (empty when there is none).
    pub fn request_body(&mut self, rules: &RuleSet, body: &[u8]) -> Option<&Interruption> {
        let default = request::processor(&self.head).unwrap_or("");
        let processor = self
            .body_processor
            .clone()
            .unwrap_or_else(|| default.to_string());
        let filled = if self.interruption.is_some() {
            Ok(())
        } else {
            request::body(
                &mut self.vars,
                &self.head,
                &processor,
                self.force_body_var,
                body,
                &self.limits,
            )
        };
        self.run(rules, 2, filled)
    }

    /// Phase 3: the response status and headers.
    pub fn response_headers(
        &mut self,
        rules: &RuleSet,
        status: u16,
        headers: &[(String, Vec<u8>)],
    ) -> Option<&Interruption> {
        request::response_head(&mut self.vars, status, headers);
        self.run(rules, 3, Ok(()))
    }

    /// Phase 4: the response body.
    pub fn response_body(&mut self, rules: &RuleSet, body: &[u8]) -> Option<&Interruption> {
        self.vars.set("RESPONSE_BODY", body.to_vec());
        self.run(rules, 4, Ok(()))
    }

    /// The value of `TX:name` (for tests and logs: `anomaly_score`, …).
    pub fn tx(&self, name: &str) -> Option<String> {
        let v = self.vars.lookup("TX", Some(name))?;
        Some(String::from_utf8_lossy(&v).into_owned())
    }

    fn run(
        &mut self,
        rules: &RuleSet,
        phase: u8,
        filled: Result<(), Exceeded>,
    ) -> Option<&Interruption> {
        if let Err(e) = filled
            && self.interruption.is_none()
        {
            self.interruption = Some(Interruption {
                status: e.status,
                rule: None,
                reason: e.reason,
            });
        }
        if self.interruption.is_some() || self.engine == "Off" {
            return self.interruption.as_ref();
        }
        match self.allowed {
            Some(AllowScope::All) => return None,
            Some(AllowScope::Request) if phase <= 2 => return None,
            Some(AllowScope::Phase) => self.allowed = None,
            _ => {}
        }
        self.phase(rules, phase);
        self.interruption.as_ref()
    }

    fn phase(&mut self, rules: &RuleSet, phase: u8) {
        let mut i = 0;
        let mut skip = 0;
        while i < rules.entries.len() {
            let Entry::Rule(rule) = &rules.entries[i] else {
                i += 1;
                continue;
            };
            if rule.phase != phase || self.removed(rule) {
                i += 1;
                continue;
            }
            if skip > 0 {
                skip -= 1;
                i += 1;
                continue;
            }
            if self.engine != "Off" && self.rule(rule) {
                let head = rule.head();
                skip = head.skip;
                if let Some(marker) = &head.skip_after {
                    i = marker_after(rules, i, marker);
                    continue;
                }
            }
            if self.interruption.is_some() || self.allowed.is_some() {
                return;
            }
            i += 1;
        }
    }

    fn removed(&self, rule: &Rule) -> bool {
        let r = &self.removals;
        r.ids.iter().any(|(lo, hi)| (*lo..=*hi).contains(&rule.id))
            || r.tags
                .iter()
                .any(|t| rule.head().tags.iter().any(|rt| rt == t))
    }

    /// Evaluates `rule` and its chain. Each link's side effects run as it
    /// matches (a later link may test what an earlier one set); the
    /// rule's audit record and disruptive action once the chain matched.
    fn rule(&mut self, rule: &Rule) -> bool {
        self.matched_vars.clear();
        for link in &rule.links {
            let hits = self.link(rule, link);
            if hits.is_empty() {
                return false;
            }
            // Effects run once per matched value, as ModSecurity's: an
            // anomaly score counts each, `setvar:tx.x_%{tx.0}` sets each.
            for hit in &hits {
                self.set_matched(&hit.0, &hit.1);
                if let (true, Some(caps)) = (link.actions.capture, &hit.2) {
                    for (i, c) in caps.iter().enumerate() {
                        self.vars.write("TX", &i.to_string(), c.clone());
                    }
                }
                for effect in &link.actions.effects {
                    self.effect(rule, effect);
                }
            }
        }
        let head = rule.head();
        if !head.nolog {
            self.record(rule);
        }
        self.disrupt(rule, head);
        true
    }

    fn set_matched(&mut self, name: &str, value: &[u8]) {
        self.vars.set("MATCHED_VAR", value.to_vec());
        self.vars.set("MATCHED_VAR_NAME", name);
    }

    /// The values of `link`'s targets that its operator matches, with what
    /// it captured from each.
    fn link(&mut self, rule: &Rule, link: &Link) -> Vec<Hit> {
        let values = self.collect(rule, &link.targets);
        let a = &link.actions;
        let mut hits = Vec::new();
        for (name, value) in values {
            let candidates = if a.multi_match {
                let mut all = vec![value.clone()];
                let mut current = value;
                for (_, t) in &a.transforms {
                    current = t(&current);
                    all.push(current.clone());
                }
                all
            } else {
                vec![self.transformed(a, value)]
            };
            for candidate in candidates {
                let expand = |m: &str| self.expand(rule, m);
                let found = link.operator.matches(&candidate, &expand);
                if found.is_some() != link.operator.negated {
                    hits.push((name.clone(), candidate, found));
                    break;
                }
            }
        }
        for (name, value, _) in &hits {
            self.matched_vars.push((name.clone(), value.clone()));
        }
        self.vars.clear("MATCHED_VARS");
        self.vars.clear("MATCHED_VARS_NAMES");
        for (name, value) in &self.matched_vars {
            self.vars.push("MATCHED_VARS", name, value.clone());
            self.vars.push("MATCHED_VARS_NAMES", name, name.as_bytes());
        }
        hits
    }

    /// `value` through `a`'s transformations, from the transaction's cache
    /// when another rule already ran the same chain on the same value (the
    /// CRS runs a handful of chains over every argument).
    fn transformed(&mut self, a: &Actions, value: Vec<u8>) -> Vec<u8> {
        if a.transforms.is_empty() {
            return value;
        }
        let cacheable = value.len() <= MAX_CACHED_VALUE;
        let key = cacheable.then(|| {
            let mut h = std::hash::DefaultHasher::new();
            for (name, _) in &a.transforms {
                name.hash(&mut h);
            }
            value.hash(&mut h);
            h.finish()
        });
        if let Some(hit) = key.and_then(|k| self.transform_cache.get(&k)) {
            return hit.clone();
        }
        let mut current = value;
        for (_, t) in &a.transforms {
            current = t(&current);
        }
        if let Some(k) = key
            && self.transform_cache_bytes + current.len() <= MAX_CACHE_BYTES
        {
            self.transform_cache_bytes += current.len();
            self.transform_cache.insert(k, current.clone());
        }
        current
    }

    /// The (name, value) pairs `targets` select for `rule`, exclusions
    /// (`!`, `SecRuleUpdateTargetById`, `ctl:ruleRemoveTarget*`) removed.
    fn collect(&self, rule: &Rule, targets: &[Target]) -> Vec<(String, Vec<u8>)> {
        let tags = &rule.head().tags;
        let r = &self.removals;
        let excluded: Vec<&Target> = targets
            .iter()
            .filter(|t| t.exclude)
            .chain(
                r.targets_by_id
                    .iter()
                    .filter(|((lo, hi), _)| (*lo..=*hi).contains(&rule.id))
                    .map(|(_, t)| t),
            )
            .chain(
                r.targets_by_tag
                    .iter()
                    .filter(|(tag, _)| tags.contains(tag))
                    .map(|(_, t)| t),
            )
            .collect();
        let mut out = Vec::new();
        for t in targets.iter().filter(|t| !t.exclude) {
            let keep = |k: &str| {
                t.selector.selects(k)
                    && !excluded
                        .iter()
                        .any(|e| e.collection == t.collection && e.selector.selects(k))
            };
            let members = self.vars.members(&t.collection, &keep);
            if t.count {
                out.push((
                    format!("&{}", t.collection),
                    members.len().to_string().into_bytes(),
                ));
                continue;
            }
            for (key, value) in members {
                let name = if key.is_empty() {
                    t.collection.clone()
                } else {
                    format!("{}:{key}", t.collection)
                };
                out.push((name, value));
            }
        }
        out
    }

    pub(crate) fn expand(&self, rule: &Rule, text: &str) -> Vec<u8> {
        let head = rule.head();
        self.vars.expand(text, &|key| match key {
            "id" => Some(rule.id.to_string()),
            "msg" => head.msg.clone(),
            "severity" => head.severity.clone(),
            "logdata" => head.logdata.clone(),
            _ => None,
        })
    }
}

/// The entry after which evaluation goes on for `skipAfter:marker` from `i`:
/// the marker (or rule id) after `i`, or the end.
fn marker_after(rules: &RuleSet, i: usize, marker: &str) -> usize {
    rules.entries[i + 1..]
        .iter()
        .position(|e| match e {
            Entry::Marker(m) => m == marker,
            Entry::Rule(r) => r.id.to_string() == marker,
        })
        .map_or(rules.entries.len(), |p| i + 1 + p + 1)
}
