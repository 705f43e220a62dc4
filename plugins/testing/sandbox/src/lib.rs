//! Test guest (built for `wasm32-wasip2`, so it imports WASI): tries to read
//! a file, the environment and the network, prints to stdout and stderr, and
//! answers with what it managed.
use ravelin_sdk::{Config, Decision, Plugin, Reply, Request};

struct Sandbox;

fn attempt() -> String {
    let file = std::fs::read("/etc/passwd").is_ok() || std::fs::read_dir("/").is_ok();
    let env = std::env::vars().next().is_some() || std::env::var("HOME").is_ok();
    let socket = std::net::TcpStream::connect("127.0.0.1:80").is_ok();
    let args = std::env::args().count();
    format!("file={file} env={env} socket={socket} args={args}")
}

impl Plugin for Sandbox {
    fn configure(_config: Config) -> Result<Self, String> {
        Ok(Sandbox)
    }

    fn on_request(&mut self, _req: &Request) -> Decision {
        println!("sandbox guest writes to stdout");
        eprintln!("sandbox guest writes to stderr");
        Reply::text(200, attempt()).into()
    }
}

ravelin_sdk::export!(Sandbox);
