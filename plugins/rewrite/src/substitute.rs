//! Streaming body substitution: each pattern (a literal or a regex) is a
//! stage that replaces its matches in the bytes passing through it, keeping
//! back only a bounded tail between chunks so that a match split across a
//! chunk boundary is still found. The stages run in order, the output of
//! one feeding the next, so the result is that of replacing each pattern in
//! turn over the whole body.
//!
//! A stage's window is the longest match it must be able to see whole: the
//! exact maximum when the pattern has one (a literal's length, `colou?r`'s
//! 6), else the configured `max_match_bytes`. A match may be accepted once
//! the bytes after its start reach the window (plus a few bytes for
//! look-ahead such as `\b`); everything before the last window's worth is
//! sent on. So a stage holds at most about a window of bytes, whatever the
//! body's size; the price is that a match longer than `max_match_bytes`
//! may be cut short or missed when it straddles a chunk boundary.

use crate::template::{Scope, Template};
use regex::bytes::{Captures, Regex};

/// Bytes of look-ahead a match must be followed by before it is trusted
/// (one UTF-8 character, for `\b` and `(?m)$`).
const LOOKAHEAD: usize = 4;
/// Bytes kept before the unsent tail so that `\b`, `^` and `(?m)^` at its
/// start see what came before.
const CONTEXT: usize = 4;

#[derive(Debug)]
enum Replacement {
    /// A literal's replacement: bytes as written.
    Literal(Vec<u8>),
    /// A regex's replacement: may use its captures.
    Template(Template),
}

/// One checked pattern.
#[derive(Debug)]
pub struct Pattern {
    regex: Regex,
    replacement: Replacement,
    /// The longest match the stage must see whole, in bytes.
    window: usize,
}

impl Pattern {
    /// A literal `find`, replaced by `with` as written.
    pub fn literal(find: &str, with: &str) -> Result<Pattern, String> {
        if find.is_empty() {
            return Err("find may not be empty".into());
        }
        let regex = Regex::new(&regex::escape(find)).map_err(|e| format!("find: {e}"))?;
        let replacement = Replacement::Literal(with.as_bytes().to_vec());
        Ok(Pattern {
            regex,
            replacement,
            window: find.len(),
        })
    }

    /// A regex, replaced by the template `with` (`$1`, `${name}`, `$$`);
    /// `max_match_bytes` is the window when the regex has no bounded length.
    pub fn regex(pattern: &str, with: &str, max_match_bytes: usize) -> Result<Pattern, String> {
        let hir = regex_syntax::parse(pattern).map_err(|e| format!("regex: bad regex: {e}"))?;
        let props = hir.properties();
        if props.minimum_len() == Some(0) {
            return Err(format!("regex {pattern:?} can match the empty string"));
        }
        let regex = Regex::new(pattern).map_err(|e| format!("regex: bad regex: {e}"))?;
        let groups: Vec<Option<String>> =
            regex.capture_names().map(|n| n.map(String::from)).collect();
        let scope = Scope {
            groups: &groups,
            facts: false,
        };
        let template = Template::parse(with, &scope).map_err(|e| format!("replace: {e}"))?;
        let window = props.maximum_len().unwrap_or(max_match_bytes);
        Ok(Pattern {
            regex,
            replacement: Replacement::Template(template),
            window,
        })
    }

    /// Writes the replacement of one match into `out`.
    fn replace(&self, captures: &Captures, out: &mut Vec<u8>) {
        match &self.replacement {
            Replacement::Literal(bytes) => out.extend_from_slice(bytes),
            Replacement::Template(t) => {
                t.expand(|i| captures.get(i).map(|m| m.as_bytes()), None, out)
            }
        }
    }

    /// Every match replaced over a whole body: what the stream must give.
    #[cfg(test)]
    pub fn replace_all(&self, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut pos = 0;
        for captures in self.regex.captures_iter(body) {
            let Some(m) = captures.get(0) else { continue };
            out.extend_from_slice(&body[pos..m.start()]);
            self.replace(&captures, &mut out);
            pos = m.end();
        }
        out.extend_from_slice(&body[pos..]);
        out
    }
}

