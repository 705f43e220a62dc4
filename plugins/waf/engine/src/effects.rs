//! What a matching rule does beside matching: `setvar`, `ctl`, its
//! audit record and its disruptive action, on the [`Transaction`].

use crate::actions::{Actions, Disruptive, Effect};
use crate::eval::{Interruption, Match, Transaction};
use crate::rules::{Rule, id_range};
use crate::variables::{self, Target};
use crate::vars::WRITABLE;

/// How long matched data may be in an audit record.
const MAX_DATA: usize = 200;

impl Transaction {
    pub(crate) fn effect(&mut self, rule: &Rule, effect: &Effect) {
        match effect {
            Effect::SetVar(spec) => self.setvar(rule, spec),
            Effect::Ctl(spec) => self.ctl(spec),
        }
    }

    fn setvar(&mut self, rule: &Rule, spec: &str) {
        let (delete, spec) = match spec.strip_prefix('!') {
            Some(s) => (true, s),
            None => (false, spec),
        };
        let (name, value) = spec.split_once('=').unwrap_or((spec, "1"));
        let name = String::from_utf8_lossy(&self.expand(rule, name)).into_owned();
        let Some((collection, key)) = name.split_once('.') else {
            return;
        };
        let collection = collection.trim().to_ascii_uppercase();
        if !WRITABLE.contains(&collection.as_str()) {
            return;
        }
        if delete {
            self.vars.delete(&collection, key);
            return;
        }
        let number = |v: &[u8]| {
            String::from_utf8_lossy(v)
                .trim()
                .parse::<i64>()
                .unwrap_or(0)
        };
        let new = match value.strip_prefix('+').or_else(|| value.strip_prefix('-')) {
            Some(delta) => {
                let delta = number(&self.expand(rule, delta));
                let old = self
                    .vars
                    .lookup(&collection, Some(key))
                    .map_or(0, |v| number(&v));
                let sum = if value.starts_with('+') {
                    old + delta
                } else {
                    old - delta
                };
                sum.to_string().into_bytes()
            }
            None => self.expand(rule, value),
        };
        self.vars.write(&collection, key, new);
    }

    fn ctl(&mut self, spec: &str) {
        let Some((name, value)) = spec.split_once('=') else {
            return;
        };
        let target = |v: &str| -> Option<Target> { variables::parse(v).ok()?.into_iter().next() };
        let r = &mut self.removals;
        match name.trim() {
            "ruleEngine" => self.engine = value.trim().to_string(),
            "ruleRemoveById" => r.ids.extend(id_range(value).ok()),
            "ruleRemoveByTag" => r.tags.push(value.to_string()),
            "ruleRemoveTargetById" => {
                if let Some((ids, t)) = value.split_once(';')
                    && let (Ok(ids), Some(t)) = (id_range(ids), target(t))
                {
                    r.targets_by_id.push((ids, t));
                }
            }
            "ruleRemoveTargetByTag" => {
                if let Some((tag, t)) = value.split_once(';')
                    && let Some(t) = target(t)
                {
                    r.targets_by_tag.push((tag.to_string(), t));
                }
            }
            "requestBodyProcessor" => self.body_processor = Some(value.trim().to_ascii_uppercase()),
            "forceRequestBodyVariable" => {
                self.force_body_var = value.trim().eq_ignore_ascii_case("on")
            }
            _ => {}
        }
    }

    pub(crate) fn record(&mut self, rule: &Rule) {
        let head = rule.head();
        let text = |t: &Option<String>| {
            t.as_ref()
                .map(|t| String::from_utf8_lossy(&self.expand(rule, t)).into_owned())
        };
        let data = text(&head.logdata).unwrap_or_else(|| {
            let name = self
                .vars
                .lookup("MATCHED_VAR_NAME", None)
                .unwrap_or_default();
            let value = self.vars.lookup("MATCHED_VAR", None).unwrap_or_default();
            format!(
                "{}: {}",
                String::from_utf8_lossy(&name),
                String::from_utf8_lossy(&value)
            )
        });
        self.matches.push(Match {
            id: rule.id,
            phase: rule.phase,
            msg: text(&head.msg).unwrap_or_default(),
            data: truncate(data, MAX_DATA),
        });
    }

    pub(crate) fn disrupt(&mut self, rule: &Rule, head: &Actions) {
        match head.disruptive {
            Some(Disruptive::Deny | Disruptive::Drop) if self.engine == "On" => {
                let msg = head
                    .msg
                    .as_ref()
                    .map(|m| String::from_utf8_lossy(&self.expand(rule, m)).into_owned());
                self.interruption = Some(Interruption {
                    status: head.status.unwrap_or(403),
                    rule: Some(rule.id),
                    reason: msg.unwrap_or_else(|| format!("rule {}", rule.id)),
                });
            }
            Some(Disruptive::Allow(scope)) if self.engine == "On" => self.allowed = Some(scope),
            _ => {}
        }
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}
