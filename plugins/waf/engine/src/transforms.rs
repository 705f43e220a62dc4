//! Transformations (`t:`): each turns a value into the form an operator
//! should see (decoded, lower-cased, normalised), byte for byte as
//! ModSecurity does.

/// A transformation by name, or `None` when it is not supported.
pub type Transform = fn(&[u8]) -> Vec<u8>;

/// The transformation called `name` (case-insensitive).
pub fn by_name(name: &str) -> Option<Transform> {
    let transform: Transform = match name.to_ascii_lowercase().as_str() {
        "lowercase" => |v| v.to_ascii_lowercase(),
        "uppercase" => |v| v.to_ascii_uppercase(),
        "urldecode" => |v| url_decode(v, false),
        "urldecodeuni" => |v| url_decode(v, true),
        "htmlentitydecode" => html_entity_decode,
        "jsdecode" => js_decode,
        "cssdecode" => css_decode,
        "cmdline" => cmd_line,
        "compresswhitespace" => compress_whitespace,
        "removewhitespace" => |v| v.iter().copied().filter(|b| !is_space(*b)).collect(),
        "removenulls" => |v| v.iter().copied().filter(|b| *b != 0).collect(),
        "replacenulls" => |v| v.iter().map(|b| if *b == 0 { b' ' } else { *b }).collect(),
        "replacecomments" => |v| comments(v, Some(b' ')),
        "removecomments" => |v| comments(v, None),
        "removecommentschar" => remove_comment_chars,
        "normalizepath" | "normalisepath" => |v| normalize_path(v, false),
        "normalizepathwin" | "normalisepathwin" => |v| normalize_path(v, true),
        "base64decode" | "base64decodeext" => base64_decode,
        "hexdecode" => hex_decode,
        "hexencode" => |v| {
            v.iter()
                .flat_map(|b| format!("{b:02x}").into_bytes())
                .collect()
        },
        "utf8tounicode" => utf8_to_unicode,
        "length" => |v| v.len().to_string().into_bytes(),
        "sha1" => |v| sha1_smol::Sha1::from(v).digest().bytes().to_vec(),
        "trim" => |v| trim_left(trim_right(v)).to_vec(),
        "trimleft" => |v| trim_left(v).to_vec(),
        "trimright" => |v| trim_right(v).to_vec(),
        "escapeseqdecode" => js_decode,
        _ => return None,
    };
    Some(transform)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0xa0)
}

fn trim_left(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| !is_space(*b)).unwrap_or(v.len());
    &v[start..]
}

