//! The real `ravelin` binary under test: a config written to a temp dir
//! (with `{http}`, `{https}`, `{admin}` and `{dir}` filled in), the process
//! started and awaited until ready, its log captured, and helpers to reload,
//! signal and check configs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

pub struct Proxy {
    child: Child,
    pub http: SocketAddr,
    pub https: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

/// The `ravelin` binary: `$RAVELIN_BIN`, or the one beside the test binary.
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("RAVELIN_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("ravelin");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p ravelin` first (scripts/test does)",
        bin.display()
    );
    bin
}

impl Proxy {
    /// Starts the proxy with `config` and waits until `/ready` answers.
    pub fn start(config: &str) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, config)
    }

    /// Like [`Proxy::start`], in a directory prepared beforehand
    /// (certificates). The wait is generous: a debug build compiling its
    /// plugins on a loaded 2-core machine has taken more than 15 s, and a
    /// proxy that is ready ends the wait at once.
    pub fn start_in(dir: tempfile::TempDir, config: &str) -> Proxy {
        Self::start_in_within(dir, config, Duration::from_secs(60))
    }

    /// Like [`Proxy::start`], waiting up to `limit` for `/ready`: for plugins
    /// whose per-version `configure` snapshot takes long (an interpreter
    /// such as Python's loading its program).
    pub fn start_within(config: &str, limit: Duration) -> Proxy {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in_within(dir, config, limit)
    }

    fn start_in_within(dir: tempfile::TempDir, config: &str, limit: Duration) -> Proxy {
        let (http, https, admin) = (free_addr(), free_addr(), free_addr());
        let config_path = dir.path().join("ravelin.toml");
        let mut proxy = Proxy {
            child: spawn_placeholder(),
            http,
            https,
            admin,
            dir,
            config: config_path,
        };
        proxy.write_config(config);
        let log = std::fs::File::create(proxy.dir.path().join("ravelin.log")).expect("log file");
        proxy.child = Command::new(binary())
            .args(["run", "-c"])
            .arg(&proxy.config)
            .env(
                "RUST_LOG",
                std::env::var("RAVELIN_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start ravelin");
        proxy.wait_ready(limit);
        proxy
    }

    fn wait_ready(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("ravelin exited with {status}:\n{}", self.log());
            }
            if admin_get(self.admin, "/ready").is_some_and(|(status, _)| status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("ravelin did not become ready:\n{}", self.log());
    }

    /// Fills placeholders and writes the config file (a reload trigger).
    pub fn write_config(&self, config: &str) {
        let text = self.fill(config);
        let tmp = self.config.with_extension("tmp");
        std::fs::write(&tmp, text).expect("write config");
        std::fs::rename(&tmp, &self.config).expect("replace config");
    }

    pub fn fill(&self, config: &str) -> String {
        config
            .replace("{http}", &self.http.to_string())
            .replace("{https}", &self.https.to_string())
            .replace("{admin}", &self.admin.to_string())
            .replace("{dir}", &self.dir.path().display().to_string())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ravelin.log")).unwrap_or_default()
    }

    /// The proxy's process id (for memory measurements).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal} failed");
    }

    /// Sends SIGTERM and waits for the exit, at most `limit`.
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        self.signal("TERM");
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// GET on the admin listener: (status, body).
    pub fn admin(&self, path: &str) -> (u16, String) {
        admin_get(self.admin, path).unwrap_or((0, String::new()))
    }

    /// `POST /reload` on the admin listener, which answers once the reload
    /// is done: (status, body) — 200, or 422 and why the config was refused.
    pub fn reload(&self) -> (u16, String) {
        admin_request(self.admin, "POST", "/reload").unwrap_or((0, String::new()))
    }

    /// Waits until the log contains `needle`, at most `limit`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `ravelin check` on `config` written into `dir`.
pub fn check(dir: &Path, config: &str) -> Output {
    let path = dir.join("check.toml");
    std::fs::write(&path, config).expect("write config");
    Command::new(binary())
        .args(["check", "-c"])
        .arg(&path)
        .output()
        .expect("run ravelin check")
}

fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

fn spawn_placeholder() -> Child {
    Command::new("true")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn true")
}

/// A blocking HTTP/1.0 GET without dependencies, for readiness and admin calls.
pub fn admin_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    admin_request(addr, "GET", path)
}

/// A blocking HTTP/1.0 POST without a body (`/reload`), for callers that
/// cannot hold the [`Proxy`] across threads, waiting up to `limit` for the
/// answer (a reload builds every new plugin version first): (status, body).
pub fn admin_post(addr: SocketAddr, path: &str, limit: Duration) -> Option<(u16, String)> {
    admin_request_within(addr, "POST", path, limit)
}

/// A blocking HTTP/1.0 request without a body: (status, body).
fn admin_request(addr: SocketAddr, method: &str, path: &str) -> Option<(u16, String)> {
    admin_request_within(addr, method, path, Duration::from_secs(5))
}

/// [`admin_request`], waiting up to `limit` for the answer.
fn admin_request_within(
    addr: SocketAddr,
    method: &str,
    path: &str,
    limit: Duration,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: admin\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// A config whose one route, in front of the origin at `origin`, runs
/// `chain` of the plugins declared by `tables` (see [`plugin_table`]);
/// `{admin}` and `{http}` are filled by [`Proxy::start`].
pub fn plugin_chain_config(origin: SocketAddr, tables: &str, chain: &[&str]) -> String {
    let chain: Vec<String> = chain.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"
[admin]
listen = "{{admin}}"

[[listeners]]
listen = "{{http}}"

[upstreams.app]
endpoints = [{{ address = "{origin}" }}]

{tables}

[[routes]]
upstream = "app"
plugins = [{}]
"#,
        chain.join(", ")
    )
}

/// The table declaring plugin `name` from component `source` with `config`
/// (a TOML value).
pub fn plugin_table(name: &str, source: &str, config: &str) -> String {
    format!("[plugins.{name}]\nsource = \"{source}\"\nconfig = {config}\n")
}

/// `ravelin check` on `config` with its placeholders filled by addresses
/// nothing binds (check never listens): `(succeeded, stderr and stdout)`.
/// For configs a plugin's `configure` must refuse.
pub fn check_config(config: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config
        .replace("{http}", "127.0.0.1:9")
        .replace("{https}", "127.0.0.1:9")
        .replace("{admin}", "127.0.0.1:9")
        .replace("{dir}", &dir.path().display().to_string());
    let output = check(dir.path(), &text);
    let said = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), said)
}
