//! Splits SecLang text into directives: comments and blank lines dropped,
//! `\` line continuations joined, arguments split on white space with
//! double-quoted arguments kept whole (`\"` inside them is a quote).

use crate::Error;

/// One directive as written: its name, its arguments and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<String>,
    pub file: String,
    pub line: usize,
}

/// The directives of `text`, read from `file` (named in errors).
pub fn directives(file: &str, text: &str) -> Result<Vec<Directive>, Error> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if logical.is_empty() {
            start = index + 1;
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
        }
        match line.strip_suffix('\\') {
            Some(head) => logical.push_str(head),
            None => {
                logical.push_str(line);
                out.push(split(file, start, &logical)?);
                logical.clear();
            }
        }
    }
    if !logical.trim().is_empty() {
        out.push(split(file, start, &logical)?);
    }
    Ok(out)
}

fn split(file: &str, line: usize, text: &str) -> Result<Directive, Error> {
    let at = |message: String| Error::at(file, line, message);
    let mut words = Vec::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' if chars.peek() == Some(&'"') => {
                        word.push('"');
                        chars.next();
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => word.push(c),
                }
            }
            if !closed {
                return Err(at(format!("unterminated quoted argument {word:?}")));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
    let mut words = words.into_iter();
    let name = words.next().ok_or_else(|| at("empty directive".into()))?;
    Ok(Directive {
        name,
        args: words.collect(),
        file: file.to_string(),
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_quotes_and_comments() {
        let text = "# comment\n\nSecRule ARGS \"@rx a\\\"b\" \\\n    \"id:1,\\\n    pass\"\nSecMarker END\n";
        let d = directives("x.conf", text).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].name, "SecRule");
        assert_eq!(d[0].args, vec!["ARGS", "@rx a\"b", "id:1,    pass"]);
        assert_eq!(d[0].line, 3);
        assert_eq!(d[1].args, vec!["END"]);
        assert_eq!(d[1].line, 6);
    }

    #[test]
    fn unterminated_quote_names_file_and_line() {
        let err = directives("r.conf", "\nSecRule ARGS \"@rx a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.conf:2: unterminated quoted argument \"@rx a\""
        );
    }
}
