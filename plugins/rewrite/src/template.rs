//! Replacement templates: literal text with a regex's captures (`$1`,
//! `${1}`, `${name}`, `$$` for a dollar sign) and, where the template allows
//! them, facts of the request (`{scheme}`, `{host}`, `{hostname}`, `{path}`,
//! `{query}`, `{method}`; `{{` for a brace). Parsed and checked against the
//! regex at load, so a reference to a group that does not exist is a config
//! error rather than an empty string at request time.

/// A fact of the request a template may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Scheme,
    Host,
    Hostname,
    Path,
    Query,
    Method,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        Some(match name {
            "scheme" => Var::Scheme,
            "host" => Var::Host,
            "hostname" => Var::Hostname,
            "path" => Var::Path,
            "query" => Var::Query,
            "method" => Var::Method,
            _ => return None,
        })
    }
}

/// The request facts a template reads, gathered once per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub scheme: String,
    /// The authority as the client sent it (host and optional port).
    pub host: String,
    /// The path (without the query) as it stands when the template runs.
    pub path: String,
    /// The query without its `?`, empty when there is none.
    pub query: String,
    pub method: String,
}

impl Facts {
    fn get(&self, var: Var) -> &str {
        match var {
            Var::Scheme => &self.scheme,
            Var::Host => &self.host,
            Var::Hostname => hostname(&self.host),
            Var::Path => &self.path,
            Var::Query => &self.query,
            Var::Method => &self.method,
        }
    }
}

/// `host` without its port (`[::1]:8080` → `[::1]`).
fn hostname(host: &str) -> &str {
    match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Vec<u8>),
    Group(usize),
    Var(Var),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// What a template may refer to: the regex's groups (index → optional name;
/// index 0 is the whole match) and whether request facts are allowed.
pub struct Scope<'a> {
    pub groups: &'a [Option<String>],
    pub facts: bool,
}

impl Template {
    /// Parses `text`; the error says what is wrong with which reference.
    pub fn parse(text: &str, scope: &Scope) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let (piece, used) = match c {
                '$' => dollar(rest, scope)?,
                '{' if scope.facts => brace(rest)?,
                _ => (Piece::Text(c.to_string().into_bytes()), c.len_utf8()),
            };
            rest = &rest[used..];
            match piece {
                Piece::Text(bytes) => literal.extend(bytes),
                other => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(other);
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// The first literal byte of the template `allowed` refuses, if any.
    pub fn first_literal_byte_not(&self, allowed: impl Fn(u8) -> bool) -> Option<u8> {
        let texts = self.pieces.iter().filter_map(|p| match p {
            Piece::Text(text) => Some(text),
            _ => None,
        });
        texts.flatten().copied().find(|&b| !allowed(b))
    }

    /// Writes the template into `out`: `group(i)` gives capture `i` (absent
    /// groups, which did not take part in the match, expand to nothing).
    pub fn expand<'h>(
        &self,
        group: impl Fn(usize) -> Option<&'h [u8]>,
        facts: Option<&Facts>,
        out: &mut Vec<u8>,
    ) {
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text),
                Piece::Group(i) => out.extend_from_slice(group(*i).unwrap_or_default()),
                Piece::Var(var) => {
                    out.extend_from_slice(facts.map(|f| f.get(*var)).unwrap_or("").as_bytes())
                }
            }
        }
    }
}

/// `$$`, `$N` or `${N|name}` at the start of `rest`: the piece and the bytes used.
fn dollar(rest: &str, scope: &Scope) -> Result<(Piece, usize), String> {
    let after = &rest[1..];
    if after.starts_with('$') {
        return Ok((Piece::Text(b"$".to_vec()), 2));
    }
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        return Ok((Piece::Group(group(&after[..digits], scope)?), 1 + digits));
    }
    if let Some(inner) = after.strip_prefix('{') {
        let Some(end) = inner.find('}') else {
            return Err(format!("unclosed ${{ in {rest:?}"));
        };
        return Ok((Piece::Group(group(&inner[..end], scope)?), 3 + end));
    }
    Err(format!(
        "a $ must be followed by a group number, {{name}} or another $ (write $$ for a dollar sign), at {rest:?}"
    ))
}

/// The index of group `name` (a number or a name) in the scope's regex.
fn group(name: &str, scope: &Scope) -> Result<usize, String> {
    let count = scope.groups.len();
    if count == 0 {
        return Err(format!(
            "${name} refers to a capture group, but the rule has no `path` regex"
        ));
    }
    if let Ok(index) = name.parse::<usize>() {
        if index < count {
            return Ok(index);
        }
        return Err(format!(
            "${name}: the regex has {} capture group(s)",
            count - 1
        ));
    }
    let position = scope.groups.iter().position(|g| g.as_deref() == Some(name));
    position.ok_or_else(|| format!("${{{name}}}: the regex has no group named {name:?}"))
}