/// One stage's state in one response: the bytes not yet sent, after up to
/// [`CONTEXT`] bytes already sent.
#[derive(Debug, Default)]
struct Tail {
    bytes: Vec<u8>,
    context: usize,
}

/// The state of the stages for one response body.
#[derive(Debug, Default)]
pub struct Stream {
    tails: Vec<Tail>,
}

impl Stream {
    /// A fresh stream for `patterns`.
    pub fn new(patterns: &[Pattern]) -> Stream {
        Stream {
            tails: patterns.iter().map(|_| Tail::default()).collect(),
        }
    }

    /// Passes `chunk` through every stage: the bytes that may be sent now.
    /// With `end`, everything held is flushed.
    pub fn feed(&mut self, patterns: &[Pattern], chunk: Vec<u8>, end: bool) -> Vec<u8> {
        let mut data = chunk;
        for (pattern, tail) in patterns.iter().zip(&mut self.tails) {
            data = stage(pattern, tail, &data, end);
        }
        data
    }

    /// The bytes held across all stages (bounded by the windows).
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.tails.iter().map(|t| t.bytes.len()).sum()
    }
}

/// One stage: `input` joins the tail; the matches that can be trusted are
/// replaced and everything up to the last window is returned.
fn stage(pattern: &Pattern, tail: &mut Tail, input: &[u8], end: bool) -> Vec<u8> {
    tail.bytes.extend_from_slice(input);
    let buf = &tail.bytes;
    // A match starting after `limit` might still grow (or an earlier one
    // appear) with the next chunk.
    let limit = match end {
        true => buf.len(),
        false => buf.len().saturating_sub(pattern.window + LOOKAHEAD),
    };
    let mut out = Vec::with_capacity(buf.len());
    let mut pos = tail.context;
    while let Some(captures) = pattern.regex.captures_at(buf, pos) {
        let Some(m) = captures.get(0) else { break };
        if m.start() > limit {
            break;
        }
        out.extend_from_slice(&buf[pos..m.start()]);
        pattern.replace(&captures, &mut out);
        pos = m.end();
    }
    let sent = limit.max(pos);
    out.extend_from_slice(&buf[pos..sent]);
    if end {
        *tail = Tail::default();
    } else {
        let keep_from = sent.saturating_sub(CONTEXT);
        tail.bytes.drain(..keep_from);
        tail.context = sent - keep_from;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = "<html><title>Old Site</title><p>old http://old.example/a \
        colour color, old-old oldold</p>\n<p>end é old</p></html>"
        .as_bytes();

    /// The patterns of the tests: literals, bounded and unbounded regexes,
    /// captures, assertions, a replacement the next stage matches.
    fn patterns() -> Vec<Pattern> {
        vec![
            Pattern::literal("http://old.example", "https://new.example").expect("literal"),
            Pattern::literal("old", "new").expect("literal"),
            Pattern::regex(r"colou?r", "hue", 256).expect("bounded"),
            Pattern::regex(
                r"<title>(?<t>.*?)</title>",
                "<title>${t} | ravelin</title>",
                64,
            )
            .expect("unbounded"),
            Pattern::regex(r"\bnew\b", "NEW", 256).expect("word"),
            Pattern::regex(r"(?m)^<p>", "<p class=x>", 256).expect("line start"),
            Pattern::regex(r"é", "e", 256).expect("unicode"),
        ]
    }

    /// Replacing each pattern in turn over the whole body.
    fn whole(patterns: &[Pattern], body: &[u8]) -> Vec<u8> {
        patterns
            .iter()
            .fold(body.to_vec(), |b, p| p.replace_all(&b))
    }

    /// The body fed to a stream in chunks ending at `cuts`.
    fn streamed(patterns: &[Pattern], body: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut stream = Stream::new(patterns);
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            out.extend(stream.feed(patterns, body[from..cut].to_vec(), false));
            from = cut;
        }
        out.extend(stream.feed(patterns, body[from..].to_vec(), true));
        out
    }

    #[test]
    fn the_whole_body_reference_replaces_every_pattern() {
        let out = String::from_utf8(whole(&patterns(), BODY)).expect("utf-8");
        assert_eq!(
            out,
            "<html><title>Old Site | ravelin</title><p>NEW https://NEW.example/a \
             hue hue, NEW-NEW newnew</p>\n<p class=x>end e NEW</p></html>"
        );
    }

    #[test]
    fn every_single_split_gives_the_whole_body_result() {
        let (patterns, want) = (patterns(), whole(&patterns(), BODY));
        for cut in 0..=BODY.len() {
            assert_eq!(streamed(&patterns, BODY, &[cut]), want, "split at {cut}");
        }
    }

    #[test]
    fn every_pair_of_splits_gives_the_whole_body_result() {
        let (patterns, want) = (patterns(), whole(&patterns(), BODY));
        for a in 0..=BODY.len() {
            for b in a..=BODY.len() {
                assert_eq!(
                    streamed(&patterns, BODY, &[a, b]),
                    want,
                    "splits at {a}, {b}"
                );
            }
        }
    }

    #[test]
    fn byte_by_byte_and_empty_chunks_give_the_whole_body_result() {
        let (patterns, want) = (patterns(), whole(&patterns(), BODY));
        let every: Vec<usize> = (0..=BODY.len()).collect();
        assert_eq!(streamed(&patterns, BODY, &every), want);
        let doubled: Vec<usize> = every.iter().flat_map(|&c| [c, c]).collect();
        assert_eq!(
            streamed(&patterns, BODY, &doubled),
            want,
            "with empty chunks"
        );
    }

    #[test]
    fn a_large_body_streams_in_bounded_memory() {
        let patterns = patterns();
        let mut body = Vec::new();
        while body.len() < 4 << 20 {
            body.extend_from_slice(BODY);
        }
        let mut stream = Stream::new(&patterns);
        let (mut out, mut most) = (Vec::new(), 0);
        for piece in body.chunks(7919) {
            out.extend(stream.feed(&patterns, piece.to_vec(), false));
            most = most.max(stream.held());
        }
        out.extend(stream.feed(&patterns, Vec::new(), true));
        assert_eq!(out, whole(&patterns, &body));
        // Each stage holds its window, look-ahead and context at most.
        let bound: usize = patterns
            .iter()
            .map(|p| p.window + LOOKAHEAD + CONTEXT)
            .sum();
        assert!(most <= bound, "held {most} bytes, bound {bound}");
        assert_eq!(stream.held(), 0, "flushed at the end");
    }

    #[test]
    fn windows_are_exact_for_bounded_patterns() {
        assert_eq!(Pattern::literal("abc", "").expect("literal").window, 3);
        assert_eq!(Pattern::regex("colou?r", "", 256).expect("regex").window, 6);
        assert_eq!(Pattern::regex("a+", "", 100).expect("regex").window, 100);
    }

    #[test]
    fn a_match_longer_than_the_window_is_cut_not_buffered() {
        // `a+` with a 4-byte window over a long run: the stream stays
        // bounded and every `a` is still replaced (in several matches).
        let pattern = [Pattern::regex("a+", "b", 4).expect("regex")];
        let body = vec![b'a'; 10_000];
        let mut stream = Stream::new(&pattern);
        let mut out = Vec::new();
        for piece in body.chunks(100) {
            out.extend(stream.feed(&pattern, piece.to_vec(), false));
            assert!(stream.held() <= 4 + LOOKAHEAD + CONTEXT + 100);
        }
        out.extend(stream.feed(&pattern, Vec::new(), true));
        assert!(!out.is_empty() && out.iter().all(|&b| b == b'b'), "{out:?}");
    }
}
