//! The `waf` plugin in the real proxy with Debian's OWASP CRS 3.3.4
//! (`modsecurity-crs`, installed by `scripts/setup`) handed over as a
//! directory through `secret_files`: the labelled corpus of
//! `plugins/waf/testdata/corpus.txt` with detection and false-positive
//! floors, blocking without rule detail, detection-only mode, the audit
//! log, large bodies, the limits on pathological input, and clear errors
//! for rules the engine does not support.

use std::time::Duration;

use ravelin_test_guests as guests;
use ravelin_tests::Proxy;
use ravelin_tests::client::raw;
use ravelin_tests::origin::Origin;
use ravelin_tests::proxy::{check_config, plugin_chain_config};

const CRS: &str = "/usr/share/modsecurity-crs/rules";

/// Of the corpus's attacks, the share the proxy must block; of its benign
/// requests, how many it may block (see plugins/waf/README.md).
const MIN_DETECTION: f64 = 0.94;
const MAX_FALSE_POSITIVE_RATE: f64 = 0.0;

fn table(config: &str) -> String {
    format!(
        "[plugins.waf]\nsource = \"{}\"\nmemory_limit_mb = 256\ndeadline_ms = 2000\n\
         configure_deadline_ms = 120000\nmax_body_kb = 2048\n\
         secret_files = {{ crs = \"{CRS}\" }}\nconfig = {config}\n",
        guests::WAF
    )
}

fn start(origin: &Origin, config: &str) -> Proxy {
    Proxy::start(&plugin_chain_config(origin.addr, &table(config), &["waf"]))
}

/// One labelled request of the corpus, as raw HTTP/1.1.
struct Case {
    attack: bool,
    category: String,
    request: Vec<u8>,
    line: String,
}

