//! Rule targets (`ARGS|!ARGS:foo|&REQUEST_HEADERS:/^x-/`): which
//! collection, which members, counted or excluded.

use regex::bytes::Regex;

/// Which members of a collection a target takes.
#[derive(Clone)]
pub enum Selector {
    All,
    /// A key, lower-cased (collection keys compare case-insensitively).
    Key(String),
    Regex(Regex),
}

impl Selector {
    /// Whether member `key` is selected.
    pub fn selects(&self, key: &str) -> bool {
        match self {
            Selector::All => true,
            Selector::Key(k) => k.eq_ignore_ascii_case(key),
            Selector::Regex(re) => re.is_match(key.as_bytes()),
        }
    }
}

/// One target of a rule.
#[derive(Clone)]
pub struct Target {
    /// Upper-cased collection name (`ARGS`, `TX`, `XML`, …).
    pub collection: String,
    pub selector: Selector,
    /// `&`: the number of selected members instead of their values.
    pub count: bool,
    /// `!`: members removed from the rule's other targets.
    pub exclude: bool,
}

/// The collections the engine fills, and the scratch collections (`IP`,
/// `GLOBAL`, …) that `setvar` writes like `TX` but nothing persists.
pub const KNOWN: [&str; 51] = [
    "ARGS",
    "ARGS_GET",
    "ARGS_POST",
    "ARGS_NAMES",
    "ARGS_GET_NAMES",
    "ARGS_POST_NAMES",
    "ARGS_COMBINED_SIZE",
    "REQUEST_HEADERS",
    "REQUEST_HEADERS_NAMES",
    "REQUEST_COOKIES",
    "REQUEST_COOKIES_NAMES",
    "REQUEST_URI",
    "REQUEST_URI_RAW",
    "REQUEST_FILENAME",
    "REQUEST_BASENAME",
    "REQUEST_LINE",
    "REQUEST_METHOD",
    "REQUEST_PROTOCOL",
    "QUERY_STRING",
    "REQUEST_BODY",
    "REQUEST_BODY_LENGTH",
    "XML",
    "FILES",
    "FILES_NAMES",
    "FILES_SIZES",
    "FILES_COMBINED_SIZE",
    "MULTIPART_PART_HEADERS",
    "MULTIPART_STRICT_ERROR",
    "MULTIPART_UNMATCHED_BOUNDARY",
    "REQBODY_ERROR",
    "REQBODY_ERROR_MSG",
    "REQBODY_PROCESSOR",
    "TX",
    "MATCHED_VAR",
    "MATCHED_VAR_NAME",
    "MATCHED_VARS",
    "MATCHED_VARS_NAMES",
    "REMOTE_ADDR",
    "UNIQUE_ID",
    "DURATION",
    "RESPONSE_STATUS",
    "RESPONSE_HEADERS",
    "RESPONSE_HEADERS_NAMES",
    "RESPONSE_BODY",
    "RESPONSE_CONTENT_TYPE",
    "IP",
    "GLOBAL",
    "SESSION",
    "USER",
    "RESOURCE",
    "GEO",
];

/// Parses the targets of a rule (its first argument).
pub fn parse(spec: &str) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    let mut rest = spec.trim();
    while !rest.is_empty() {
        let (target, tail) = one(rest)?;
        targets.push(target);
        rest = tail.trim_start();
        if let Some(tail) = rest.strip_prefix('|') {
            rest = tail.trim_start();
        } else if !rest.is_empty() {
            return Err(format!("expected '|' between targets at {rest:?}"));
        }
    }
    if targets.is_empty() {
        return Err("no targets".into());
    }
    Ok(targets)
}

fn one(spec: &str) -> Result<(Target, &str), String> {
    let (exclude, spec) = match spec.strip_prefix('!') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let (count, spec) = match spec.strip_prefix('&') {
        Some(s) => (true, s),
        None => (false, spec),
    };
    let end = spec.find([':', '|']).unwrap_or(spec.len());
    let collection = spec[..end].trim().to_ascii_uppercase();
    if !KNOWN.contains(&collection.as_str()) {
        return Err(format!("unsupported variable {collection}"));
    }
    let mut rest = &spec[end..];
    let mut selector = Selector::All;
    if let Some(after) = rest.strip_prefix(':') {
        let (sel, tail) = if collection == "XML" {
            // An XPath expression, not a /regex/: taken as a key.
            let end = after.find('|').unwrap_or(after.len());
            (Selector::Key(after[..end].to_string()), &after[end..])
        } else {
            selector_of(after)?
        };
        selector = sel;
        rest = tail;
    }
    let target = Target {
        collection,
        selector,
        count,
        exclude,
    };
    Ok((target, rest))
}

fn selector_of(after: &str) -> Result<(Selector, &str), String> {
    if let Some(body) = after.strip_prefix('/') {
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() && bytes[i] != b'/' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        if i >= bytes.len() {
            return Err(format!("unterminated /regex/ selector {after:?}"));
        }
        let re = regex::bytes::RegexBuilder::new(&body[..i])
            .case_insensitive(true)
            .build()
            .map_err(|e| format!("bad selector regex {:?}: {e}", &body[..i]))?;
        return Ok((Selector::Regex(re), &body[i + 1..]));
    }
    let (key, tail) = match after.strip_prefix('\'') {
        Some(quoted) => {
            let end = quoted.find('\'').ok_or("unterminated quoted selector")?;
            (&quoted[..end], &quoted[end + 1..])
        }
        None => {
            let end = after.find('|').unwrap_or(after.len());
            (&after[..end], &after[end..])
        }
    };
    Ok((Selector::Key(key.trim().to_ascii_lowercase()), tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_selectors_counts_and_exclusions() {
        let t = parse("ARGS|!ARGS:foo|&REQUEST_HEADERS:Host|TX:/^a|b$/|XML:/*").unwrap();
        assert_eq!(t.len(), 5);
        assert!(t[1].exclude && t[1].selector.selects("FOO"));
        assert!(t[2].count && t[2].selector.selects("host"));
        assert!(t[3].selector.selects("abc") && t[3].selector.selects("xb"));
        assert_eq!(t[4].collection, "XML");
        assert_eq!(parse("NOPE").err().unwrap(), "unsupported variable NOPE");
    }
}
