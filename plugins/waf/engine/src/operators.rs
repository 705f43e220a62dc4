//! Operators (`@rx`, `@pm`, `@detectSQLi`, …): compiled once when the rules
//! load, then evaluated against each transformed value.

use std::net::IpAddr;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};

use crate::lookaround::Lookaround;

/// A compiled operator; `negated` is the rule's `!@op`.
pub struct Operator {
    pub negated: bool,
    kind: Kind,
}

/// A parameter that may hold macros (`%{tx.x}`), expanded per evaluation.
enum Param {
    Literal(Vec<u8>),
    Macro(String),
}

enum Kind {
    Rx(Regex),
    /// A pattern with look-around at the edges of its alternatives.
    RxLookaround(Lookaround),
    /// A pattern with macros: expanded and compiled per evaluation.
    RxMacro(String),
    Pm(AhoCorasick),
    DetectSqli,
    DetectXss,
    Text(TextOp, Param),
    Number(fn(i64, i64) -> bool, Param),
    IpMatch(Vec<(IpAddr, u8)>),
    ByteRange(Box<[bool; 256]>),
    UrlEncoding,
    Utf8Encoding,
    Always(bool),
}

#[derive(Clone, Copy)]
enum TextOp {
    StrEq,
    BeginsWith,
    EndsWith,
    Contains,
    ContainsWord,
    Within,
}

/// Why an operator did not compile.
pub enum OpError {
    /// The rule cannot run here; it is skipped with this warning.
    Skip(String),
    /// The rule is wrong; loading fails with this error.
    Bad(String),
}

/// Operators ModSecurity has that need what a proxy plugin does not have
/// (DNS blocklists, GeoIP databases, files on disk): rules using them are
/// skipped with a warning.
const UNAVAILABLE: [&str; 12] = [
    "rbl",
    "geolookup",
    "inspectfile",
    "gsblookup",
    "fuzzyhash",
    "verifycc",
    "verifycpf",
    "verifyssn",
    "validatedtd",
    "validateschema",
    "validatehash",
    "ipmatchfromfile",
];

/// What an operator found, for `capture` and `MATCHED_VAR`-style logging.
pub type Captures = Vec<Vec<u8>>;

impl Operator {
    /// Compiles `spec` (the rule's second argument). `data` reads the files
    /// `@pmFromFile` names.
    pub fn compile(spec: &str, data: &dyn Fn(&str) -> Option<String>) -> Result<Self, OpError> {
        let (negated, spec) = match spec.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, spec),
        };
        let (name, arg) = match spec.strip_prefix('@') {
            Some(rest) => match rest.split_once(|c: char| c.is_whitespace()) {
                Some((name, arg)) => (name.to_string(), arg.trim_start().to_string()),
                None => (rest.to_string(), String::new()),
            },
            None => ("rx".to_string(), spec.to_string()),
        };
        let kind = kind(&name.to_ascii_lowercase(), &arg, data)?;
        Ok(Operator { negated, kind })
    }

    /// Whether `value` matches (before negation), with what it captured.
    pub fn matches(&self, value: &[u8], expand: &dyn Fn(&str) -> Vec<u8>) -> Option<Captures> {
        let param = |p: &Param| match p {
            Param::Literal(v) => v.clone(),
            Param::Macro(m) => expand(m),
        };
        match &self.kind {
            Kind::Rx(re) => rx_captures(re, value),
            Kind::RxLookaround(look) => look.captures(value),
            Kind::RxMacro(pattern) => {
                let pattern = String::from_utf8_lossy(&expand(pattern)).into_owned();
                rx_captures(&regex(&pattern).ok()?, value)
            }
            Kind::Pm(ac) => ac.find(value).map(|m| vec![value[m.range()].to_vec()]),
            Kind::DetectSqli => {
                let found = libinjectionrs::detect_sqli(value);
                found.is_injection().then(|| {
                    let fp = found.fingerprint.map(|f| f.to_string()).unwrap_or_default();
                    vec![fp.into_bytes()]
                })
            }
            Kind::DetectXss => libinjectionrs::detect_xss(value)
                .is_injection()
                .then(|| vec![value.to_vec()]),
            Kind::Text(op, p) => text(*op, value, &param(p)).then(|| vec![value.to_vec()]),
            Kind::Number(cmp, p) => {
                cmp(number(value), number(&param(p))).then(|| vec![value.to_vec()])
            }
            Kind::IpMatch(nets) => {
                let addr = std::str::from_utf8(value)
                    .ok()?
                    .trim()
                    .parse::<IpAddr>()
                    .ok()?;
                nets.iter()
                    .any(|(net, bits)| in_net(addr, *net, *bits))
                    .then(|| vec![value.to_vec()])
            }
            Kind::ByteRange(allowed) => value
                .iter()
                .find(|b| !allowed[**b as usize])
                .map(|b| vec![vec![*b]]),
            Kind::UrlEncoding => bad_url_encoding(value).then(|| vec![value.to_vec()]),
            Kind::Utf8Encoding => std::str::from_utf8(value)
                .is_err()
                .then(|| vec![value.to_vec()]),
            Kind::Always(m) => m.then(|| vec![value.to_vec()]),
        }
    }
}

