//! Adversarial HTTP/1.1 against the real proxy, on raw sockets, with an
//! origin that records exactly what reaches it. Every case must end in one
//! of two ways: a clean 4xx with nothing at the origin, or exactly the
//! well-formed request(s) the case allows — never a second, smuggled one,
//! never an ambiguous one.
//!
//! Families and where they come from:
//! - CL.TE / TE.CL / TE.TE request smuggling: Linhart, Klein, Heled, Orrin
//!   (Watchfire, 2005) "HTTP Request Smuggling"; James Kettle (PortSwigger,
//!   2019) "HTTP Desync Attacks: Request Smuggling Reborn" (obfuscated
//!   Transfer-Encoding: `xchunked`, space before the colon, tab, vertical
//!   tab, duplicates, line folding); RFC 9112 §6.1 and §6.3 (message body
//!   length: TE overrides CL, a request whose final coding is not chunked
//!   is a 400, CL with TE "ought to be handled as an error").
//! - Malformed Content-Length and chunk sizes: RFC 9110 §8.6, RFC 9112 §7.1;
//!   CVE-2021-32715 (hyper: `+` sign in Content-Length), CVE-2021-32714
//!   (hyper: chunk-size overflow), CVE-2023-44487 is HTTP/2 (see abuse_h2).
//! - Bare CR/LF, NUL and control bytes, whitespace before the colon,
//!   obs-fold: RFC 9112 §2.2, §5.1, §5.2; RFC 9110 §5.5.
//! - Hop-by-hop abuse: Nathan Davison (2019) "Abusing HTTP hop-by-hop
//!   request headers"; RFC 9110 §7.6.1.
//! - h2c upgrade smuggling: Jake Miller (Bishop Fox, 2020) "h2c Smuggling:
//!   Request Smuggling Via HTTP/2 Cleartext".
//! - Path normalisation: Orange Tsai (Black Hat USA 2018) "Breaking Parser
//!   Logic!" (`..;/`, backslash, encoded slashes); CVE-2019-9901 (Envoy
//!   path normalisation); RFC 3986 §5.2.4.

use std::collections::HashMap;
use std::time::Duration;

use ravelin_tests::adversary::{Expect, Reply, any, exchange, verdict};
use ravelin_tests::{Origin, Proxy, Recorded};

const QUIET: Duration = Duration::from_millis(1500);
const LIMIT: Duration = Duration::from_secs(15);

struct Case {
    name: &'static str,
    template: Vec<u8>,
    expect: Expect,
}

fn case(name: &'static str, template: impl AsRef<[u8]>, expect: Expect) -> Case {
    Case {
        name,
        template: template.as_ref().to_vec(),
        expect,
    }
}

fn proxy_for(origin: &Origin, extra: &str) -> Proxy {
    Proxy::start(&format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
name = "web"
listen = "{{http}}"

[limits]
max_request_header_bytes = 16384

{extra}

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
path_prefix = "/"
upstream = "app"
"#,
        origin.addr
    ))
}

