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

#[test]
fn kv_defaults_to_a_64_mib_memory_store() {
    let config = parse(MINIMAL).unwrap();
    assert_eq!(
        config.kv,
        Kv::Memory {
            capacity_bytes: 64 << 20
        }
    );
    let text = format!("{MINIMAL}\n[kv]\ncapacity_mb = 8\n");
    assert_eq!(
        parse(&text).unwrap().kv,
        Kv::Memory {
            capacity_bytes: 8 << 20
        }
    );
}

#[test]
fn a_redis_kv_gets_documented_defaults_and_hides_its_password() {
    let text = format!(
        "{MINIMAL}\n[kv]\nbackend = \"redis\"\nurl = \"redis://:secret@10.0.0.7:6380/2\"\n"
    );
    let Kv::Redis(redis) = parse(&text).unwrap().kv else {
        panic!("not a redis backend")
    };
    assert_eq!(redis.url.as_str(), "redis://:secret@10.0.0.7:6380/2");
    assert_eq!(redis.url.addr(), "10.0.0.7:6380");
    assert_eq!(redis.timeout, Duration::from_millis(50));
    assert_eq!(redis.max_value_bytes, 1 << 20);
    assert_eq!(redis.key_prefix, "ravelin");
    assert!(!format!("{redis:?}").contains("secret"), "{redis:?}");
    let text = format!(
        "{MINIMAL}\n[kv]\nbackend = \"redis\"\nurl = \"redis://127.0.0.1\"\ntimeout_ms = 250\nmax_value_kb = 4\nkey_prefix = \"edge-1\"\n"
    );
    let Kv::Redis(redis) = parse(&text).unwrap().kv else {
        panic!("not a redis backend")
    };
    assert_eq!(redis.url.addr(), "127.0.0.1:6379");
    assert_eq!(redis.timeout, Duration::from_millis(250));
    assert_eq!(redis.max_value_bytes, 4096);
    assert_eq!(redis.key_prefix, "edge-1");
}

#[test]
fn kv_problems_name_their_key_and_line() {
    let kv = |body: &str| format!("{MINIMAL}\n[kv]\n{body}\n");
    for (body, expected) in [
        (
            "backend = \"etcd\"",
            "test.toml:12: `kv.backend`: unknown backend `etcd`: use \"memory\" or \"redis\"",
        ),
        (
            "backend = \"redis\"",
            "`kv.url`: backend = \"redis\" needs `url`, like \"redis://127.0.0.1:6379\"",
        ),
        (
            "backend = \"redis\"\nurl = \"http://127.0.0.1:6379\"",
            "test.toml:13: `kv.url`: the URL must start with `redis://`",
        ),
        (
            "backend = \"redis\"\nurl = \"redis://127.0.0.1:6379/not-a-db\"",
            "test.toml:13: `kv.url`: not a Redis URL",
        ),
        (
            "backend = \"redis\"\nurl = \"redis://h\"\ntimeout_ms = 0",
            "test.toml:14: `kv.timeout_ms`: 0 ms is outside 1..=60000",
        ),
        (
            "backend = \"redis\"\nurl = \"redis://h\"\nmax_value_kb = 0",
            "test.toml:14: `kv.max_value_kb`: 0 KiB is outside",
        ),
        (
            "backend = \"redis\"\nurl = \"redis://h\"\nkey_prefix = \"a:b\"",
            "test.toml:14: `kv.key_prefix`: `a:b` is not a key prefix",
        ),
        (
            "capacity_mb = 0",
            "test.toml:12: `kv.capacity_mb`: 0 MiB is outside",
        ),
        (
            "url = \"redis://h\"",
            "test.toml:12: `kv.url`: applies only to backend = \"redis\", and this one is \"memory\"",
        ),
        (
            "backend = \"redis\"\nurl = \"redis://h\"\ncapacity_mb = 8",
            "test.toml:14: `kv.capacity_mb`: applies only to backend = \"memory\", and this one is \"redis\"",
        ),
        ("timeout = \"50ms\"", "unknown field `timeout`"),
    ] {
        let error = parse(&kv(body)).unwrap_err().to_string();
        assert!(error.contains(expected), "{body}: {error}");
    }
}

