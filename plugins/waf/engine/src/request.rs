//! Fills a transaction's variables from the request head, the request
//! body (through its body processor) and the response, enforcing the
//! limits on pathological input.

use crate::body;
use crate::vars::Vars;

/// The request head as the proxy received it.
#[derive(Debug, Clone, Default)]
pub struct RequestHead {
    pub method: String,
    /// Path and query, as sent.
    pub uri: String,
    /// `HTTP/1.1`, `HTTP/2.0`, …
    pub protocol: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub remote_addr: String,
    pub request_id: String,
}

/// Bounds on what one request may make the engine hold; past them the
/// request gets a clear refusal instead of an inspection.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_args: usize,
    pub max_json_depth: usize,
    pub max_cookie_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_args: 1000,
            max_json_depth: 64,
            max_cookie_bytes: 8192,
        }
    }
}

/// A limit crossed: the HTTP status it earns and what was crossed.
#[derive(Debug, Clone, PartialEq)]
pub struct Exceeded {
    pub status: u16,
    pub reason: String,
}

fn exceeded(status: u16, reason: String) -> Exceeded {
    Exceeded { status, reason }
}

/// Fills the request-line, header, cookie and query-string variables.
pub fn head(vars: &mut Vars, req: &RequestHead, limits: &Limits) -> Result<(), Exceeded> {
    let (path, query) = req.uri.split_once('?').unwrap_or((&req.uri, ""));
    vars.set("REQUEST_METHOD", req.method.as_str());
    vars.set("REQUEST_PROTOCOL", req.protocol.as_str());
    vars.set("REQUEST_URI", req.uri.as_str());
    vars.set("REQUEST_URI_RAW", req.uri.as_str());
    vars.set("REQUEST_FILENAME", path);
    vars.set("REQUEST_BASENAME", path.rsplit('/').next().unwrap_or(""));
    vars.set("QUERY_STRING", query);
    vars.set(
        "REQUEST_LINE",
        format!("{} {} {}", req.method, req.uri, req.protocol),
    );
    vars.set("REMOTE_ADDR", req.remote_addr.as_str());
    vars.set("UNIQUE_ID", req.request_id.as_str());
    vars.set("DURATION", "0");
    vars.set("REQBODY_ERROR", "0");
    vars.set("MULTIPART_STRICT_ERROR", "0");
    vars.set("MULTIPART_UNMATCHED_BOUNDARY", "0");
    let mut cookie_bytes = 0;
    for (name, value) in &req.headers {
        vars.push("REQUEST_HEADERS", name, value.clone());
        vars.push("REQUEST_HEADERS_NAMES", name, name.as_str());
        if name.eq_ignore_ascii_case("cookie") {
            cookie_bytes += value.len();
            cookies(vars, value);
        }
    }
    if cookie_bytes > limits.max_cookie_bytes {
        let reason = format!(
            "cookies of {cookie_bytes} bytes exceed max_cookie_bytes {}",
            limits.max_cookie_bytes
        );
        return Err(exceeded(431, reason));
    }
    for (name, value) in body::urlencoded(query.as_bytes()) {
        arg(vars, "ARGS_GET", "ARGS_GET_NAMES", &name, value);
    }
    vars.set("REQBODY_PROCESSOR", processor(req).unwrap_or(""));
    check_args(vars, limits)
}

fn cookies(vars: &mut Vars, header: &[u8]) {
    for pair in header.split(|b| *b == b';') {
        let pair = String::from_utf8_lossy(pair);
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        vars.push("REQUEST_COOKIES", name, value.as_bytes());
        vars.push("REQUEST_COOKIES_NAMES", name, name.as_bytes());
    }
}

fn arg(vars: &mut Vars, coll: &'static str, names: &'static str, name: &str, value: Vec<u8>) {
    vars.push("ARGS", name, value.clone());
    vars.push("ARGS_NAMES", name, name.as_bytes());
    vars.push(coll, name, value);
    vars.push(names, name, name.as_bytes());
}