/// Fills a template: `{p}` is the case's own path, `{n}` its number,
/// `{chunk}` the hex size of the smuggled request, `{len}` the length of
/// everything after the first blank line.
fn fill(template: &[u8], n: usize) -> Vec<u8> {
    let p = format!("/c{n}/x");
    let smuggled = format!("GET {p}/smuggled HTTP/1.1\r\nHost: a.test\r\nX-Case: {n}\r\n\r\n");
    let mut out = replace(template, b"{p}", p.as_bytes());
    out = replace(&out, b"{n}", n.to_string().as_bytes());
    out = replace(&out, b"{smuggled}", smuggled.as_bytes());
    out = replace(&out, b"{chunk}", format!("{:x}", smuggled.len()).as_bytes());
    if let Some(at) = out.windows(4).position(|w| w == b"\r\n\r\n") {
        let body_len = out.len() - at - 4;
        out = replace(&out, b"{len}", body_len.to_string().as_bytes());
    }
    out
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Which case a recorded request belongs to: its path `/cN/…`, else its
/// `X-Case` header, else none (which fails the suite).
fn owner(r: &Recorded) -> Option<usize> {
    let from_path = r
        .uri
        .path()
        .strip_prefix("/c")
        .and_then(|rest| rest.split('/').next()?.parse().ok());
    from_path.or_else(|| r.headers.get("x-case")?.to_str().ok()?.parse().ok())
}

fn escaped(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

/// Runs every case at once (each on its own connection, told apart at the
/// origin by its path), then checks each against its expectation.
async fn run(proxy: &Proxy, origin: &Origin, cases: Vec<Case>) {
    let addr = proxy.http;
    let mut tasks = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let bytes = fill(&case.template, n);
        tasks.push(tokio::spawn(async move {
            exchange(addr, &bytes, QUIET, LIMIT).await
        }));
    }
    let mut replies: Vec<Reply> = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("case task"));
    }
    // Let anything the proxy forwards late arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut by_case: HashMap<usize, Vec<Recorded>> = HashMap::new();
    let mut stray = Vec::new();
    for r in origin.received() {
        match owner(&r) {
            Some(n) if n < cases.len() => by_case.entry(n).or_default().push(r),
            _ => stray.push(r),
        }
    }
    let mut failures = Vec::new();
    for (n, (case, reply)) in cases.iter().zip(&replies).enumerate() {
        let seen = by_case.remove(&n).unwrap_or_default();
        match verdict(&case.expect, reply, &seen) {
            Ok(outcome) => println!("ok    {:<44} {outcome}", case.name),
            Err(why) => {
                println!("FAIL  {:<44} {why}", case.name);
                failures.push(format!(
                    "{}: {why}\n    sent: {}\n    got:  {}",
                    case.name,
                    escaped(&fill(&case.template, n)),
                    reply.excerpt()
                ));
            }
        }
    }
    if !stray.is_empty() {
        failures.push(format!(
            "requests at the origin that no case sent: {:?}",
            stray.iter().map(|r| r.uri.to_string()).collect::<Vec<_>>()
        ));
    }
    println!("{} cases, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn body_is_hello(r: &Recorded) -> Result<(), String> {
    if r.body.as_ref() == b"hello" {
        Ok(())
    } else {
        Err(format!("origin body {:?}, expected \"hello\"", r.body))
    }
}

fn body_is_empty(r: &Recorded) -> Result<(), String> {
    if r.body.is_empty() {
        Ok(())
    } else {
        Err(format!("origin body {:?}, expected none", r.body))
    }
}

fn header_is(r: &Recorded, name: &str, want: &str) -> Result<(), String> {
    let got: Vec<_> = r
        .headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if got == [want] {
        Ok(())
    } else {
        Err(format!("origin saw {name}: {got:?}, expected [{want:?}]"))
    }
}

fn header_absent(r: &Recorded, name: &str) -> Result<(), String> {
    match r.headers.get(name) {
        None => Ok(()),
        Some(v) => Err(format!("origin saw {name}: {v:?}")),
    }
}

/// Obfuscated and doubled Transfer-Encoding lines (Kettle 2019, Watchfire 2005).
const TE_VARIANTS: &[(&str, &str)] = &[
    ("plain", "Transfer-Encoding: chunked"),
    ("xchunked", "Transfer-Encoding: xchunked"),
    ("space before colon", "Transfer-Encoding : chunked"),
    ("tab", "Transfer-Encoding:\tchunked"),
    ("vertical tab", "Transfer-Encoding:\x0bchunked"),
    ("chunked, identity", "Transfer-Encoding: chunked, identity"),
    ("identity, chunked", "Transfer-Encoding: identity, chunked"),
    (
        "duplicate, chunked first",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: x",
    ),
    (
        "duplicate, chunked last",
        "Transfer-Encoding: x\r\nTransfer-Encoding: chunked",
    ),
    ("line folding", "Transfer-Encoding:\r\n chunked"),
    ("quoted", "Transfer-Encoding: \"chunked\""),
    ("upper case", "Transfer-Encoding: CHUNKED"),
    ("chunked twice", "Transfer-Encoding: chunked, chunked"),
    ("gzip, chunked", "Transfer-Encoding: gzip, chunked"),
    ("trailing junk", "Transfer-Encoding: chunked;x"),
    (
        "x-prefixed name",
        "X-Transfer-Encoding: z\r\nTransfer-Encoding: chunked",
    ),
];