fn trim_right(v: &[u8]) -> &[u8] {
    let end = v.iter().rposition(|b| !is_space(*b)).map_or(0, |i| i + 1);
    &v[..end]
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn hex_at(v: &[u8], i: usize, n: usize) -> Option<u32> {
    let digits = v.get(i..i + n)?;
    digits
        .iter()
        .try_fold(0u32, |acc, b| Some(acc * 16 + hex(*b)? as u32))
}

/// `%XX` (and `+` as space); with `uni`, `%uXXXX` too (full-width ASCII
/// mapped back to ASCII, other code points to their low byte).
pub fn url_decode(v: &[u8], uni: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'%' if uni && matches!(v.get(i + 1), Some(b'u' | b'U')) => match hex_at(v, i + 2, 4) {
                Some(code) => {
                    out.push(unicode_to_byte(code));
                    i += 6;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'%' => match hex_at(v, i + 1, 2) {
                Some(b) => {
                    out.push(b as u8);
                    i += 3;
                }
                None => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn unicode_to_byte(code: u32) -> u8 {
    if (0xff01..=0xff5e).contains(&code) {
        (code - 0xff01 + 0x21) as u8
    } else {
        (code & 0xff) as u8
    }
}

/// HTML character references: `&#DD;`, `&#xHH;`, `&quot;` `&amp;` `&lt;`
/// `&gt;` `&nbsp;` `&apos;` (the `;` optional, as ModSecurity).
fn html_entity_decode(v: &[u8]) -> Vec<u8> {
    const NAMED: [(&[u8], u8); 6] = [
        (b"quot", b'"'),
        (b"amp", b'&'),
        (b"lt", b'<'),
        (b"gt", b'>'),
        (b"nbsp", 0xa0),
        (b"apos", b'\''),
    ];
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'&' {
            let rest = &v[i + 1..];
            if let Some((code, used)) = numeric_entity(rest) {
                out.push((code & 0xff) as u8);
                i += 1 + used + usize::from(rest.get(used) == Some(&b';'));
                continue;
            }
            let named = NAMED.iter().find(|(name, _)| {
                rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name)
            });
            if let Some((name, byte)) = named {
                out.push(*byte);
                i += 1 + name.len() + usize::from(rest.get(name.len()) == Some(&b';'));
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

fn numeric_entity(rest: &[u8]) -> Option<(u32, usize)> {
    if rest.first() != Some(&b'#') {
        return None;
    }
    let (radix, start) = match rest.get(1) {
        Some(b'x' | b'X') => (16, 2),
        _ => (10, 1),
    };
    let digits = rest[start..]
        .iter()
        .take_while(|b| (**b as char).is_digit(radix))
        .count()
        .min(8);
    if digits == 0 {
        return None;
    }
    let text = std::str::from_utf8(&rest[start..start + digits]).ok()?;
    Some((u32::from_str_radix(text, radix).ok()?, start + digits))
}

/// JavaScript escapes: `\xHH`, `\uHHHH`, `\OOO`, `\n` and friends, `\c` → `c`.
fn js_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] != b'\\' || i + 1 >= v.len() {
            out.push(v[i]);
            i += 1;
            continue;
        }
        let c = v[i + 1];
        if let (b'x' | b'X', Some(b)) = (c, hex_at(v, i + 2, 2)) {
            out.push(b as u8);
            i += 4;
        } else if let (b'u' | b'U', Some(code)) = (c, hex_at(v, i + 2, 4)) {
            out.push(unicode_to_byte(code));
            i += 6;
        } else if (b'0'..=b'7').contains(&c) {
            let n = v[i + 1..]
                .iter()
                .take(3)
                .take_while(|b| (b'0'..=b'7').contains(*b))
                .count();
            let value = v[i + 1..i + 1 + n]
                .iter()
                .fold(0u32, |a, b| a * 8 + (b - b'0') as u32);
            out.push(value as u8);
            i += 1 + n;
        } else {
            out.push(match c {
                b'a' => 7,
                b'b' => 8,
                b'f' => 12,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'v' => 11,
                other => other,
            });
            i += 2;
        }
    }
    out
}

/// CSS escapes: `\` followed by 1–6 hex digits (one optional white space
/// after), or any other character taken literally; `\` + newline dropped.
fn css_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] != b'\\' || i + 1 >= v.len() {
            out.push(v[i]);
            i += 1;
            continue;
        }
        let n = v[i + 1..]
            .iter()
            .take(6)
            .take_while(|b| hex(**b).is_some())
            .count();
        if n > 0 {
            let code = hex_at(v, i + 1, n).unwrap_or(0);
            out.push(unicode_to_byte(code));
            i += 1 + n;
            if v.get(i).is_some_and(|b| is_space(*b)) {
                i += 1;
            }
        } else if v[i + 1] == b'\n' {
            i += 2;
        } else {
            out.push(v[i + 1]);
            i += 2;
        }
    }
    out
}

/// Windows and Unix command-line evasions: `\ " ' ^` removed, `,` `;` and
/// white space to one space, space before `/` and `(` removed, lower-cased.
fn cmd_line(v: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(v.len());
    let mut space = false;
    for &b in v {
        match b {
            b'"' | b'\'' | b'\\' | b'^' => {}
            b' ' | b',' | b';' | b'\t' | b'\r' | b'\n' => {
                if !space {
                    out.push(b' ');
                    space = true;
                }
            }
            b'/' | b'(' => {
                if space {
                    out.pop();
                }
                space = false;
                out.push(b);
            }
            b => {
                space = false;
                out.push(b.to_ascii_lowercase());
            }
        }
    }
    out
}

fn compress_whitespace(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut space = false;
    for &b in v {
        if is_space(b) {
            if !space {
                out.push(b' ');
            }
            space = true;
        } else {
            out.push(b);
            space = false;
        }
    }
    out
}

/// C (`/* */`), SQL (`--`), shell (`#`) comments removed, or replaced by
/// `replace` (C comments only, as ModSecurity's `replaceComments`).
fn comments(v: &[u8], replace: Option<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i..].starts_with(b"/*") {
            let end = v[i + 2..].windows(2).position(|w| w == b"*/");
            i = end.map_or(v.len(), |e| i + 2 + e + 2);
            if let Some(r) = replace {
                out.push(r);
            }
        } else if replace.is_none() && (v[i..].starts_with(b"--") || v[i] == b'#') {
            break;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

fn remove_comment_chars(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        let two = v.get(i..i + 2);
        if matches!(two, Some(b"/*" | b"*/" | b"--")) {
            i += 2;
        } else if v[i] == b'#' {
            i += 1;
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

/// `./` and `../` resolved, repeated `/` collapsed; with `win`, `\` is `/`.
fn normalize_path(v: &[u8], win: bool) -> Vec<u8> {
    let v: Vec<u8> = if win {
        v.iter()
            .map(|b| if *b == b'\\' { b'/' } else { *b })
            .collect()
    } else {
        v.to_vec()
    };
    let absolute = v.first() == Some(&b'/');
    let trailing = v.last() == Some(&b'/') || v.ends_with(b"/.") || v.ends_with(b"/..");
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in v.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.last().is_some_and(|p| *p != b"..") {
                    parts.pop();
                } else if !absolute {
                    parts.push(part);
                }
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(v.len());
    if absolute {
        out.push(b'/');
    }
    out.extend(parts.join(&b'/'));
    if trailing && !out.ends_with(b"/") {
        out.push(b'/');
    }
    out
}

/// Lenient base64: stops at the first byte outside the alphabet.
fn base64_decode(v: &[u8]) -> Vec<u8> {
    let value = |b: u8| match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(v.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for six in v.iter().map_while(|b| value(*b)) {
        acc = (acc << 6) | six as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn hex_decode(v: &[u8]) -> Vec<u8> {
    v.chunks_exact(2)
        .map_while(|pair| Some(hex(pair[0])? * 16 + hex(pair[1])?))
        .collect()
}

/// Non-ASCII UTF-8 sequences written as `%uHHHH`.
fn utf8_to_unicode(v: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(v);
    let mut out = Vec::with_capacity(v.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c as u8);
        } else {
            out.extend(format!("%u{:04x}", c as u32 & 0xffff).into_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, input: &str) -> String {
        String::from_utf8_lossy(&by_name(name).unwrap()(input.as_bytes())).into_owned()
    }

    #[test]
    fn decoders() {
        assert_eq!(t("urlDecodeUni", "%3Cscript%u003e+%uff41"), "<script> a");
        assert_eq!(t("htmlEntityDecode", "&lt;a&#x41;&#66&quot;"), "<aAB\"");
        assert_eq!(t("jsDecode", "\\x3c\\u0041\\101\\n"), "<AA\n");
        assert_eq!(t("cssDecode", "\\6a avascript"), "javascript");
        assert_eq!(t("base64Decode", "PHNjcmlwdD4="), "<script>");
        assert_eq!(t("hexDecode", "414243"), "ABC");
    }

    #[test]
    fn normalisers() {
        assert_eq!(
            t("cmdLine", "C^at \"/etc/pa'sswd\" ,;x"),
            "cat/etc/passwd x"
        );
        assert_eq!(
            t("normalizePath", "/a/./b/../../etc//passwd"),
            "/etc/passwd"
        );
        assert_eq!(t("normalizePathWin", "..\\..\\boot.ini"), "../../boot.ini");
        assert_eq!(t("replaceComments", "un/**/ion"), "un ion");
        assert_eq!(t("removeComments", "1 or 1=1-- x"), "1 or 1=1");
        assert_eq!(t("compressWhitespace", "a \t\n b"), "a b");
        assert_eq!(t("length", "abcd"), "4");
        assert_eq!(t("trim", "  x  "), "x");
        assert_eq!(t("utf8toUnicode", "a\u{e9}"), "a%u00e9");
        assert!(by_name("nosuch").is_none());
    }
}