fn kind(name: &str, arg: &str, data: &dyn Fn(&str) -> Option<String>) -> Result<Kind, OpError> {
    let param = || {
        if arg.contains("%{") {
            Param::Macro(arg.to_string())
        } else {
            Param::Literal(arg.as_bytes().to_vec())
        }
    };
    let text_op = |op| Ok(Kind::Text(op, param()));
    let number = |cmp: fn(i64, i64) -> bool| Ok(Kind::Number(cmp, param()));
    match name {
        "rx" if arg.contains("%{") => Ok(Kind::RxMacro(arg.to_string())),
        "rx" => regex(arg).map(Kind::Rx).or_else(|e| match e {
            OpError::Skip(reason) if reason.contains("look-around") => {
                Lookaround::compile(arg, &|p| build(p).map_err(|e| last_line(&e)))
                    .map(Kind::RxLookaround)
                    .map_err(|why| {
                        OpError::Skip(format!("{reason} the engine cannot translate: {why}"))
                    })
            }
            e => Err(e),
        }),
        "pm" => phrases(arg.split_whitespace().map(str::to_string).collect()),
        "pmfromfile" | "pmf" => {
            let mut list = Vec::new();
            for file in arg.split_whitespace() {
                let text = data(file).ok_or_else(|| {
                    OpError::Bad(format!("@{name}: data file {file:?} not found"))
                })?;
                list.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(str::to_string),
                );
            }
            phrases(list)
        }
        "detectsqli" => Ok(Kind::DetectSqli),
        "detectxss" => Ok(Kind::DetectXss),
        "streq" => text_op(TextOp::StrEq),
        "beginswith" => text_op(TextOp::BeginsWith),
        "endswith" => text_op(TextOp::EndsWith),
        "contains" => text_op(TextOp::Contains),
        "containsword" => text_op(TextOp::ContainsWord),
        "within" => text_op(TextOp::Within),
        "eq" => number(|a, b| a == b),
        "ge" => number(|a, b| a >= b),
        "gt" => number(|a, b| a > b),
        "le" => number(|a, b| a <= b),
        "lt" => number(|a, b| a < b),
        "ipmatch" => ip_list(arg).map(Kind::IpMatch),
        "validatebyterange" => byte_ranges(arg).map(Kind::ByteRange),
        "validateurlencoding" => Ok(Kind::UrlEncoding),
        "validateutf8encoding" => Ok(Kind::Utf8Encoding),
        "unconditionalmatch" => Ok(Kind::Always(true)),
        "nomatch" => Ok(Kind::Always(false)),
        other if UNAVAILABLE.contains(&other) => Err(OpError::Skip(format!(
            "operator @{other} needs a service or file a proxy plugin does not have"
        ))),
        other => Err(OpError::Bad(format!("unsupported operator @{other}"))),
    }
}

/// Compiles a PCRE pattern with the `regex` crate. Look-around and
/// back-references cannot be expressed in linear time: those are skipped
/// (unless [`Lookaround`] can translate the look-around).
fn regex(pattern: &str) -> Result<Regex, OpError> {
    build(&crate::pcre::translate(pattern)).map_err(|e| {
        let text = e.to_string();
        let reason = if text.contains("look-around") {
            "look-around".to_string()
        } else if text.contains("backreference") {
            "back-reference".to_string()
        } else {
            format!("pattern the regex crate rejects ({})", last_line(&e))
        };
        OpError::Skip(format!("@rx needs {reason}"))
    })
}

/// The line of a regex error that says what is wrong.
fn last_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    last.unwrap_or("").trim().to_string()
}

/// Compiles a pattern already in the `regex` crate's syntax: bytes, ASCII
/// classes (Unicode ones when the pattern needs them), `.` matching
/// newlines (ModSecurity's DOTALL).
fn build(pattern: &str) -> Result<Regex, regex::Error> {
    let build = |unicode: bool| {
        RegexBuilder::new(pattern)
            .unicode(unicode)
            .dot_matches_new_line(true)
            .size_limit(64 << 20)
            .dfa_size_limit(1 << 20)
            .build()
    };
    build(false).or_else(|_| build(true))
}

fn rx_captures(re: &Regex, value: &[u8]) -> Option<Captures> {
    re.captures(value).map(|caps| {
        caps.iter()
            .take(10)
            .map(|m| m.map_or_else(Vec::new, |m| m.as_bytes().to_vec()))
            .collect()
    })
}

fn phrases(list: Vec<String>) -> Result<Kind, OpError> {
    if list.is_empty() {
        return Err(OpError::Bad("@pm has no phrases".into()));
    }
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&list)
        .map(Kind::Pm)
        .map_err(|e| OpError::Bad(format!("@pm: {e}")))
}

