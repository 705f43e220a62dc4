//! Rule actions (`id:1,phase:2,block,t:lowercase,setvar:'tx.x=+1',…`):
//! split, checked and turned into what the evaluator runs.

use crate::transforms::{self, Transform};

/// What a rule does when it matches, beside its side effects.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Disruptive {
    Pass,
    /// `block`: whatever the phase's `SecDefaultAction` says.
    Block,
    Deny,
    Drop,
    /// `allow` (whole transaction), `allow:phase`, `allow:request`.
    Allow(AllowScope),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AllowScope {
    All,
    Phase,
    Request,
}

/// A side effect run when the rule (chain) matches.
#[derive(Clone, Debug)]
pub enum Effect {
    SetVar(String),
    Ctl(String),
}

/// Everything a rule's action list says.
#[derive(Clone, Default)]
pub struct Actions {
    pub id: Option<u64>,
    pub phase: Option<u8>,
    pub disruptive: Option<Disruptive>,
    pub status: Option<u16>,
    pub transforms: Vec<(String, Transform)>,
    /// `t:none` seen: the default action's transformations are dropped.
    pub transforms_reset: bool,
    pub chain: bool,
    pub capture: bool,
    pub multi_match: bool,
    pub nolog: bool,
    pub skip_after: Option<String>,
    pub skip: usize,
    pub msg: Option<String>,
    pub logdata: Option<String>,
    pub severity: Option<String>,
    pub tags: Vec<String>,
    pub effects: Vec<Effect>,
}

/// Actions accepted and ignored: logging destinations, persistence and
/// metadata a proxy plugin has no use for.
const IGNORED: [&str; 18] = [
    "log",
    "auditlog",
    "noauditlog",
    "ver",
    "rev",
    "maturity",
    "accuracy",
    "initcol",
    "expirevar",
    "deprecatevar",
    "setuid",
    "setsid",
    "setenv",
    "sanitisearg",
    "sanitisematched",
    "sanitizematched",
    "sanitizearg",
    "exec",
];

/// Parses `text`, an action list.
pub fn parse(text: &str) -> Result<Actions, String> {
    let mut a = Actions::default();
    for item in split(text)? {
        let (name, value) = match item.split_once(':') {
            Some((n, v)) => (n.trim().to_ascii_lowercase(), unquote(v.trim())),
            None => (item.trim().to_ascii_lowercase(), String::new()),
        };
        apply(&mut a, &name, value)?;
    }
    Ok(a)
}

fn apply(a: &mut Actions, name: &str, value: String) -> Result<(), String> {
    match name {
        "id" => {
            a.id = Some(
                value
                    .parse()
                    .map_err(|_| format!("id {value:?} is not a number"))?,
            )
        }
        "phase" => a.phase = Some(phase(&value)?),
        "pass" => a.disruptive = Some(Disruptive::Pass),
        "block" => a.disruptive = Some(Disruptive::Block),
        "deny" => a.disruptive = Some(Disruptive::Deny),
        "drop" => a.disruptive = Some(Disruptive::Drop),
        "allow" => {
            let scope = match value.as_str() {
                "" => AllowScope::All,
                "phase" => AllowScope::Phase,
                "request" => AllowScope::Request,
                other => return Err(format!("allow:{other} is not phase or request")),
            };
            a.disruptive = Some(Disruptive::Allow(scope));
        }
        "status" => a.status = Some(value.parse().map_err(|_| format!("bad status {value:?}"))?),
        "t" if value.eq_ignore_ascii_case("none") => {
            a.transforms.clear();
            a.transforms_reset = true;
        }
        "t" => {
            let f = transforms::by_name(&value)
                .ok_or_else(|| format!("unsupported transformation t:{value}"))?;
            a.transforms.push((value, f));
        }
        "chain" => a.chain = true,
        "capture" => a.capture = true,
        "multimatch" => a.multi_match = true,
        "nolog" => a.nolog = true,
        "skipafter" => a.skip_after = Some(value),
        "skip" => a.skip = value.parse().map_err(|_| format!("bad skip {value:?}"))?,
        "msg" => a.msg = Some(value),
        "logdata" => a.logdata = Some(value),
        "severity" => a.severity = Some(value),
        "tag" => a.tags.push(value),
        "setvar" => a.effects.push(Effect::SetVar(value)),
        "ctl" => a.effects.push(Effect::Ctl(value)),
        other if IGNORED.contains(&other) => {}
        other => return Err(format!("unsupported action {other}")),
    }
    Ok(())
}

fn phase(value: &str) -> Result<u8, String> {
    match value {
        "request" => Ok(2),
        "response" => Ok(4),
        "logging" => Ok(5),
        v => v
            .parse()
            .ok()
            .filter(|p| (1..=5).contains(p))
            .ok_or_else(|| format!("phase {v:?} is not 1-5")),
    }
}

/// Splits on commas outside single quotes.
fn split(text: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '\'' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => items.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if quoted {
        return Err(format!("unterminated quote in actions {text:?}"));
    }
    items.push(current);
    Ok(items.into_iter().filter(|i| !i.trim().is_empty()).collect())
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        Some(inner) => inner.replace("\\'", "'"),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_crs_action_list() {
        let a = parse("id:942100,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,msg:'SQL, detected',tag:'a',setvar:'tx.x=+%{tx.critical_anomaly_score}',ctl:ruleRemoveById=1").unwrap();
        assert_eq!(a.id, Some(942100));
        assert_eq!(a.phase, Some(2));
        assert_eq!(a.disruptive, Some(Disruptive::Block));
        assert_eq!(a.transforms.len(), 2);
        assert!(a.transforms_reset && a.capture);
        assert_eq!(a.msg.as_deref(), Some("SQL, detected"));
        assert_eq!(a.effects.len(), 2);
    }

    #[test]
    fn unknown_actions_and_transformations_are_refused() {
        assert_eq!(
            parse("id:1,frobnicate").err().unwrap(),
            "unsupported action frobnicate"
        );
        assert_eq!(
            parse("t:rot13").err().unwrap(),
            "unsupported transformation t:rot13"
        );
    }
}
