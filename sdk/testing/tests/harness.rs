//! The harness against the runtime's test guests: kv shared by the
//! exchanges of one harness, an answer against a forwarded request, the
//! upstream response through response and chunk hooks, log lines per
//! exchange, failures as values, a refused config at load, build errors,
//! and the CLI's text form.

use ravelin_plugin_testing::{
    BuildError, Error, Harness, Hook, Level, PluginError, Request, Upstream, build_component, json,
    parse_request, parse_response,
};
use ravelin_test_guests::{FAULTS, HEADER_REWRITE, SANDBOX, STREAM_UPPER, V2_PROBE, WAF};

async fn load(file: &str, config: serde_json::Value) -> Harness {
    Harness::load(file, config).await.expect("the guest loads")
}

#[tokio::test]
async fn kv_is_shared_by_the_exchanges_of_one_harness_only() {
    let mut h = load(V2_PROBE, json!(null)).await;
    for expected in ["1", "2", "3"] {
        let out = h
            .send(Request::get("/v2/count?key=k"), Upstream::ok(""))
            .await;
        assert_eq!(out.body(), expected, "{out}");
    }
    let mut fresh = load(V2_PROBE, json!(null)).await;
    let out = fresh
        .send(Request::get("/v2/count?key=k"), Upstream::ok(""))
        .await;
    assert_eq!(out.body(), "1", "another harness has its own kv");
}

#[tokio::test]
async fn an_answer_skips_the_upstream() {
    let mut h = load(WAF, json!({ "block_path_prefixes": ["/admin"] })).await;
    let out = h
        .send(Request::get("/admin/users"), Upstream::ok("secret"))
        .await;
    assert!(out.answered_by_plugin());
    assert_eq!(out.answered_at(), Some(Hook::OnRequest));
    assert!(!out.went_upstream() && out.forwarded().is_none());
    assert_eq!(out.status(), 403);
    assert!(out.failure().is_none());

    let out = h.send(Request::get("/public"), Upstream::ok("page")).await;
    assert!(!out.answered_by_plugin() && out.went_upstream());
    assert_eq!(
        (out.status().as_u16(), out.body().as_ref()),
        (200, &b"page"[..])
    );
}

#[tokio::test]
async fn the_forwarded_request_and_the_response_carry_the_plugins_changes() {
    let mut h = load(HEADER_REWRITE, json!(null)).await;
    let request = Request::post("/orders?x=1", "{}")
        .header("user-agent", "curl")
        .header("cookie", "session=1");
    let upstream = Upstream::status(201)
        .header("server", "origin")
        .body("made");
    let out = h.send(request, upstream).await;
    let forwarded = out.forwarded().expect("went upstream");
    assert_eq!(forwarded.method(), "POST");
    assert_eq!(forwarded.uri(), "/orders?x=1");
    assert_eq!(forwarded.headers()["x-agent-len"], "4");
    assert_eq!(forwarded.headers()["x-via-plugin"], "header-rewrite");
    assert!(!forwarded.headers().contains_key("cookie"));
    assert_eq!(forwarded.body(), "{}");
    assert_eq!(out.status(), 201);
    assert_eq!(out.headers()["x-frame-options"], "DENY");
    assert!(!out.headers().contains_key("server"));
    assert_eq!(out.body(), "made");
}

#[tokio::test]
async fn chunk_hooks_see_the_upstream_body_streamed() {
    let mut h = load(STREAM_UPPER, json!({ "marker": "secret" })).await;
    // 40 KiB in 16 KiB chunks, the marker split across the first boundary.
    let mut body = "a".repeat((16 << 10) - 3);
    body += "secret";
    body += &"b".repeat(40 << 10);
    let upstream = Upstream::status(404).header("x-from", "origin").body(body);
    let out = h.send(Request::get("/file"), upstream).await;
    assert!(out.failure().is_none(), "{out}");
    assert_eq!(out.status(), 404);
    assert_eq!(out.headers()["x-from"], "origin");
    let mut expected = "A".repeat((16 << 10) - 3);
    expected += "[REDACTED]";
    expected += &"B".repeat(40 << 10);
    assert!(
        out.body() == expected.as_str(),
        "the body is upper-cased and redacted"
    );
}

#[tokio::test]
async fn request_chunk_hooks_see_the_request_body_streamed() {
    let mut h = load(STREAM_UPPER, json!({})).await;
    let upload = Request::post("/upload", "x".repeat(40 << 10)).header("x-upper-request", "1");
    let out = h.send(upload, Upstream::ok("stored")).await;
    assert!(out.failure().is_none(), "{out}");
    let forwarded = out.forwarded().expect("went upstream");
    assert_eq!(forwarded.body().len(), 40 << 10);
    assert!(
        forwarded.body().iter().all(|b| *b == b'X'),
        "upper-cased on its way"
    );
    let body = format!("{}eicar", "x".repeat(20 << 10));
    let refused = Request::post("/upload", body).header("x-upper-request", "1");
    let out = h.send(refused, Upstream::ok("stored")).await;
    assert_eq!(
        (out.status(), out.answered_at()),
        (http::StatusCode::FORBIDDEN, Some(Hook::OnRequestChunk))
    );
    assert!(out.forwarded().is_none());
}

