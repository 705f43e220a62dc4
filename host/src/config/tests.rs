//! Configuration fixtures paired with the error text they must produce.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "test.toml", Path::new("."))
}

const MINIMAL: &str = r#"
[[listeners]]
listen = "127.0.0.1:8080"

[upstreams.app]
endpoints = [{ address = "127.0.0.1:9000" }]

[[routes]]
upstream = "app"
"#;

#[test]
fn minimal_config_gets_documented_defaults() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(config.listeners[0].name, "listener0");
    let admin = config.admin.as_ref().unwrap();
    assert_eq!(admin.addr, "127.0.0.1:9901".parse().unwrap());
    assert_eq!(admin.token, None);
    assert_eq!(config.routes[0].path, PathMatch::Prefix("/".into()));
    assert_eq!(config.upstreams["app"].balancer, BalancerKind::RoundRobin);
    assert_eq!(config.timeouts.connect, Duration::from_secs(5));
    assert_eq!(config.limits.max_request_header_bytes, 65536);
    assert_eq!(
        config.server.ambiguous_paths,
        crate::hygiene::AmbiguousPaths::Reject
    );
}

#[test]
fn ambiguous_paths_takes_reject_or_keep() {
    let text = format!("{MINIMAL}\n[server]\nambiguous_paths = \"keep\"\n");
    let config = parse(&text).unwrap();
    assert_eq!(
        config.server.ambiguous_paths,
        crate::hygiene::AmbiguousPaths::Keep
    );
    let text = format!("{MINIMAL}\n[server]\nambiguous_paths = \"decode\"\n");
    let error = parse(&text).unwrap_err().to_string();
    assert!(
        error.contains("test.toml:12: `server.ambiguous_paths`: unknown policy `decode`"),
        "{error}"
    );
}

#[test]
fn unknown_key_is_refused_with_its_line() {
    let text = format!("{MINIMAL}\n[server]\nworker_thread = 2\n");
    let error = parse(&text).unwrap_err().to_string();
    assert!(error.starts_with("test.toml:12:"), "{error}");
    assert!(error.contains("unknown field `worker_thread`"), "{error}");
}

#[test]
fn every_semantic_problem_is_reported_with_its_line() {
    let text = r#"
[[listeners]]
listen = "localhost"

[upstreams.app]
endpoints = [{ address = "127.0.0.1" }]
balancer = "fastest"

[[routes]]
upstream = "nope"
"#;
    let error = parse(text).unwrap_err();
    let lines: Vec<_> = error
        .problems
        .iter()
        .map(|p| (p.line, p.key.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (Some(3), "listeners[0].listen"),
            (Some(6), "upstreams.app.endpoints[0].address"),
            (Some(7), "upstreams.app.balancer"),
            (Some(10), "routes[0].upstream"),
        ]
    );
    let text = error.to_string();
    assert!(
        text.contains("test.toml:7: `upstreams.app.balancer`: unknown balancer `fastest`"),
        "{text}"
    );
    assert!(text.contains("no upstream is named `nope`"), "{text}");
}

#[test]
fn hosts_paths_and_durations_are_typed() {
    let text = r#"
[[listeners]]
listen = "[::1]:8443"

[timeouts]
connect = "250ms"

[upstreams.app]
endpoints = [{ address = "localhost:9000", weight = 3 }]

[[routes]]
hosts = ["Example.COM", "*.example.org"]
path = "/exact"
methods = ["GET", "POST"]
headers = { x-canary = "1" }
upstream = "app"
"#;
    let config = parse(text).unwrap();
    let route = &config.routes[0];
    assert_eq!(
        route.hosts,
        vec![
            HostMatch::Exact("example.com".into()),
            HostMatch::Suffix(".example.org".into())
        ]
    );
    assert_eq!(route.path, PathMatch::Exact("/exact".into()));
    assert_eq!(route.methods, vec![Method::GET, Method::POST]);
    assert_eq!(config.timeouts.connect, Duration::from_millis(250));
    assert_eq!(config.upstreams["app"].endpoints[0].weight, 3);
}

#[test]
fn bad_duration_names_the_unit_problem() {
    let text = format!("{MINIMAL}\n[timeouts]\nconnect = \"5 parsecs\"\n");
    let error = parse(&text).unwrap_err().to_string();
    assert!(error.contains("duration unit"), "{error}");
    assert!(error.starts_with("test.toml:12:"), "{error}");
}

#[test]
fn a_public_admin_listener_needs_a_token() {
    let public = format!("{MINIMAL}\n[admin]\nlisten = \"0.0.0.0:9901\"\n");
    let error = parse(&public).unwrap_err().to_string();
    assert!(
        error.contains(
            "`admin.token`: the admin listener binds 0.0.0.0:9901, which is not a loopback address"
        ),
        "{error}"
    );
    let config = parse(&format!("{public}token = \"0123456789abcdef\"\n")).unwrap();
    let token = config.admin.unwrap().token.unwrap();
    assert_eq!(token.0, "0123456789abcdef");
    assert_eq!(format!("{token:?}"), "AdminToken(<redacted>)");
}

#[test]
fn admin_tokens_are_checked() {
    let admin = |extra: &str| format!("{MINIMAL}\n[admin]\n{extra}\n");
    for (extra, expected) in [
        ("token = \"short\"", "at least 16 characters"),
        (
            "token = \"has a space in it, sadly\"",
            "may hold only letters",
        ),
        (
            "token = \"0123456789abcdef\"\ntoken_file = \"t\"",
            "set `token` or `token_file`, not both",
        ),
        (
            "token_file = \"/nonexistent-ravelin/token\"",
            "`admin.token_file`: cannot read",
        ),
    ] {
        let error = parse(&admin(extra)).unwrap_err().to_string();
        assert!(error.contains(expected), "{extra}: {error}");
    }
}
