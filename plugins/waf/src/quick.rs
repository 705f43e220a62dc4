//! Quick rules: path prefixes and substrings refused without SecLang
//! (`block_path_prefixes`, `block_patterns`), checked before the rule set.

/// The quick rules of one plugin version.
pub struct Quick {
    prefixes: Vec<String>,
    patterns: Vec<String>,
}

impl Quick {
    pub fn new(prefixes: Vec<String>, patterns: Vec<String>) -> Result<Self, String> {
        if patterns.iter().any(|p| p.is_empty()) {
            return Err("block_patterns: an empty pattern would block everything".into());
        }
        Ok(Quick {
            prefixes,
            patterns: patterns.iter().map(|p| p.to_lowercase()).collect(),
        })
    }

    /// The rule `path_with_query` breaks, if any.
    pub fn refuses(&self, path: &str, path_with_query: &str) -> Option<&str> {
        let target = percent_decode(path_with_query).to_lowercase();
        self.prefixes
            .iter()
            .find(|p| under(path, p))
            .or_else(|| self.patterns.iter().find(|p| target.contains(p.as_str())))
            .map(String::as_str)
    }
}

/// Decodes `%XX` escapes (and `+` as space); invalid escapes stay as they are.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `path` is `prefix` or below it, at a segment boundary.
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'),
        None => false,
    }
}