fn check_args(vars: &mut Vars, limits: &Limits) -> Result<(), Exceeded> {
    let count = vars.len("ARGS");
    if count > limits.max_args {
        let reason = format!("{count} arguments exceed max_args {}", limits.max_args);
        return Err(exceeded(400, reason));
    }
    let size: usize = vars
        .members("ARGS", &|_| true)
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    vars.set("ARGS_COMBINED_SIZE", size.to_string());
    Ok(())
}

/// The body processor the content type calls for.
pub fn processor(req: &RequestHead) -> Option<&'static str> {
    let ct = content_type(req)?.to_ascii_lowercase();
    let media = ct.split(';').next().unwrap_or("").trim();
    Some(match media {
        "application/x-www-form-urlencoded" => "URLENCODED",
        m if m.starts_with("multipart/") => "MULTIPART",
        m if m == "application/json" || m.ends_with("+json") => "JSON",
        m if m.ends_with("/xml") || m.ends_with("+xml") => "XML",
        _ => return None,
    })
}

fn content_type(req: &RequestHead) -> Option<String> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
}

/// Fills the body variables with `body`, read by `processor` (the content
/// type's unless a rule chose one with `ctl:requestBodyProcessor`).
pub fn body(
    vars: &mut Vars,
    req: &RequestHead,
    processor: &str,
    force_body_var: bool,
    body: &[u8],
    limits: &Limits,
) -> Result<(), Exceeded> {
    vars.set("REQUEST_BODY_LENGTH", body.len().to_string());
    vars.set("REQBODY_PROCESSOR", processor);
    let raw_body = matches!(processor, "URLENCODED" | "") || force_body_var;
    if raw_body {
        vars.set("REQUEST_BODY", body.to_vec());
    }
    let mut error = None;
    match processor {
        "URLENCODED" => {
            for (name, value) in body::urlencoded(body) {
                arg(vars, "ARGS_POST", "ARGS_POST_NAMES", &name, value);
            }
        }
        "JSON" => match body::json(body, limits.max_json_depth) {
            Ok(args) => {
                for (name, value) in args {
                    arg(vars, "ARGS_POST", "ARGS_POST_NAMES", &name, value);
                }
            }
            Err(e) if e.contains("nested deeper") || e.contains("recursion limit") => {
                return Err(exceeded(400, e));
            }
            Err(e) => error = Some(e),
        },
        "MULTIPART" => {
            let ct = content_type(req).unwrap_or_default();
            match body::multipart(body, &ct) {
                Ok(parsed) => multipart(vars, parsed),
                Err(e) => error = Some(e.to_string()),
            }
        }
        "XML" => vars.push("XML", "/*", body::xml_text(body)),
        _ => {}
    }
    if let Some(e) = error {
        vars.set("REQBODY_ERROR", "1");
        vars.set("REQBODY_ERROR_MSG", e);
    }
    check_args(vars, limits)
}

fn multipart(vars: &mut Vars, parsed: body::Parsed) {
    for (name, value) in parsed.args {
        arg(vars, "ARGS_POST", "ARGS_POST_NAMES", &name, value);
    }
    let mut total = 0;
    for (field, file, size) in parsed.files {
        vars.push("FILES", &field, file.as_bytes());
        vars.push("FILES_NAMES", &field, field.as_bytes());
        vars.push("FILES_SIZES", &field, size.to_string());
        total += size;
    }
    vars.set("FILES_COMBINED_SIZE", total.to_string());
    for (field, line) in parsed.part_headers {
        vars.push("MULTIPART_PART_HEADERS", &field, line);
    }
    if parsed.strict_error {
        vars.set("MULTIPART_STRICT_ERROR", "1");
    }
}

/// Fills the response status and header variables.
pub fn response_head(vars: &mut Vars, status: u16, headers: &[(String, Vec<u8>)]) {
    vars.set("RESPONSE_STATUS", status.to_string());
    for (name, value) in headers {
        vars.push("RESPONSE_HEADERS", name, value.clone());
        vars.push("RESPONSE_HEADERS_NAMES", name, name.as_str());
        if name.eq_ignore_ascii_case("content-type") {
            vars.set("RESPONSE_CONTENT_TYPE", value.clone());
        }
    }
}