/// `{{` or `{var}` at the start of `rest`.
fn brace(rest: &str) -> Result<(Piece, usize), String> {
    if rest.starts_with("{{") {
        return Ok((Piece::Text(b"{".to_vec()), 2));
    }
    let end = rest
        .find('}')
        .ok_or_else(|| format!("unclosed {{ in {rest:?} (write {{{{ for a literal brace)"))?;
    let name = &rest[1..end];
    let var = Var::parse(name).ok_or_else(|| {
        format!(
            "unknown variable {{{name}}}: use scheme, host, hostname, path, query or method (write {{{{ for a literal brace)"
        )
    })?;
    Ok((Piece::Var(var), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(regex: &str) -> Vec<Option<String>> {
        let re = regex::Regex::new(regex).expect("regex");
        re.capture_names().map(|n| n.map(String::from)).collect()
    }

    fn render(template: &str, regex: &str, path: &str, facts: Option<&Facts>) -> String {
        let groups = names(regex);
        let scope = Scope {
            groups: &groups,
            facts: true,
        };
        let t = Template::parse(template, &scope).expect("template");
        let re = regex::Regex::new(regex).expect("regex");
        let caps = re.captures(path).expect("a match");
        let mut out = Vec::new();
        t.expand(
            |i| caps.get(i).map(|m| m.as_str().as_bytes()),
            facts,
            &mut out,
        );
        String::from_utf8(out).expect("utf-8")
    }

    fn facts() -> Facts {
        Facts {
            scheme: "http".into(),
            host: "example.com:8080".into(),
            path: "/a/b".into(),
            query: "x=1".into(),
            method: "GET".into(),
        }
    }

    #[test]
    fn numbered_and_named_captures_expand() {
        let re = r"^/(?<section>\w+)/(\d+)$";
        assert_eq!(
            render("/new/$2/${section}", re, "/blog/42", None),
            "/new/42/blog"
        );
        assert_eq!(
            render("${1}0", re, "/blog/42", None),
            "blog0",
            "braces end a number"
        );
        assert_eq!(render("$0", re, "/blog/42", None), "/blog/42");
        assert_eq!(render("$$1 costs $$", re, "/blog/42", None), "$1 costs $");
    }

    #[test]
    fn a_group_that_took_no_part_expands_to_nothing() {
        assert_eq!(render("[$2]", "^/(a)|(b)$", "/a", None), "[]");
    }

    #[test]
    fn request_facts_expand() {
        let f = facts();
        let out = render(
            "https://{hostname}{path}?{query}&m={method}&s={scheme}",
            "^",
            "/",
            Some(&f),
        );
        assert_eq!(out, "https://example.com/a/b?x=1&m=GET&s=http");
        assert_eq!(
            render("{host}/{{x}", "^", "/", Some(&f)),
            "example.com:8080/{x}"
        );
    }

    #[test]
    fn hostname_drops_only_a_port() {
        assert_eq!(hostname("example.com"), "example.com");
        assert_eq!(hostname("example.com:443"), "example.com");
        assert_eq!(hostname("[::1]:8080"), "[::1]");
        assert_eq!(hostname("[::1]"), "[::1]");
    }

    #[test]
    fn bad_references_are_refused_with_what_is_wrong() {
        let groups = names(r"^/(\w+)$");
        let scope = Scope {
            groups: &groups,
            facts: true,
        };
        let err = |t: &str| Template::parse(t, &scope).expect_err(t);
        assert!(err("/$2").contains("has 1 capture group"), "{}", err("/$2"));
        assert!(err("/${nope}").contains("no group named \"nope\""));
        assert!(err("/${1").contains("unclosed"));
        assert!(err("/$x").contains("write $$ for a dollar sign"));
        assert!(err("{nope}").contains("unknown variable {nope}"));
        assert!(err("{host").contains("unclosed {"));
        let none = Scope {
            groups: &[],
            facts: true,
        };
        let e = Template::parse("/$1", &none).expect_err("no regex");
        assert!(e.contains("no `path` regex"), "{e}");
    }

    #[test]
    fn braces_are_literal_where_facts_are_not_allowed() {
        let groups = names("(a)");
        let scope = Scope {
            groups: &groups,
            facts: false,
        };
        let t = Template::parse("{x}$1", &scope).expect("template");
        let mut out = Vec::new();
        t.expand(|_| Some(&b"a"[..]), None, &mut out);
        assert_eq!(out, b"{x}a");
    }
}
