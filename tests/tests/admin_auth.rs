//! The admin listener's access rules through the real binary: with
//! `admin.token`, every request but the load-balancer probes needs
//! `Authorization: Bearer <token>` (401 with `WWW-Authenticate: Bearer`
//! otherwise, `POST /reload` included); browser requests are refused; and
//! an admin listener on a non-loopback address without a token is a
//! configuration error for both `ravelin check` and `ravelin run`.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use ravelin_tests::{Proxy, proxy};

const TOKEN: &str = "9f2c4e7a1b3d5f60-admin";

fn config(admin_extra: &str) -> String {
    format!(
        r#"
[admin]
listen = "{{admin}}"
{admin_extra}

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "127.0.0.1:9" }}]

[[routes]]
upstream = "app"
"#
    )
}

/// One HTTP/1.0 request with extra header lines: (status, whole response).
fn request(addr: SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: admin\r\nContent-Length: 0\r\n{headers}\r\n"
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn bearer(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\n")
}

#[test]
fn admin_requests_need_the_bearer_token_except_the_probes() {
    let proxy = Proxy::start(&config(&format!("token = \"{TOKEN}\"")));
    let admin = proxy.admin;
    assert_eq!(request(admin, "GET", "/healthz", "").0, 200);
    assert_eq!(request(admin, "GET", "/ready", "").0, 200);
    for (method, path) in [
        ("GET", "/metrics"),
        ("GET", "/upstreams"),
        ("GET", "/plugins"),
        ("POST", "/reload"),
        ("POST", "/plugins/none/reload"),
        ("GET", "/nope"),
    ] {
        let (status, text) = request(admin, method, path, "");
        assert_eq!(status, 401, "{method} {path} without a token: {text}");
        assert!(
            text.to_ascii_lowercase()
                .contains("www-authenticate: bearer"),
            "{method} {path}: {text}"
        );
        let wrong = request(admin, method, path, &bearer("9f2c4e7a1b3d5f60-admiN")).0;
        assert_eq!(wrong, 401, "{method} {path} with a wrong token");
    }
    assert!(
        !proxy.log().contains("reloaded"),
        "an unauthorised POST /reload reloaded:\n{}",
        proxy.log()
    );
    let ok = bearer(TOKEN);
    assert_eq!(request(admin, "GET", "/metrics", &ok).0, 200);
    assert_eq!(request(admin, "GET", "/upstreams", &ok).0, 200);
    let (status, text) = request(admin, "POST", "/reload", &ok);
    assert_eq!(status, 200, "{text}");
    assert!(text.ends_with("reloaded\n"), "{text}");
    assert_eq!(request(admin, "POST", "/plugins/none/reload", &ok).0, 404);
}

#[test]
fn browser_requests_are_refused_with_or_without_a_token() {
    let proxy = Proxy::start(&config(""));
    let from_page = "Origin: https://attacker.example\r\n";
    assert_eq!(request(proxy.admin, "POST", "/reload", from_page).0, 403);
    assert_eq!(request(proxy.admin, "POST", "/reload", "").0, 200);
    let proxy = Proxy::start(&config(&format!("token = \"{TOKEN}\"")));
    let both = format!("{from_page}{}", bearer(TOKEN));
    assert_eq!(request(proxy.admin, "POST", "/reload", &both).0, 403);
}

#[test]
fn token_file_is_read_beside_the_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("admin.token"), format!("{TOKEN}\n")).expect("token file");
    let proxy = Proxy::start_in(dir, &config("token_file = \"admin.token\""));
    assert_eq!(request(proxy.admin, "GET", "/metrics", "").0, 401);
    assert_eq!(
        request(proxy.admin, "GET", "/metrics", &bearer(TOKEN)).0,
        200
    );
}

#[test]
fn a_public_admin_listener_without_a_token_is_refused_at_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config("")
        .replace("{admin}", "0.0.0.0:9901")
        .replace("{http}", "127.0.0.1:0");
    let out = proxy::check(dir.path(), &text);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "check passed:\n{stderr}");
    assert!(
        stderr.contains(
            "`admin.token`: the admin listener binds 0.0.0.0:9901, which is not a loopback address"
        ),
        "{stderr}"
    );
    let run = Command::new(proxy::binary())
        .args(["run", "-c"])
        .arg(dir.path().join("check.toml"))
        .output()
        .expect("run ravelin");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "run started:\n{stderr}");
    assert!(stderr.contains("`admin.token`"), "{stderr}");
    let with_token = text.replace(
        "listen = \"0.0.0.0:9901\"",
        &format!("listen = \"0.0.0.0:9901\"\ntoken = \"{TOKEN}\""),
    );
    let out = proxy::check(dir.path(), &with_token);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