fn ip_list(arg: &str) -> Result<Vec<(IpAddr, u8)>, OpError> {
    arg.split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (addr, bits) = item.split_once('/').unwrap_or((item, ""));
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| OpError::Bad(format!("@ipMatch: {item:?} is not an address")))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() {
                max
            } else {
                bits.parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| OpError::Bad(format!("@ipMatch: bad prefix in {item:?}")))?
            };
            Ok((addr, bits))
        })
        .collect()
}

fn in_net(addr: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, n, width) = match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - bits as u32;
    shift >= 128 || (a >> shift) == (n >> shift)
}

fn byte_ranges(arg: &str) -> Result<Box<[bool; 256]>, OpError> {
    let mut allowed = Box::new([false; 256]);
    for item in arg.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (lo, hi) = item.split_once('-').unwrap_or((item, item));
        let parse = |s: &str| s.trim().parse::<u8>().ok();
        match (parse(lo), parse(hi)) {
            (Some(lo), Some(hi)) if lo <= hi => allowed[lo as usize..=hi as usize].fill(true),
            _ => {
                return Err(OpError::Bad(format!(
                    "@validateByteRange: bad range {item:?}"
                )));
            }
        }
    }
    Ok(allowed)
}

fn bad_url_encoding(v: &[u8]) -> bool {
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' {
            let ok = v
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return true;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    false
}

fn text(op: TextOp, value: &[u8], param: &[u8]) -> bool {
    let contains = |hay: &[u8], needle: &[u8]| {
        needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
    };
    match op {
        TextOp::StrEq => value == param,
        TextOp::BeginsWith => value.starts_with(param),
        TextOp::EndsWith => value.ends_with(param),
        TextOp::Contains => contains(value, param),
        TextOp::Within => !value.is_empty() && contains(param, value),
        TextOp::ContainsWord => {
            let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
            !param.is_empty()
                && (0..value.len().saturating_sub(param.len() - 1)).any(|i| {
                    value[i..].starts_with(param)
                        && !word(i.checked_sub(1).and_then(|j| value.get(j)))
                        && !word(value.get(i + param.len()))
                })
        }
    }
}

/// A number as ModSecurity's `atoi` reads it: leading digits, else 0.
fn number(v: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(v);
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(spec: &str) -> Operator {
        match Operator::compile(spec, &|_| Some("evil\n# c\nbad thing\n".into())) {
            Ok(o) => o,
            Err(OpError::Skip(e) | OpError::Bad(e)) => panic!("{spec}: {e}"),
        }
    }

    fn hit(spec: &str, value: &str) -> bool {
        op(spec)
            .matches(value.as_bytes(), &|m| {
                m.replace("%{tx.n}", "5").into_bytes()
            })
            .is_some()
    }

    #[test]
    fn operators_match() {
        assert!(hit("@rx (?i)union\\s+select", "1 UNION  select 2"));
        assert!(hit("@rx ^%{tx.n}$", "5"));
        assert!(!hit("@rx ^%{tx.n}$", "55"));
        assert!(hit("@pm foo bar", "xBARx"));
        assert!(hit("@pmFromFile x.data", "a BAD THING here"));
        assert!(!hit("@pmFromFile x.data", "# c"));
        assert!(hit("@detectSQLi", "1' or '1'='1"));
        assert!(!hit("@detectSQLi", "hello world"));
        assert!(hit("@detectXSS", "<script>alert(1)</script>"));
        assert!(hit("@ge %{tx.n}", "7"));
        assert!(!hit("@lt %{tx.n}", "7"));
        assert!(hit("@within GET POST", "POST"));
        assert!(hit("@containsWord select", "a select b"));
        assert!(!hit("@containsWord select", "selected"));
        assert!(hit("@ipMatch 10.0.0.0/8,::1", "10.2.3.4"));
        assert!(hit("@ipMatch 10.0.0.0/8,::1", "::1"));
        assert!(hit("@validateByteRange 32-126", "a\u{1}"));
        assert!(hit("@validateUrlEncoding", "%zz"));
        assert!(!hit("@validateUrlEncoding", "%41"));
        assert!(hit("@unconditionalMatch", ""));
        assert!(hit("@eq 0", "abc"));
    }

    #[test]
    fn unsupported_patterns_are_skipped_and_unknown_operators_refused() {
        assert!(
            matches!(Operator::compile("@rx (a(?=b))", &|_| None), Err(OpError::Skip(e)) if e.contains("look-around"))
        );
        assert!(
            matches!(Operator::compile("@rx (a)\\1", &|_| None), Err(OpError::Skip(e)) if e.contains("back-reference"))
        );
        assert!(matches!(
            Operator::compile("@rbl x", &|_| None),
            Err(OpError::Skip(_))
        ));
        assert!(
            matches!(Operator::compile("@nosuch x", &|_| None), Err(OpError::Bad(e)) if e == "unsupported operator @nosuch")
        );
    }
}