fn smuggling_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, te) in TE_VARIANTS {
        // CL.TE: Content-Length covers everything; a chunked reader stops at
        // `0\r\n\r\n` and would see the smuggled request next.
        let name_clte: &'static str = Box::leak(format!("CL.TE {name}").into_boxed_str());
        cases.push(case(
            name_clte,
            format!("POST {{p}} HTTP/1.1\r\nHost: a.test\r\nContent-Length: {{len}}\r\n{te}\r\n\r\n0\r\n\r\n{{smuggled}}"),
            Expect::Refused,
        ));
        // TE.CL: the chunked body covers everything; a Content-Length reader
        // stops after 4 bytes and would see the smuggled request next.
        let name_tecl: &'static str = Box::leak(format!("TE.CL {name}").into_boxed_str());
        cases.push(case(
            name_tecl,
            format!("POST {{p}} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\n{te}\r\n\r\n{{chunk}}\r\n{{smuggled}}\r\n0\r\n\r\n"),
            Expect::Refused,
        ));
    }
    cases.extend([
        // TE without CL: a coding list not ending in chunked is a 400 (RFC 9112 §6.3 item 4).
        case("TE only: xchunked", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
        case("TE only: chunked", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
        case("TE only: chunked, identity", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
        case("TE only: identity", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
        case("TE only: chunked twice (two headers)", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
        case("TE only: xchunked then smuggled", "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n\r\n{smuggled}", Expect::RefusedOrOne(body_is_empty)),
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
        case("TE in HTTP/1.0", "POST {p} HTTP/1.0\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", Expect::RefusedOrOne(body_is_hello)),
    ]);
    cases
}

fn content_length_cases() -> Vec<Case> {
    let post = |cl: &str| {
        format!("POST {{p}} HTTP/1.1\r\nHost: a.test\r\nContent-Length: {cl}\r\n\r\nhello")
    };
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut cases = Vec::new();
    for cl in [
        "+5",
        "-5",
        "0x5",
        "5.0",
        "5e0",
        "5 5",
        "5,6",
        "5, 6",
        "99999999999999999999999",
        "",
        "5\x00",
        "٥",
    ] {
        cases.push(case(leak(format!("CL {cl:?}")), post(cl), Expect::Refused));
    }
    for cl in ["005", "5 ", "5, 5"] {
        cases.push(case(
            leak(format!("CL {cl:?} (valid or refused)")),
            post(cl),
            Expect::RefusedOrOne(body_is_hello),
        ));
    }
    cases.extend([
        case("CL duplicate, different", "POST {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", Expect::Refused),
        case("CL duplicate, same", "POST {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", Expect::RefusedOrOne(body_is_hello)),
        case("CL over the body limit", "POST {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 99999999999\r\n\r\nhello", Expect::Refused),
        case("CL on a GET", "GET {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhello", Expect::RefusedOrOne(any)),
        case("CL space before colon", "POST {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length : 5\r\n\r\nhello", Expect::Refused),
    ]);
    cases
}

fn chunk_cases() -> Vec<Case> {
    let chunked = |body: &str| {
        format!("POST {{p}} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n{body}")
    };
    let long_ext = format!("5;{}=1\r\nhello\r\n0\r\n\r\n", "e".repeat(100_000));
    vec![
        case(
            "chunk size +5",
            chunked("+5\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk size -5",
            chunked("-5\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk size 0x5",
            chunked("0x5\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk size leading space",
            chunked(" 5\r\nhello\r\n0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "chunk size overflow",
            chunked("fffffffffffffffff5\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk size 0005",
            chunked("0005\r\nhello\r\n0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "chunk size not hex",
            chunked("5g\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk data longer than size",
            chunked("3\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk data without CRLF",
            chunked("5\r\nhello0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk extension",
            chunked("5;name=value\r\nhello\r\n0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "chunk extension quoted",
            chunked("5;n=\"a;b\"\r\nhello\r\n0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        // hyper skips extension bytes without validating them (NUL included);
        // the proxy re-frames the body, so the origin never sees them.
        case(
            "chunk extension with NUL",
            chunked("5;a\x00b\r\nhello\r\n0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "chunk extension with bare LF",
            chunked("5;a\nb\r\nhello\r\n0\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "chunk extension 100 kB",
            chunked(&long_ext),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "chunk lines with bare LF",
            chunked("5\nhello\n0\n\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "trailer carrying Content-Length",
            chunked("5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "trailer carrying Transfer-Encoding",
            chunked("5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "empty chunked body",
            chunked("0\r\n\r\n"),
            Expect::RefusedOrOne(body_is_empty),
        ),
    ]
}

fn no_control_bytes(r: &Recorded) -> Result<(), String> {
    for (name, value) in &r.headers {
        if value
            .as_bytes()
            .iter()
            .any(|&b| b < 0x20 && b != b'\t' || b == 0x7f)
        {
            return Err(format!(
                "control byte reached the origin in {name}: {value:?}"
            ));
        }
    }
    Ok(())
}

/// The origin must get the client's bytes (raw or percent-encoded), not a
/// re-encoding of them.
fn utf8_path_kept(r: &Recorded) -> Result<(), String> {
    let path = r.uri.path();
    if path.ends_with("/%C3%A9")
        || path.ends_with("/%c3%a9")
        || path.as_bytes().ends_with(b"/\xc3\xa9")
    {
        Ok(())
    } else {
        Err(format!(
            "origin got path {:?} ({:x?})",
            path,
            path.as_bytes()
        ))
    }
}

fn folded_or_absent(r: &Recorded) -> Result<(), String> {
    match r.headers.get("x-a").map(|v| v.as_bytes()) {
        None | Some(b"a b") | Some(b"a  b") => Ok(()),
        Some(other) => Err(format!("obs-fold forwarded as {other:?}")),
    }
}

fn line_and_header_cases() -> Vec<Case> {
    let get = |extra: &str| format!("GET {{p}} HTTP/1.1\r\nHost: a.test\r\n{extra}\r\n\r\n");
    vec![
        case(
            "bare LF line endings",
            "GET {p} HTTP/1.1\nHost: a.test\n\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "bare CR line ending",
            "GET {p} HTTP/1.1\rHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(no_control_bytes),
        ),
        case(
            "bare CR in a value",
            get("X-A: a\rb"),
            Expect::RefusedOrOne(no_control_bytes),
        ),
        case(
            "bare CR smuggling a header",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nX-A: a\rTransfer-Encoding: chunked\r\n\r\n",
            Expect::RefusedOrOne(no_control_bytes),
        ),
        case("NUL in a value", get("X-A: a\x00b"), Expect::Refused),
        case("NUL in a name", get("X-\x00A: b"), Expect::Refused),
        case(
            "control byte 0x01 in a value",
            get("X-A: a\x01b"),
            Expect::RefusedOrOne(no_control_bytes),
        ),
        case(
            "DEL in a value",
            get("X-A: a\x7fb"),
            Expect::RefusedOrOne(no_control_bytes),
        ),
        case(
            "obs-text in a value",
            b"GET {p} HTTP/1.1\r\nHost: a.test\r\nX-A: \xff\xfe\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "space before colon (Host)",
            "GET {p} HTTP/1.1\r\nHost : a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "space before colon (other)",
            get("X-A : 1"),
            Expect::Refused,
        ),
        case("tab before colon", get("X-A\t: 1"), Expect::Refused),
        case("space in a name", get("X A: 1"), Expect::Refused),
        case("invalid name char @", get("X@A: 1"), Expect::Refused),
        case("invalid name char (", get("X(A: 1"), Expect::Refused),
        case("empty name", get(": 1"), Expect::Refused),
        case("header without colon", get("X-A 1"), Expect::Refused),
        case(
            "obs-fold continuation",
            get("X-A: a\r\n b"),
            Expect::RefusedOrOne(folded_or_absent),
        ),
        case(
            "leading whitespace first header",
            "GET {p} HTTP/1.1\r\n Host: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "double space in request line",
            "GET  {p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "tab in request line",
            "GET\t{p}\tHTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "extra token in request line",
            "GET {p} HTTP/1.1 x\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "space inside the target",
            "GET {p} y HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "NUL inside the target",
            "GET {p}\x00 HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "fragment in the target",
            "GET {p}#frag HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(|r| {
                if r.uri.to_string().contains('#') {
                    Err("fragment forwarded".into())
                } else {
                    Ok(())
                }
            }),
        ),
        case(
            "invalid method char",
            "G(ET {p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "lower-case method",
            "get {p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
    ]
}

fn target_and_version_cases() -> Vec<Case> {
    vec![
        case(
            "absolute-form",
            "GET http://a.test{p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(|r| header_is(r, "host", "a.test")),
        ),
        case(
            "absolute-form with userinfo",
            "GET http://u:p@a.test{p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "absolute-form https",
            "GET https://a.test{p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(|r| header_is(r, "host", "a.test")),
        ),
        case(
            "absolute-form odd scheme",
            "GET ftp://a.test{p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "asterisk-form OPTIONS",
            "OPTIONS * HTTP/1.1\r\nHost: a.test\r\nX-Case: {n}\r\n\r\n",
            Expect::Answered(200),
        ),
        case(
            "asterisk-form GET",
            "GET * HTTP/1.1\r\nHost: a.test\r\nX-Case: {n}\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "authority-form GET",
            "GET a.test:80 HTTP/1.1\r\nHost: a.test\r\nX-Case: {n}\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "relative target without slash",
            "GET c{n}/x HTTP/1.1\r\nHost: a.test\r\nX-Case: {n}\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "CONNECT authority-form",
            "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nX-Case: {n}\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "CONNECT with a path",
            "CONNECT {p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case("HTTP/0.9 request", "GET {p}\r\n\r\n", Expect::Refused),
        case(
            "HTTP/1.2",
            "GET {p} HTTP/1.2\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "HTTP/2.0 on an h1 request line",
            "GET {p} HTTP/2.0\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "lower-case version",
            "GET {p} http/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host missing (1.1)",
            "GET {p} HTTP/1.1\r\nX-Case: {n}\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host missing (1.0)",
            "GET {p} HTTP/1.0\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
        case(
            "Host duplicated",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host duplicated, same",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with userinfo",
            "GET {p} HTTP/1.1\r\nHost: u@a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host empty",
            "GET {p} HTTP/1.1\r\nHost:\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host list",
            "GET {p} HTTP/1.1\r\nHost: a.test, b.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with a path",
            "GET {p} HTTP/1.1\r\nHost: a.test/x\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with a port past 65535",
            "GET {p} HTTP/1.1\r\nHost: a.test:99999\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with a port that is not a number",
            "GET {p} HTTP/1.1\r\nHost: localhost:abc\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with a signed port",
            "GET {p} HTTP/1.1\r\nHost: a.test:+80\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "absolute-form with a port that is not a number",
            "GET http://a.test:8o{p} HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Refused,
        ),
        case(
            "Host with an empty port",
            "GET {p} HTTP/1.1\r\nHost: a.test:\r\n\r\n",
            Expect::Exactly(1, any),
        ),
        case(
            "Host with an IPv6 literal and a port",
            "GET {p} HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
            Expect::Exactly(1, any),
        ),
        case(
            "Host trailing dot",
            "GET {p} HTTP/1.1\r\nHost: a.test.\r\n\r\n",
            Expect::RefusedOrOne(any),
        ),
    ]
}

fn hop_by_hop_cases() -> Vec<Case> {
    vec![
        case(
            "Connection names X-Forwarded-For",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nConnection: close, X-Forwarded-For\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
            Expect::RefusedOrOne(|r| header_is(r, "x-forwarded-for", "127.0.0.1")),
        ),
        case(
            "Connection names Forwarded, Via",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nConnection: Forwarded, X-Real-IP, Via\r\nForwarded: for=1.2.3.4\r\n\r\n",
            Expect::RefusedOrOne(|r| {
                header_is(r, "forwarded", "for=127.0.0.1;proto=http;host=\"a.test\"")?;
                header_absent(r, "x-real-ip")
            }),
        ),
        case(
            "Connection names Host",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nConnection: Host\r\n\r\n",
            Expect::RefusedOrOne(|r| header_is(r, "host", "a.test")),
        ),
        case(
            "Connection names Content-Length",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello",
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "Connection names Transfer-Encoding",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Expect::RefusedOrOne(body_is_hello),
        ),
        case(
            "Connection names X-Request-Id",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nConnection: X-Request-Id\r\n\r\n",
            Expect::RefusedOrOne(|r| {
                if r.headers.contains_key("x-request-id") {
                    Ok(())
                } else {
                    Err("x-request-id removed".into())
                }
            }),
        ),
        case(
            "TE other than trailers",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nTE: gzip\r\n\r\n",
            Expect::RefusedOrOne(|r| header_absent(r, "te")),
        ),
        case(
            "Proxy-Authorization",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\n\r\n",
            Expect::RefusedOrOne(|r| {
                header_absent(r, "proxy-authorization")?;
                header_absent(r, "proxy-connection")
            }),
        ),
    ]
}

/// Header fields named with `_` for `-`: an origin behind CGI, WSGI or
/// Rack maps them onto the real framing headers, so they never reach it.
fn underscore_cases() -> Vec<Case> {
    vec![
        case(
            "Transfer_Encoding beside Content-Length",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\nTransfer_Encoding: chunked\r\n\r\nhello",
            Expect::Exactly(1, |r| {
                header_absent(r, "transfer_encoding")?;
                body_is_hello(r)
            }),
        ),
        case(
            "Content_Length beside Transfer-Encoding",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nContent_Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Expect::Exactly(1, |r| {
                header_absent(r, "content_length")?;
                body_is_hello(r)
            }),
        ),
        case(
            "any underscored name",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nX_Api_Key: k\r\nX-Kept: 1\r\n\r\n",
            Expect::Exactly(1, |r| {
                header_absent(r, "x_api_key")?;
                header_is(r, "x-kept", "1")
            }),
        ),
    ]
}

/// Cases that were open findings 1, 2 and 12 in docs/security.md (fixed).
fn known_failing_cases() -> Vec<Case> {
    vec![
        case(
            "non-ASCII bytes in the target",
            b"GET {p}/\xc3\xa9 HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::RefusedOrOne(utf8_path_kept),
        ),
        // h2c smuggling (Bishop Fox 2020): an origin that accepts the
        // upgrade gets an HTTP/2 tunnel the proxy no longer inspects.
        case(
            "h2c upgrade",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
            Expect::RefusedOrOne(|r| header_absent(r, "upgrade")),
        ),
        // RFC 9112 §3.2.2: with an absolute-form target the Host header is
        // ignored and replaced by the target's authority; an origin must
        // never see a Host other than the one the proxy routed on.
        case(
            "absolute-form, conflicting Host",
            "GET http://a.test{p} HTTP/1.1\r\nHost: b.test\r\n\r\n",
            Expect::RefusedOrOne(|r| header_is(r, "host", "a.test")),
        ),
    ]
}

fn message_cases() -> Vec<Case> {
    let twenty_k = "a".repeat(20_000);
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        case(
            "Expect: 100-continue",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
            Expect::RefusedOrOne(|r| {
                body_is_hello(r)?;
                header_absent(r, "expect")
            }),
        ),
        case(
            "Expect: unknown",
            "POST {p} HTTP/1.1\r\nHost: a.test\r\nExpect: x-teapot\r\nContent-Length: 5\r\n\r\nhello",
            Expect::RefusedOrOne(|r| header_absent(r, "expect")),
        ),
        case(
            "pipelined pair",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\n\r\nGET {p}/2 HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Exactly(2, any),
        ),
        case(
            "pipelined GET, POST, GET",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\n\r\nPOST {p}/2 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\nhelloGET {p}/3 HTTP/1.1\r\nHost: a.test\r\n\r\n",
            Expect::Exactly(3, any),
        ),
        case(
            "pipelined then garbage",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\n\r\nGARBAGE\x00\r\n\r\n",
            Expect::Exactly(1, any),
        ),
        case(
            "request line 20 kB",
            format!("GET {{p}}?q={twenty_k} HTTP/1.1\r\nHost: a.test\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "one header 20 kB",
            format!("GET {{p}} HTTP/1.1\r\nHost: a.test\r\nX-Big: {twenty_k}\r\n\r\n"),
            Expect::Refused,
        ),
        case(
            "200 headers",
            format!("GET {{p}} HTTP/1.1\r\nHost: a.test\r\n{many}\r\n"),
            Expect::Refused,
        ),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn smuggling_cl_te_families_never_reach_the_origin_twice() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, smuggling_cases()).await;
    });
}

#[test]
fn malformed_content_length_and_chunks_are_refused() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        let mut cases = content_length_cases();
        cases.extend(chunk_cases());
        run(&proxy, &origin, cases).await;
    });
}

#[test]
fn malformed_lines_and_header_fields_are_refused() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, line_and_header_cases()).await;
    });
}

#[test]
fn request_targets_versions_and_host_rules_hold() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, target_and_version_cases()).await;
    });
}

#[test]
fn hop_by_hop_abuse_cannot_strip_or_smuggle_headers() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, hop_by_hop_cases()).await;
    });
}

#[test]
fn expect_pipelining_and_oversized_messages() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, message_cases()).await;
    });
}

#[test]
fn underscored_header_names_are_dropped_by_default() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, underscore_cases()).await;
    });
}

