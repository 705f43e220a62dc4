//! Look-around at the edges of a pattern's alternatives, run in linear
//! time. The `regex` crate has no look-around; the CRS uses it in one
//! shape: an alternative that starts with a look-behind
//! (`(?<!&(?:amp|apos));|['"=]`, rule 920120) or ends with a look-ahead
//! (`<\?(?!xml)`, rule 953120), each of bounded length.
//!
//! Such an alternative becomes its body, a regex of bounded length, and
//! guards checked at each place the body matches: the look-behind's
//! pattern anchored to end where the match starts, the look-ahead's
//! anchored to begin where it ends. A rejected match moves the search one
//! byte on; with every part bounded, a value costs time linear in its
//! length. The alternatives without look-around stay one regex, so their
//! capture groups keep their numbers. Anything else that needs
//! look-around (inside a group, unbounded, around capture groups) is not
//! translated: the rule is skipped as before.

use regex::bytes::Regex;
use regex_syntax::ParserBuilder;

/// A pattern some of whose alternatives carry look-around at their edges.
pub struct Lookaround {
    /// The alternatives without look-around, in one regex.
    plain: Option<Regex>,
    edged: Vec<Edged>,
}

/// One alternative with look-around: `(?<!behind)body(?!ahead)`.
struct Edged {
    body: Regex,
    behind: Option<Guard>,
    ahead: Option<Guard>,
}

/// A look-behind or look-ahead: whether its pattern must (`=`) or must not
/// (`!`) match next to the body, and at most how many bytes it reads.
struct Guard {
    re: Regex,
    negated: bool,
    window: usize,
}

/// Compiles a pattern in the `regex` crate's syntax with the engine's
/// settings.
pub type Build<'a> = &'a dyn Fn(&str) -> Result<Regex, String>;

impl Lookaround {
    /// Translates `pattern` (PCRE, as the rule has it); `Err` says why it
    /// cannot be. `build` compiles each part after PCRE rewriting.
    pub fn compile(pattern: &str, build: Build) -> Result<Self, String> {
        let (flags, body) = leading_flags(pattern);
        let flags = flags.as_str();
        let mut plain = Vec::new();
        let mut edged = Vec::new();
        for alternative in top_level_alternatives(body)? {
            let (behind, rest) = leading_lookbehind(alternative)?;
            let (rest, ahead) = trailing_lookahead(rest)?;
            if behind.is_none() && ahead.is_none() {
                plain.push(alternative);
                continue;
            }
            if has_lookaround(rest) {
                return Err("look-around inside an alternative".into());
            }
            let body_len = bounded(flags, rest, "the matched part")?;
            if ahead.is_some() && body_len.0 != body_len.1 {
                return Err("a look-ahead after a part of varying length".into());
            }
            let guard = |(text, negated): (&str, bool), behind: bool| {
                let window = bounded(flags, text, "a look-around")?.1;
                let anchored = if behind {
                    format!("{flags}(?:{})\\z", crate::pcre::translate(text))
                } else {
                    format!("{flags}\\A(?:{})", crate::pcre::translate(text))
                };
                Ok::<_, String>(Guard {
                    re: build(&anchored)?,
                    negated,
                    window,
                })
            };
            edged.push(Edged {
                body: build(&format!("{flags}{}", crate::pcre::translate(rest)))?,
                behind: behind.map(|b| guard(b, true)).transpose()?,
                ahead: ahead.map(|a| guard(a, false)).transpose()?,
            });
        }
        let plain = match plain.is_empty() {
            true => None,
            false => {
                let joined = crate::pcre::translate(&plain.join("|"));
                Some(build(&format!("{flags}(?:{joined})"))?)
            }
        };
        Ok(Lookaround { plain, edged })
    }

    /// The leftmost match's capture groups (the plain alternatives'
    /// numbered groups, or just the whole match of an edged one).
    pub fn captures(&self, value: &[u8]) -> Option<Vec<Vec<u8>>> {
        let plain = self.plain.as_ref().and_then(|re| re.captures(value));
        let edged = self
            .edged
            .iter()
            .filter_map(|e| e.first_match(value))
            .min_by_key(|(start, _)| *start);
        match (plain, edged) {
            (Some(caps), Some((start, _))) if start < caps.get(0).map_or(0, |m| m.start()) => {
                edged.map(|(_, m)| vec![m.to_vec()])
            }
            (Some(caps), _) => Some(
                caps.iter()
                    .take(10)
                    .map(|m| m.map_or_else(Vec::new, |m| m.as_bytes().to_vec()))
                    .collect(),
            ),
            (None, Some((_, m))) => Some(vec![m.to_vec()]),
            (None, None) => None,
        }
    }
}