/// A TLS listener with `client_auth` written as given, before the routes.
fn with_client_auth(client_auth: &str) -> String {
    format!(
        r#"
[[listeners]]
listen = "127.0.0.1:8443"
tls.certificates = [{{ cert = "server.pem", key = "server.key" }}]
tls.client_auth = {client_auth}

[upstreams.app]
endpoints = [{{ address = "127.0.0.1:9000" }}]

[[routes]]
upstream = "app"
"#
    )
}

#[test]
fn client_auth_is_required_unless_it_says_optional() {
    let auth = |text: &str| {
        let config = parse(&with_client_auth(text)).unwrap();
        let tls = config.listeners[0].tls.clone().unwrap();
        tls.client_auth.unwrap()
    };
    let required = auth(r#"{ ca = "clients.pem" }"#);
    assert_eq!(required.ca, Path::new("clients.pem"));
    assert_eq!(required.mode, ClientAuthMode::Required);
    let optional = auth(r#"{ ca = "clients.pem", mode = "optional" }"#);
    assert_eq!(optional.mode, ClientAuthMode::Optional);
    let plain = parse(MINIMAL).unwrap();
    assert!(plain.listeners[0].tls.is_none());
}

#[test]
fn client_auth_problems_name_the_key_and_line() {
    let error = parse(&with_client_auth(r#"{ ca = "c.pem", mode = "sometimes" }"#))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(
            "test.toml:5: `listeners[0].tls.client_auth.mode`: unknown mode `sometimes`: use \"required\" or \"optional\""
        ),
        "{error}"
    );
    let error = parse(&with_client_auth(r#"{ ca = "" }"#))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`listeners[0].tls.client_auth.ca`: name the PEM bundle"),
        "{error}"
    );
    let error = parse(&with_client_auth(r#"{ mode = "optional" }"#))
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("test.toml:5:"), "{error}");
    assert!(error.contains("missing field `ca`"), "{error}");
    let error = parse(&with_client_auth(r#"{ ca = "c.pem", crl = "r.pem" }"#))
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown field `crl`"), "{error}");
}

#[test]
fn an_oci_source_is_kept_for_the_registry_with_its_refresh() {
    let text = format!(
        "{MINIMAL}\n[plugins.waf]\nsource = \"oci://127.0.0.1:5000/team/waf:v1\"\nrefresh = \"30s\"\n"
    );
    let config = parse(&text).unwrap();
    let source = &config.registry["waf"];
    assert_eq!(source.reference.to_string(), "127.0.0.1:5000/team/waf:v1");
    assert_eq!(source.refresh, Some(Duration::from_secs(30)));
    assert!(!source.insecure);
    assert_eq!(
        config.plugins[0].source,
        std::path::PathBuf::from("oci://127.0.0.1:5000/team/waf:v1")
    );
}

#[test]
fn registry_keys_are_refused_where_they_cannot_apply() {
    let cases = [
        (
            "source = \"waf.wasm\"\ninsecure = true",
            "plugins.waf.source",
            "apply only to an oci:// source",
        ),
        (
            "source = \"oci://h:1/waf\"",
            "plugins.waf.source",
            "name a tag",
        ),
        (
            "source = \"oci://h:1/waf:v1\"\nrefresh = \"500ms\"",
            "plugins.waf.refresh",
            "at least 1s",
        ),
        (
            "source = \"oci://h:1/waf:v1\"\nrefresh = 5",
            "",
            "refresh must be a duration",
        ),
    ];
    for (table, key, message) in cases {
        let text = format!("{MINIMAL}\n[plugins.waf]\n{table}\n");
        let error = parse(&text).unwrap_err().to_string();
        assert!(
            error.contains(key) && error.contains(message),
            "{table}: {error}"
        );
    }
}

#[test]
fn an_unknown_plugin_key_is_still_refused_at_its_table() {
    let text = format!("{MINIMAL}\n[plugins.waf]\nsource = \"waf.wasm\"\nbogus = 1\n");
    let error = parse(&text).unwrap_err().to_string();
    assert!(error.contains("unknown field `bogus`"), "{error}");
    assert!(
        error.contains("`signatures`"),
        "the host's keys are not listed: {error}"
    );
    // The table is read as a whole: the problem is reported at its header.
    assert!(error.contains("test.toml:11:"), "{error}");
}
