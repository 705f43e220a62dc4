//! Requests and upstream responses written as text, the way `ravelin
//! plugin test --request … --response …` takes them.

use bytes::Bytes;

/// Splits `text` into a head and a body at the first blank line.
fn head_and_body(text: &str) -> (&str, &str) {
    text.split_once("\n\n").unwrap_or((text, ""))
}

/// `Name: value` lines, each given to `add`.
fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
    mut add: impl FnMut(&str, &str),
) -> Result<(), String> {
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("{line:?} is not `Name: value`"))?;
        add(name.trim(), value.trim());
    }
    Ok(())
}

/// Parses a sample request: a first line `METHOD TARGET` (TARGET a path or
/// an absolute URL), then `Name: value` header lines, then an optional
/// blank line and body.
pub fn parse_request(text: &str) -> Result<http::Request<Bytes>, String> {
    let (head, body) = head_and_body(text);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    let (method, target) = first
        .trim()
        .split_once(' ')
        .ok_or("the first line must be `METHOD TARGET`")?;
    let mut builder = http::Request::builder().method(method).uri(target.trim());
    parse_headers(lines, |n, v| {
        builder = std::mem::take(&mut builder).header(n, v)
    })?;
    builder
        .body(Bytes::from(body.to_string()))
        .map_err(|e| format!("invalid request: {e}"))
}

/// Parses a stand-in upstream response: a first line `STATUS`, then
/// `Name: value` header lines, then an optional blank line and body.
pub fn parse_response(text: &str) -> Result<http::Response<Bytes>, String> {
    let (head, body) = head_and_body(text);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .map_err(|_| "the first line must be a status code".to_string())?;
    let mut builder = http::Response::builder().status(status);
    parse_headers(lines, |n, v| {
        builder = std::mem::take(&mut builder).header(n, v)
    })?;
    builder
        .body(Bytes::from(body.to_string()))
        .map_err(|e| format!("invalid response: {e}"))
}