impl Edged {
    fn first_match<'v>(&self, value: &'v [u8]) -> Option<(usize, &'v [u8])> {
        let mut at = 0;
        while at <= value.len() {
            let m = self.body.find_at(value, at)?;
            let behind_ok = self.behind.as_ref().is_none_or(|g| {
                let from = m.start().saturating_sub(g.window);
                g.re.is_match_at(&value[..m.start()], from) != g.negated
            });
            let ahead_ok = self.ahead.as_ref().is_none_or(|g| {
                let to = value.len().min(m.end() + g.window);
                g.re.is_match(&value[m.end()..to]) != g.negated
            });
            if behind_ok && ahead_ok {
                return Some((m.start(), m.as_bytes()));
            }
            at = m.start() + 1;
        }
        None
    }
}

/// A leading `(?flags)` that applies to the whole pattern, or the flags
/// of one group wrapping all of it (`(?i:…)`), as `(?flags)`; and the rest.
fn leading_flags(pattern: &str) -> (String, &str) {
    let Some(rest) = pattern.strip_prefix("(?") else {
        return (String::new(), pattern);
    };
    let letters = rest.len()
        - rest
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .len();
    let flags = format!("(?{})", &rest[..letters]);
    match rest.as_bytes().get(letters) {
        Some(b')') if letters > 0 => (flags, &pattern[letters + 3..]),
        Some(b':') if letters > 0 && group_end(pattern, 0) == Some(pattern.len() - 1) => {
            (flags, &pattern[letters + 3..pattern.len() - 1])
        }
        _ => (String::new(), pattern),
    }
}

/// Splits at the `|`s outside groups and classes.
fn top_level_alternatives(pattern: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, token) in tokens(pattern) {
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth
                    .checked_sub(1)
                    .ok_or("unbalanced `)` in the pattern")?;
            }
            Token::Bar if depth == 0 => {
                parts.push(&pattern[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&pattern[start..]);
    Ok(parts)
}

/// A look-behind the alternative starts with: its pattern and whether it
/// is negative; and the rest.
type Edge<'a> = Option<(&'a str, bool)>;

fn leading_lookbehind(alternative: &str) -> Result<(Edge<'_>, &str), String> {
    let negated = match () {
        _ if alternative.starts_with("(?<!") => true,
        _ if alternative.starts_with("(?<=") => false,
        _ => return Ok((None, alternative)),
    };
    let end = group_end(alternative, 0).ok_or("unbalanced look-behind")?;
    Ok((
        Some((&alternative[4..end], negated)),
        &alternative[end + 1..],
    ))
}

fn trailing_lookahead(rest: &str) -> Result<(&str, Edge<'_>), String> {
    if !rest.ends_with(')') {
        return Ok((rest, None));
    }
    let open = tokens(rest)
        .filter(|(_, t)| *t == Token::Open)
        .map(|(i, _)| i)
        .find(|i| group_end(rest, *i) == Some(rest.len() - 1));
    let Some(open) = open else {
        return Ok((rest, None));
    };
    let negated = match &rest[open..] {
        s if s.starts_with("(?!") => true,
        s if s.starts_with("(?=") => false,
        _ => return Ok((rest, None)),
    };
    Ok((
        &rest[..open],
        Some((&rest[open + 3..rest.len() - 1], negated)),
    ))
}

fn has_lookaround(text: &str) -> bool {
    tokens(text).any(|(i, t)| {
        t == Token::Open
            && ["(?=", "(?!", "(?<=", "(?<!"]
                .iter()
                .any(|p| text[i..].starts_with(p))
    })
}

