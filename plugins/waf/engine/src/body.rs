//! Request body processors: URL-encoded forms, JSON, multipart and a
//! text-only XML reading; each turns a body into named arguments.

use crate::transforms::url_decode;

/// What a body processor found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub args: Vec<(String, Vec<u8>)>,
    /// Multipart uploads: (field name, file name, size).
    pub files: Vec<(String, String, usize)>,
    /// Multipart part headers, as (field name, header line).
    pub part_headers: Vec<(String, Vec<u8>)>,
    /// XML character data and attribute values, space-joined.
    pub xml_text: Option<Vec<u8>>,
    /// Multipart irregularities ModSecurity flags (`MULTIPART_STRICT_ERROR`).
    pub strict_error: bool,
}

/// `a=1&b=2` pairs, percent-decoded (`+` as space).
pub fn urlencoded(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let name = String::from_utf8_lossy(&url_decode(name, false)).into_owned();
            (name, url_decode(value, false))
        })
        .collect()
}

/// JSON leaves as `json.a.b.0` = value; deeper than `max_depth` is an error.
pub fn json(body: &[u8], max_depth: usize) -> Result<Vec<(String, Vec<u8>)>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("JSON body: {e}"))?;
    let mut out = Vec::new();
    flatten("json", &value, 0, max_depth, &mut out)?;
    Ok(out)
}

fn flatten(
    name: &str,
    value: &serde_json::Value,
    depth: usize,
    max: usize,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<(), String> {
    use serde_json::Value;
    if depth > max {
        return Err(format!("JSON body nested deeper than {max} levels"));
    }
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{name}.{k}"), v, depth + 1, max, out)?;
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{name}.{i}"), v, depth + 1, max, out)?;
            }
        }
        Value::String(s) => out.push((name.to_string(), s.clone().into_bytes())),
        Value::Null => out.push((name.to_string(), Vec::new())),
        other => out.push((name.to_string(), other.to_string().into_bytes())),
    }
    Ok(())
}

/// The boundary of a `multipart/...; boundary=X` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    let at = lower.find("boundary=")? + "boundary=".len();
    let raw = content_type[at..].split(';').next()?.trim();
    let b = raw.trim_matches('"');
    (!b.is_empty()).then(|| b.to_string())
}

/// Parts of a multipart body: fields become arguments, uploads `files`.
pub fn multipart(body: &[u8], content_type: &str) -> Result<Parsed, String> {
    let boundary = boundary(content_type).ok_or("multipart body without a boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parsed = Parsed::default();
    let mut pieces = split_on(body, &delimiter).into_iter();
    let preamble = pieces.next().unwrap_or_default();
    if !preamble.iter().all(u8::is_ascii_whitespace) {
        parsed.strict_error = true;
    }
    let mut closed = false;
    for piece in pieces {
        if piece.starts_with(b"--") {
            closed = true;
            break;
        }
        let piece = piece
            .strip_prefix(b"\r\n")
            .or_else(|| piece.strip_prefix(b"\n"));
        let Some(piece) = piece else {
            parsed.strict_error = true;
            continue;
        };
        part(piece, &mut parsed);
    }
    if !closed {
        parsed.strict_error = true;
    }
    Ok(parsed)
}

fn part(piece: &[u8], parsed: &mut Parsed) {
    let (head, content) = match find(piece, b"\r\n\r\n") {
        Some(i) => (&piece[..i], &piece[i + 4..]),
        None => match find(piece, b"\n\n") {
            Some(i) => (&piece[..i], &piece[i + 2..]),
            None => {
                parsed.strict_error = true;
                return;
            }
        },
    };
    let content = content
        .strip_suffix(b"\r\n")
        .or_else(|| content.strip_suffix(b"\n"))
        .unwrap_or(content);
    let mut name = None;
    let mut filename = None;
    let lines: Vec<&[u8]> = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    for line in &lines {
        let text = String::from_utf8_lossy(line);
        if let Some((h, v)) = text.split_once(':')
            && h.trim().eq_ignore_ascii_case("content-disposition")
        {
            name = param(v, "name");
            filename = param(v, "filename");
        }
    }
    let Some(name) = name else {
        parsed.strict_error = true;
        return;
    };
    for line in lines {
        parsed.part_headers.push((name.clone(), line.to_vec()));
    }
    match filename {
        Some(file) => parsed.files.push((name, file, content.len())),
        None => parsed.args.push((name, content.to_vec())),
    }
}

/// `name="value"` (or unquoted) in a header's parameters. A quoted value
/// runs to its closing quote, `;` and `\"` included (RFC 2183, and how
/// ModSecurity reads it), so `filename="a;.php"` is `a;.php`.
fn param(header: &str, key: &str) -> Option<String> {
    let mut rest = header.split_once(';')?.1;
    loop {
        let (k, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let (value, tail) = quoted_value(quoted);
                let next = tail.and_then(|t| t.split_once(';')).map(|(_, t)| t);
                (value, next)
            }
            None => match after.split_once(';') {
                Some((v, next)) => (v.trim().to_string(), Some(next)),
                None => (after.trim().to_string(), None),
            },
        };
        if k.trim().eq_ignore_ascii_case(key) {
            return Some(value);
        }
        rest = next?;
    }
}

