//! `examples/edge/`: the edge chain's README walk-through, run as written.
//! The test starts two demo origins and the proxy on the example's config
//! (ports and plugin paths swapped for the test's), then runs every command
//! of the README's walk-through in one shell, in order, and checks that
//! each command's output holds the lines the README shows under it (the
//! `# …` lines that follow it).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use ravelin_test_guests as guests;
use ravelin_tests::{Proxy, free_port, proxy};

const DONE: &str = "__walkthrough_step_done__";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/edge")
}

/// A `ravelin-demo-origin` process, stopped when dropped.
struct DemoOrigin {
    child: Child,
    addr: SocketAddr,
}

impl DemoOrigin {
    fn start(name: &str) -> DemoOrigin {
        let binary = proxy::binary().with_file_name("ravelin-demo-origin");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let child = Command::new(&binary)
            .args(["--listen", &addr.to_string(), "--name", name])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "{name} did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        DemoOrigin { child, addr }
    }
}

impl Drop for DemoOrigin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One command of the walk-through and the lines its output must hold.
#[derive(Debug)]
struct Step {
    command: String,
    expect: Vec<String>,
}

/// The commands of the ```sh blocks after the `## Walk-through` heading.
fn steps(readme: &str) -> Vec<Step> {
    let walkthrough = readme
        .split_once("## Walk-through")
        .expect("the README has a `## Walk-through` section")
        .1;
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for line in walkthrough.lines() {
        if line.starts_with("## ") {
            break;
        }
        if line.trim_start().starts_with("```") {
            in_block = !in_block && line.trim() == "```sh";
            continue;
        }
        if !in_block || line.trim().is_empty() {
            continue;
        }
        match line.strip_prefix("# ") {
            Some(expected) => steps
                .last_mut()
                .expect("an expected line follows a command")
                .expect
                .push(expected.trim().to_string()),
            None => steps.push(Step {
                command: line.to_string(),
                expect: Vec::new(),
            }),
        }
    }
    steps
}

/// A bash process the steps run in, one after the other (so variables a
/// step sets reach the later ones).
struct Shell {
    stdin: ChildStdin,
    lines: Receiver<String>,
    child: Child,
}

impl Shell {
    fn start() -> Shell {
        let mut child = Command::new("bash")
            .arg("--noprofile")
            .arg("--norc")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("bash");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take().expect("stdin");
        Shell {
            stdin,
            lines,
            child,
        }
    }

    /// Runs `command`; its output (bounded by 60 s).
    fn run(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}\necho; echo {DONE}").expect("write to bash");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut out = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == DONE => return out,
                Ok(line) => {
                    out.push_str(&line);
                    out.push('\n');
                }
                Err(_) => panic!("`{command}` did not finish within 60 s; output so far:\n{out}"),
            }
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_readme_walk_through_runs_as_written() {
    let readme = std::fs::read_to_string(example_dir().join("README.md")).expect("README");
    let steps = steps(&readme);
    assert!(
        steps.len() >= 10,
        "the walk-through has {} steps",
        steps.len()
    );
    let origins = [DemoOrigin::start("origin-1"), DemoOrigin::start("origin-2")];
    let mut config = std::fs::read_to_string(example_dir().join("edge.toml")).expect("edge.toml");
    for (name, built) in [
        ("request-id", guests::REQUEST_ID),
        ("ipfilter", guests::IPFILTER),
        ("auth", guests::AUTH),
        ("ratelimit", guests::RATELIMIT),
        ("cache", guests::CACHE),
        ("rewrite", guests::REWRITE),
    ] {
        let file = name.replace('-', "_");
        config = config.replace(
            &format!("../../plugins/target/wasm32-wasip2/release/{file}.wasm"),
            built,
        );
    }
    let ports = [
        ("127.0.0.1:8080", "{http}".to_string()),
        ("127.0.0.1:9901", "{admin}".to_string()),
        ("127.0.0.1:9001", origins[0].addr.to_string()),
        ("127.0.0.1:9002", origins[1].addr.to_string()),
    ];
    for (from, to) in &ports {
        config = config.replace(from, to);
    }
    let proxy = Proxy::start(&config);
    let mut shell = Shell::start();
    let mut failures = Vec::new();
    // What the README's addresses are in this run.
    let here = |text: &str| {
        let mut text = text.to_string();
        for (from, to) in &ports {
            let to = match to.as_str() {
                "{http}" => proxy.http.to_string(),
                "{admin}" => proxy.admin.to_string(),
                other => other.to_string(),
            };
            text = text.replace(from, &to);
        }
        text
    };
    for step in &steps {
        let out = shell.run(&here(&step.command));
        println!("$ {}\n{out}", step.command);
        for want in &step.expect {
            if !out.contains(here(want).as_str()) {
                failures.push(format!("`{}`: expected {want:?} in:\n{out}", step.command));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} step(s) of examples/edge/README.md did not show what it says:\n{}\nproxy log:\n{}",
        failures.len(),
        failures.join("\n"),
        proxy.log()
    );
}