/// The shortest and longest match of `text`, which must be bounded and
/// hold no capture group.
fn bounded(flags: &str, text: &str, what: &str) -> Result<(usize, usize), String> {
    let pattern = format!("{flags}(?:{})", crate::pcre::translate(text));
    let hir = ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .dot_matches_new_line(true)
        .build()
        .parse(&pattern)
        .map_err(|e| format!("{what}: {e}"))?;
    let props = hir.properties();
    if props.explicit_captures_len() > 0 {
        return Err(format!("{what} holds a capture group"));
    }
    match (props.minimum_len(), props.maximum_len()) {
        (Some(min), Some(max)) => Ok((min, max)),
        _ => Err(format!("{what} has no bounded length")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Bar,
    Other,
}

/// The pattern's structural characters with their byte offsets: escapes
/// and character classes are skipped over.
fn tokens(pattern: &str) -> impl Iterator<Item = (usize, Token)> + '_ {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= bytes.len() {
            return None;
        }
        let at = i;
        let token = match bytes[i] {
            b'\\' => {
                i += 1;
                Token::Other
            }
            b'[' => {
                i = class_end(bytes, i);
                Token::Other
            }
            b'(' => Token::Open,
            b')' => Token::Close,
            b'|' => Token::Bar,
            _ => Token::Other,
        };
        i += 1;
        Some((at, token))
    })
}

/// The index of the `]` closing the class opened at `open` (PCRE: a `]`
/// first in the class is literal).
fn class_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    if bytes.get(i) == Some(&b'^') {
        i += 1;
    }
    if bytes.get(i) == Some(&b']') {
        i += 1;
    }
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' if bytes.get(i + 1) == Some(&b':') => {
                if let Some(close) = pattern_find(&bytes[i + 2..], b":]") {
                    i += close + 3;
                }
            }
            b']' => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

fn pattern_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The index of the `)` closing the group opened at `open`.
fn group_end(pattern: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens(&pattern[open..]) {
        match token {
            Token::Open => depth += 1,
            Token::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(pattern: &str) -> Result<Lookaround, String> {
        Lookaround::compile(pattern, &|p| Regex::new(p).map_err(|e| e.to_string()))
    }

    fn first(pattern: &str, value: &str) -> Option<String> {
        let look = compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        look.captures(value.as_bytes())
            .map(|c| String::from_utf8_lossy(&c[0]).into_owned())
    }

    /// CRS 920120: a `;` not ending an allowed entity, or a quote or `=`.
    const MULTIPART_NAME: &str = r#"(?<!&(?:[aAoOuUyY]uml)|&(?:[aAeEiIoOuU]circ)|&(?:[eEiIoOuUyY]acute)|&(?:[aAeEiIoOuU]grave)|&(?:[cC]cedil)|&(?:[aAnNoO]tilde)|&(?:amp)|&(?:apos));|['\"=]"#;

    #[test]
    fn lookbehind_at_the_start_of_an_alternative() {
        assert_eq!(first(MULTIPART_NAME, "r&eacute;sum&eacute;.pdf"), None);
        assert_eq!(first(MULTIPART_NAME, "a&amp;b.txt"), None);
        assert_eq!(first(MULTIPART_NAME, "a;b.txt").as_deref(), Some(";"));
        assert_eq!(first(MULTIPART_NAME, "&amp;x;y").as_deref(), Some(";"));
        assert_eq!(first(MULTIPART_NAME, "f\"oo.php").as_deref(), Some("\""));
        assert_eq!(first(MULTIPART_NAME, "a&nbsp;b").as_deref(), Some(";"));
        assert_eq!(first("(?<=a)b", "cbab").as_deref(), Some("b"));
        assert_eq!(first("(?<=a)b", "cb"), None);
    }

    #[test]
    fn lookahead_at_the_end_of_an_alternative() {
        assert_eq!(first(r"<\?(?!xml)", "<?xml version"), None);
        assert_eq!(first(r"<\?(?!xml)", "<?xml <?php").as_deref(), Some("<?"));
        assert_eq!(first(r"<\?(?!xml)", "<?ph").as_deref(), Some("<?"));
        assert_eq!(first(r"<\?(?!xml)", "<?"), Some("<?".into()));
        assert_eq!(first(r"(?i)ab(?=c)|x(y)", "ABD xy").as_deref(), Some("xy"));
        assert_eq!(first(r"(?i:ab(?=c)|zz)", "ABC").as_deref(), Some("AB"));
    }

    #[test]
    fn plain_alternatives_keep_their_groups() {
        let look = compile(r"(?<!x)a|(b)(c)").unwrap();
        let caps = look.captures(b"xa bc").unwrap();
        assert_eq!(caps, vec![b"bc".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn what_cannot_be_bounded_or_is_nested_is_refused() {
        assert!(compile(r"(?<!a+)b").is_err());
        assert!(compile(r"a(?=b)c").is_err());
        assert!(compile(r"a+(?!b)").is_err());
        assert!(compile(r"(?<!(x))b").is_err());
        assert!(compile(r"(?<!x)(?=y)b").is_err());
    }
}