fn corpus() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugins/waf/testdata/corpus.txt"
    );
    let text = std::fs::read_to_string(path).expect("corpus");
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if line.starts_with("attack ") || line.starts_with("benign ") {
            blocks.push(vec![line]);
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    blocks
        .into_iter()
        .map(|mut block| {
            while block.last().is_some_and(|l| l.is_empty()) {
                block.pop();
            }
            let first: Vec<&str> = block[0].split_whitespace().collect();
            let [label, category, method, target] = first[..] else {
                panic!("bad case {first:?}")
            };
            let split = block.iter().position(|l| *l == "--").unwrap_or(block.len());
            let mut headers: Vec<String> = block[1..split].iter().map(|l| l.to_string()).collect();
            let body = if split < block.len() {
                block[split + 1..].join("\r\n")
            } else {
                String::new()
            };
            for (name, value) in [
                ("Host", "example.com"),
                (
                    "User-Agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                ),
                (
                    "Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                ),
                ("Accept-Language", "en-US,en;q=0.5"),
            ] {
                let lower = format!("{}:", name.to_ascii_lowercase());
                if !headers
                    .iter()
                    .any(|h| h.to_ascii_lowercase().starts_with(&lower))
                {
                    headers.push(format!("{name}: {value}"));
                }
            }
            if !body.is_empty() {
                headers.push(format!("Content-Length: {}", body.len()));
            }
            headers.push("Connection: close".into());
            let request = format!(
                "{method} {target} HTTP/1.1\r\n{}\r\n\r\n{body}",
                headers.join("\r\n")
            );
            Case {
                attack: label == "attack",
                category: category.to_string(),
                request: request.into_bytes(),
                line: block[0].to_string(),
            }
        })
        .collect()
}

async fn status_of(proxy: &Proxy, request: &[u8]) -> (u16, String) {
    let reply = raw(proxy.http, request, Duration::from_secs(10)).await;
    let status = reply.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, reply)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_corpus_is_blocked_and_benign_requests_pass_at_paranoia_1() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, r#"{ rule_sets = ["crs"], paranoia_level = 1 }"#);
    let log = proxy.log();
    assert!(
        log.contains("waf: 633 rules loaded (OWASP_CRS/3.3.4), 3 skipped"),
        "{log}"
    );
    let (mut attacks, mut detected, mut benign, mut false_positives) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for case in corpus() {
        let (status, reply) = status_of(&proxy, &case.request).await;
        let blocked = status == 403;
        assert!(
            blocked || status == 200,
            "{}: status {status}: {reply}",
            case.line
        );
        if blocked {
            assert!(reply.contains(" refused\n"), "{reply}");
            let lower = reply.to_lowercase();
            assert!(
                !lower.contains("rule") && !lower.contains("anomaly"),
                "no rule detail to the client: {reply}"
            );
        }
        if case.attack {
            attacks += 1;
            detected += usize::from(blocked);
        } else {
            benign += 1;
            false_positives += usize::from(blocked);
        }
        if blocked != case.attack {
            wrong.push(format!("{} ({})", case.line, case.category));
        }
    }
    let rate = detected as f64 / attacks as f64;
    eprintln!(
        "detection {detected}/{attacks}, false positives {false_positives}/{benign}; wrong: {wrong:#?}"
    );
    assert!(
        rate >= MIN_DETECTION,
        "detection {detected}/{attacks}: {wrong:#?}"
    );
    assert!(
        false_positives as f64 / benign as f64 <= MAX_FALSE_POSITIVE_RATE,
        "{false_positives} false positives: {wrong:#?}"
    );
    assert_eq!(
        origin.count(),
        attacks + benign - detected - false_positives,
        "blocked requests never reach the origin"
    );
    let log = proxy.log();
    assert!(
        log.contains("blocked 403 (Inbound Anomaly Score Exceeded"),
        "audit line: {log}"
    );
    assert!(
        log.contains("[id 942100 phase 2]"),
        "rule ids in the audit line: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn detection_only_logs_and_lets_attacks_through() {
    let origin = Origin::start("app").await;
    let proxy = start(&origin, r#"{ rule_sets = ["crs"], mode = "detect" }"#);
    let attack = b"GET /search?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: curl/8\r\nx-request-id: detect-42\r\nConnection: close\r\n\r\n";
    let (status, reply) = status_of(&proxy, attack).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(origin.count(), 1);
    let log = proxy.log();
    assert!(log.contains("detected, would block 403"), "{log}");
    assert!(log.contains("[id 941100 phase 2]"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn large_bodies_are_inspected_and_pathological_input_is_bounded() {
    let origin = Origin::start("app").await;
    let proxy = start(
        &origin,
        r#"{ rule_sets = ["crs"], max_args = 1000, max_json_depth = 32, max_cookie_bytes = 4096, request_body_limit_kb = 2048 }"#,
    );
    let post = |ct: &str, body: &[u8]| {
        let mut r = format!("POST /api HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: test\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes();
        r.extend_from_slice(body);
        r
    };
    // A 1 MiB JSON document (under 1000 arguments) and a 1 MiB upload,
    // benign: inspected within the hook deadline, passed.
    let mut json = String::from("{\"items\":[");
    for i in 0.. {
        if json.len() > (1 << 20) - 64 {
            break;
        }
        let text = "the quick brown fox jumps over the lazy dog ".repeat(50);
        json.push_str(&format!("{{\"n\":{i},\"text\":\"{text}\"}},"));
    }
    json.pop();
    json.push_str("]}");
    let json = json.into_bytes();
    let (status, reply) = status_of(&proxy, &post("application/json", &json)).await;
    assert_eq!(
        status,
        200,
        "1 MiB JSON: {}",
        &reply[..reply.len().min(300)]
    );
    let mut upload = b"--bnd\r\nContent-Disposition: form-data; name=\"f\"; filename=\"data.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    upload.extend(std::iter::repeat_n(b'a', 1 << 20));
    upload.extend_from_slice(b"\r\n--bnd--\r\n");
    let (status, reply) =
        status_of(&proxy, &post("multipart/form-data; boundary=bnd", &upload)).await;
    assert_eq!(
        status,
        200,
        "1 MiB upload: {}",
        &reply[..reply.len().min(300)]
    );
    // 10 000 parameters, nesting past the limit, a huge cookie: refused
    // with the limit named in the log and the status saying what kind.
    let many: Vec<String> = (0..10_000).map(|i| format!("p{i}=1")).collect();
    let (status, _) = status_of(
        &proxy,
        &post(
            "application/x-www-form-urlencoded",
            many.join("&").as_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 400);
    let deep = format!("{}1{}", "[".repeat(50), "]".repeat(50));
    let (status, _) = status_of(&proxy, &post("application/json", deep.as_bytes())).await;
    assert_eq!(status, 400);
    let cookie = format!(
        "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: t\r\nCookie: c={}\r\nConnection: close\r\n\r\n",
        "x".repeat(5000)
    );
    let (status, _) = status_of(&proxy, cookie.as_bytes()).await;
    assert_eq!(status, 431);
    let log = proxy.log();
    assert!(
        log.contains("10000 arguments exceed max_args 1000"),
        "{log}"
    );
    assert!(
        log.contains("JSON body nested deeper than 32 levels"),
        "{log}"
    );
    assert!(
        log.contains("cookies of 5002 bytes exceed max_cookie_bytes 4096"),
        "{log}"
    );
    assert_eq!(origin.count(), 2);
}

#[test]
fn rules_the_engine_cannot_run_are_refused_with_file_and_line() {
    let origin_addr = "127.0.0.1:9".parse().unwrap();
    let config = |c: &str| plugin_chain_config(origin_addr, &table(c), &["waf"]);
    let (ok, said) = check_config(&config(
        r#"{ rule_sets = ["crs"], rules = "SecRule ARGS \"@rx a\" \"id:1,pass\"\nSecFrobnicate On" }"#,
    ));
    assert!(!ok);
    assert!(
        said.contains("(config rules):2: unsupported directive SecFrobnicate"),
        "{said}"
    );
    let (ok, said) = check_config(&config(r#"{ rule_sets = ["crs", "nope"] }"#));
    assert!(!ok);
    assert!(
        said.contains(
            "rule set \"nope\" is not in the config: add it to the plugin's secret_files"
        ),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_are_inspected_when_asked() {
    let origin = Origin::serve("leaky", |r| async move {
        let mut answer = if r.uri.path().contains("leak") {
            ravelin_tests::origin::respond(200, "<html>Warning: mysql_fetch_array(): You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version</html>")
        } else {
            ravelin_tests::origin::respond(200, "<html>hello</html>")
        };
        answer.headers_mut().insert("content-type", "text/html".parse().expect("value"));
        answer
    })
    .await;
    let proxy = start(
        &origin,
        r#"{ rule_sets = ["crs"], inspect_responses = true }"#,
    );
    let get = |path: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nUser-Agent: test\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let (status, reply) = status_of(&proxy, &get("/page")).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = status_of(&proxy, &get("/leak")).await;
    assert_eq!(status, 403, "{reply}");
    assert!(
        !reply.contains("SQL syntax"),
        "the leaking body is not sent: {reply}"
    );
    let log = proxy.log();
    assert!(log.contains("phase 4]"), "{log}");
}