#[tokio::test]
async fn log_lines_are_captured_per_exchange_on_log_included() {
    let mut h = load(V2_PROBE, json!(null)).await;
    let out = h
        .send(
            Request::get("/v2/count").header("x-log-marker", "m1"),
            Upstream::ok(""),
        )
        .await;
    let [line] = out.logs() else {
        panic!("one line expected: {:?}", out.logs());
    };
    assert_eq!(line.message, "on-log m1 status=200 bytes=1 completed=true");
    assert_eq!(
        (line.level, line.request_id.as_str()),
        (Level::INFO, "test-1")
    );

    let out = h
        .send(
            Request::get("/elsewhere").header("x-log-marker", "m2"),
            Upstream::ok("abc"),
        )
        .await;
    let messages: Vec<&str> = out.logs().iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["on-log m2 status=200 bytes=3 completed=true"]);
    assert_eq!(h.logs().len(), 2, "the harness keeps every line");
}

#[tokio::test]
async fn wasi_stdout_and_stderr_are_captured_too() {
    let mut h = load(SANDBOX, json!(null)).await;
    let out = h.send(Request::get("/"), Upstream::ok("")).await;
    let messages: Vec<&str> = out.logs().iter().map(|l| l.message.as_str()).collect();
    assert!(
        messages.contains(&"sandbox guest writes to stdout"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"sandbox guest writes to stderr"),
        "{messages:?}"
    );
}

#[tokio::test]
async fn failures_are_values_and_a_panic_message_is_logged() {
    let mut h = load(FAULTS, json!({ "mode": "by-path" })).await;
    let out = h.send(Request::get("/panic"), Upstream::ok("")).await;
    assert!(
        matches!(
            out.failure(),
            Some(PluginError::Trap {
                hook: "on-request",
                ..
            })
        ),
        "{out}"
    );
    assert_eq!(out.failed_at(), Some(Hook::OnRequest));
    assert!(!out.answered_by_plugin() && !out.went_upstream());
    assert_eq!(out.status(), 502);
    assert!(
        out.logs().iter().any(|l| l.level == Level::ERROR
            && l.message.contains("the faults guest panicked on purpose"))
    );

    let out = h.send(Request::get("/loop"), Upstream::ok("")).await;
    assert!(
        matches!(out.failure(), Some(PluginError::Deadline { .. })),
        "{out}"
    );
    assert_eq!(out.status(), 503);

    let out = h.send(Request::get("/fine"), Upstream::ok("ok")).await;
    assert!(
        out.failure().is_none() && out.went_upstream(),
        "a failure discards only its instance"
    );
}

#[tokio::test]
async fn a_refused_config_is_an_error_at_load() {
    let refused = Harness::load(FAULTS, json!({ "mode": "refuse" })).await;
    match refused {
        Err(PluginError::Config { reason, .. }) => {
            assert!(reason.contains("this config is refused"), "{reason}")
        }
        other => panic!("expected a refused config, got {:?}", other.err()),
    }
}

#[tokio::test]
async fn a_build_error_says_what_failed_and_where() {
    let dir = std::env::temp_dir().join(format!("ravelin-no-crate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let err = build_component(&dir).await.expect_err("no crate there");
    assert!(matches!(err, BuildError::Failed { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("cargo build --release --target wasm32-wasip2"),
        "{text}"
    );
    assert!(
        text.contains(&dir.display().to_string()) && text.contains("Cargo.toml"),
        "{text}"
    );
    let loaded = Harness::build_and_load(&dir, json!(null)).await;
    assert!(matches!(loaded, Err(Error::Build(_))));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_cli_text_shows_the_decision_the_forwarded_request_the_response_and_the_log() {
    let mut h = load(V2_PROBE, json!(null)).await;
    let request =
        parse_request("GET /pass?y=1\nHost: example.com\nx-log-marker: cli\n").expect("request");
    let upstream = parse_response("404\nx-from: stand-in\n\nnothing here").expect("response");
    let text = h.send(request, upstream).await.to_string();
    for expected in [
        "decision: continue",
        "forwarded upstream:\n  GET /pass?y=1\n  host: example.com",
        "response to the client:\n  404 Not Found\n  x-from: stand-in",
        "nothing here",
        "plugin log:\n  INFO on-log cli status=404 bytes=12 completed=true",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }

    let mut h = load(WAF, json!({ "block_path_prefixes": ["/admin"] })).await;
    let text = h
        .send(
            parse_request("GET /admin").expect("request"),
            Upstream::ok(""),
        )
        .await
        .to_string();
    assert!(
        text.starts_with(
            "decision: respond (on-request)\nresponse to the client:\n  403 Forbidden"
        ),
        "{text}"
    );
}