#[test]
fn underscored_header_names_pass_when_the_operator_allows_them() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "[server]\nunderscores_in_headers = true\n");
        let kept = vec![case(
            "X_Api_Key kept",
            "GET {p} HTTP/1.1\r\nHost: a.test\r\nX_Api_Key: k\r\n\r\n",
            Expect::Exactly(1, |r| header_is(r, "x_api_key", "k")),
        )];
        run(&proxy, &origin, kept).await;
    });
}

/// Findings 1, 2 and 12 of docs/security.md, kept as regression cases.
#[test]
fn h2c_upgrade_and_absolute_form_host_conflict() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = proxy_for(&origin, "");
        run(&proxy, &origin, known_failing_cases()).await;
    });
}

/// What a lenient origin (decodes `%XX` once, treats `\` as `/`, drops
/// `;params` from segments, then removes dot segments) would make of a path.
fn as_a_lenient_origin_sees_it(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut decoded = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
        {
            decoded.push(v);
            i += 3;
            continue;
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&decoded).replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    for segment in text.split('/').skip(1) {
        match segment.split(';').next().unwrap_or("") {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

fn inside_public(r: &Recorded) -> Result<(), String> {
    let seen = as_a_lenient_origin_sees_it(r.uri.path());
    if seen.starts_with("/public/") || seen == "/public" {
        Ok(())
    } else {
        Err(format!(
            "origin got {:?}, which a lenient origin resolves to {seen:?}",
            r.uri.path()
        ))
    }
}

fn public_only_proxy(origin: &Origin, extra: &str) -> Proxy {
    Proxy::start(&format!(
        r#"
{extra}
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{}" }}]

[[routes]]
path_prefix = "/public/"
upstream = "app"
"#,
        origin.addr
    ))
}

/// One case per path; the case number travels in X-Case.
fn path_cases(paths: &[(&'static str, Expect)]) -> Vec<Case> {
    paths
        .iter()
        .map(|(path, expect)| {
            case(path, format!("GET {path} HTTP/1.1\r\nHost: a.test\r\nX-Case: {{n}}\r\nConnection: close\r\n\r\n"), *expect)
        })
        .collect()
}

/// Only `/public/` is routed; the origin's `/admin` must stay out of reach
/// however the path is spelled: dot segments, encoded dots and repeated
/// slashes are resolved before routing.
#[test]
fn path_tricks_cannot_reach_an_unrouted_path() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = public_only_proxy(&origin, "");
        let paths: &[(&'static str, Expect)] = &[
            ("/public/x", Expect::RefusedOrOne(inside_public)),
            ("/admin", Expect::Refused),
            ("/public/../admin", Expect::Refused),
            ("/public/%2e%2e/admin", Expect::Refused),
            ("/public/%2E%2E/admin", Expect::Refused),
            ("/public/.%2e/admin", Expect::Refused),
            ("/public/%2fadmin", Expect::RefusedOrOne(inside_public)),
            ("//public/../admin", Expect::Refused),
            ("/public//../admin", Expect::Refused),
            ("/public/./../admin", Expect::Refused),
            ("/PUBLIC/../admin", Expect::Refused),
            ("/public\\..\\admin", Expect::RefusedOrOne(inside_public)),
            ("/public/%00/../../admin", Expect::Refused),
            (
                "/public/%252e%252e/admin",
                Expect::RefusedOrOne(inside_public),
            ),
            (
                "/public/%c0%ae%c0%ae/admin",
                Expect::RefusedOrOne(inside_public),
            ),
            ("/public/%2e%2e", Expect::RefusedOrOne(inside_public)),
        ];
        run(&proxy, &origin, path_cases(paths)).await;
    });
}

/// The same, for spellings an origin that decodes `%2F`, treats `\` as `/`
/// or drops `;params` (Tomcat, IIS, Spring and many frameworks do) would
/// resolve to `/admin`: refused by default (`server.ambiguous_paths`).
#[test]
fn encoded_slash_backslash_and_matrix_params_cannot_reach_an_unrouted_path() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let proxy = public_only_proxy(&origin, "");
        let paths: Vec<(&'static str, Expect)> = AMBIGUOUS
            .iter()
            .map(|(path, _)| (*path, Expect::Refused))
            .collect();
        run(&proxy, &origin, path_cases(&paths)).await;
    });
}

/// Paths an origin could read as another one, and what the origin receives
/// when `server.ambiguous_paths = "keep"` forwards them.
const AMBIGUOUS: &[(&str, &str)] = &[
    ("/public/%2e%2e%2fadmin", "/public/..%2Fadmin"),
    ("/public/..%2fadmin", "/public/..%2Fadmin"),
    ("/public/..%2Fadmin", "/public/..%2Fadmin"),
    ("/public/..%5cadmin", "/public/..%5Cadmin"),
    ("/public/..\\admin", "/public/..\\admin"),
    ("/public/..;/admin", "/public/..;/admin"),
    ("/public/x/..;/..;/admin", "/public/x/..;/..;/admin"),
    ("/public/.;/admin", "/public/.;/admin"),
    ("/public/..%3b/admin", "/public/..%3B/admin"),
];

/// The default answers each ambiguous path 400 exactly; the opt-out
/// forwards it unchanged (escapes upper-cased) and routes it with `%2F`,
/// `\` and `;` as ordinary characters, so `/admin%2F..` stays unrouted.
#[test]
fn ambiguous_paths_reject_answers_400_and_keep_forwards_them_unchanged() {
    let rt = runtime();
    rt.block_on(async {
        let origin = Origin::start("adv").await;
        let strict = public_only_proxy(&origin, "");
        let keep = public_only_proxy(&origin, "[server]\nambiguous_paths = \"keep\"\n");
        for (n, (sent, forwarded)) in AMBIGUOUS.iter().enumerate() {
            let request =
                format!("GET {sent} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n");
            let reply = exchange(strict.http, request.as_bytes(), QUIET, LIMIT).await;
            assert_eq!(reply.statuses, [400], "{sent}: {}", reply.excerpt());
            assert_eq!(origin.count(), n, "{sent} reached the origin");
            let reply = exchange(keep.http, request.as_bytes(), QUIET, LIMIT).await;
            assert_eq!(
                reply.statuses,
                [200],
                "{sent} with keep: {}",
                reply.excerpt()
            );
            let seen = origin.received();
            assert_eq!(seen.len(), n + 1, "{sent} with keep");
            assert_eq!(seen[n].uri.path(), *forwarded, "{sent} with keep");
        }
        let request =
            "GET /admin%2f..%2fpublic/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n";
        let reply = exchange(keep.http, request.as_bytes(), QUIET, LIMIT).await;
        assert_eq!(reply.statuses, [404], "{}", reply.excerpt());
        assert_eq!(origin.count(), AMBIGUOUS.len());
    });
}