/// A quoted value (after its opening quote) and what follows its closing
/// quote; `\x` stands for `x`. An unclosed quote runs to the end.
fn quoted_value(text: &str) -> (String, Option<&str>) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.extend(chars.next().map(|(_, c)| c)),
            '"' => return (value, Some(&text[i + 1..])),
            c => value.push(c),
        }
    }
    (value, None)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_on<'a>(body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let finder = memfind(delimiter);
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = finder(rest) {
        let piece = &rest[..i];
        out.push(
            piece
                .strip_suffix(b"\r\n")
                .or_else(|| piece.strip_suffix(b"\n"))
                .unwrap_or(piece),
        );
        rest = &rest[i + delimiter.len()..];
    }
    out.push(rest);
    out
}

fn memfind(needle: &[u8]) -> impl Fn(&[u8]) -> Option<usize> + '_ {
    let ac = aho_corasick::AhoCorasick::new([needle]).ok();
    move |hay| ac.as_ref()?.find(hay).map(|m| m.start())
}

/// The text of an XML document: character data and attribute values,
/// joined by spaces (what `XML:/*` inspects; no XPath).
pub fn xml_text(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut in_tag = false;
    let mut quote = None;
    for &b in body {
        match (in_tag, quote, b) {
            (false, _, b'<') => {
                in_tag = true;
                out.push(b' ');
            }
            (false, _, b) => out.push(b),
            (true, None, b'>') => {
                in_tag = false;
                out.push(b' ');
            }
            (true, None, b'"' | b'\'') => {
                quote = Some(b);
                out.push(b' ');
            }
            (true, Some(q), b) if b == q => quote = None,
            (true, Some(_), b) => out.push(b),
            (true, None, _) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_parameters_keep_quoted_semicolons() {
        let h = r#" form-data; name="doc"; filename="a;b \"q\".php""#;
        assert_eq!(param(h, "name").as_deref(), Some("doc"));
        assert_eq!(param(h, "filename").as_deref(), Some(r#"a;b "q".php"#));
        assert_eq!(
            param(" form-data; name=x; filename=y", "filename").as_deref(),
            Some("y")
        );
        assert_eq!(param(" form-data; name=\"x", "name").as_deref(), Some("x"));
        assert_eq!(param(" form-data", "name"), None);
    }

    #[test]
    fn urlencoded_pairs() {
        let a = urlencoded(b"a=1+2&b=%3Cx%3E&c");
        assert_eq!(a[0], ("a".into(), b"1 2".to_vec()));
        assert_eq!(a[1], ("b".into(), b"<x>".to_vec()));
        assert_eq!(a[2], ("c".into(), b"".to_vec()));
    }

    #[test]
    fn json_leaves_and_depth_limit() {
        let a = json(br#"{"a":{"b":["x",2]},"c":null}"#, 8).unwrap();
        assert_eq!(a[0], ("json.a.b.0".into(), b"x".to_vec()));
        assert_eq!(a[1], ("json.a.b.1".into(), b"2".to_vec()));
        let deep = format!("{}1{}", "[".repeat(20), "]".repeat(20));
        assert_eq!(
            json(deep.as_bytes(), 10).unwrap_err(),
            "JSON body nested deeper than 10 levels"
        );
        assert!(json(b"{", 10).unwrap_err().starts_with("JSON body: "));
    }

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.php\"\r\nContent-Type: text/plain\r\n\r\n<?php ?>\r\n--XX--\r\n";
        let p = multipart(body, "multipart/form-data; boundary=XX").unwrap();
        assert_eq!(p.args, vec![("a".into(), b"hello".to_vec())]);
        assert_eq!(p.files, vec![("f".into(), "x.php".into(), 8)]);
        assert!(!p.strict_error);
        assert_eq!(p.part_headers.len(), 3);
        let open = multipart(&body[..60], "multipart/form-data; boundary=XX").unwrap();
        assert!(open.strict_error);
    }

    #[test]
    fn xml_text_keeps_data_and_attributes() {
        assert_eq!(xml_text(b"<a x=\"1\">hi<b/></a>"), b"  1 hi    ".to_vec());
    }
}
