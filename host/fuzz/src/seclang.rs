//! The WAF engine's parsers (`plugins/waf/engine`, crate `seclang`):
//! SecLang rule text from an operator's files, and the request-variable
//! extraction (URL-encoded, JSON and multipart bodies) from any client.

use seclang::{MapFiles, RuleSet, body};

/// Rule text: it loads or yields an error naming the file and a line of
/// it; never a panic (regex compilation and PCRE translation included).
pub fn seclang_rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut files = MapFiles::default();
    files.0.insert("fuzz.conf".into(), text.to_string());
    files.0.insert("words.data".into(), "alpha\nbeta\n".into());
    match RuleSet::load(&files, &["fuzz.conf".into()]) {
        Ok(set) => {
            let lines = text.lines().count();
            for s in &set.report.skipped {
                assert!(
                    s.at.starts_with("fuzz.conf:"),
                    "skipped rule without a place: {s:?}"
                );
            }
            assert!(set.entries.len() <= lines, "more entries than lines");
        }
        Err(e) => {
            assert!(e.file == "fuzz.conf" || e.file.ends_with(".conf"), "{e}");
            assert!(
                e.line <= text.lines().count().max(1),
                "{e}: line past the end"
            );
        }
    }
}

/// Body extraction; the first byte picks the processor. URL-encoded
/// yields at most one argument per `&`-separated piece; JSON respects the
/// depth limit; multipart uploads are never larger than the body.
pub fn seclang_request(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            let args = body::urlencoded(body);
            assert!(args.len() <= body.split(|b| *b == b'&').count());
        }
        1 => {
            if let Ok(args) = body::json(body, 8) {
                for (name, _) in &args {
                    assert!(name.starts_with("json"), "{name:?}");
                }
            }
        }
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
            let ct = format!(
                "multipart/form-data; boundary={}",
                text.lines().next().unwrap_or("b")
            );
            if let Ok(parsed) = body::multipart(body, &ct) {
                for (_, _, size) in &parsed.files {
                    assert!(*size <= body.len());
                }
            }
        }
    }
}
