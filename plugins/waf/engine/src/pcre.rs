//! Rewrites the PCRE syntax the `regex` crate reads differently into the
//! same language: literal `{`, `[` inside a class, `\<` / `\>` (literal
//! in PCRE, word boundaries in `regex`), and possessive quantifiers
//! (`*+`, `++`: read as greedy; a possessive match is always a greedy
//! one, so a rule can only match more often, never less).

/// `pattern` in the `regex` crate's syntax.
pub fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut after_atom = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            match e {
                '<' | '>' => out.push(e),
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
            i += 2;
            after_atom = true;
            continue;
        }
        if in_class {
            match c {
                '[' if chars.get(i + 1) == Some(&':') => out.push('['),
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                ']' => {
                    out.push(']');
                    in_class = false;
                    after_atom = true;
                }
                c => out.push(c),
            }
            i += 1;
            continue;
        }
        match c {
            '[' => {
                out.push('[');
                in_class = true;
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                i += 1;
                continue;
            }
            '{' => match quantifier_len(&chars[i..]).filter(|_| after_atom) {
                Some(len) => {
                    out.extend(&chars[i..i + len]);
                    i += len;
                    i += skip_possessive(&chars, i);
                    after_atom = false;
                    continue;
                }
                None => {
                    out.push_str("\\{");
                    after_atom = true;
                }
            },
            '*' | '+' | '?' if after_atom => {
                out.push(c);
                i += 1;
                i += skip_possessive(&chars, i);
                after_atom = false;
                continue;
            }
            '(' | '|' => {
                out.push(c);
                after_atom = false;
            }
            c => {
                out.push(c);
                after_atom = !matches!(c, '^' | '$');
            }
        }
        i += 1;
    }
    out
}

/// `1` when a `+` making the quantifier before `i` possessive is there.
fn skip_possessive(chars: &[char], i: usize) -> usize {
    usize::from(chars.get(i) == Some(&'+'))
}

/// The length of a `{n}`, `{n,}` or `{n,m}` quantifier at the start.
fn quantifier_len(chars: &[char]) -> Option<usize> {
    let close = chars.iter().position(|c| *c == '}')?;
    let inner: String = chars[1..close].iter().collect();
    let (lo, hi) = inner.split_once(',').unwrap_or((&inner, "0"));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    (!lo.is_empty() && digits(lo) && digits(hi)).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn rewrites_what_regex_reads_differently() {
        assert_eq!(translate("{{.*?}}"), "\\{\\{.*?}}");
        assert_eq!(translate("a{2,3}+b{1}"), "a{2,3}b{1}");
        assert_eq!(translate("(?:{|x)"), "(?:\\{|x)");
        assert_eq!(translate("[^\\<\\>\\~]*+"), "[^<>\\~]*");
        assert_eq!(translate("[\\'\" ?[=<>]"), "[\\'\" ?\\[=<>]");
        assert_eq!(translate("[]a]"), "[\\]a]");
        assert_eq!(translate("[[:alpha:]]"), "[[:alpha:]]");
        assert_eq!(translate("\\${"), "\\$\\{");
    }
}
